//! [`SandboxName`]: a sandbox's name, checked once where it is parsed.
//! Sandbox names become container, network and volume names, so they keep
//! to what engines accept. This module depends on nothing else in the
//! crate, so the profile (dependency names) and the sandbox can both use it
//! without importing each other.

use std::fmt;

/// A valid sandbox name: 1–48 ASCII letters, digits, `-`, `_` or `.`,
/// starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct SandboxName(String);

/// A name engines would not accept for a resource.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a valid name: use up to 48 letters, digits, '-', '_' or '.', starting with a letter or digit")]
pub struct InvalidName(pub String);

impl SandboxName {
    /// Checks `name`.
    pub fn parse(name: &str) -> Result<SandboxName, InvalidName> {
        if SandboxName::valid(name) {
            Ok(SandboxName(name.to_string()))
        } else {
            Err(InvalidName(name.to_string()))
        }
    }

    /// Whether `name` would make valid resource names.
    pub fn valid(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 48
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for SandboxName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SandboxName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::SandboxName;

    #[test]
    fn names_are_checked_when_parsed() {
        for good in ["checkout", "a", "co-2.b_c"] {
            assert_eq!(SandboxName::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "-x", ".x", "a b", "a/b", &"x".repeat(49)] {
            assert!(SandboxName::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
