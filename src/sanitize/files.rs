//! Config files, sanitized by content: JSON key by key (strings stay
//! strings); YAML, TOML, `.env` and `.properties` line by line, key by key,
//! keeping comments, quoting and layout; any other text line by line for
//! secret values. Keys are named `path:dotted.key` in the report.

use serde_json::Value;

use super::json_stream::{self, Scalar};
use super::{decide, detect, glob, hosts, standin, Action, Decision, Input, Outcome, REDACTED};
use crate::profile::SanitizeSection;
use crate::resolve::ProdValue;

/// How a file's content is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    Toml,
    Env,
    Properties,
    Text,
}

impl Format {
    /// By extension, else by a look at the content.
    pub fn of(path: &str, content: &str) -> Format {
        let lower = path.to_ascii_lowercase();
        let name = lower.rsplit('/').next().unwrap_or(&lower);
        match name.rsplit_once('.').map(|(_, e)| e) {
            Some("json") => Format::Json,
            Some("yaml" | "yml") => Format::Yaml,
            Some("toml") => Format::Toml,
            Some("env") => Format::Env,
            Some("properties") => Format::Properties,
            _ if name == ".env" || name.starts_with(".env.") => Format::Env,
            _ if content.trim_start().starts_with(['{', '[']) && serde_json::from_str::<Value>(content).is_ok() => {
                Format::Json
            }
            _ => Format::Text,
        }
    }
}

/// What sanitizing one file gives: its new content (None: dropped), the
/// decisions, and the secret text taken out of it.
pub type FileOutcome = (Option<String>, Vec<Decision>, Vec<String>);

/// Sanitizes one file.
pub fn sanitize_file(path: &str, value: &ProdValue, rules: &SanitizeSection) -> FileOutcome {
    let file_decision = |o: &Outcome| Decision {
        kind: "file",
        name: path.to_string(),
        action: o.action,
        reason: o.reason.to_string(),
        by_profile: o.by_profile,
    };
    // Whole-file rules first: set, drop, keep, and files the source marked secret.
    if let Some(local) = rules.set.get(path) {
        let o = whole(Action::Replaced, "set by the profile".into(), true);
        return (Some(local.clone()), vec![file_decision(&o)], vec![]);
    }
    if let Some(p) = glob::first_match(&rules.drop, path) {
        let o = whole(Action::Dropped, format!("drop {p}"), true);
        return (None, vec![file_decision(&o)], vec![]);
    }
    let text = match value {
        ProdValue::Plain(s) => s.expose(),
        ProdValue::Marked(s) => {
            let o = whole(Action::Dropped, "the deploy record marks the whole file secret".into(), false);
            return (None, vec![file_decision(&o)], vec![s.expose().to_string()]);
        }
        ProdValue::Reference(_) => {
            let o = whole(Action::Dropped, "a secret file the source did not read".into(), false);
            return (None, vec![file_decision(&o)], vec![]);
        }
    };
    if let Some(p) = glob::first_match(&rules.keep, path) {
        let o = whole(Action::Kept, format!("keep {p}"), true);
        return (Some(text.to_string()), vec![file_decision(&o)], vec![]);
    }
    let format = Format::of(path, text);
    let mut keys = Vec::new();
    let mut removed = Vec::new();
    let mut tally = Tally::default();
    let file_rules = names_file_keys(rules);
    let content = match format {
        Format::Json if rules.drop.is_empty() => {
            let found = &mut Found { keys: &mut keys, removed: &mut removed, tally: &mut tally, file_rules };
            let rewritten = json_stream::rewrite(text, &mut |key, leaf, _raw, scalar| {
                let (value, number) = match scalar {
                    Scalar::Str(s) => (s, false),
                    Scalar::Number(n) => (n, true),
                    Scalar::Bool(b) => (if b { "true" } else { "false" }, false),
                };
                let o = decide_key(path, key, leaf, value, rules, found);
                record(path, key, &o, found);
                let new = o.value?;
                Some(match scalar {
                    Scalar::Str(_) => serde_json::to_string(&new).unwrap_or_default(),
                    // A secret number or boolean keeps its type.
                    _ if number => {
                        if new.parse::<f64>().is_ok() {
                            new
                        } else {
                            "0".into()
                        }
                    }
                    Scalar::Bool(b) => {
                        if new == "true" || new == "false" {
                            new
                        } else {
                            b.to_string()
                        }
                    }
                    _ => new,
                })
            });
            match rewritten {
                Some(s) => s,
                None => scan_whole_text(path, text, rules, found),
            }
        }
        Format::Json => match serde_json::from_str::<Value>(text) {
            Ok(mut v) => {
                walk_json(
                    path,
                    &mut String::new(),
                    "",
                    &mut v,
                    rules,
                    &mut Found { keys: &mut keys, removed: &mut removed, tally: &mut tally, file_rules },
                );
                let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
                if text.ends_with('\n') {
                    s.push('\n');
                }
                s
            }
            Err(_) => scan_whole_text(
                path,
                text,
                rules,
                &mut Found { keys: &mut keys, removed: &mut removed, tally: &mut tally, file_rules },
            ),
        },
        Format::Text => scan_whole_text(
            path,
            text,
            rules,
            &mut Found { keys: &mut keys, removed: &mut removed, tally: &mut tally, file_rules },
        ),
        other => lines(
            path,
            text,
            other,
            rules,
            &mut Found { keys: &mut keys, removed: &mut removed, tally: &mut tally, file_rules },
        ),
    };
    let Tally { redacted, rewritten, dropped, replaced, unlisted_unnamed } = tally;
    let action = if redacted > 0 {
        Action::Redacted
    } else if rewritten > 0 {
        Action::Rewritten
    } else if dropped > 0 || replaced > 0 {
        Action::Replaced
    } else {
        Action::Kept
    };
    let mut reason = if keys.is_empty() {
        format!("{} file, no rule matched", format.name())
    } else {
        format!("{} file: {redacted} redacted, {rewritten} rewritten, {dropped} dropped", format.name())
    };
    let listed = keys.len();
    let total = redacted + rewritten + dropped + replaced;
    if total > listed {
        reason.push_str(&format!(" ({} keys not listed)", total - listed));
    }
    // The file row summarizes; the key rows carry the decisions. Redactions
    // beyond the listed rows that the profile did not name make the file row
    // count for --strict.
    let summary = Decision { kind: "file", name: path.to_string(), action, reason, by_profile: unlisted_unnamed == 0 };
    let mut decisions = vec![summary];
    decisions.extend(keys);
    (Some(content), decisions, removed)
}

fn whole(action: Action, reason: String, by_profile: bool) -> Outcome {
    Outcome { action, reason: reason.into(), value: None, by_profile, removed: Vec::new() }
}

/// Where the walkers put what they find.
struct Found<'a> {
    keys: &'a mut Vec<Decision>,
    removed: &'a mut Vec<String>,
    tally: &'a mut Tally,
    /// [`names_file_keys`] of the rules, worked out once per file.
    file_rules: bool,
}

/// Every key decision is counted; only the first [`MAX_KEY_ROWS`] become rows.
#[derive(Default)]
struct Tally {
    redacted: usize,
    rewritten: usize,
    dropped: usize,
    replaced: usize,
    /// Redactions the profile did not name that did not get a row.
    unlisted_unnamed: usize,
}

/// Rows per file in the report: a 10 MB file has more keys than anyone reads,
/// and the report travels in a container label.
pub const MAX_KEY_ROWS: usize = 200;

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
            Format::Toml => "TOML",
            Format::Env => ".env",
            Format::Properties => ".properties",
            Format::Text => "text",
        }
    }
}

/// Records a key's decision unless it was an unremarkable keep.
fn record(path: &str, key: &str, o: &Outcome, found: &mut Found) {
    found.removed.extend(o.removed.iter().cloned());
    match o.action {
        Action::Kept if !o.by_profile => return,
        Action::Kept => {}
        Action::Redacted => found.tally.redacted += 1,
        Action::Rewritten => found.tally.rewritten += 1,
        Action::Dropped => found.tally.dropped += 1,
        Action::Replaced => found.tally.replaced += 1,
    }
    if found.keys.len() >= MAX_KEY_ROWS {
        if o.action == Action::Redacted && !o.by_profile {
            found.tally.unlisted_unnamed += 1;
        }
        return;
    }
    found.keys.push(Decision {
        kind: "key",
        name: format!("{path}:{key}"),
        action: o.action,
        reason: o.reason.to_string(),
        by_profile: o.by_profile,
    });
}

/// Whether some `set`/`drop`/`keep` entry names a key in a file (`path:key`).
fn names_file_keys(rules: &SanitizeSection) -> bool {
    rules.set.keys().chain(&rules.drop).chain(&rules.keep).any(|r| r.contains(':'))
}

fn decide_key(path: &str, key: &str, leaf: &str, value: &str, rules: &SanitizeSection, found: &Found) -> Outcome {
    // `path:key` is only worth building when some rule names a file's key.
    if found.file_rules {
        let full = format!("{path}:{key}");
        decide(&[&full, key], leaf, Input::Plain(value), rules)
    } else {
        decide(&[key], leaf, Input::Plain(value), rules)
    }
}

/// Walks a JSON value; `key` is the dotted path so far (a buffer reused
/// down the tree), `leaf` the last key name.
fn walk_json(path: &str, key: &mut String, leaf: &str, v: &mut Value, rules: &SanitizeSection, found: &mut Found) {
    match v {
        Value::Object(map) => {
            let mut dropped = Vec::new();
            for (name, inner) in map.iter_mut() {
                let len = key.len();
                if len > 0 {
                    key.push('.');
                }
                key.push_str(name);
                if inner.is_object() || inner.is_array() {
                    walk_json(path, key, name, inner, rules, found);
                } else if json_leaf(path, key, name, inner, rules, found) {
                    dropped.push(name.clone());
                }
                key.truncate(len);
            }
            for name in dropped {
                map.remove(&name);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = key.len();
                key.push('[');
                key.push_str(&i.to_string());
                key.push(']');
                if item.is_object() || item.is_array() {
                    walk_json(path, key, leaf, item, rules, found);
                } else {
                    json_leaf(path, key, leaf, item, rules, found);
                }
                key.truncate(len);
            }
        }
        _ => {
            json_leaf(path, key, leaf, v, rules, found);
        }
    }
}

/// Decides one scalar; returns whether it is to be dropped.
fn json_leaf(path: &str, key: &str, leaf: &str, v: &mut Value, rules: &SanitizeSection, keys: &mut Found) -> bool {
    let o = match &*v {
        Value::String(s) => decide_key(path, key, leaf, s, rules, keys),
        Value::Number(n) => decide_key(path, key, leaf, &n.to_string(), rules, keys),
        Value::Bool(b) => decide_key(path, key, leaf, if *b { "true" } else { "false" }, rules, keys),
        _ => return false,
    };
    record(path, key, &o, keys);
    match (&o.value, o.action) {
        (_, Action::Dropped) => return true,
        (None, _) => {}
        (Some(new), _) => {
            *v = match v {
                Value::String(_) => Value::String(new.clone()),
                // A secret number or boolean keeps its type.
                Value::Number(_) => new.parse::<serde_json::Number>().map(Value::Number).unwrap_or(Value::from(0)),
                Value::Bool(b) => Value::Bool(new.parse().unwrap_or(*b)),
                _ => Value::String(new.clone()),
            };
        }
    }
    false
}

/// Line formats: each `key <sep> value` line decided by its key; other lines
/// scanned for secret values. Comments and layout are kept as they are.
fn lines(path: &str, text: &str, format: Format, rules: &SanitizeSection, keys: &mut Found) -> String {
    let mut out = String::with_capacity(text.len());
    // YAML nesting: (indent, key) of the open mappings; TOML: the current table.
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut table = String::new();
    // Inside a YAML block scalar under a secret key: its indent.
    let mut secret_block: Option<usize> = None;
    let mut block: Option<usize> = None;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let ending = &raw[line.len()..];
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();

        if let Some(b) = block {
            if trimmed.is_empty() || indent > b {
                if secret_block.is_some() && !trimmed.is_empty() {
                    out.push_str(&format!("{}{REDACTED}{ending}", &line[..indent]));
                } else {
                    out.push_str(&scan_text(line, rules, keys));
                    out.push_str(ending);
                }
                continue;
            }
            block = None;
            secret_block = None;
        }
        let is_comment = trimmed.is_empty()
            || trimmed.starts_with('#')
            || (format == Format::Properties && trimmed.starts_with('!'))
            || (format == Format::Yaml && (trimmed == "---" || trimmed == "..."));
        if is_comment {
            out.push_str(raw);
            continue;
        }
        if format == Format::Toml && trimmed.starts_with('[') {
            table = trimmed.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            out.push_str(raw);
            continue;
        }
        let Some(kv) = split_key_value(line, format) else {
            out.push_str(&scan_text(line, rules, keys));
            out.push_str(ending);
            continue;
        };
        let key_name = kv.key.trim_matches(|c| c == '"' || c == '\'').to_string();
        let dotted = match format {
            Format::Yaml => {
                while stack.last().is_some_and(|(i, _)| *i >= indent) {
                    stack.pop();
                }
                let mut parts: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
                parts.push(&key_name);
                parts.join(".")
            }
            Format::Toml if !table.is_empty() => format!("{table}.{key_name}"),
            _ => key_name.clone(),
        };
        let value_text = kv.value.trim();
        if format == Format::Yaml && (value_text.is_empty() || value_text.starts_with('&')) {
            stack.push((indent, key_name));
            out.push_str(raw);
            continue;
        }
        if format == Format::Yaml && (value_text.starts_with('|') || value_text.starts_with('>')) {
            block = Some(indent);
            let o = decide_key(path, &dotted, &key_name, "(block)", rules, keys);
            if o.action == Action::Redacted || o.action == Action::Dropped {
                secret_block = Some(indent);
                record(path, &dotted, &o, keys);
            }
            out.push_str(raw);
            continue;
        }
        let (inner, quote, rest) = unquote(value_text, format);
        let o = decide_key(path, &dotted, &key_name, inner, rules, keys);
        record(path, &dotted, &o, keys);
        match (&o.value, o.action) {
            (_, Action::Dropped) => {} // the line goes
            (None, _) => out.push_str(raw),
            (Some(new), _) => {
                let new = if quote.is_none() && is_number(inner) && !is_number(new) { "0" } else { new.as_str() };
                out.push_str(&line[..kv.value_start]);
                out.push_str(kv.gap);
                if let Some(q) = quote {
                    out.push(q);
                }
                out.push_str(&escape(new, quote));
                if let Some(q) = quote {
                    out.push(q);
                }
                out.push_str(rest);
                out.push_str(ending);
            }
        }
    }
    out
}

struct KeyValue<'a> {
    key: &'a str,
    /// Byte offset where the value part (after the separator) starts.
    value_start: usize,
    /// The blanks between the separator and the value.
    gap: &'a str,
    value: &'a str,
}

fn split_key_value(line: &str, format: Format) -> Option<KeyValue<'_>> {
    let body_start = line.len() - line.trim_start().len();
    let mut body = &line[body_start..];
    let mut offset = body_start;
    if format == Format::Env {
        if let Some(rest) = body.strip_prefix("export ") {
            offset += body.len() - rest.len();
            body = rest;
        }
    }
    if format == Format::Yaml {
        if let Some(rest) = body.strip_prefix("- ") {
            offset += 2;
            body = rest;
        }
    }
    let sep = match format {
        Format::Yaml => body.find(": ").or_else(|| body.strip_suffix(':').map(|b| b.len()))?,
        Format::Toml | Format::Env => body.find('=')?,
        Format::Properties => body.find(['=', ':'])?,
        Format::Json | Format::Text => return None,
    };
    let key = body[..sep].trim();
    let valid = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || "_-.\"' /".contains(c))
        && !key.contains("//");
    if !valid {
        return None;
    }
    let after = &body[sep + 1..];
    let value = after.trim_start();
    let gap = &after[..after.len() - value.len()];
    Some(KeyValue { key, value_start: offset + sep + 1, gap, value })
}

/// Splits a value into its content, its quote character, and what follows
/// the closing quote (or an inline comment).
fn unquote(value: &str, format: Format) -> (&str, Option<char>, &str) {
    for q in ['"', '\''] {
        if let Some(rest) = value.strip_prefix(q) {
            if let Some(end) = rest.rfind(q) {
                return (&rest[..end], Some(q), &rest[end + 1..]);
            }
        }
    }
    if matches!(format, Format::Yaml | Format::Toml) {
        if let Some(i) = value.find(" #") {
            return (value[..i].trim_end(), None, &value[i..]);
        }
    }
    (value, None, "")
}

fn escape(value: &str, quote: Option<char>) -> String {
    match quote {
        Some('"') => value.replace('\\', "\\\\").replace('"', "\\\""),
        Some('\'') => value.replace('\'', "''"),
        _ => value.to_string(),
    }
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.parse::<f64>().is_ok()
}

/// A line that is not `key = value`: secret values replaced, hosts rewritten.
fn scan_text(line: &str, rules: &SanitizeSection, found: &mut Found) -> String {
    let findings = detect::find_all(line);
    found.removed.extend(findings.iter().map(|f| line[f.span.clone()].to_string()));
    let line = if findings.is_empty() { line.to_string() } else { standin::replace(line, &findings) };
    hosts::rewrite(&line, &rules.prod_hosts, &rules.hosts).map(|(v, _)| v).unwrap_or(line)
}

/// Plain text: secret values found anywhere (a PEM block spans lines) are
/// replaced, production hosts rewritten.
fn scan_whole_text(path: &str, text: &str, rules: &SanitizeSection, found: &mut Found) -> String {
    let findings = detect::find_all(text);
    found.removed.extend(findings.iter().map(|f| text[f.span.clone()].to_string()));
    let keys = &mut *found.keys;
    let replaced = if findings.is_empty() { text.to_string() } else { standin::replace(text, &findings) };
    let (out, hosts) = match hosts::rewrite(&replaced, &rules.prod_hosts, &rules.hosts) {
        Some((v, h)) => (v, h),
        None => (replaced, vec![]),
    };
    if !findings.is_empty() {
        let mut ids: Vec<&str> = findings.iter().map(|f| f.rule).collect();
        ids.sort_unstable();
        ids.dedup();
        keys.push(Decision {
            kind: "key",
            name: format!("{path}:(text)"),
            action: Action::Redacted,
            reason: format!("{} values look like {}", findings.len(), ids.join(", ")),
            by_profile: false,
        });
    } else if !hosts.is_empty() {
        keys.push(Decision {
            kind: "key",
            name: format!("{path}:(text)"),
            action: Action::Rewritten,
            reason: format!("production host {}", hosts.join(", ")),
            by_profile: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use std::collections::BTreeMap;

    fn rules() -> SanitizeSection {
        SanitizeSection {
            prod_hosts: vec!["*.example.com".into()],
            hosts: BTreeMap::from([("payments.example.com".into(), "payments-stub".into())]),
            keep: vec!["/etc/app.yaml:log.level".into()],
            drop: vec!["/etc/app.yaml:newrelic.*".into()],
            ..Default::default()
        }
    }

    fn run(path: &str, text: &str) -> (String, Vec<Decision>) {
        let (c, d, _) = sanitize_file(path, &ProdValue::Plain(Secret::new(text)), &rules());
        (c.unwrap(), d)
    }

    #[test]
    fn yaml_keeps_layout_and_types() {
        let text = "# checkout\ndatabase:\n  host: db.example.com\n  password: \"hunter2\"\n  port: 5432\nlog:\n  level: debug\nnewrelic:\n  license: abc\ntls:\n  key: |\n    -----BEGIN PRIVATE KEY-----\n    MIIEvQ\n    -----END PRIVATE KEY-----\n  verify: true\npayments: https://payments.example.com/v1 # upstream\n";
        let (out, d) = run("/etc/app.yaml", text);
        assert_eq!(
            out,
            "# checkout\ndatabase:\n  host: db.example.com.prodbox.invalid\n  password: \"prodbox-redacted\"\n  port: 5432\nlog:\n  level: debug\nnewrelic:\ntls:\n  key: |\n    prodbox-redacted\n    prodbox-redacted\n    prodbox-redacted\n  verify: true\npayments: https://payments-stub/v1 # upstream\n"
        );
        let names: Vec<(&str, Action)> = d.iter().map(|d| (d.name.as_str(), d.action)).collect();
        assert!(names.contains(&("/etc/app.yaml:database.password", Action::Redacted)), "{names:?}");
        assert!(names.contains(&("/etc/app.yaml:log.level", Action::Kept)), "{names:?}");
        assert!(names.contains(&("/etc/app.yaml:newrelic.license", Action::Dropped)), "{names:?}");
        assert!(names.contains(&("/etc/app.yaml:tls.key", Action::Redacted)), "{names:?}");
    }

    #[test]
    fn json_keeps_structure_and_types() {
        let text = r#"{"db":{"url":"postgres://u:hunter2@db.example.com/x","pool":5},"apiKey":"sk_live_4eC39HqLyjWDarjtT1zdp7dc","pin":{"password":1234},"flags":["a","b"]}"#;
        let (out, _) = run("/etc/app.json", text);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["db"]["url"], "postgres://u:prodbox@db.example.com.prodbox.invalid/x");
        assert_eq!(v["db"]["pool"], 5);
        assert_eq!(v["apiKey"], "sk_live_prodboxREDACTED0prodboxR");
        assert_eq!(v["pin"]["password"], 0, "a secret number stays a number");
        assert_eq!(v["flags"][1], "b");
        assert!(!out.contains("hunter2"));
    }

    #[test]
    fn json_without_drop_rules_keeps_its_exact_layout() {
        let rules = SanitizeSection { prod_hosts: vec!["*.example.com".into()], ..Default::default() };
        let text = "{\n  \"db\": {\"url\": \"postgres://u:hunter2@db.example.com/x\", \"pool\": 5},\n  \"pin\": {\"password\": 1234, \"enabled\": true},\n  \"token\": \"t0k\\\"en\"\n}\n";
        let (out, d, removed) = sanitize_file("/etc/app.json", &ProdValue::Plain(Secret::new(text)), &rules);
        let out = out.unwrap();
        assert_eq!(
            out,
            "{\n  \"db\": {\"url\": \"postgres://u:prodbox@db.example.com.prodbox.invalid/x\", \"pool\": 5},\n  \"pin\": {\"password\": 0, \"enabled\": true},\n  \"token\": \"prodbox-redacted\"\n}\n"
        );
        assert!(serde_json::from_str::<Value>(&out).is_ok());
        let names: Vec<&str> = d.iter().map(|d| d.name.as_str()).collect();
        assert!(names.contains(&"/etc/app.json:pin.password") && names.contains(&"/etc/app.json:token"), "{names:?}");
        assert!(removed.contains(&"t0k\"en".to_string()), "the unescaped secret goes to the scrub: {removed:?}");
    }

    #[test]
    fn toml_env_properties_and_text() {
        let (out, _) =
            run("/etc/app.toml", "[db]\npassword = 'hunter2'\nport = 5432\n[api]\ntoken = \"t0k3n\" # prod\n");
        assert_eq!(
            out,
            "[db]\npassword = 'prodbox-redacted'\nport = 5432\n[api]\ntoken = \"prodbox-redacted\" # prod\n"
        );
        let (out, d) = run("/app/.env", "export DB_PASSWORD=hunter2\nREGION=eu-west-1\n");
        assert_eq!(out, "export DB_PASSWORD=prodbox-redacted\nREGION=eu-west-1\n");
        assert_eq!(d[1].name, "/app/.env:DB_PASSWORD");
        let (out, _) = run("/app/app.properties", "db.password=hunter2\ndb.url = jdbc:postgresql://db.example.com/x\n");
        assert_eq!(out, "db.password=prodbox-redacted\ndb.url = jdbc:postgresql://db.example.com.prodbox.invalid/x\n");
        let (out, _) = run("/app/notes.txt", "use AKIAIOSFODNN7EXAMPLE here\nand nothing here\n");
        assert_eq!(out, "use AKIAPRODBOXREDACTED0 here\nand nothing here\n");
    }
}
