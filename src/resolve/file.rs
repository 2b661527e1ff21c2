//! The `file` source: a JSON record on disk, or a folder of them named
//! `<environment>.json` (what a git-ops checkout provides).

use std::path::Path;

use serde_json::Value;

use super::{record, ResolveError};

/// Reads the record for `environment`; returns (origin, JSON).
pub fn read(path: &Path, environment: &str) -> Result<(String, Value), ResolveError> {
    let file = if path.is_dir() { path.join(format!("{environment}.json")) } else { path.to_path_buf() };
    let origin = file.display().to_string();
    let text = std::fs::read_to_string(&file).map_err(|e| ResolveError::Unreachable {
        origin: origin.clone(),
        detail: format!("{e}; check [source].path in the profile (it is relative to the profile file)"),
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|e| record::syntax(&origin, &e))?;
    Ok((origin, value))
}
