//! Reading sandboxes back from the engine, by their labels.

use std::collections::BTreeMap;

use bollard::query_parameters::{ListContainersOptionsBuilder, ListNetworksOptionsBuilder};
use serde::Serialize;

use super::labels;
use crate::engine::{self, Engine, EngineError};

/// A sandbox as `ls` and `inspect NAME` show it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SandboxInfo {
    pub name: String,
    pub service: String,
    pub environment: String,
    pub digest: String,
    pub image: String,
    pub deployed_at: Option<String>,
    pub deployed_by: Option<String>,
    pub revision: Option<String>,
    /// The app container's state (`running`, `exited`, …), or `missing`.
    pub status: String,
    /// `http://127.0.0.1:PORT` for each published port.
    pub urls: Vec<String>,
    /// (container port, host port).
    pub ports: Vec<(u16, u16)>,
    /// Sanitization decisions (names and reasons only).
    pub sanitize: serde_json::Value,
}

impl SandboxInfo {
    /// Running app container.
    pub fn is_running(&self) -> bool {
        self.status == "running"
    }
}

/// Every sandbox the engine knows, by name, including ones left half-made.
pub async fn list(engine: &Engine) -> Result<Vec<SandboxInfo>, EngineError> {
    let options =
        ListContainersOptionsBuilder::default().all(true).filters(&labels::filter(&[(labels::SANDBOX, "")])).build();
    let containers =
        engine.docker.list_containers(Some(options)).await.map_err(|e| engine::api("listing containers", e))?;
    let mut found: BTreeMap<String, SandboxInfo> = BTreeMap::new();
    for c in &containers {
        let l = c.labels.clone().unwrap_or_default();
        let Some(name) = l.get(labels::SANDBOX) else { continue };
        let info = found.entry(name.clone()).or_insert_with(|| SandboxInfo {
            name: name.clone(),
            status: "missing".into(),
            sanitize: serde_json::Value::Null,
            ..Default::default()
        });
        match l.get(labels::ROLE).map(String::as_str) {
            Some(labels::ROLE_APP) => {
                let get = |k: &str| l.get(k).cloned();
                info.service = get(labels::SERVICE).unwrap_or_default();
                info.environment = get(labels::ENVIRONMENT).unwrap_or_default();
                info.digest = get(labels::DIGEST).unwrap_or_default();
                info.image = get(labels::IMAGE).unwrap_or_default();
                info.deployed_at = get(labels::DEPLOYED_AT);
                info.deployed_by = get(labels::DEPLOYED_BY);
                info.revision = get(labels::REVISION);
                info.status = c.state.map(|s| s.to_string()).unwrap_or_else(|| "unknown".into());
                info.sanitize = l.get(labels::SANITIZE).and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
            }
            Some(labels::ROLE_RELAY) => {
                for p in c.ports.clone().unwrap_or_default() {
                    if let Some(public) = p.public_port {
                        info.ports.push((p.private_port, public));
                    }
                }
                info.ports.sort_unstable();
                info.ports.dedup();
                info.urls = info.ports.iter().map(|(_, h)| format!("http://127.0.0.1:{h}")).collect();
            }
            _ => {}
        }
    }
    let options = ListNetworksOptionsBuilder::default().filters(&labels::filter(&[(labels::SANDBOX, "")])).build();
    let networks = engine.docker.list_networks(Some(options)).await.map_err(|e| engine::api("listing networks", e))?;
    for n in networks {
        if let Some(name) = n.labels.and_then(|l| l.get(labels::SANDBOX).cloned()) {
            found.entry(name.clone()).or_insert_with(|| SandboxInfo {
                name,
                status: "missing".into(),
                sanitize: serde_json::Value::Null,
                ..Default::default()
            });
        }
    }
    Ok(found.into_values().collect())
}

/// One sandbox by name.
pub async fn find(engine: &Engine, name: &str) -> Result<Option<SandboxInfo>, EngineError> {
    Ok(list(engine).await?.into_iter().find(|s| s.name == name))
}
