//! resolve: ask the deploy registry what production runs, or ran (SPEC §4, §7).
//!
//! Each source kind lives in its own file and yields JSON in the normalized
//! shape; this module turns it into checked [`DeployRecord`]s and picks the
//! one the user asked for ([`Pick`]).

pub mod file;
pub mod http;
pub mod pick;
pub mod record;

pub use pick::{choose_from, Chosen, Pick};
pub use record::{DeployRecord, ProdConfig, ProdValue, RecordError};

use serde_json::Value;

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
    #[error("deploy registry {origin}: keeps no history for {service}; {hint}")]
    NoHistory { origin: String, service: String, hint: String },
    #[error("{0}")]
    NoMatch(String),
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
    checked(profile, &origin, &value)
}

/// Past deploys, newest first (the current one included).
pub async fn history(profile: &Profile) -> Result<Vec<DeployRecord>, ResolveError> {
    let (origin, values) = match &profile.source {
        Source::File { path } => {
            let (origin, value) = file::read(path, &profile.environment)?;
            let mut values = vec![value.clone()];
            match value.get("history") {
                Some(Value::Array(past)) => values.extend(past.iter().cloned()),
                Some(_) => {
                    return Err(RecordError::Field {
                        origin,
                        field: "history".into(),
                        problem: "must be a list of deploy records".into(),
                    }
                    .into())
                }
                None => {}
            }
            (origin, values)
        }
        Source::Http { .. } => http::fetch_history(profile).await?,
    };
    let mut records = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        records.push(checked(profile, &format!("{origin} (deploy #{i})"), v)?);
    }
    records.sort_by_key(|r| std::cmp::Reverse(r.deployed_at.as_deref().and_then(crate::timestamp::Timestamp::parse)));
    let mut seen = std::collections::HashSet::new();
    records.retain(|r| seen.insert((r.image.digest.clone(), r.deployed_at.clone())));
    Ok(records)
}

/// The record the user asked for, and why it is that one.
pub async fn choose(profile: &Profile, pick: &Pick) -> Result<Chosen, ResolveError> {
    match pick {
        Pick::Current => Ok(Chosen { record: current(profile).await?, why: "what runs now".into(), live_until: None }),
        _ => choose_from(&profile.service, &history(profile).await?, pick),
    }
}

fn checked(profile: &Profile, origin: &str, value: &Value) -> Result<DeployRecord, ResolveError> {
    let mut record = DeployRecord::from_value(origin, value)?;
    record.check_repository(origin, &profile.image.repository)?;
    if record.service.is_empty() {
        record.service = profile.service.clone();
    }
    if record.environment.is_empty() {
        record.environment = profile.environment.clone();
    }
    Ok(record)
}
