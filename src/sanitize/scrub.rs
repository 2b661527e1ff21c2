//! The fail-closed second pass: a secret taken out in one place must not
//! survive in another (the same password unmarked in a file, a token
//! repeated under an innocent name). Every occurrence left is replaced by
//! `prodbox-redacted`, and the decision that kept it becomes a redaction.

use std::collections::{HashMap, HashSet};

use aho_corasick::AhoCorasick;

use super::{Action, Decision, SanitizedConfig, REDACTED};

/// Secret text shorter than this is not hunted for elsewhere: short values
/// (`1234`, `admin`) turn up in ordinary config by chance.
pub const MIN_LEN: usize = 8;

/// Finds any of many secrets in text. The automaton holds only their first
/// [`MIN_LEN`] bytes (far fewer states to build and walk than the whole
/// secrets); each hit is confirmed against the secrets with that start.
struct Finder<'a> {
    starts: AhoCorasick,
    /// Per start: the lengths its secrets have (longest first), and the secrets.
    candidates: Vec<(Vec<usize>, HashSet<&'a str>)>,
}

impl<'a> Finder<'a> {
    fn new(secrets: &[&'a str]) -> Option<Finder<'a>> {
        let mut by_start: HashMap<&[u8], (Vec<usize>, HashSet<&'a str>)> = HashMap::new();
        for s in secrets {
            let entry = by_start.entry(&s.as_bytes()[..MIN_LEN]).or_default();
            entry.0.push(s.len());
            entry.1.insert(s);
        }
        let mut starts = Vec::with_capacity(by_start.len());
        let mut candidates = Vec::with_capacity(by_start.len());
        for (start, (mut lengths, set)) in by_start {
            lengths.sort_unstable_by(|a, b| b.cmp(a));
            lengths.dedup();
            starts.push(start);
            candidates.push((lengths, set));
        }
        let starts = AhoCorasick::new(&starts).ok()?;
        Some(Finder { starts, candidates })
    }

    /// `text` with every secret replaced, or None when it holds none.
    fn replace(&self, text: &str) -> Option<String> {
        let mut out: Option<String> = None;
        let mut copied = 0;
        for m in self.starts.find_overlapping_iter(text) {
            if m.start() < copied {
                continue;
            }
            let rest = &text[m.start()..];
            let (lengths, set) = &self.candidates[m.pattern().as_usize()];
            let Some(len) = lengths.iter().copied().find(|&l| rest.get(..l).is_some_and(|head| set.contains(head)))
            else {
                continue;
            };
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[copied..m.start()]);
            o.push_str(REDACTED);
            copied = m.start() + len;
        }
        let mut o = out?;
        o.push_str(&text[copied..]);
        Some(o)
    }
}

/// Replaces every occurrence of `removed` (the secret text other decisions
/// took out) left in `out`.
pub fn scrub(out: &mut SanitizedConfig, removed: &[String]) {
    let mut secrets: Vec<&str> =
        removed.iter().map(String::as_str).filter(|p| p.len() >= MIN_LEN && *p != REDACTED).collect();
    secrets.sort_unstable();
    secrets.dedup();
    if secrets.is_empty() {
        return;
    }
    let Some(finder) = Finder::new(&secrets) else { return };
    let reason = "holds the text of a secret redacted elsewhere";
    for (name, value) in out.env.iter_mut() {
        if let Some(clean) = finder.replace(value) {
            *value = clean;
            if let Some(d) = out.decisions.iter_mut().find(|d| d.kind == "env" && &d.name == name) {
                d.action = Action::Redacted;
                d.reason = reason.into();
                d.by_profile = false;
            }
        }
    }
    for (path, content) in out.files.iter_mut() {
        if let Some(clean) = finder.replace(content) {
            *content = clean;
            out.decisions.push(Decision {
                kind: "key",
                name: format!("{path}:(text)"),
                action: Action::Redacted,
                reason: reason.into(),
                by_profile: false,
            });
            if let Some(d) = out.decisions.iter_mut().find(|d| d.kind == "file" && &d.name == path) {
                d.action = Action::Redacted;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_secrets_that_share_a_start() {
        let secrets = ["s3cr3t-10-pw", "s3cr3t-1-pw", "AKIAIOSFODNN7EXAMPLE"];
        let f = Finder::new(&secrets).unwrap();
        assert_eq!(
            f.replace("a s3cr3t-10-pw b s3cr3t-1-pw c AKIAIOSFODNN7EXAMPLE").unwrap(),
            "a prodbox-redacted b prodbox-redacted c prodbox-redacted"
        );
        assert_eq!(f.replace("s3cr3t-2-pw"), None);
    }
}
