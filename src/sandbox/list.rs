//! Reading sandboxes back from the engine, by their labels.

use std::collections::BTreeMap;

use bollard::query_parameters::{ListContainersOptionsBuilder, ListNetworksOptionsBuilder};
use serde::Serialize;

use super::labels::{self, Role};
use super::launch::Route;
use crate::engine::{self, Engine, EngineError};

/// A sandbox as `ls` and `inspect NAME` show it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SandboxInfo {
    pub name: String,
    #[serde(flatten)]
    pub deploy: crate::identity::Identity,
    /// The app container's state (`running`, `exited`, …), or `missing`.
    pub status: String,
    /// `http://127.0.0.1:PORT` for each published port.
    pub urls: Vec<String>,
    /// (container port, host port).
    pub ports: Vec<(u16, u16)>,
    /// Sanitization decisions (names and reasons only).
    pub sanitize: serde_json::Value,
    /// The candidate build, when the sandbox pairs one.
    pub candidate: Option<CandidateInfo>,
    /// When its newest resource was made (Unix seconds): `gc` leaves young,
    /// half-made sandboxes alone, as an `up` may still be making them.
    #[serde(skip)]
    pub newest_resource: i64,
    /// Where it lives when that is not the local engine (`namespace/NAME` on a cluster).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// When `gc` may remove it (Unix seconds, a cluster sandbox's `--ttl`); `None` never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// A sandbox's candidate container.
#[derive(Debug, Clone, Serialize, Default)]
pub struct CandidateInfo {
    pub image: String,
    /// The engine's image id.
    pub id: String,
    /// Its registry digest, when the engine knows one (a local build has none).
    pub digest: Option<String>,
    pub status: String,
    pub urls: Vec<String>,
    /// (container port, host port).
    pub ports: Vec<(u16, u16)>,
}

impl SandboxInfo {
    /// Past its TTL at `now` (Unix seconds).
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }

    /// Left behind: its app exited or died, or it has no running app and
    /// nothing of it changed for `grace_secs` (younger ones may be an `up` at work).
    pub fn is_garbage(&self, now: i64, grace_secs: i64) -> bool {
        match self.status.as_str() {
            // A paused sandbox is someone's, kept on purpose (`docker pause`).
            "running" | "restarting" | "paused" => false,
            "exited" | "dead" => true,
            _ => now - self.newest_resource > grace_secs,
        }
    }
}

/// Every sandbox with a container, by name, from one list call: what `ls`
/// shows is in the containers' labels and ports, so no sandbox is inspected.
pub async fn list(engine: &Engine) -> Result<Vec<SandboxInfo>, EngineError> {
    Ok(from_containers(engine).await?.into_values().collect())
}

/// Every sandbox the engine knows, including ones left half-made with no
/// container (only a network): what `gc` sweeps.
pub async fn list_with_leftovers(engine: &Engine) -> Result<Vec<SandboxInfo>, EngineError> {
    let options = ListNetworksOptionsBuilder::default().filters(&labels::has(labels::SANDBOX)).build();
    let (found, networks) = tokio::join!(from_containers(engine), engine.docker.list_networks(Some(options)));
    let mut found = found?;
    let networks = networks.map_err(|e| engine::api("listing networks", e))?;
    for n in networks {
        if let Some(name) = n.labels.and_then(|l| l.get(labels::SANDBOX).cloned()) {
            let info = found.entry(name.clone()).or_insert_with(|| SandboxInfo {
                name,
                status: "missing".into(),
                sanitize: serde_json::Value::Null,
                ..Default::default()
            });
            let created = n.created.as_deref().and_then(crate::timestamp::Timestamp::parse).map(|t| t.0).unwrap_or(0);
            info.newest_resource = info.newest_resource.max(created);
        }
    }
    Ok(found.into_values().collect())
}

async fn from_containers(engine: &Engine) -> Result<BTreeMap<String, SandboxInfo>, EngineError> {
    let options = ListContainersOptionsBuilder::default().all(true).filters(&labels::has(labels::SANDBOX)).build();
    let containers = engine.list_containers(options).await?;
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
        info.newest_resource = info.newest_resource.max(c.created.unwrap_or(0));
        match l.get(labels::ROLE).and_then(|r| Role::parse(r)) {
            Some(Role::App) => {
                let get = |k: &str| l.get(k).cloned();
                info.deploy.service = get(labels::SERVICE).unwrap_or_default();
                info.deploy.environment = get(labels::ENVIRONMENT).unwrap_or_default();
                info.deploy.digest = get(labels::DIGEST).unwrap_or_default();
                info.deploy.image = get(labels::IMAGE).unwrap_or_default();
                info.deploy.deployed_at = get(labels::DEPLOYED_AT);
                info.deploy.deployed_by = get(labels::DEPLOYED_BY);
                info.deploy.revision = get(labels::REVISION);
                info.status = c.state.map(|s| s.to_string()).unwrap_or_else(|| "unknown".into());
                info.sanitize = l.get(labels::SANITIZE).and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
            }
            Some(Role::Candidate) => {
                let candidate = info.candidate.get_or_insert_with(CandidateInfo::default);
                candidate.image = l.get(labels::IMAGE).cloned().unwrap_or_default();
                // Sandboxes made before the image-id label kept the id in the digest label.
                candidate.id = l.get(labels::IMAGE_ID).or_else(|| l.get(labels::DIGEST)).cloned().unwrap_or_default();
                candidate.digest = l.get(labels::DIGEST).filter(|_| l.contains_key(labels::IMAGE_ID)).cloned();
                candidate.status = c.state.map(|s| s.to_string()).unwrap_or_else(|| "unknown".into());
            }
            Some(Role::Relay) => {
                let routes: Vec<Route> =
                    l.get(labels::ROUTES).and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
                let mut published: Vec<(u16, u16)> = c
                    .ports
                    .clone()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|p| Some((p.private_port, p.public_port?)))
                    .collect();
                published.sort_unstable();
                published.dedup();
                for (listen, host) in published {
                    let (role, port) = routes
                        .iter()
                        .find(|r| r.listen == listen)
                        .map(|r| (r.role, r.port))
                        .unwrap_or((Role::App, listen));
                    let url = format!("http://127.0.0.1:{host}");
                    if role == Role::Candidate {
                        let candidate = info.candidate.get_or_insert_with(CandidateInfo::default);
                        candidate.ports.push((port, host));
                        candidate.urls.push(url);
                    } else {
                        info.ports.push((port, host));
                        info.urls.push(url);
                    }
                }
            }
            Some(Role::Dependency) | None => {}
        }
    }
    Ok(found)
}

/// One sandbox by name.
pub async fn find(engine: &Engine, name: &str) -> Result<Option<SandboxInfo>, EngineError> {
    Ok(list(engine).await?.into_iter().find(|s| s.name == name))
}
