//! sanitize: production's configuration → a safe local one (SPEC §5).
//!
//! Every env var and file is decided in one fixed order, first match wins:
//! `set`, `drop`, marked secret, `keep`, secret-looking name, secret-looking
//! value, `prod_hosts` rewrite, kept. Each decision is recorded with its
//! reason, never with a value. This is the only module that reads a
//! [`Secret`](crate::secret::Secret)'s text.

pub mod detect;
pub mod glob;
pub mod hosts;

use serde::Serialize;

use crate::profile::SanitizeSection;
use crate::resolve::{ProdConfig, ProdValue};

/// What a stand-in for a redacted value says.
pub const REDACTED: &str = "prodbox-redacted";

/// What happened to one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Kept,
    Replaced,
    Dropped,
    Redacted,
    Rewritten,
}

/// One decision, for the report: names and reasons only.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// `env` or `file`.
    pub kind: &'static str,
    pub name: String,
    pub action: Action,
    pub reason: String,
}

/// The safe configuration and the report of how it was made.
#[derive(Debug, Clone, Default)]
pub struct SanitizedConfig {
    /// Env for the container, in name order.
    pub env: Vec<(String, String)>,
    /// Files to copy into the container before it starts: absolute path, content.
    pub files: Vec<(String, String)>,
    pub decisions: Vec<Decision>,
}

impl SanitizedConfig {
    /// How many decisions took each action: kept, replaced, dropped, redacted, rewritten.
    pub fn summary(&self) -> String {
        let count = |a| self.decisions.iter().filter(|d| d.action == a).count();
        format!(
            "{} kept, {} replaced, {} dropped, {} redacted, {} rewritten",
            count(Action::Kept),
            count(Action::Replaced),
            count(Action::Dropped),
            count(Action::Redacted),
            count(Action::Rewritten)
        )
    }
}

/// Sanitizes `config` with the profile's rules.
pub fn sanitize(config: &ProdConfig, rules: &SanitizeSection) -> SanitizedConfig {
    let mut out = SanitizedConfig::default();
    for (name, value) in &config.env {
        let (action, reason, local) = decide_env(name, value, rules);
        if let Some(v) = local {
            out.env.push((name.clone(), v));
        }
        out.decisions.push(Decision { kind: "env", name: name.clone(), action, reason });
    }
    for (name, value) in &rules.set {
        if !config.env.contains_key(name) {
            out.env.push((name.clone(), value.clone()));
            out.decisions.push(Decision {
                kind: "env",
                name: name.clone(),
                action: Action::Replaced,
                reason: "set by the profile (not in production)".into(),
            });
        }
    }
    out.env.sort();
    for (path, value) in &config.files {
        let (action, reason, local) = decide_file(path, value, rules);
        if let Some(v) = local {
            out.files.push((path.clone(), v));
        }
        out.decisions.push(Decision { kind: "file", name: path.clone(), action, reason });
    }
    out
}

type Outcome = (Action, String, Option<String>);

fn decide_env(name: &str, value: &ProdValue, rules: &SanitizeSection) -> Outcome {
    if let Some(local) = rules.set.get(name) {
        return (Action::Replaced, "set by the profile".into(), Some(local.clone()));
    }
    if let Some(p) = glob::first_match(&rules.drop, name) {
        return (Action::Dropped, format!("drop {p}"), None);
    }
    let plain = match value {
        ProdValue::Marked(_) => {
            return (Action::Redacted, "marked secret by the deploy record".into(), Some(REDACTED.into()))
        }
        ProdValue::Reference(_) => {
            return (Action::Redacted, "a secret reference the source did not read".into(), Some(REDACTED.into()))
        }
        ProdValue::Plain(s) => s.expose(),
    };
    if let Some(p) = glob::first_match(&rules.keep, name) {
        return (Action::Kept, format!("keep {p}"), Some(plain.to_string()));
    }
    if let Some(p) = detect::secret_name(name) {
        return (Action::Redacted, format!("name matches {p}"), Some(REDACTED.into()));
    }
    if let Some(id) = detect::secret_value(plain) {
        return (Action::Redacted, format!("value looks like {id}"), Some(REDACTED.into()));
    }
    if let Some((rewritten, hosts)) = hosts::rewrite(plain, &rules.prod_hosts, &rules.hosts) {
        return (Action::Rewritten, format!("production host {}", hosts.join(", ")), Some(rewritten));
    }
    (Action::Kept, "no rule matched".into(), Some(plain.to_string()))
}

/// Files: `set`/`drop`/`keep` by path, then line by line (structured formats are issue #3).
fn decide_file(path: &str, value: &ProdValue, rules: &SanitizeSection) -> Outcome {
    if let Some(local) = rules.set.get(path) {
        return (Action::Replaced, "set by the profile".into(), Some(local.clone()));
    }
    if let Some(p) = glob::first_match(&rules.drop, path) {
        return (Action::Dropped, format!("drop {p}"), None);
    }
    let text = match value {
        ProdValue::Plain(s) => s.expose(),
        _ => return (Action::Dropped, "secret file from the deploy record".into(), None),
    };
    if let Some(p) = glob::first_match(&rules.keep, path) {
        return (Action::Kept, format!("keep {p}"), Some(text.to_string()));
    }
    let mut redacted = 0;
    let mut rewritten = 0;
    let mut in_pem = false;
    let mut lines = Vec::new();
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        if body.contains("-----BEGIN") && body.contains("PRIVATE KEY") {
            in_pem = true;
        }
        if in_pem {
            if body.contains("-----END") {
                in_pem = false;
                lines.push(format!("{REDACTED}{ending}"));
            }
            redacted += 1;
            continue;
        }
        let secret_key = body
            .split_once(['=', ':'])
            .map(|(k, _)| k.trim().trim_matches('"'))
            .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)))
            .and_then(detect::secret_name);
        if secret_key.is_some() || detect::secret_value(body).is_some() {
            let key = body.split_once(['=', ':']).map(|(k, _)| k).unwrap_or("");
            let sep = if key.is_empty() { "" } else { &body[key.len()..key.len() + 1] };
            lines.push(format!("{key}{sep}{}{REDACTED}{ending}", if sep == ":" { " " } else { "" }));
            redacted += 1;
        } else if let Some((new, _)) = hosts::rewrite(body, &rules.prod_hosts, &rules.hosts) {
            lines.push(format!("{new}{ending}"));
            rewritten += 1;
        } else {
            lines.push(line.to_string());
        }
    }
    let content = lines.concat();
    match (redacted, rewritten) {
        (0, 0) => (Action::Kept, "no rule matched".into(), Some(content)),
        (0, n) => (Action::Rewritten, format!("{n} lines mention production hosts"), Some(content)),
        (n, _) => (Action::Redacted, format!("{n} lines hold secrets"), Some(content)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use std::collections::BTreeMap;

    fn plain(v: &str) -> ProdValue {
        ProdValue::Plain(Secret::new(v))
    }

    #[test]
    fn decision_order_and_no_value_in_report() {
        let config = ProdConfig {
            env: BTreeMap::from([
                ("DATABASE_URL".into(), plain("postgres://u:hunter2@db.example.com/app")),
                ("LOG_LEVEL".into(), plain("debug")),
                ("NEW_RELIC_KEY".into(), plain("abc")),
                ("API_TOKEN".into(), plain("t0k3n")),
                ("KEPT_TOKEN".into(), ProdValue::Marked(Secret::new("marked-hunter3"))),
                ("UPSTREAM".into(), plain("AKIAIOSFODNN7EXAMPLE")),
                ("PAYMENTS".into(), plain("https://payments.example.com/v2")),
                ("PLAIN".into(), plain("hello")),
            ]),
            files: BTreeMap::from([("/etc/app.env".into(), plain("A=1\nDB_PASSWORD=hunter4\n"))]),
        };
        let rules = SanitizeSection {
            keep: vec!["LOG_*".into(), "KEPT_*".into()],
            drop: vec!["NEW_RELIC_*".into()],
            prod_hosts: vec!["*.example.com".into()],
            set: BTreeMap::from([("DATABASE_URL".into(), "postgres://app:app@db/app".into())]),
            hosts: BTreeMap::from([("payments.example.com".into(), "payments-stub".into())]),
            strict: false,
        };
        let out = sanitize(&config, &rules);
        let env: BTreeMap<_, _> = out.env.iter().cloned().collect();
        assert_eq!(env["DATABASE_URL"], "postgres://app:app@db/app");
        assert_eq!(env["LOG_LEVEL"], "debug");
        assert!(!env.contains_key("NEW_RELIC_KEY"));
        assert_eq!(env["API_TOKEN"], REDACTED);
        assert_eq!(env["KEPT_TOKEN"], REDACTED, "marked values are redacted even when kept");
        assert_eq!(env["UPSTREAM"], REDACTED);
        assert_eq!(env["PAYMENTS"], "https://payments-stub/v2");
        assert_eq!(env["PLAIN"], "hello");
        assert_eq!(out.files[0].1, "A=1\nDB_PASSWORD=prodbox-redacted\n");
        let report = serde_json::to_string(&out.decisions).unwrap();
        for secret in ["hunter2", "t0k3n", "marked-hunter3", "AKIAIOSFODNN7EXAMPLE", "hunter4"] {
            assert!(!report.contains(secret), "{secret} in report");
        }
        assert_eq!(out.summary(), "2 kept, 1 replaced, 1 dropped, 4 redacted, 1 rewritten");
    }
}
