//! Removing sandboxes: every container, network and volume with their label.
//!
//! As fast as the engine allows: containers are killed at once (a sandbox's
//! app is stopped with a grace period only when its profile's `stop_timeout`
//! asks for one, kept in a label) and removed side by side; the networks and
//! volumes, listed meanwhile, go side by side after them. Many sandboxes
//! (`down --all`) are removed in one such sweep, not one after another.

use std::collections::BTreeMap;

use bollard::models::ContainerSummary;
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveVolumeOptions, StopContainerOptionsBuilder,
};
use futures_util::stream::{self, StreamExt};

use super::labels::{self, Filter};
use super::sinkhole;
use crate::engine::{self, Engine, EngineError, IsolationMethod};

/// Removals in flight at once: enough to hide each call's latency, few
/// enough not to queue dozens of kills behind one another in the engine.
const IN_FLIGHT: usize = 16;

/// What a teardown removed.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Removed {
    pub containers: usize,
    pub networks: usize,
    pub volumes: usize,
    /// Namespaces deleted (a sandbox on a cluster is its namespace).
    #[serde(skip_serializing_if = "is_zero")]
    pub namespaces: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Removed {
    /// One cluster namespace, deleted with everything in it.
    pub fn namespace() -> Removed {
        Removed { namespaces: 1, ..Removed::default() }
    }

    /// Nothing was there.
    pub fn is_empty(&self) -> bool {
        self.containers + self.networks + self.volumes + self.namespaces == 0
    }

    fn add(&mut self, other: Removed) {
        self.containers += other.containers;
        self.networks += other.networks;
        self.volumes += other.volumes;
        self.namespaces += other.namespaces;
    }
}

/// Removes sandbox `name`.
pub async fn remove(engine: &Engine, name: &str) -> Result<Removed, EngineError> {
    let filter = labels::filter(&[(labels::SANDBOX, name)]);
    Ok(remove_by_sandbox(engine, &filter).await?.remove(name).unwrap_or_default())
}

/// Removes every container, then network, then volume matching all `pairs`
/// (`key=value` exactly).
pub async fn remove_all_labelled(engine: &Engine, pairs: &[(&str, &str)]) -> Result<Removed, EngineError> {
    let mut total = Removed::default();
    for removed in remove_by_sandbox(engine, &labels::filter(pairs)).await?.into_values() {
        total.add(removed);
    }
    Ok(total)
}

/// Removes sandbox `name` as [`remove`] does, reading on the way what it
/// tried to reach: its relay, where the egress sinkhole runs, is stopped at
/// once (its log is then complete, no marker needed) and read, beside the
/// other containers' removal. The sandbox's containers are listed once,
/// for the removal and for who is who in the record. The destinations are
/// `None` without a relay or when its log cannot be read.
pub async fn remove_with_egress(
    engine: &Engine,
    name: &str,
) -> Result<(Removed, Option<Vec<sinkhole::Destination>>), EngineError> {
    let filter = labels::filter(&[(labels::SANDBOX, name)]);
    let (mut removed, mut tried) = remove_by_sandbox_with_egress(engine, &filter).await?;
    Ok((removed.remove(name).unwrap_or_default(), tried.remove(name)))
}

/// [`remove_by_sandbox`], reading what each sandbox tried to reach as
/// [`remove_with_egress`] does; a sandbox whose relay's log could not be
/// read has no entry.
pub async fn remove_by_sandbox_with_egress(
    engine: &Engine,
    filter: &Filter,
) -> Result<(BTreeMap<String, Removed>, BTreeMap<String, Vec<sinkhole::Destination>>), EngineError> {
    let options = ListContainersOptionsBuilder::default().all(true).filters(filter).build();
    let containers = engine.list_containers(options).await?;
    let mut by_sandbox: BTreeMap<String, Vec<ContainerSummary>> = BTreeMap::new();
    for c in &containers {
        by_sandbox.entry(sandbox_of(c.labels.as_ref())).or_default().push(c.clone());
    }
    let records = std::sync::Mutex::new(BTreeMap::new());
    let removed = remove_listed(engine, filter, containers, Some(&records)).await?;
    let records: BTreeMap<String, Vec<sinkhole::Record>> = records.into_inner().unwrap_or_else(|e| e.into_inner());
    let tried = records
        .into_iter()
        .map(|(sandbox, records)| {
            let who = sinkhole::who_of(by_sandbox.get(&sandbox).map(Vec::as_slice).unwrap_or_default(), &sandbox);
            let destinations = sinkhole::destinations(&records, &who);
            (sandbox, destinations)
        })
        .collect();
    Ok((removed, tried))
}

/// [`remove_all_labelled`], saying what went for each sandbox (by its
/// [`labels::SANDBOX`] label; resources without one count under "").
pub async fn remove_by_sandbox(engine: &Engine, filter: &Filter) -> Result<BTreeMap<String, Removed>, EngineError> {
    let options = ListContainersOptionsBuilder::default().all(true).filters(filter).build();
    let containers = engine.list_containers(options).await?;
    remove_listed(engine, filter, containers, None).await
}

/// Removes `containers`, then the networks and volumes matching `filter`.
/// With `records`, each relay is stopped and its sinkhole's record read
/// into it (by sandbox) before the relay is removed.
///
/// On Docker a network can go once no container on it runs (a stopped one
/// keeps no endpoint): with `records`, the networks go as soon as every
/// other container is removed and every relay has left them, beside the
/// relays' stops, log reads and removals. A network that refuses then is tried again once
/// every container is gone. Podman refuses a network any container uses, so
/// there, and without `records`, networks wait for every container.
async fn remove_listed(
    engine: &Engine,
    filter: &Filter,
    containers: Vec<ContainerSummary>,
    records: Option<&std::sync::Mutex<BTreeMap<String, Vec<sinkhole::Record>>>>,
) -> Result<BTreeMap<String, Removed>, EngineError> {
    // The networks and volumes are listed while the containers go.
    let networks = async {
        let options = ListNetworksOptionsBuilder::default().filters(filter).build();
        engine.docker.list_networks(Some(options)).await.map_err(|e| engine::api("listing networks", e))
    };
    let volumes = async {
        let options = ListVolumesOptionsBuilder::default().filters(filter).build();
        engine.docker.list_volumes(Some(options)).await.map_err(|e| engine::api("listing volumes", e))
    };
    let containers: Vec<ContainerSummary> = containers.into_iter().filter(|c| c.id.is_some()).collect();
    let early = records.is_some() && engine.kind.isolation() == IsolationMethod::InhibitedBridge;
    let count = containers.len();
    // One message per container once it no longer runs: `true` when it
    // stopped or went, `false` when its removal failed.
    let (settled_tx, mut settled_rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
    let removals = stream::iter(containers)
        .map(move |c| {
            let settled = settled_tx.clone();
            async move {
                let relay = c.labels.as_ref().and_then(|l| l.get(labels::ROLE)).map(String::as_str)
                    == Some(labels::Role::Relay.as_str());
                if let (true, Some(records)) = (relay, records) {
                    if early {
                        // The relay's stop waits for the engine to undo its
                        // published ports: off the sandbox's network first,
                        // that network can go meanwhile (should leaving fail,
                        // the early removal fails and is tried again).
                        leave_sandbox_networks(engine, &c).await;
                    }
                    let _ = settled.send(true);
                    match sinkhole::final_records(engine, c.id.as_deref().unwrap_or_default()).await {
                        Ok(Some(read)) => {
                            records
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(sandbox_of(c.labels.as_ref()), read);
                        }
                        Ok(None) => {}
                        Err(e) => tracing::debug!(error = %e, "reading the sinkhole's record"),
                    }
                    return (sandbox_of(c.labels.as_ref()), remove_container(engine, &c).await);
                }
                let removed = remove_container(engine, &c).await;
                let _ = settled.send(removed.is_ok());
                (sandbox_of(c.labels.as_ref()), removed)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>();
    let networks = async {
        let listed = networks.await;
        if !early {
            return (listed, None);
        }
        let mut all_stopped = true;
        for _ in 0..count {
            all_stopped &= settled_rx.recv().await.unwrap_or(false);
        }
        match &listed {
            Ok(list) if all_stopped => {
                let removed = remove_networks(engine, list.clone()).await;
                (listed, Some(removed))
            }
            _ => (listed, None),
        }
    };
    let (removals, (networks, removed_early), volumes) = tokio::join!(removals, networks, volumes);
    let mut out: BTreeMap<String, Removed> = BTreeMap::new();
    let mut first_error = None;
    for (sandbox, result) in removals {
        match result {
            Ok(n) => out.entry(sandbox).or_default().containers += n,
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    // A network still holding a container that failed to go cannot go either.
    if let Some(e) = first_error {
        return Err(e);
    }
    let networks = networks?;
    let volumes = volumes?.volumes.unwrap_or_default().into_iter().map(|v| (sandbox_of(Some(&v.labels)), v.name));
    // What did not go early goes now that every container is gone.
    let (mut network_results, again) = match removed_early {
        Some(early) => {
            let (gone, refused): (Vec<_>, Vec<_>) = early.into_iter().partition(|(_, result)| result.is_ok());
            let again: Vec<_> = refused.into_iter().map(|(n, _)| n).collect();
            (gone, again)
        }
        None => (Vec::new(), networks),
    };
    let volumes = stream::iter(volumes)
        .map(|(sandbox, name)| async move {
            let result = match engine.docker.remove_volume(&name, None::<RemoveVolumeOptions>).await {
                Ok(()) => Ok(1),
                Err(e) if engine::is_not_found(&e) => Ok(0),
                Err(e) => Err(engine::api(format!("removing volume {name}"), e)),
            };
            (sandbox, result.map(|n| Removed { volumes: n, ..Default::default() }))
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>();
    let (again, volumes) = tokio::join!(remove_networks(engine, again), volumes);
    network_results.extend(again);
    let networks = network_results.into_iter().map(|(n, result)| {
        (sandbox_of(n.labels.as_ref()), result.map(|n| Removed { networks: n, ..Default::default() }))
    });
    for (sandbox, result) in networks.chain(volumes) {
        out.entry(sandbox).or_default().add(result?);
    }
    Ok(out)
}

/// Disconnects container `c` from every network it is on but the shared
/// ingress bridge, side by side. Failures are left to the network's removal,
/// which is tried again once every container is gone.
async fn leave_sandbox_networks(engine: &Engine, c: &ContainerSummary) {
    let Some(id) = c.id.as_deref() else { return };
    let names = c.network_settings.as_ref().and_then(|n| n.networks.as_ref()).map(|n| n.keys());
    let names = names.into_iter().flatten().filter(|n| n.as_str() != super::ingress::SHARED);
    let leave = names.map(|network| async move {
        let request = bollard::models::NetworkDisconnectRequest { container: id.to_string(), force: Some(true) };
        if let Err(e) = engine.docker.disconnect_network(network, request).await {
            tracing::debug!(container = id, network, error = %e, "leaving the network before the stop");
        }
    });
    futures_util::future::join_all(leave).await;
}

/// Removes `networks` side by side: 1 for each that went, 0 for one gone already.
async fn remove_networks(
    engine: &Engine,
    networks: Vec<bollard::models::Network>,
) -> Vec<(bollard::models::Network, Result<usize, EngineError>)> {
    stream::iter(networks.into_iter().filter(|n| n.id.is_some()))
        .map(|n| async move {
            let id = n.id.clone().unwrap_or_default();
            let result = match engine.docker.remove_network(&id).await {
                Ok(()) => Ok(1),
                Err(e) if engine::is_not_found(&e) => Ok(0),
                Err(e) => Err(engine::api(format!("removing network {}", n.name.as_deref().unwrap_or(&id)), e)),
            };
            (n, result)
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await
}

/// Whether anything of sandbox `name` is there (a container or a network).
pub async fn exists(engine: &Engine, name: &str) -> Result<bool, EngineError> {
    let filter = labels::filter(&[(labels::SANDBOX, name)]);
    let containers = engine.list_containers(ListContainersOptionsBuilder::default().all(true).filters(&filter).build());
    let networks = async {
        let options = ListNetworksOptionsBuilder::default().filters(&filter).build();
        engine.docker.list_networks(Some(options)).await.map_err(|e| engine::api("listing networks", e))
    };
    let (containers, networks) = tokio::join!(containers, networks);
    Ok(!containers?.is_empty() || !networks?.is_empty())
}

fn sandbox_of(labels: Option<&std::collections::HashMap<String, String>>) -> String {
    labels.and_then(|l| l.get(labels::SANDBOX)).cloned().unwrap_or_default()
}

/// Kills and removes one container (a stop with its `stop_timeout` first,
/// when its label asks for one); 0 when it was gone already.
async fn remove_container(engine: &Engine, c: &ContainerSummary) -> Result<usize, EngineError> {
    let id = c.id.as_deref().unwrap_or_default();
    let grace = c.labels.as_ref().and_then(|l| l.get(labels::STOP_TIMEOUT)).and_then(|t| t.parse::<i32>().ok());
    if let (Some(secs), Some(bollard::models::ContainerSummaryStateEnum::RUNNING)) = (grace.filter(|s| *s > 0), c.state)
    {
        let options = StopContainerOptionsBuilder::default().t(secs).build();
        match engine.docker.stop_container(id, Some(options)).await {
            Ok(()) => {}
            Err(e) if engine::is_not_found(&e) => return Ok(0),
            // 304: it stopped by itself meanwhile; the removal below decides.
            Err(e) => tracing::debug!(container = id, error = %e, "graceful stop failed; killing it"),
        }
    }
    let options = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    match engine.docker.remove_container(id, Some(options)).await {
        Ok(()) => Ok(1),
        Err(e) if engine::is_not_found(&e) => Ok(0),
        Err(e) => Err(engine::api(format!("removing container {id}"), e)),
    }
}
