//! [`Secret`]: a value that came from production and has not been cleared by
//! the sanitizer. It cannot be printed by accident: `Debug` and `Display`
//! show a placeholder, and the only way to the text is [`Secret::expose`],
//! which the sanitizer calls to decide and the http source calls to send its
//! bearer token (grep `.expose()` for every use). [`ProdConfig`] is
//! production's configuration made of such values: the sources fill it and
//! the sanitizer reads it, so it lives here, apart from both.

use std::collections::BTreeMap;
use std::fmt;

/// What `Debug`/`Display` print in place of a production value.
pub const PLACEHOLDER: &str = "(redacted)";

/// A production configuration value, unreadable except through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value read from a deploy record.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The raw value: for the sanitizer's decisions and the http source's
    /// bearer header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PLACEHOLDER)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PLACEHOLDER)
    }
}

/// Production's configuration, every value still secret.
#[derive(Debug, Clone, Default)]
pub struct ProdConfig {
    pub env: BTreeMap<String, ProdValue>,
    pub files: BTreeMap<String, ProdValue>,
}

/// One production value and what the source said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProdValue {
    /// A value the source did not mark.
    Plain(Secret),
    /// A value the source marked as secret: always redacted unless `set` replaces it.
    Marked(Secret),
    /// A secret the source did not read (`{"secret_ref": "name/key"}`).
    Reference(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s}"), PLACEHOLDER);
        assert_eq!(format!("{s:?}"), PLACEHOLDER);
        assert_eq!(format!("{:#?}", vec![s.clone()]), format!("[\n    {PLACEHOLDER},\n]"));
        assert_eq!(s.expose(), "hunter2-very-secret");
    }
}
