//! `*` globs over names, case-insensitive (`FEATURE_*`, `*_KEY`).

/// Whether `name` matches `pattern`, where `*` matches any run of characters.
pub fn matches(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.to_ascii_uppercase(), name.to_ascii_uppercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == n;
    }
    let mut rest = n.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else { return false };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

/// The first pattern in `patterns` that matches `name`.
pub fn first_match<'a>(patterns: &'a [String], name: &str) -> Option<&'a str> {
    patterns.iter().map(String::as_str).find(|p| matches(p, name))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        assert!(matches("FEATURE_*", "feature_x"));
        assert!(matches("*_KEY", "STRIPE_KEY"));
        assert!(!matches("*_KEY", "KEYBOARD"));
        assert!(matches("*PASSWORD*", "DB_PASSWORD_FILE"));
        assert!(matches("LOG_LEVEL", "LOG_LEVEL"));
        assert!(!matches("LOG_LEVEL", "LOG_LEVELS"));
    }
}
