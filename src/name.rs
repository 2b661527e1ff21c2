//! [`SandboxName`]: a sandbox's name, checked once where it is parsed.
//! Sandbox names become container, network and volume names, so they keep
//! to what engines accept. This module depends on nothing else in the
//! crate, so the profile (dependency names) and the sandbox can both use it
//! without importing each other.

use std::fmt;

/// A valid sandbox name: 1–48 ASCII letters, digits, `-`, `_` or `.`,
/// starting with a letter or digit, not ending in a [`RESERVED_SUFFIXES`]
/// one and not one of [`RESERVED_NAMES`].
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
        if SandboxName::valid(name) && reserved(name).is_none() {
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

/// Suffixes of the resource names a sandbox derives from its own name
/// (`prodbox-X-ingress` is sandbox X's relay network): a sandbox named
/// `X-ingress` would take X's network, so no name may end in one.
pub const RESERVED_SUFFIXES: &[&str] = &["-ingress"];

/// Names no sandbox may have: sandbox X's network is `prodbox-X`, and
/// `prodbox-ingress` is the ingress network every sandbox shares on Docker.
pub const RESERVED_NAMES: &[&str] = &["ingress"];

/// Why `name` is reserved for prodbox's own resources, if it is.
pub fn reserved(name: &str) -> Option<String> {
    if let Some(suffix) = RESERVED_SUFFIXES.iter().find(|s| name.ends_with(*s)) {
        return Some(format!(
            "sandbox name {name:?} ends in {suffix:?}, which prodbox uses for a sandbox's own networks; pick another"
        ));
    }
    RESERVED_NAMES.contains(&name).then(|| {
        format!("sandbox name {name:?} is reserved: prodbox-{name} is the network sandboxes share; pick another")
    })
}

/// clap's value parser for a sandbox NAME argument: an empty or invalid
/// name is bad usage (exit 2), never "every sandbox".
pub fn sandbox_arg(name: &str) -> Result<String, String> {
    if let Some(why) = reserved(name) {
        return Err(why);
    }
    if SandboxName::valid(name) {
        Ok(name.to_string())
    } else {
        Err(format!(
            "sandbox name {name:?}: use up to 48 letters, digits, '-', '_' or '.', starting with a letter or digit"
        ))
    }
}

/// clap's value parser for a SERVICE or an environment: a plain name, so it
/// can only ever name `profiles/SERVICE.toml` (never `../x` or `/etc/x`).
pub fn plain_arg(name: &str) -> Result<String, String> {
    if SandboxName::valid(name) {
        Ok(name.to_string())
    } else {
        Err(format!(
            "{name:?} is not a plain name: use up to 48 letters, digits, '-', '_' or '.', starting with a letter or digit"
        ))
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
        for bad in ["", "-x", ".x", "a b", "a/b", &"x".repeat(49), "ingress", "x-ingress"] {
            assert!(SandboxName::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn arguments_refuse_empty_paths_and_reserved_suffixes() {
        for bad in ["", " ", "..", "../x", "/etc/x", "a\0b", "x-ingress", "ingress", "\u{e9}"] {
            assert!(super::sandbox_arg(bad).is_err(), "{bad:?} accepted");
        }
        for bad in ["", "..", "../outside/evil", "/abs", "a/b", ".hidden", "a\nb"] {
            assert!(super::plain_arg(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(super::sandbox_arg("co-2").unwrap(), "co-2");
        assert_eq!(super::sandbox_arg("ingress2").unwrap(), "ingress2");
        assert_eq!(super::plain_arg("checkout").unwrap(), "checkout");
    }
}
