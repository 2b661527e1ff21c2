//! What `up` reports, and the repro file it can write.

use std::path::PathBuf;

use serde::Serialize;

use crate::repro::Repro;
use crate::sanitize::Decision;

/// The one-screen report after `up` (also `--json`). Never holds a config value.
#[derive(Debug, Clone, Serialize)]
pub struct UpReport {
    pub name: String,
    #[serde(flatten)]
    pub deploy: crate::identity::Identity,
    pub platform: String,
    pub size: u64,
    pub source: Option<String>,
    pub version: Option<String>,
    pub created: Option<String>,
    pub downloaded: bool,
    /// How health was decided (`--json`: kind, path, port, timeout).
    #[serde(serialize_with = "crate::sandbox::health::serialize_plan")]
    pub health: crate::sandbox::HealthPlan,
    pub urls: Vec<String>,
    pub ports: Vec<(u16, u16)>,
    /// Which deploy was chosen and why ("what runs now", "live at … from … to …").
    pub chosen: String,
    pub candidate: Option<CandidateReport>,
    /// How many env vars and files took each action.
    pub sanitized: ConfigCounts,
    pub decisions: Vec<Decision>,
    pub seconds: f64,
    /// sha256 of the profile file used.
    pub profile_hash: String,
    /// What it tried to reach outside the sandbox by the time it was healthy
    /// (the egress sinkhole's record; `None` without one).
    pub egress: Option<Vec<crate::sandbox::sinkhole::Destination>>,
    /// Where `--save` wrote the repro file.
    pub saved: Option<PathBuf>,
    /// How to stop it, for the human report (not data: left out of JSON).
    #[serde(skip)]
    pub stop: String,
    /// `-d`: the report is all; otherwise the CLI stays attached to the logs.
    #[serde(skip)]
    pub detached: bool,
}

/// How many env vars and files (not keys inside files) took each action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ConfigCounts {
    pub kept: usize,
    pub replaced: usize,
    pub dropped: usize,
    pub redacted: usize,
    pub rewritten: usize,
}

impl ConfigCounts {
    /// Counts `decisions`.
    pub fn of(decisions: &[Decision]) -> ConfigCounts {
        use crate::sanitize::{Action, DecisionKind};
        let mut c = ConfigCounts::default();
        for d in decisions.iter().filter(|d| d.kind != DecisionKind::Key) {
            *match d.action {
                Action::Kept => &mut c.kept,
                Action::Replaced => &mut c.replaced,
                Action::Dropped => &mut c.dropped,
                Action::Redacted => &mut c.redacted,
                Action::Rewritten => &mut c.rewritten,
            } += 1;
        }
        c
    }
}

impl std::fmt::Display for ConfigCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} kept, {} replaced, {} dropped, {} redacted, {} rewritten",
            self.kept, self.replaced, self.dropped, self.redacted, self.rewritten
        )
    }
}

/// The candidate's part of the report.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateReport {
    pub image: String,
    /// The engine's image id.
    pub id: String,
    /// Its registry digest, when it has one.
    pub digest: Option<String>,
    pub urls: Vec<String>,
    pub ports: Vec<(u16, u16)>,
}

/// `http://127.0.0.1:PORT` for each (container, host) port.
pub fn urls(ports: &[(u16, u16)]) -> Vec<String> {
    ports.iter().map(|(_, h)| format!("http://127.0.0.1:{h}")).collect()
}

/// What `--save` writes for this run.
pub fn repro_of(report: &UpReport) -> Repro {
    Repro {
        prodbox: env!("CARGO_PKG_VERSION").into(),
        service: report.deploy.service.clone(),
        environment: report.deploy.environment.clone(),
        image: report.deploy.image.clone(),
        digest: report.deploy.digest.clone(),
        deployed_at: report.deploy.deployed_at.clone(),
        revision: report.deploy.revision.clone(),
        profile_hash: report.profile_hash.clone(),
    }
}
