//! Property: for arbitrary records, no value the sanitizer redacted appears
//! anywhere in what it hands on — env, files, or the report.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{detect, sanitize, Action};
use crate::profile::SanitizeSection;
use crate::secret::Secret;
use crate::secret::{ProdConfig, ProdValue};

/// Values a production config may hold: plain words, numbers, URLs, and
/// secrets of known formats with random bodies.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,12}",
        "[0-9]{1,6}",
        "https://[a-z]{3,8}\\.example\\.com/[a-z]{1,8}",
        "[a-zA-Z0-9]{8,40}",
        "AKIA[A-Z0-9]{16}",
        "ghp_[A-Za-z0-9]{36}",
        "sk_live_[A-Za-z0-9]{24}",
        "xoxb-[0-9]{12}-[A-Za-z0-9]{24}",
        "postgres://[a-z]{3,6}:[A-Za-z0-9]{8,16}@db\\.internal:5432/[a-z]{3,6}",
        "eyJ[A-Za-z0-9]{10,20}\\.eyJ[A-Za-z0-9]{10,30}\\.[A-Za-z0-9_-]{16,43}",
        "Server=db;Password=[A-Za-z0-9]{8,16};Encrypt=true",
        "[A-Za-z0-9 :/=._-]{0,60}",
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Z]{1,8}", "[A-Z]{2,6}_(PASSWORD|TOKEN|KEY|SECRET|URL|HOST|LEVEL)", "[A-Z]{2,6}_[A-Z]{2,6}"]
}

fn entry() -> impl Strategy<Value = (String, (String, u8))> {
    (name(), (value(), 0u8..10))
}

/// The part of a redacted value that must not survive.
fn secret_parts(value: &str) -> Vec<String> {
    let findings = detect::find_all(value);
    if !findings.is_empty() && findings.iter().all(|f| f.shape == detect::Shape::Password) {
        return findings.iter().map(|f| value[f.span.clone()].to_string()).collect();
    }
    vec![value.to_string()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn nothing_redacted_survives(entries in proptest::collection::vec(entry(), 1..24)) {
        let mut env = BTreeMap::new();
        let mut file = String::new();
        for (name, (value, kind)) in &entries {
            let v = match kind {
                0 => ProdValue::Marked(Secret::new(value.clone())),
                _ => ProdValue::Plain(Secret::new(value.clone())),
            };
            env.insert(name.clone(), v);
            file.push_str(&format!("{}={}\n", name.to_lowercase(), value));
        }
        let config = ProdConfig { env: env.clone(), files: BTreeMap::from([("/etc/app.env".to_string(), ProdValue::Plain(Secret::new(file)))]) };
        let out = sanitize(&config, &SanitizeSection::default()).unwrap();
        let report = serde_json::to_string(&out.decisions).unwrap();
        for d in out.decisions.iter().filter(|d| d.action == Action::Redacted && d.kind == super::DecisionKind::Env) {
            let original = match &env[&d.name] { ProdValue::Plain(s) | ProdValue::Marked(s) => s.expose().to_string(), _ => continue };
            for part in secret_parts(&original) {
                let part = part.trim().to_string();
                // Short parts can turn up by coincidence; the scrub pass leaves them.
                if part.len() < super::scrub::MIN_LEN || "prodbox-redacted".contains(&part) {
                    continue;
                }
                for (n, v) in &out.env {
                    prop_assert!(!v.contains(&part), "{} leaked into env {}", d.name, n);
                }
                prop_assert!(!report.contains(&part), "{} leaked into the report", d.name);
                // In the file the same value sits under the lower-cased name: same decision.
                for (_, content) in &out.files {
                    prop_assert!(!content.contains(&part), "{} leaked into the file", d.name);
                }
            }
        }
    }
}
