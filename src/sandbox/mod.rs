//! launch: the isolated sandbox (SPEC §6) — its networks, the app container,
//! the relay that is its only door, health, listing and teardown.

pub mod exec;
pub mod health;
pub mod inflight;
pub mod ingress;
pub mod labels;
pub mod launch;
pub mod libpod;
pub mod list;
pub mod lock;
pub mod logs;
pub mod network;
pub mod relay;
pub mod selftest;
pub mod sinkhole;
pub mod teardown;
pub mod verify;

use crate::identity::Identity;
use crate::name::SandboxName;
use crate::profile::{Dependency, PortSpec};

pub use health::HealthPlan;
pub use launch::launch;
pub use list::{find, list, SandboxInfo};
pub use teardown::{remove, remove_all_labelled};

/// Everything needed to start a sandbox, already sanitized.
#[derive(Debug, Clone)]
pub struct SandboxSpec {
    pub name: SandboxName,
    /// What runs (`image` is `repo@digest` as pulled).
    pub deploy: Identity,
    pub env: Vec<(String, String)>,
    pub files: Vec<(String, String)>,
    /// Decisions as JSON (names and reasons only), for the label.
    pub sanitize_json: String,
    pub ports: Vec<PortSpec>,
    pub health: HealthPlan,
    pub memory: Option<i64>,
    pub cpus: Option<f64>,
    pub read_only: bool,
    pub cap_add: Vec<String>,
    /// Seconds `down` lets the app stop before killing it (0: at once).
    pub stop_timeout: u32,
    pub dependencies: Vec<Dependency>,
    /// Labels the user added (`--label`), on every resource.
    pub extra_labels: Vec<(String, String)>,
    /// A second build run beside production's (`--candidate`).
    pub candidate: Option<Candidate>,
    /// How the egress sinkhole answers (`[run] egress`).
    pub egress: crate::profile::EgressPolicy,
}

/// The candidate build of a pairing session.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// As the user named it (`checkout:fix`, `registry/repo@sha256:…`).
    pub image: String,
    /// The engine's image id.
    pub id: String,
    /// Its registry digest (`sha256:…`), when the engine knows one; a local
    /// build has none.
    pub digest: Option<String>,
}

impl SandboxSpec {
    /// Mistakes that would only show once containers exist, refused before
    /// anything is made: with a read-only root each config file's folder
    /// becomes a volume, and `/` cannot be one.
    pub fn check(&self) -> Result<(), SpecError> {
        check_files(self.read_only, &self.files)?;
        check_env(&self.env)
    }
}

/// The env a container is started with, checked against what the engine
/// and Linux accept, before anything is made (part of [`SandboxSpec::check`]).
pub fn check_env(env: &[(String, String)]) -> Result<(), SpecError> {
    // The engine would take the create and fail at exec ("argument list
    // too long") half a minute later; the record is refused before.
    let strings = env.iter().map(|(k, v)| k.len() + 1 + v.len());
    if let Some((name, _)) =
        env.iter().zip(strings.clone()).find(|(_, n)| *n > crate::limits::MAX_ENV_STRING).map(|(kv, n)| (&kv.0, n))
    {
        return Err(SpecError::EnvTooLarge {
            detail: format!(
                "the value of {name} is longer than {} KiB, more than Linux passes to a program",
                crate::limits::MAX_ENV_STRING >> 10
            ),
        });
    }
    let total: usize = strings.map(|n| n + 1).sum();
    if total > crate::limits::MAX_ENV_BYTES {
        return Err(SpecError::EnvTooLarge {
            detail: format!(
                "{} variables take {} KiB, more than the {} KiB a container is started with",
                env.len(),
                total >> 10,
                crate::limits::MAX_ENV_BYTES >> 10
            ),
        });
    }
    Ok(())
}

/// [`SandboxSpec::check`] from the two things it looks at, before the spec is complete.
pub fn check_files(read_only: bool, files: &[(String, String)]) -> Result<(), SpecError> {
    if read_only && launch::config_dirs(files).iter().any(|d| d == "/") {
        let file = files.iter().map(|(p, _)| p.as_str()).find(|p| p.trim_start_matches('/').find('/').is_none());
        return Err(SpecError::FileAtRoot { file: file.unwrap_or("/").to_string() });
    }
    Ok(())
}

/// A sandbox that cannot be made as specified.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("config file {file} sits at / and cannot be placed in a read-only container")]
    FileAtRoot { file: String },
    #[error("the deploy record's env is too large: {detail}")]
    EnvTooLarge { detail: String },
}

/// Resource names, derived from the sandbox name.
pub fn network_name(sandbox: &str) -> String {
    format!("prodbox-{sandbox}")
}

/// A sandbox's own bridge its relay publishes ports from, where sandboxes
/// do not share one ([`ingress`]: on Podman).
pub fn ingress_network_name(sandbox: &str) -> String {
    format!("prodbox-{sandbox}-ingress")
}

/// Container name for a role (`app`, `relay`, `dep-db`).
pub fn container_name(sandbox: &str, role: &str) -> String {
    format!("prodbox-{sandbox}-{role}")
}

/// Pids limit for the app container.
pub const PIDS_LIMIT: i64 = 512;
/// Memory limit when the profile gives none.
pub const DEFAULT_MEMORY: i64 = 1 << 30;

/// A sandbox that is not there, or lacks the part asked for.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("no sandbox named {0}")]
    NotFound(String),
    #[error("sandbox {name} has no candidate")]
    NoCandidate { name: String, service: String },
    #[error("sandbox {name} has no {role} container")]
    NoContainer { name: String, role: labels::Role },
}

/// The sandbox named `name`, or [`SandboxError::NotFound`].
pub async fn require(engine: &crate::engine::Engine, name: &str) -> anyhow::Result<SandboxInfo> {
    match find(engine, name).await? {
        Some(info) => Ok(info),
        None => Err(SandboxError::NotFound(name.to_string()).into()),
    }
}
