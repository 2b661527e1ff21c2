//! Detectors: does a name or a value look secret? Rules are data, each with
//! an id the report names. (The full token-format catalogue is issue #3.)

use super::glob;

/// Names that mark a value secret, whatever the value.
pub const SECRET_NAMES: &[&str] = &[
    "*PASSWORD*",
    "*PASSWD*",
    "*SECRET*",
    "*TOKEN*",
    "*_KEY",
    "*APIKEY*",
    "*API_KEY*",
    "*CREDENTIAL*",
    "*PRIVATE*",
    "*AUTH*",
    "*DSN*",
    "*SESSION_KEY*",
    "*SIGNING*",
    "*CERT_KEY*",
];

/// The secret-name pattern `name` matches, if any.
pub fn secret_name(name: &str) -> Option<&'static str> {
    SECRET_NAMES.iter().copied().find(|p| glob::matches(p, name))
}

/// A value rule: id and test.
pub struct ValueRule {
    pub id: &'static str,
    pub test: fn(&str) -> bool,
}

/// Known secret value formats, checked in order.
pub const VALUE_RULES: &[ValueRule] = &[
    ValueRule { id: "pem-private-key", test: |v| v.contains("-----BEGIN") && v.contains("PRIVATE KEY") },
    ValueRule { id: "url-credentials", test: url_with_password },
    ValueRule { id: "aws-access-key", test: |v| has_prefixed_token(v, &["AKIA", "ASIA"], 16, upper_alnum) },
    ValueRule {
        id: "github-token",
        test: |v| has_prefixed_token(v, &["ghp_", "gho_", "ghs_", "ghu_", "github_pat_"], 20, token_char),
    },
    ValueRule { id: "slack-token", test: |v| has_prefixed_token(v, &["xoxb-", "xoxp-", "xoxa-"], 10, token_char) },
    ValueRule {
        id: "stripe-key",
        test: |v| has_prefixed_token(v, &["sk_live_", "rk_live_", "sk_test_"], 16, token_char),
    },
    ValueRule { id: "jwt", test: looks_like_jwt },
    ValueRule { id: "high-entropy", test: high_entropy },
];

/// The id of the first value rule that fires on `value`.
pub fn secret_value(value: &str) -> Option<&'static str> {
    VALUE_RULES.iter().find(|r| (r.test)(value)).map(|r| r.id)
}

fn upper_alnum(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn has_prefixed_token(v: &str, prefixes: &[&str], min_tail: usize, tail: fn(char) -> bool) -> bool {
    prefixes.iter().any(|p| {
        v.match_indices(p).any(|(at, _)| v[at + p.len()..].chars().take_while(|&c| tail(c)).count() >= min_tail)
    })
}

/// `scheme://user:password@host` with a non-empty password.
pub fn url_with_password(v: &str) -> bool {
    v.match_indices("://").any(|(at, _)| {
        let rest = &v[at + 3..];
        let authority = rest.split(['/', '?', '#', ' ', '"', '\'']).next().unwrap_or("");
        authority
            .rsplit_once('@')
            .and_then(|(userinfo, _)| userinfo.split_once(':'))
            .is_some_and(|(_, pw)| !pw.is_empty())
    })
}

fn looks_like_jwt(v: &str) -> bool {
    v.split(|c: char| c.is_whitespace() || c == '"').any(|t| {
        let parts: Vec<&str> = t.split('.').collect();
        parts.len() == 3
            && parts[0].starts_with("eyJ")
            && parts[1].len() >= 8
            && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    })
}

/// A long token with many distinct, mixed characters: a random key.
fn high_entropy(v: &str) -> bool {
    v.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '\'' | '=' | '&' | '?')).any(|t| {
        if t.len() < 24 || t.contains("://") || t.contains('/') && t.starts_with('/') {
            return false;
        }
        if is_uuid_like(t) || t.chars().all(|c| c.is_ascii_hexdigit()) && t.len() < 32 {
            return false;
        }
        let classes = [
            t.chars().any(|c| c.is_ascii_lowercase()),
            t.chars().any(|c| c.is_ascii_uppercase()),
            t.chars().any(|c| c.is_ascii_digit()),
        ];
        classes.iter().filter(|&&b| b).count() >= 2 && shannon(t) >= 4.0
    })
}

fn is_uuid_like(t: &str) -> bool {
    t.len() == 36
        && t.chars()
            .enumerate()
            .all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

/// Shannon entropy in bits per character.
pub fn shannon(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = s.chars().count() as f64;
    counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_common_formats() {
        for v in [
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "postgres://app:s3cr3t@db.internal:5432/app",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
            "Zx9Qp2Lm7Vb4Nc8Rt6Yh3Kj5Wd1Fg0Sa",
        ] {
            assert!(secret_value(v).is_some(), "missed {v}");
        }
    }

    #[test]
    fn leaves_ordinary_values() {
        for v in [
            "info",
            "https://api.example.com/v1/orders",
            "550e8400-e29b-41d4-a716-446655440000",
            "/var/lib/checkout/data",
            "db1:5432,db2:5432",
            "1.24.3",
            "true",
            "eu-west-1",
        ] {
            assert_eq!(secret_value(v), None, "flagged {v}");
        }
    }
}
