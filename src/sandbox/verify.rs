//! `verify`: prove the isolation from inside. A short-lived probe container
//! (the relay image, on the sandbox network only, as the app is) tries to
//! connect to the host's addresses on the ports the host really listens on,
//! and to any target the user gives; each comes back open or blocked.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectNetworkOptions, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    WaitContainerOptions,
};
use futures_util::StreamExt;
use serde::Serialize;

use super::{container_name, ingress_network_name, labels, network_name, relay};
use crate::engine::{self, Engine, EngineError};

/// One probe's result.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub target: String,
    /// What the address is ("the host, on the default bridge", "given").
    pub what: String,
    pub open: bool,
    /// Whether isolation requires it to be blocked.
    pub must_block: bool,
}

/// Host ports probed at most, per address.
const MAX_PORTS: usize = 32;

/// Probes from inside sandbox `name`.
pub async fn verify(engine: &Engine, name: &str, extra: &[String]) -> Result<Vec<Probe>, EngineError> {
    let image = relay::ensure_image(engine).await?;
    let mut addresses = Vec::new();
    for (network, what) in [
        (network_name(name), "the host, on the sandbox's own bridge"),
        (ingress_network_name(name), "the host, on the relay's bridge"),
        ("bridge".to_string(), "the host, on Docker's default bridge"),
    ] {
        if let Some(gw) = gateway(engine, &network).await? {
            addresses.push((gw, what));
        }
    }
    let mut ports = host_listening_ports();
    if ports.is_empty() {
        ports.push(22);
    }
    ports.truncate(MAX_PORTS);
    let mut probes: Vec<Probe> = Vec::new();
    for (addr, what) in &addresses {
        for port in &ports {
            probes.push(Probe {
                target: format!("{addr}:{port}"),
                what: what.to_string(),
                open: false,
                must_block: true,
            });
        }
    }
    for t in extra {
        probes.push(Probe { target: t.clone(), what: "given".into(), open: false, must_block: false });
    }
    let targets: Vec<String> = probes.iter().map(|p| p.target.clone()).collect();
    let output = run_probe(engine, name, &image, &targets).await?;
    for line in output.lines() {
        if let Some((target, verdict)) = line.trim().rsplit_once(' ') {
            for p in probes.iter_mut().filter(|p| p.target == target) {
                p.open = verdict == "open";
            }
        }
    }
    Ok(probes)
}

async fn gateway(engine: &Engine, network: &str) -> Result<Option<String>, EngineError> {
    match engine.docker.inspect_network(network, None::<InspectNetworkOptions>).await {
        Ok(n) => Ok(n.ipam.and_then(|i| i.config).and_then(|c| c.into_iter().find_map(|c| c.gateway))),
        Err(e) if engine::is_not_found(&e) => Ok(None),
        Err(e) => Err(engine::api(format!("inspecting network {network}"), e)),
    }
}

/// TCP ports something on this machine listens on for every address
/// (0.0.0.0 or ::), from /proc/net/tcp{,6}: the host services a sandbox
/// must not reach. (With a remote engine these are this machine's, not its.)
pub fn host_listening_ports() -> Vec<u16> {
    let mut ports = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 4 || cols[3] != "0A" {
                continue; // not LISTEN
            }
            let Some((addr, port)) = cols[1].split_once(':') else { continue };
            let any = addr.chars().all(|c| c == '0');
            if let (true, Ok(port)) = (any, u16::from_str_radix(port, 16)) {
                ports.push(port);
            }
        }
    }
    ports.sort_unstable();
    ports.dedup();
    ports
}

async fn run_probe(engine: &Engine, name: &str, image: &str, targets: &[String]) -> Result<String, EngineError> {
    let container = container_name(name, "probe");
    let mut cmd = vec!["scan".to_string()];
    cmd.extend(targets.iter().cloned());
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(cmd),
        labels: Some(HashMap::from([
            (labels::SANDBOX.to_string(), name.to_string()),
            (labels::ROLE.to_string(), "probe".to_string()),
        ])),
        host_config: Some(HostConfig {
            network_mode: Some(network_name(name)),
            cap_drop: Some(vec!["ALL".into()]),
            security_opt: Some(vec!["no-new-privileges:true".into()]),
            readonly_rootfs: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    let _ = engine
        .docker
        .remove_container(&container, Some(RemoveContainerOptionsBuilder::default().force(true).build()))
        .await;
    engine
        .docker
        .create_container(Some(CreateContainerOptionsBuilder::default().name(&container).build()), body)
        .await
        .map_err(|e| engine::api(format!("creating {container}"), e))?;
    let result = async {
        engine
            .docker
            .start_container(&container, None::<bollard::query_parameters::StartContainerOptions>)
            .await
            .map_err(|e| engine::api(format!("starting {container}"), e))?;
        let mut wait = engine.docker.wait_container(&container, None::<WaitContainerOptions>);
        while wait.next().await.is_some() {}
        let mut logs = engine.docker.logs(&container, Some(LogsOptionsBuilder::default().stdout(true).build()));
        let mut text = String::new();
        while let Some(Ok(chunk)) = logs.next().await {
            text.push_str(&chunk.to_string());
        }
        Ok(text)
    }
    .await;
    let _ = engine
        .docker
        .remove_container(&container, Some(RemoveContainerOptionsBuilder::default().force(true).build()))
        .await;
    result
}
