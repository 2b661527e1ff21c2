//! launch: the isolated sandbox (SPEC §6) — its networks, the app container,
//! the relay that is its only door, health, listing and teardown.

pub mod exec;
pub mod health;
pub mod labels;
pub mod launch;
pub mod list;
pub mod relay;
pub mod teardown;
pub mod verify;

use crate::profile::{Dependency, PortSpec};

pub use health::HealthPlan;
pub use launch::launch;
pub use list::{find, list, SandboxInfo};
pub use teardown::{remove, remove_all_labelled};

/// Everything needed to start a sandbox, already sanitized.
#[derive(Debug, Clone)]
pub struct SandboxSpec {
    pub name: String,
    pub service: String,
    pub environment: String,
    /// `repo@digest` as pulled.
    pub image: String,
    pub digest: String,
    pub deployed_at: Option<String>,
    pub deployed_by: Option<String>,
    pub revision: Option<String>,
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
    pub dependencies: Vec<Dependency>,
    /// Labels the user added (`--label`), on every resource.
    pub extra_labels: Vec<(String, String)>,
    /// A second build run beside production's (`--candidate`).
    pub candidate: Option<Candidate>,
}

/// The candidate build of a pairing session.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// As the user named it (`checkout:fix`, `registry/repo@sha256:…`).
    pub image: String,
    /// The engine's image id.
    pub id: String,
}

/// Resource names, derived from the sandbox name.
pub fn network_name(sandbox: &str) -> String {
    format!("prodbox-{sandbox}")
}

/// The normal bridge the relay publishes ports from.
pub fn ingress_network_name(sandbox: &str) -> String {
    format!("prodbox-{sandbox}-ingress")
}

/// Container name for a role (`app`, `relay`, `dep-db`).
pub fn container_name(sandbox: &str, role: &str) -> String {
    format!("prodbox-{sandbox}-{role}")
}

/// Sandbox names become resource names: keep them to what Docker allows.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 48
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Pids limit for the app container.
pub const PIDS_LIMIT: i64 = 512;
/// Memory limit when the profile gives none.
pub const DEFAULT_MEMORY: i64 = 1 << 30;
