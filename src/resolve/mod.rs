//! resolve: ask the deploy registry what production runs, or ran (SPEC §4, §7).
//!
//! Each source kind is one small type behind [`DeploySource`], chosen once
//! from the profile by [`source_for`]; nothing else matches on the kind.
//! A source answers with JSON; [`shape`] turns it into record-shaped JSON
//! (`[source.map]` or a jq `filter`), and this module checks it into
//! [`DeployRecord`]s and picks the one the user asked for ([`Pick`]).

pub mod command;
pub mod file;
pub mod http;
pub use crate::jq;
pub mod kubernetes;
pub mod oci;
pub mod pick;
pub mod record;
pub mod shape;

pub use pick::{choose_from, Chosen, Pick};
pub use record::{DeployRecord, ProdConfig, ProdValue, RecordError};

use futures_util::future::BoxFuture;
use serde_json::Value;

use crate::fetch::RegistryOptions;
use crate::profile::{Profile, Source};
use crate::timestamp::Timestamp;

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
    #[error("{origin}: {detail}")]
    BadAnswer { origin: String, detail: String },
    #[error("{0}")]
    NoMatch(String),
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The registry's credentials could not be read (the `oci` source).
    #[error(transparent)]
    Fetch(#[from] crate::fetch::FetchError),
}

/// What is being asked: which service, where, and for which instant.
#[derive(Debug, Clone)]
pub struct Query {
    pub service: String,
    pub environment: String,
    /// The instant asked about (`up --at`); None means now.
    pub at: Option<Timestamp>,
    /// How to reach OCI registries (the `oci` source).
    pub registry: RegistryOptions,
}

impl Query {
    /// A query for what runs now in the profile's environment.
    pub fn now(profile: &Profile, registry: &RegistryOptions) -> Query {
        Query {
            service: profile.service.clone(),
            environment: profile.environment.clone(),
            at: None,
            registry: registry.clone(),
        }
    }

    /// Fills `{service}`, `{environment}` and `{at}` (RFC 3339, now when unset).
    pub fn expand(&self, template: &str) -> String {
        let at = self.at.unwrap_or_else(Timestamp::now).to_string();
        template.replace("{service}", &self.service).replace("{environment}", &self.environment).replace("{at}", &at)
    }
}

/// A source's answer: where it came from, its JSON, and remarks for the report.
#[derive(Debug, Clone)]
pub struct Answer {
    pub origin: String,
    pub json: Value,
    /// Things the user should know ("no deploy-record artifact: no config").
    pub notes: Vec<String>,
}

impl Answer {
    /// An answer without remarks.
    pub fn new(origin: impl Into<String>, json: Value) -> Answer {
        Answer { origin: origin.into(), json, notes: Vec::new() }
    }
}

/// One kind of deploy source. `current` answers with one record's JSON,
/// `history` with a document holding several (see [`shape::records`]).
pub trait DeploySource: Send + Sync {
    /// What production runs now (or at `query.at` when [`answers_at`](Self::answers_at)).
    fn current<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, ResolveError>>;
    /// Past deploys.
    fn history<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, ResolveError>>;
    /// Whether `current` itself can answer for a past instant (a command with `{at}`).
    fn answers_at(&self) -> bool {
        false
    }
}

/// The profile's source, chosen once: the only place that looks at its kind.
pub fn source_for(profile: &Profile) -> Box<dyn DeploySource> {
    match &profile.source.kind {
        Source::File { path } => Box::new(file::FileSource { path: path.clone() }),
        Source::Http { url, history_url, token_env } => Box::new(http::HttpSource {
            url: url.clone(),
            history_url: history_url.clone(),
            token_env: token_env.clone(),
        }),
        Source::Command { command, history_command, timeout, dir } => Box::new(command::CommandSource {
            command: command.clone(),
            history_command: history_command.clone(),
            timeout: *timeout,
            dir: dir.clone(),
        }),
        Source::Oci { tag, history_tags } => Box::new(oci::OciSource {
            repository: profile.image.repository.clone(),
            tag: tag.clone(),
            history_tags: history_tags.clone(),
        }),
        Source::Kubernetes { context, namespace, workload, container, kubeconfig } => {
            Box::new(kubernetes::KubeSource {
                context: context.clone(),
                namespace: namespace.clone(),
                workload: workload.clone(),
                container: container.clone(),
                kubeconfig: kubeconfig.clone(),
            })
        }
    }
}

/// A source's answer within the overall network deadline
/// ([`network_deadline`](crate::limits::network_deadline)): a source that
/// trickles or never answers is "cannot be reached" (exit 3), named.
async fn within_deadline(
    profile: &Profile,
    answer: BoxFuture<'_, Result<Answer, ResolveError>>,
) -> Result<Answer, ResolveError> {
    let limit = crate::limits::network_deadline();
    match tokio::time::timeout(limit, answer).await {
        Ok(result) => result,
        Err(_) => Err(ResolveError::Unreachable {
            origin: profile.source.kind.describe(),
            detail: format!(
                "no complete answer within {}s; set PRODBOX_NETWORK_TIMEOUT (e.g. 10m) to wait longer",
                limit.as_secs()
            ),
        }),
    }
}

/// A checked record and what the source remarked about it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub record: DeployRecord,
    pub notes: Vec<String>,
}

/// The record of what runs now in the profile's environment, checked against
/// the profile (digest present, repository allowed).
pub async fn current(profile: &Profile, registry: &RegistryOptions) -> Result<Resolved, ResolveError> {
    current_for(profile, &Query::now(profile, registry)).await
}

async fn current_for(profile: &Profile, query: &Query) -> Result<Resolved, ResolveError> {
    let answer = within_deadline(profile, source_for(profile).current(query)).await?;
    let value = shape::record(&profile.source, query, &answer)?;
    Ok(Resolved { record: checked(profile, &answer.origin, &value)?, notes: answer.notes })
}

/// A past deploy known only by a tag (e.g. a ReplicaSet whose pods are
/// gone): listed by `history`, never chosen.
#[derive(Debug, Clone)]
pub struct Unpinned {
    pub image: String,
    pub deployed_at: Option<String>,
    pub revision: Option<String>,
    /// Why it cannot run, when it is not only its missing digest (a past
    /// record for another repository, or a malformed one).
    pub unusable: Option<String>,
}

/// Past deploys, newest first (the current one included).
pub async fn history(profile: &Profile, registry: &RegistryOptions) -> Result<Vec<DeployRecord>, ResolveError> {
    Ok(history_listing(profile, registry).await?.0)
}

/// Past deploys, newest first, and those whose digest is unknown.
pub async fn history_listing(
    profile: &Profile,
    registry: &RegistryOptions,
) -> Result<(Vec<DeployRecord>, Vec<Unpinned>), ResolveError> {
    let query = Query::now(profile, registry);
    let answer = within_deadline(profile, source_for(profile).history(&query)).await?;
    let values = shape::records(&profile.source, &query, &answer)?;
    let mut records = Vec::with_capacity(values.len());
    let mut unpinned = Vec::new();
    let mut first_bad = None;
    for (i, v) in values.iter().enumerate() {
        match checked(profile, &format!("{} (deploy #{i})", answer.origin), v) {
            Ok(r) => records.push(r),
            Err(ResolveError::Record(RecordError::NoDigest { image, .. })) => {
                let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
                unpinned.push(Unpinned {
                    image,
                    deployed_at: text("deployed_at"),
                    revision: text("revision"),
                    unusable: None,
                });
            }
            // One bad past record (another repository's, a malformed one)
            // is listed as unusable; it does not hide the others.
            Err(ResolveError::Record(e)) => {
                tracing::warn!("{e}");
                let problem = record_problem(&e);
                first_bad.get_or_insert(e);
                let text = |k: &str| v.get(k).and_then(Value::as_str).map(crate::sanitize::scrub_text);
                unpinned.push(Unpinned {
                    image: text("image").unwrap_or_else(|| "(none)".into()),
                    deployed_at: text("deployed_at").filter(|t| Timestamp::parse(t).is_some()),
                    revision: text("revision"),
                    unusable: Some(problem),
                });
            }
            Err(e) => return Err(e),
        }
    }
    // With no usable record at all, the bad one is the answer (exit 2).
    if let (true, Some(e)) = (records.is_empty(), first_bad) {
        return Err(e.into());
    }
    records.sort_by_key(|r| std::cmp::Reverse(r.deployed_at.as_deref().and_then(Timestamp::parse)));
    let mut seen = std::collections::HashSet::new();
    records.retain(|r| seen.insert((r.image.digest.clone(), r.deployed_at.clone())));
    Ok((records, unpinned))
}

/// The record the user asked for, and why it is that one.
pub async fn choose(profile: &Profile, pick: &Pick, registry: &RegistryOptions) -> Result<Chosen, ResolveError> {
    let with_notes = |why: &str, notes: &[String]| {
        if notes.is_empty() {
            why.to_string()
        } else {
            format!("{why} ({})", notes.join("; "))
        }
    };
    match pick {
        Pick::Current => {
            let r = current(profile, registry).await?;
            Ok(Chosen { why: with_notes("what runs now", &r.notes), record: r.record })
        }
        Pick::At(at) if source_for(profile).answers_at() => {
            let query = Query { at: Some(*at), ..Query::now(profile, registry) };
            let r = current_for(profile, &query).await?;
            Ok(Chosen { why: with_notes(&format!("live at {at}, as the source answered"), &r.notes), record: r.record })
        }
        Pick::Digest(_) | Pick::Revision(_) => {
            // What runs now is the likeliest pin (a repro file of today's
            // deploy), and sources without history can answer it.
            let now = current(profile, registry).await?;
            match choose_from(&profile.service, std::slice::from_ref(&now.record), pick) {
                Ok(chosen) => Ok(chosen),
                Err(_) => choose_from(&profile.service, &history(profile, registry).await?, pick),
            }
        }
        Pick::At(_) => choose_from(&profile.service, &history(profile, registry).await?, pick),
    }
}

/// What is wrong with an unusable past record, in a few words.
fn record_problem(e: &RecordError) -> String {
    match e {
        RecordError::WrongRepository { .. } => "another repository".into(),
        RecordError::NoDigest { .. } => "no digest".into(),
        RecordError::Field { field, .. } => format!("bad field {field}"),
        RecordError::Syntax { .. } => "malformed".into(),
    }
}

fn checked(profile: &Profile, origin: &str, value: &Value) -> Result<DeployRecord, ResolveError> {
    let mut record = DeployRecord::from_value(origin, value)?;
    record.check_repository(origin, &profile.image.repository)?;
    // A record for another service or environment is not this profile's,
    // whatever its image: refused like one for another repository.
    for (field, have, want) in
        [("service", &record.service, &profile.service), ("environment", &record.environment, &profile.environment)]
    {
        if !have.is_empty() && have != want {
            return Err(RecordError::Field {
                origin: origin.into(),
                field: field.into(),
                problem: format!("is {have:?}, but the profile {} is for {want:?}", profile.path.display()),
            }
            .into());
        }
    }
    if record.service.is_empty() {
        record.service = profile.service.clone();
    }
    if record.environment.is_empty() {
        record.environment = profile.environment.clone();
    }
    Ok(record)
}
