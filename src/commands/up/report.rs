//! What `up` reports, and the repro file it can write.

use std::path::PathBuf;

use serde::Serialize;

use crate::repro::Repro;
use crate::sanitize::Decision;

/// The one-screen report after `up` (also `--json`). Never holds a config value.
#[derive(Debug, Clone, Serialize)]
pub struct UpReport {
    pub name: String,
    pub service: String,
    pub environment: String,
    pub image: String,
    pub digest: String,
    pub platform: String,
    pub size: u64,
    pub deployed_at: Option<String>,
    pub deployed_by: Option<String>,
    pub revision: Option<String>,
    pub source: Option<String>,
    pub version: Option<String>,
    pub created: Option<String>,
    pub downloaded: bool,
    pub health: String,
    pub urls: Vec<String>,
    pub ports: Vec<(u16, u16)>,
    /// Which deploy was chosen and why ("what runs now", "live at … from … to …").
    pub chosen: String,
    pub candidate: Option<CandidateReport>,
    pub sanitized: String,
    pub decisions: Vec<Decision>,
    pub seconds: f64,
    pub stop: String,
    /// sha256 of the profile file used.
    pub profile_hash: String,
    /// Where `--save` wrote the repro file.
    pub saved: Option<PathBuf>,
}

/// The candidate's part of the report.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateReport {
    pub image: String,
    pub id: String,
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
        service: report.service.clone(),
        environment: report.environment.clone(),
        image: report.image.clone(),
        digest: report.digest.clone(),
        deployed_at: report.deployed_at.clone(),
        revision: report.revision.clone(),
        profile_hash: report.profile_hash.clone(),
    }
}
