//! Property: a sanitized file parses in its format whenever the input did,
//! with the same keys in the same places, and no generated secret left in
//! it. Files are generated as trees of keys and values (secrets of known
//! formats, passwords under secret names, and ordinary values full of the
//! characters formats escape: quotes, backslashes, `#`, `:`, `=`, `<`,
//! `&`, newlines, non-ASCII), then written in every supported format, in
//! each format's several styles (YAML plain, quoted and block scalars and
//! flow maps; TOML basic, literal and multi-line strings; XML text and
//! attributes; quoted and bare `.env` values; escaped `.properties`).

use std::fmt::Write as _;

use proptest::prelude::*;

use super::tree::Node;
use super::{sanitize_file, Format};
use crate::profile::SanitizeSection;
use crate::sanitize::Action;
use crate::secret::{ProdValue, Secret};

/// A generated leaf: its text, and the part of it that must not survive
/// sanitizing (empty for an ordinary value).
#[derive(Debug, Clone)]
struct Leaf {
    text: String,
    secret: String,
}

#[derive(Debug, Clone)]
enum Tree {
    Map(Vec<(String, Tree)>),
    List(Vec<Tree>),
    Leaf(Leaf, u8),
}

fn ordinary() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,12}",
        "[0-9]{1,6}",
        Just("true".to_string()),
        Just(String::new()),
        "https://[a-z]{3,8}\\.example\\.org/[a-z]{1,8}\\?q=[a-z]{1,4}&n=[0-9]{1,3}",
        // Printable ASCII: every quote, escape and comment character.
        "[ -~]{0,40}",
        "[a-z]{1,8}( [a-z]{1,8}){0,4}",
        "(héllo|日本語|naïve|🚀|Ω) [a-z]{1,6}",
        "[a-z]{1,10}\n[a-z ]{0,10}\n[a-z]{1,10}",
        "[a-z]{1,6}: [a-z]{1,6} # [a-z]{1,6}",
    ]
}

/// Secrets of known formats, and the part that must be gone afterwards.
fn secret() -> impl Strategy<Value = Leaf> {
    let whole = |s: String| Leaf { secret: s.clone(), text: s };
    prop_oneof![
        "AKIA[A-Z2-7]{16}".prop_map(whole),
        "ghp_[A-Za-z0-9]{36}".prop_map(whole),
        "sk_live_[A-Za-z0-9]{24}".prop_map(whole),
        "xoxb-[0-9]{12}-[A-Za-z0-9]{24}".prop_map(whole),
        "eyJ[A-Za-z0-9]{12,20}\\.eyJ[A-Za-z0-9]{12,30}\\.[A-Za-z0-9_-]{20,43}".prop_map(whole),
        ("[a-z]{3,6}", "[A-Za-z0-9]{12,20}")
            .prop_map(|(user, pw)| Leaf { text: format!("postgres://{user}:{pw}@db.internal:5432/shop"), secret: pw }),
        "[A-Za-z0-9+/]{64}".prop_map(|body| Leaf {
            text: format!("-----BEGIN PRIVATE KEY-----\n{}\n{}\n-----END PRIVATE KEY-----\n", &body[..32], &body[32..]),
            secret: body[..32].to_string(),
        }),
    ]
}

/// Keys as configs spell them; some say "secret", most do not.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,10}",
        "[a-z]{2,6}(_|-|\\.)[a-z]{2,6}",
        "[a-z]{2,6}[A-Z][a-z]{2,6}",
        Just("password".to_string()),
        Just("db_password".to_string()),
        Just("apiToken".to_string()),
        Just("client-secret".to_string()),
    ]
}

fn is_secret_key(k: &str) -> bool {
    matches!(k, "password" | "db_password" | "apiToken" | "client-secret")
}

fn leaf() -> impl Strategy<Value = Tree> {
    let value = prop_oneof![
        3 => ordinary().prop_map(|text| Leaf { text, secret: String::new() }),
        1 => secret(),
    ];
    (value, any::<u8>()).prop_map(|(l, style)| Tree::Leaf(l, style))
}

fn tree() -> impl Strategy<Value = Tree> {
    leaf().prop_recursive(3, 40, 6, |inner| {
        prop_oneof![
            3 => proptest::collection::vec((key(), inner.clone()), 1..6).prop_map(|entries| Tree::Map(dedup(entries))),
            1 => proptest::collection::vec(inner, 1..4).prop_map(Tree::List),
        ]
    })
}

/// A root map whose keys may hold secrets by name: a password under a
/// secret name must go too.
fn document() -> impl Strategy<Value = Tree> {
    proptest::collection::vec((key(), tree(), "[A-Za-z0-9]{12,20}"), 1..6).prop_map(|entries| {
        let entries = entries
            .into_iter()
            .map(|(k, t, pw)| match t {
                Tree::Leaf(_, style) if is_secret_key(&k) => {
                    (k, Tree::Leaf(Leaf { text: pw.clone(), secret: pw }, style))
                }
                t => (k, t),
            })
            .collect();
        Tree::Map(dedup(entries))
    })
}

/// Keys of one map are distinct (case-insensitively: INI and XML readers
/// may fold them).
fn dedup(entries: Vec<(String, Tree)>) -> Vec<(String, Tree)> {
    let mut seen = std::collections::HashSet::new();
    entries.into_iter().filter(|(k, _)| seen.insert(k.to_ascii_lowercase())).collect()
}

// ---- writers, one per format -------------------------------------------

fn json(t: &Tree) -> serde_json::Value {
    match t {
        Tree::Map(es) => serde_json::Value::Object(es.iter().map(|(k, v)| (k.clone(), json(v))).collect()),
        Tree::List(items) => serde_json::Value::Array(items.iter().map(json).collect()),
        Tree::Leaf(l, _) => serde_json::Value::String(l.text.clone()),
    }
}

fn yaml(t: &Tree, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match t {
        Tree::Map(es) => {
            // A map of leaves is sometimes written as a flow map.
            let all_leaves = es.iter().all(|(_, v)| matches!(v, Tree::Leaf(l, _) if !l.text.contains('\n')));
            if all_leaves && es.iter().any(|(_, v)| matches!(v, Tree::Leaf(_, s) if s % 5 == 0)) {
                let parts: Vec<String> =
                    es.iter().map(|(k, v)| format!("{}: {}", yaml_key(k), yaml_inline(v))).collect();
                let _ = writeln!(out, "{pad}{{{}}}", parts.join(", "));
                return;
            }
            for (k, v) in es {
                let _ = write!(out, "{pad}{}:", yaml_key(k));
                yaml_value(v, indent, out);
            }
        }
        Tree::List(items) => {
            for v in items {
                let _ = write!(out, "{pad}-");
                yaml_value(v, indent, out);
            }
        }
        Tree::Leaf(..) => {
            let _ = writeln!(out, "{pad}{}", yaml_inline(t));
        }
    }
}

fn yaml_value(v: &Tree, indent: usize, out: &mut String) {
    match v {
        Tree::Leaf(l, style) if l.text.contains('\n') && style % 2 == 0 && block_safe(&l.text) => {
            let chomp = if l.text.ends_with('\n') { "" } else { "-" };
            let _ = writeln!(out, " |{chomp}");
            for line in l.text.trim_end_matches('\n').split('\n') {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    let _ = writeln!(out, "{}{line}", " ".repeat(indent + 2));
                }
            }
        }
        Tree::Leaf(..) => {
            let _ = writeln!(out, " {}", yaml_inline(v));
        }
        _ => {
            out.push('\n');
            yaml(v, indent + 2, out);
        }
    }
}

/// A literal block keeps the text as is when no line starts with a space
/// and none ends with one, and it does not end with two newlines.
fn block_safe(s: &str) -> bool {
    !s.starts_with('\n')
        && !s.ends_with("\n\n")
        && s.split('\n').all(|l| !l.starts_with([' ', '\t']) && !l.ends_with([' ', '\t']))
}

fn yaml_key(k: &str) -> String {
    serde_json::to_string(k).unwrap()
}

fn yaml_inline(v: &Tree) -> String {
    let Tree::Leaf(l, style) = v else { unreachable!() };
    let s = &l.text;
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c))
        && !s.starts_with(['-', '.']);
    match style % 3 {
        0 if plain => s.clone(),
        1 if !s.contains('\n') => format!("'{}'", s.replace('\'', "''")),
        _ => serde_json::to_string(s).unwrap(),
    }
}

fn toml(t: &Tree) -> toml::Value {
    match t {
        Tree::Map(es) => toml::Value::Table(es.iter().map(|(k, v)| (k.clone(), toml(v))).collect()),
        Tree::List(items) => toml::Value::Array(items.iter().map(toml).collect()),
        Tree::Leaf(l, _) => toml::Value::String(l.text.clone()),
    }
}

/// XML names: letters, digits, `_`, `-`, `.`, starting with a letter.
fn xml_name(k: &str) -> String {
    let n: String = k.chars().map(|c| if c.is_ascii_alphanumeric() || "_-.".contains(c) { c } else { '_' }).collect();
    format!("k{n}")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn xml(t: &Tree, name: &str, out: &mut String) {
    match t {
        Tree::Map(es) => {
            // Leaves of a map are sometimes attributes.
            let (attrs, elems): (Vec<_>, Vec<_>) = es.iter().partition(
                |(_, v)| matches!(v, Tree::Leaf(l, s) if s % 3 == 0 && !l.text.contains(['\n', '\r', '\t'])),
            );
            let _ = write!(out, "<{name}");
            for (k, v) in attrs {
                let Tree::Leaf(l, _) = v else { unreachable!() };
                let _ = write!(out, " {}=\"{}\"", xml_name(k), xml_escape(&l.text));
            }
            out.push('>');
            for (k, v) in elems {
                xml(v, &xml_name(k), out);
            }
            let _ = write!(out, "</{name}>");
        }
        Tree::List(items) => {
            let _ = write!(out, "<{name}>");
            for v in items {
                xml(v, "item", out);
            }
            let _ = write!(out, "</{name}>");
        }
        Tree::Leaf(l, _) => {
            let _ = write!(out, "<{name}>{}</{name}>", xml_escape(&l.text));
        }
    }
}

/// Leaves of a tree as (flattened key, text), for the line formats.
fn flatten(t: &Tree, prefix: &str, sep: &str, out: &mut Vec<(String, Tree)>) {
    match t {
        Tree::Map(es) => {
            for (k, v) in es {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}{sep}{k}") };
                flatten(v, &key, sep, out);
            }
        }
        Tree::List(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(v, &format!("{prefix}{sep}{i}"), sep, out);
            }
        }
        Tree::Leaf(..) => out.push((prefix.to_string(), t.clone())),
    }
}

fn one_line(s: &str) -> String {
    s.split(['\n', '\r']).map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

fn ini(t: &Tree) -> String {
    let Tree::Map(es) = t else { unreachable!() };
    let mut top = String::new();
    let mut sections = String::new();
    for (k, v) in es {
        match v {
            Tree::Leaf(l, _) => {
                let _ = writeln!(top, "{k} = {}", one_line(&l.text));
            }
            _ => {
                let _ = writeln!(sections, "\n[{k}]");
                let mut leaves = Vec::new();
                flatten(v, "", ".", &mut leaves);
                for (key, leaf) in leaves {
                    let Tree::Leaf(l, _) = leaf else { unreachable!() };
                    let key = if key.is_empty() { "v".to_string() } else { key };
                    let _ = writeln!(sections, "{key} = {}", one_line(&l.text));
                }
            }
        }
    }
    top + &sections
}

fn properties(t: &Tree) -> String {
    let mut leaves = Vec::new();
    flatten(t, "", ".", &mut leaves);
    let mut out = String::from("# generated\n");
    for (key, leaf) in leaves {
        let Tree::Leaf(l, _) = leaf else { unreachable!() };
        let mut k = String::new();
        for c in key.chars() {
            if " :=#!\\".contains(c) {
                k.push('\\');
            }
            k.push(c);
        }
        let mut v = String::new();
        for (i, c) in l.text.chars().enumerate() {
            match c {
                '\\' => v.push_str("\\\\"),
                '\n' => v.push_str("\\n"),
                '\r' => v.push_str("\\r"),
                '\t' => v.push_str("\\t"),
                ' ' if i == 0 => v.push_str("\\ "),
                c => v.push(c),
            }
        }
        let _ = writeln!(out, "{k}={v}");
    }
    out
}

fn env(t: &Tree) -> String {
    let mut leaves = Vec::new();
    flatten(t, "", "_", &mut leaves);
    let mut out = String::new();
    for (key, leaf) in leaves {
        let Tree::Leaf(l, style) = leaf else { unreachable!() };
        let k: String =
            key.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
        let s = &l.text;
        let bare = s.chars().all(|c| c.is_ascii_alphanumeric() || "_./:-@".contains(c));
        let v = match style % 3 {
            0 if bare => s.clone(),
            1 if !s.contains('\'') => format!("'{s}'"),
            _ => {
                format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n").replace('$', "\\$"))
            }
        };
        let _ = writeln!(out, "{k}={v}");
    }
    out
}

// ---- the property --------------------------------------------------------

fn secrets(t: &Tree, out: &mut Vec<String>) {
    match t {
        Tree::Map(es) => es.iter().for_each(|(_, v)| secrets(v, out)),
        Tree::List(items) => items.iter().for_each(|v| secrets(v, out)),
        Tree::Leaf(l, _) if !l.secret.is_empty() => out.push(l.secret.clone()),
        Tree::Leaf(..) => {}
    }
}

/// The tree's shape: every key path with what sits there, and the leaves' texts.
fn shape(node: &Node, path: &mut String, out: &mut Vec<(String, Option<String>)>) {
    match node {
        Node::Map(es) => {
            out.push((path.clone(), None));
            for e in es {
                let len = path.len();
                path.push('.');
                path.push_str(&e.key);
                shape(&e.node, path, out);
                path.truncate(len);
            }
        }
        Node::Seq(items) => {
            out.push((format!("{path}[]"), None));
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                shape(&item.node, path, out);
                path.truncate(len);
            }
        }
        Node::Scalar(s) => out.push((path.clone(), Some(s.text.to_string()))),
        Node::Alias(_) | Node::Other => out.push((path.clone(), None)),
    }
}

/// A second opinion where one exists: the parsers the ecosystem uses.
fn parses_independently(format: Format, text: &str) -> Result<(), String> {
    match format {
        Format::Json => serde_json::from_str::<serde_json::Value>(text).map(drop).map_err(|e| e.to_string()),
        Format::Toml => text.parse::<toml::Table>().map(drop).map_err(|e| e.to_string()),
        Format::Xml => {
            let mut r = quick_xml::Reader::from_str(text);
            r.config_mut().check_end_names = true;
            loop {
                match r.read_event() {
                    Ok(quick_xml::events::Event::Eof) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
        }
        _ => Ok(()),
    }
}

fn check(path: &str, text: &str, tree: &Tree) -> Result<(), TestCaseError> {
    let format = Format::of(path, text);
    let before = format.parse(text);
    prop_assume!(before.is_some(), "the generator wrote invalid {}", format.name());
    let mut shape_before = Vec::new();
    shape(&before.unwrap(), &mut String::new(), &mut shape_before);

    let rules = SanitizeSection::default();
    let outcome = sanitize_file(path, &ProdValue::Plain(Secret::new(text)), &rules, None);
    let note = outcome.decisions.first().map(|d| d.reason.clone()).unwrap_or_default();
    let out = outcome.content.ok_or_else(|| TestCaseError::fail(format!("{path} left out: {note}\n{text}")))?;
    let after = format.parse(&out).ok_or_else(|| TestCaseError::fail(format!("{path} no longer parses:\n{out}")))?;
    parses_independently(format, &out).map_err(|e| TestCaseError::fail(format!("{path}: {e}\n{out}")))?;

    let mut shape_after = Vec::new();
    shape(&after, &mut String::new(), &mut shape_after);
    let keys = |s: &[(String, Option<String>)]| s.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    prop_assert_eq!(keys(&shape_before), keys(&shape_after), "{} changed shape:\n{}\n----\n{}", path, text, out);
    let changed = shape_before.iter().zip(&shape_after).filter(|(a, b)| a.1 != b.1).count();
    let rows = outcome.decisions.iter().filter(|d| d.name.starts_with(&format!("{path}:")) && d.action != Action::Kept);
    prop_assert!(changed <= rows.count(), "{path}: {changed} values changed without a decision each:\n{out}");

    let mut gone = Vec::new();
    secrets(tree, &mut gone);
    for s in gone {
        prop_assert!(!out.contains(&s), "{path}: a secret survived: {s}\n{out}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn every_format_still_parses_with_its_keys_and_without_its_secrets(doc in document()) {
        check("/etc/app/config.json", &serde_json::to_string_pretty(&json(&doc)).unwrap(), &doc)?;
        check("/etc/app/compact.json", &serde_json::to_string(&json(&doc)).unwrap(), &doc)?;
        let mut y = String::from("# generated\n");
        yaml(&doc, 0, &mut y);
        check("/etc/app/config.yaml", &y, &doc)?;
        check("/etc/app/config.toml", &toml::to_string(&toml(&doc)).unwrap(), &doc)?;
        let mut x = String::from("<?xml version=\"1.0\"?>\n");
        xml(&doc, "config", &mut x);
        check("/etc/app/web.config", &x, &doc)?;
        check("/etc/app/app.properties", &properties(&doc), &doc)?;
        check("/etc/app/.env", &env(&doc), &doc)?;
        check("/etc/app/settings.ini", &ini(&doc), &doc)?;
    }
}
