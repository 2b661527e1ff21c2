//! `*` globs over names, case-insensitive (`FEATURE_*`, `*_KEY`).

/// Whether `name` matches `pattern`, where `*` matches any run of characters.
/// ASCII case-insensitive; no allocation (it runs for every key of every file).
pub fn matches(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    // Most names fail on their first byte (`FEATURE_*` against every key of a file).
    if let (Some(&a), Some(&b)) = (p.first(), n.first()) {
        if a != b'*' && !a.eq_ignore_ascii_case(&b) {
            return false;
        }
    }
    let mut parts = p.split(|&b| b == b'*');
    let first = parts.next().unwrap_or_default();
    if !starts_with_ci(n, first) {
        return false;
    }
    let mut rest = &n[first.len()..];
    let mut pending: Option<&[u8]> = None;
    for part in parts {
        // Every part but the last may sit anywhere; the last must end the name.
        if let Some(middle) = pending.replace(part) {
            match find_ci(rest, middle) {
                Some(at) => rest = &rest[at + middle.len()..],
                None => return false,
            }
        }
    }
    match pending {
        None => rest.is_empty(),
        Some(last) => rest.len() >= last.len() && rest[rest.len() - last.len()..].eq_ignore_ascii_case(last),
    }
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    (0..=hay.len().checked_sub(needle.len())?).find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
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
        assert!(matches("log_*", "LOG_LEVEL") && matches("*", "") && !matches("a*", ""));
    }
}
