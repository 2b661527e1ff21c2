//! Repro files (`up --save`, `up --from`): what ran, by digest, and a hash of
//! the profile, so the same build runs again elsewhere. Never a config value.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The contents of a repro file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repro {
    /// The prodbox version that wrote it.
    pub prodbox: String,
    pub service: String,
    pub environment: String,
    /// `registry/repository@sha256:…`.
    pub image: String,
    pub digest: String,
    pub deployed_at: Option<String>,
    pub revision: Option<String>,
    /// sha256 of the profile file that was used.
    pub profile_hash: String,
}

/// A repro file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReproError {
    #[error("repro file {path}: {detail}")]
    Read { path: String, detail: String },
    #[error("repro file {path}: cannot write: {detail}")]
    Write { path: String, detail: String },
}

impl Repro {
    /// Reads and checks a repro file.
    pub fn read(path: &Path) -> Result<Repro, ReproError> {
        let err = |detail: String| ReproError::Read { path: path.display().to_string(), detail };
        let bytes = crate::limits::read_file(path, crate::limits::MAX_REPRO).map_err(|e| err(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| err("not UTF-8 text".into()))?;
        let repro: Repro = serde_json::from_str(&text).map_err(|e| err(format!("not a prodbox repro file: {e}")))?;
        if !crate::digest::is_sha256_digest(&repro.digest) {
            return Err(err("digest is not sha256:<64 hex>".into()));
        }
        // A shared file must not name a profile outside the profiles
        // directories ("../x") or an environment path.
        for (field, value) in [("service", &repro.service), ("environment", &repro.environment)] {
            if let Err(e) = crate::name::plain_arg(value) {
                return Err(err(format!("{field}: {e}")));
            }
        }
        Ok(repro)
    }

    /// Writes it as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<(), ReproError> {
        let text = serde_json::to_string_pretty(self).expect("serializable") + "\n";
        std::fs::write(path, text)
            .map_err(|e| ReproError::Write { path: path.display().to_string(), detail: e.to_string() })
    }
}
