//! resolve: ask the deploy registry what production runs (SPEC §4).
//!
//! Each source kind lives in its own file and yields JSON in the normalized
//! shape; this module turns it into a checked [`DeployRecord`].

pub mod file;
pub mod http;
pub mod record;

pub use record::{DeployRecord, ProdConfig, ProdValue, RecordError};

use crate::profile::{Profile, Source};

/// Why no deploy record could be had.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("deploy registry {origin}: cannot be reached: {detail}")]
    Unreachable { origin: String, detail: String },
    #[error("deploy registry {origin}: answered {status}{hint}")]
    Rejected { origin: String, status: u16, hint: String },
    #[error("deploy registry {origin}: {detail}")]
    Setup { origin: String, detail: String },
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// The record of what runs now in the profile's environment, checked against
/// the profile (digest present, repository allowed).
pub async fn current(profile: &Profile) -> Result<DeployRecord, ResolveError> {
    let (origin, value) = match &profile.source {
        Source::File { path } => file::read(path, &profile.environment)?,
        Source::Http { .. } => http::fetch_current(profile).await?,
    };
    let mut record = DeployRecord::from_value(&origin, &value)?;
    record.check_repository(&origin, &profile.image.repository)?;
    if record.service.is_empty() {
        record.service = profile.service.clone();
    }
    if record.environment.is_empty() {
        record.environment = profile.environment.clone();
    }
    Ok(record)
}
