//! Removing a sandbox: every container, network and volume with its label.

use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveVolumeOptions,
};

use super::labels;
use crate::engine::{self, Engine, EngineError};

/// What a teardown removed.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Removed {
    pub containers: usize,
    pub networks: usize,
    pub volumes: usize,
}

impl Removed {
    /// Nothing was there.
    pub fn is_empty(&self) -> bool {
        self.containers + self.networks + self.volumes == 0
    }
}

/// Removes sandbox `name`.
pub async fn remove(engine: &Engine, name: &str) -> Result<Removed, EngineError> {
    remove_all_labelled(engine, &[(labels::SANDBOX, name)]).await
}

/// Removes every container, then network, then volume matching all `pairs`
/// (`key=value`, or `key` alone for "has the label").
pub async fn remove_all_labelled(engine: &Engine, pairs: &[(&str, &str)]) -> Result<Removed, EngineError> {
    let filter = labels::filter(pairs);
    let mut removed = Removed::default();
    let options = ListContainersOptionsBuilder::default().all(true).filters(&filter).build();
    let containers = engine.list_containers(options).await?;
    // Removed side by side: each removal is a stop plus a delete in the engine.
    let removals = containers.into_iter().filter_map(|c| c.id).map(|id| async move {
        let options = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
        match engine.docker.remove_container(&id, Some(options)).await {
            Ok(()) => Ok(1),
            Err(e) if engine::is_not_found(&e) => Ok(0),
            Err(e) => Err(engine::api(format!("removing container {id}"), e)),
        }
    });
    for result in futures_util::future::join_all(removals).await {
        removed.containers += result?;
    }
    let options = ListNetworksOptionsBuilder::default().filters(&filter).build();
    let networks = engine.docker.list_networks(Some(options)).await.map_err(|e| engine::api("listing networks", e))?;
    for n in networks {
        let Some(id) = n.id else { continue };
        match engine.docker.remove_network(&id).await {
            Ok(()) => removed.networks += 1,
            Err(e) if engine::is_not_found(&e) => {}
            Err(e) => return Err(engine::api(format!("removing network {}", n.name.unwrap_or(id)), e)),
        }
    }
    let options = ListVolumesOptionsBuilder::default().filters(&filter).build();
    let volumes = engine.docker.list_volumes(Some(options)).await.map_err(|e| engine::api("listing volumes", e))?;
    for v in volumes.volumes.unwrap_or_default() {
        match engine.docker.remove_volume(&v.name, None::<RemoveVolumeOptions>).await {
            Ok(()) => removed.volumes += 1,
            Err(e) if engine::is_not_found(&e) => {}
            Err(e) => return Err(engine::api(format!("removing volume {}", v.name), e)),
        }
    }
    Ok(removed)
}
