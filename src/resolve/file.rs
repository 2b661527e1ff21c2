//! The `file` source: a JSON record on disk, or a folder of them named
//! `<environment>.json` (what a git-ops checkout provides). History is the
//! record's `history` list.

use std::path::{Path, PathBuf};

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::{record, Answer, DeploySource, Query, ResolveError};

/// A deploy record file (or folder of them).
pub struct FileSource {
    pub path: PathBuf,
}

impl DeploySource for FileSource {
    fn current<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, ResolveError>> {
        Box::pin(async move { read(&self.path, &query.environment) })
    }

    fn history<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, ResolveError>> {
        Box::pin(async move { read(&self.path, &query.environment) })
    }
}

/// Reads the record for `environment`.
pub fn read(path: &Path, environment: &str) -> Result<Answer, ResolveError> {
    let file = if path.is_dir() { path.join(format!("{environment}.json")) } else { path.to_path_buf() };
    let origin = file.display().to_string();
    let bytes = match crate::limits::read_file(&file, crate::limits::MAX_RECORD) {
        Ok(bytes) => bytes,
        Err(crate::limits::ReadError::Io(e)) => {
            return Err(ResolveError::Unreachable {
                origin,
                detail: format!("{e}; check [source].path in the profile (it is relative to the profile file)"),
            })
        }
        // A file that is there but unusable is a bad record (exit 2), as for profiles.
        Err(e @ crate::limits::ReadError::TooLarge(_)) => {
            return Err(
                record::RecordError::Field { origin, field: "(record)".into(), problem: format!("is {e}") }.into()
            )
        }
    };
    if let Some((line, column)) = crate::limits::first_non_utf8(&bytes) {
        return Err(record::RecordError::Syntax { origin, what: "bytes that are not UTF-8", line, column }.into());
    }
    let text = String::from_utf8_lossy(&bytes);
    let value: Value = serde_json::from_str(&text).map_err(|e| record::syntax(&origin, &e))?;
    Ok(Answer::new(origin, value))
}
