//! [`Secret`]: a value that came from production and has not been cleared by
//! the sanitizer. It cannot be printed by accident: `Debug` and `Display`
//! show a placeholder, and the only way to the text is [`Secret::expose`],
//! which the sanitizer alone calls.

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

    /// The raw value. Call sites are the sanitizer's decisions only.
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
