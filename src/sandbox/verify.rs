//! `verify`: prove the isolation from inside. A short-lived probe container
//! (the relay image, on the sandbox network only and joined to it as the app
//! is) tries to connect to the host's addresses on the ports the host really
//! listens on (IPv4 gateways, and the IPv6 link-local address of the sandbox's
//! bridge when the engine runs on this machine), and to any target the user
//! gives; each comes back open or blocked.

use std::collections::HashMap;

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, InspectNetworkOptions, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, WaitContainerOptions,
};
use futures_util::StreamExt;
use serde::Serialize;

use super::network::{self, slot, SandboxNetwork};
use super::{container_name, ingress, labels, network_name, relay};
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
    let Some(sandbox_net) = network::open(engine, &network_name(name)).await? else {
        return Err(EngineError::Api {
            what: format!("verifying sandbox {name}"),
            detail: format!("its network {} is gone; `prodbox down {name}` and `up` again", network_name(name)),
        });
    };
    let mut addresses: Vec<(String, String)> = sandbox_net
        .gateways
        .iter()
        .map(|gw| (host_part(*gw), "the host, on the sandbox's own bridge".to_string()))
        .collect();
    let (default_network, default_what) = engine.kind.default_network();
    let ingress = relay_bridges(engine, name).await?.into_iter().map(|n| (n, "the host, on the relay's bridge"));
    for (network, what) in ingress.chain([(default_network.to_string(), default_what)]) {
        for gw in gateways(engine, &network).await? {
            addresses.push((gw, what.to_string()));
        }
    }
    // The bridge's IPv6 link-local address is the host too; it is readable
    // here only when the engine runs on this machine.
    if engine.kind.may_share_this_host() && engine.unix_socket().is_some() {
        if let Some(interface) = &sandbox_net.interface {
            for ll in link_local_addresses(interface) {
                // Inside the probe the sandbox network is eth0.
                addresses.push((format!("[{ll}%eth0]"), format!("the host's IPv6 link-local, on {interface}")));
            }
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
    let output = run_probe(engine, name, &sandbox_net, &image, &targets).await?;
    let mut answered = std::collections::HashSet::new();
    for line in output.lines() {
        if let Some((target, verdict @ ("open" | "blocked"))) = line.trim().rsplit_once(' ') {
            for p in probes.iter_mut().filter(|p| p.target == target) {
                p.open = verdict == "open";
                answered.insert(p.target.clone());
            }
        }
    }
    // A probe that did not run is never "blocked".
    if let Some(p) = probes.iter().find(|p| !answered.contains(&p.target)) {
        return Err(EngineError::Api {
            what: format!("verifying sandbox {name}"),
            detail: format!("the probe gave no verdict for {}; nothing can be said about it", p.target),
        });
    }
    Ok(probes)
}

/// The ingress networks sandbox `name`'s relay is attached to, by id (the
/// shared one on Docker; a name could be ambiguous on Docker 20.10): every
/// network of the relay's but the sandbox's own. Without a relay, the
/// network it would use.
async fn relay_bridges(engine: &Engine, name: &str) -> Result<Vec<String>, EngineError> {
    let relay = container_name(name, labels::Role::Relay.as_str());
    let info = match engine.docker.inspect_container(&relay, None::<InspectContainerOptions>).await {
        Ok(info) => info,
        Err(e) if engine::is_not_found(&e) => return Ok(vec![ingress::name_for(engine.kind, name)]),
        Err(e) => return Err(engine::api(format!("inspecting {relay}"), e)),
    };
    let own = network_name(name);
    let networks = info.network_settings.and_then(|s| s.networks).unwrap_or_default();
    Ok(networks
        .into_iter()
        .filter(|(network, _)| *network != own)
        .map(|(network, endpoint)| endpoint.network_id.filter(|id| !id.is_empty()).unwrap_or(network))
        .collect())
}

/// A network's gateway addresses, real ones only (Podman reports none as `<nil>`).
async fn gateways(engine: &Engine, network: &str) -> Result<Vec<String>, EngineError> {
    match engine.docker.inspect_network(network, None::<InspectNetworkOptions>).await {
        Ok(n) => Ok(n
            .ipam
            .and_then(|i| i.config)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| c.gateway?.parse::<std::net::IpAddr>().ok())
            .map(host_part)
            .collect()),
        Err(e) if engine::is_not_found(&e) => Ok(Vec::new()),
        Err(e) => Err(engine::api(format!("inspecting network {network}"), e)),
    }
}

/// An address as the host part of `HOST:PORT` (IPv6 in brackets).
fn host_part(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    }
}

/// The IPv6 link-local addresses of `interface` on this machine, from /proc/net/if_inet6.
pub fn link_local_addresses(interface: &str) -> Vec<std::net::Ipv6Addr> {
    let text = std::fs::read_to_string("/proc/net/if_inet6").unwrap_or_default();
    parse_if_inet6(&text, interface)
}

fn parse_if_inet6(text: &str, interface: &str) -> Vec<std::net::Ipv6Addr> {
    text.lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // address, ifindex, prefix length, scope (0x20: link), flags, name
            if cols.len() < 6 || cols[5] != interface || cols[3] != "20" {
                return None;
            }
            u128::from_str_radix(cols[0], 16).ok().map(std::net::Ipv6Addr::from)
        })
        .collect()
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

async fn run_probe(
    engine: &Engine,
    name: &str,
    net: &SandboxNetwork,
    image: &str,
    targets: &[String],
) -> Result<String, EngineError> {
    let container = container_name(name, "probe");
    let mut cmd = vec!["scan".to_string()];
    cmd.extend(targets.iter().cloned());
    // Joined as the app is: the same names, IPv6 off where the app has it off.
    let host = network::probe_host(net);
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(cmd),
        labels: Some(HashMap::from([
            (labels::SANDBOX.to_string(), name.to_string()),
            (labels::ROLE.to_string(), "probe".to_string()),
        ])),
        host_config: Some(host),
        networking_config: Some(net.networking(slot::PROBE, vec![])),
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

#[cfg(test)]
mod tests {
    #[test]
    fn reads_link_local_addresses_of_one_interface() {
        let text = "fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n\
                    fe80000000000000a0b1c2fffed3e4f5 09 40 20 80  podman1\n\
                    fd000000000000000000000000000002 09 40 00 82  podman1\n";
        let found = super::parse_if_inet6(text, "podman1");
        assert_eq!(found, vec!["fe80::a0b1:c2ff:fed3:e4f5".parse::<std::net::Ipv6Addr>().unwrap()]);
    }
}
