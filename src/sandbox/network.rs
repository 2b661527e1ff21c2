//! The sandbox network (SPEC §6): made the way the engine can isolate it
//! ([`IsolationMethod`]), then checked before anything starts on it.
//!
//! *Never silently open*: engines differ (Podman answers Docker's
//! `inhibit_ipv4` with a warning and gives the bridge a host address anyway),
//! so after creating the network prodbox reads it back and refuses it when
//! the bridge has a host address (IPAM gateway, IPv4 or IPv6) or an option it
//! asked for was dropped ([`exposure`]).
//!
//! On Podman the network is a libpod one with DNS off, so containers get
//! fixed addresses on its subnet and `ExtraHosts` entries for each other's
//! names, and IPv6 is turned off inside each container by sysctls (the
//! bridge keeps an IPv6 link-local address the containers could reach).

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};

use bollard::models::{EndpointIpamConfig, EndpointSettings, HostConfig, NetworkCreateRequest, NetworkingConfig};
use bollard::query_parameters::InspectNetworkOptions;

use super::libpod::{self, Libpod};
use super::{labels, SandboxSpec};
use crate::engine::{self, Engine, EngineError, EngineKind, IsolationMethod};

/// On a fixed-address network: its names and their host numbers, as JSON
/// (`{"app":3,"checkout":3}`), so later commands (`verify`) can join it too.
pub const HOSTS_LABEL: &str = "dev.prodbox.hosts";

/// The Docker bridge option that keeps the host's address off the bridge.
pub const INHIBIT_IPV4: &str = "com.docker.network.bridge.inhibit_ipv4";

/// Test hook (never set it otherwise): when `1`, the check treats the
/// sandbox bridge as having a host address, so `up` must refuse.
pub const FORCE_HOST_ADDRESS_ENV: &str = "PRODBOX_TEST_FORCE_HOST_ADDRESS";

/// Host numbers on a fixed-address network (`10.89.3.<n>`).
pub mod slot {
    pub const RELAY: u8 = 2;
    pub const APP: u8 = 3;
    pub const CANDIDATE: u8 = 4;
    /// The first dependency; the others follow.
    pub const DEPENDENCY: u8 = 10;
    /// `verify`'s probe.
    pub const PROBE: u8 = 250;
    /// `doctor`'s two containers.
    pub const DOCTOR_A: u8 = 251;
    pub const DOCTOR_B: u8 = 252;
}

/// Sysctls that turn IPv6 off in a container's network namespace.
const NO_IPV6: [(&str, &str); 2] =
    [("net.ipv6.conf.all.disable_ipv6", "1"), ("net.ipv6.conf.default.disable_ipv6", "1")];

/// A sandbox network as made (or read back), and how containers join it.
#[derive(Debug, Clone)]
pub struct SandboxNetwork {
    pub name: String,
    /// Fixed addresses and names, on networks without the engine's DNS.
    fixed: Option<Fixed>,
    /// The bridge's interface on the engine's host (`br-1a2b…`, `podman3`), when known.
    pub interface: Option<String>,
    /// Gateway addresses the engine reports for it (on Docker, not on the
    /// host: `inhibit_ipv4` keeps them off the bridge).
    pub gateways: Vec<IpAddr>,
    /// The DNS server of the containers joined to it (the egress sinkhole,
    /// in the relay).
    pub dns: Option<Ipv4Addr>,
    /// On Docker, the network address of a subnet whose lower half prodbox
    /// keeps for its own containers' fixed addresses (the engine hands out
    /// the upper half, [`DYNAMIC_RANGE`]): their addresses are known before
    /// they start, so the app is made with the relay's address as its DNS
    /// server while the relay still starts.
    reserved: Option<Ipv4Addr>,
    /// The network's IPv4 subnet (`10.231.7.0/24`), when it has one.
    pub subnet: Option<String>,
}

#[derive(Debug, Clone)]
struct Fixed {
    /// The subnet's network address.
    base: Ipv4Addr,
    names: BTreeMap<String, u8>,
}

impl SandboxNetwork {
    /// The address of host number `slot`, on a fixed-address network (or,
    /// on Docker, in the lower half of a subnet prodbox reserved).
    pub fn address(&self, slot: u8) -> Option<Ipv4Addr> {
        let base = match (&self.fixed, self.reserved) {
            (Some(f), _) => f.base,
            (None, Some(base)) if slot < RESERVED_SLOTS => base,
            _ => return None,
        };
        Some(Ipv4Addr::from(u32::from(base) + slot as u32))
    }

    /// The relay's address on this network (the sandbox's DNS server: the
    /// sinkhole runs in the relay), when it is known before the relay starts.
    pub fn relay_address(&self) -> Option<Ipv4Addr> {
        self.address(slot::RELAY)
    }

    /// The sandbox's names and their fixed addresses (none without fixed addresses).
    pub fn fixed_hosts(&self) -> Vec<(String, Ipv4Addr)> {
        let Some(fixed) = &self.fixed else { return Vec::new() };
        fixed.names.iter().filter_map(|(name, slot)| Some((name.clone(), self.address(*slot)?))).collect()
    }

    /// How a container at host number `slot` with `aliases` joins the network.
    pub fn endpoint(&self, slot: u8, aliases: Vec<String>) -> EndpointSettings {
        EndpointSettings {
            aliases: Some(aliases),
            ipam_config: self
                .address(slot)
                .map(|ip| EndpointIpamConfig { ipv4_address: Some(ip.to_string()), ..Default::default() }),
            ..Default::default()
        }
    }

    /// [`endpoint`](Self::endpoint) as a container's only network.
    pub fn networking(&self, slot: u8, aliases: Vec<String>) -> NetworkingConfig {
        NetworkingConfig { endpoints_config: Some(HashMap::from([(self.name.clone(), self.endpoint(slot, aliases))])) }
    }

    /// What every container on a fixed-address network needs: the names of
    /// the others (DNS is off) and IPv6 off.
    pub fn confine(&self, host: &mut HostConfig) {
        if let Some(dns) = self.dns {
            host.dns = Some(vec![dns.to_string()]);
        }
        let Some(fixed) = &self.fixed else { return };
        let mut hosts = host.extra_hosts.take().unwrap_or_default();
        hosts.extend(fixed.names.iter().filter_map(|(name, slot)| Some(format!("{name}:{}", self.address(*slot)?))));
        host.extra_hosts = Some(hosts);
        let mut sysctls = host.sysctls.take().unwrap_or_default();
        sysctls.extend(NO_IPV6.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        host.sysctls = Some(sysctls);
    }
}

/// The names on a sandbox's network and their host numbers: `app` and the
/// service, `candidate`, each dependency and its aliases.
pub fn names_for(spec: &SandboxSpec) -> BTreeMap<String, u8> {
    names_of(&spec.deploy.service, &spec.dependencies, spec.candidate.is_some())
}

/// [`names_for`] from what the profile and the flags say, before the spec
/// is complete (`up` makes the network while the image is pulled).
pub fn names_of(service: &str, dependencies: &[crate::profile::Dependency], candidate: bool) -> BTreeMap<String, u8> {
    let mut names = BTreeMap::new();
    for (i, dep) in dependencies.iter().enumerate() {
        let slot = slot::DEPENDENCY.saturating_add(i as u8);
        names.insert(dep.name.clone(), slot);
        for alias in &dep.aliases {
            names.insert(alias.clone(), slot);
        }
    }
    if candidate {
        names.insert(labels::Role::Candidate.as_str().to_string(), slot::CANDIDATE);
    }
    names.insert(service.to_string(), slot::APP);
    names.insert(labels::Role::App.as_str().to_string(), slot::APP);
    names
}

/// Creates the sandbox network `name` the way `engine` isolates, and checks
/// it; an error when it would not be isolated (the caller removes it by label).
pub async fn create(
    engine: &Engine,
    name: &str,
    names: BTreeMap<String, u8>,
    base_labels: &HashMap<String, String>,
) -> Result<SandboxNetwork, EngineError> {
    let (network, reasons) = match engine.kind.isolation() {
        IsolationMethod::InhibitedBridge => {
            let options = HashMap::from([(INHIBIT_IPV4.to_string(), "true".to_string())]);
            let made = create_inhibited(engine, name, &options, base_labels).await?;
            // The first network by this exact name is the sandbox's lock;
            // it is read back (by its id: the name may be ambiguous until
            // a loser removes its own) beside that check.
            let (claimed, read) = tokio::join!(super::lock::claim(engine, name, &made.id), inspect(engine, &made.id));
            claimed?;
            let read = read?;
            let reasons = exposure(engine.kind, &made.warning, &options, &read);
            (from_inspect(engine, &read, None).await, reasons)
        }
        IsolationMethod::LibpodInternal => {
            let mut l = base_labels.clone();
            l.insert(HOSTS_LABEL.into(), serde_json::to_string(&names).unwrap_or_default());
            let request = libpod::NetworkCreate {
                name: name.to_string(),
                driver: "bridge".into(),
                internal: true,
                dns_enabled: false,
                ipv6_enabled: false,
                labels: l,
            };
            let libpod = Libpod::new(engine)?;
            let sent = request.clone();
            let made =
                super::inflight::track(async move { libpod.create_network(&sent).await }).await.map_err(|e| {
                    if super::lock::name_in_use(&e) {
                        EngineError::Taken { resource: name.to_string() }
                    } else {
                        e
                    }
                })?;
            let mut reasons = dropped_libpod(&request, &made);
            let read = inspect(engine, name).await?;
            reasons.extend(exposure(engine.kind, "", &HashMap::new(), &read));
            (from_inspect(engine, &read, Some(made)).await, reasons)
        }
    };
    if network.fixed.is_none() && engine.kind.isolation() == IsolationMethod::LibpodInternal {
        return Err(not_isolated(engine, name, vec!["its subnet is not an IPv4 /24 or larger".into()]));
    }
    if !reasons.is_empty() {
        return Err(not_isolated(engine, name, reasons));
    }
    Ok(network)
}

/// Where sandbox networks take their subnets: `10.231.<n>.0/24`.
const SUBNETS: (u8, u8) = (10, 231);

/// On Docker, the part of a sandbox subnet the engine hands out addresses
/// from (`10.231.<n>.128/25`); the host numbers below it are prodbox's.
const DYNAMIC_RANGE: (u8, u8) = (128, 25);

/// Host numbers below this are fixed by prodbox on a reserved Docker subnet.
const RESERVED_SLOTS: u8 = DYNAMIC_RANGE.0;

/// Subnets tried before the engine's own pools are asked.
const SUBNET_TRIES: u16 = 24;

/// Creates the internal, inhibited bridge. Its subnet is taken from
/// [`SUBNETS`], not from the engine's default pools: those hold about thirty
/// networks on Docker 20.10, and every sandbox also needs its ingress bridge
/// from them. With `inhibit_ipv4` the host has no address on this bridge, so
/// the subnet adds no route on the host whatever else uses it. A subnet
/// another network holds is refused by the engine ("overlaps"): the next is
/// tried, and after [`SUBNET_TRIES`] the engine's pools.
async fn create_inhibited(
    engine: &Engine,
    name: &str,
    options: &HashMap<String, String>,
    base_labels: &HashMap<String, String>,
) -> Result<bollard::models::NetworkCreateResponse, EngineError> {
    let request = |ipam: Option<bollard::models::Ipam>| NetworkCreateRequest {
        name: name.to_string(),
        driver: Some("bridge".into()),
        internal: Some(true),
        options: Some(options.clone()),
        labels: Some(base_labels.clone()),
        ipam,
        ..Default::default()
    };
    let start =
        crate::digest::sha256_hex(name.as_bytes()).get(..4).and_then(|h| u16::from_str_radix(h, 16).ok()).unwrap_or(0);
    for i in 0..SUBNET_TRIES {
        let n = (start.wrapping_add(i) % 256) as u8;
        let ipam = bollard::models::Ipam {
            config: Some(vec![bollard::models::IpamConfig {
                subnet: Some(format!("{}.{}.{n}.0/24", SUBNETS.0, SUBNETS.1)),
                ip_range: Some(format!("{}.{}.{n}.{}/{}", SUBNETS.0, SUBNETS.1, DYNAMIC_RANGE.0, DYNAMIC_RANGE.1)),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let docker = engine.docker.clone();
        let request = request(Some(ipam));
        match super::inflight::track(async move { docker.create_network(request).await }).await {
            Ok(made) => return Ok(made),
            Err(bollard::errors::Error::DockerResponseServerError { message, .. })
                if message.to_ascii_lowercase().contains("overlap") =>
            {
                tracing::debug!(network = name, subnet = n, "subnet taken; trying the next");
            }
            Err(e) => return Err(engine::api(format!("creating network {name}"), e)),
        }
    }
    let docker = engine.docker.clone();
    let request = request(None);
    super::inflight::track(async move { docker.create_network(request).await })
        .await
        .map_err(|e| engine::api(format!("creating network {name}"), e))
}

fn not_isolated(engine: &Engine, name: &str, reasons: Vec<String>) -> EngineError {
    EngineError::NotIsolated {
        network: name.to_string(),
        engine: engine.kind,
        reasons: reasons.join("; "),
        hint: engine.kind.isolation_hint(),
    }
}

/// Reads a sandbox network back (for `verify` and the like); `None` when it is gone.
pub async fn open(engine: &Engine, name: &str) -> Result<Option<SandboxNetwork>, EngineError> {
    let read = match engine.docker.inspect_network(name, None::<InspectNetworkOptions>).await {
        Ok(n) => n,
        Err(e) if engine::is_not_found(&e) => return Ok(None),
        Err(e) => return Err(engine::api(format!("inspecting network {name}"), e)),
    };
    let libpod_view = match engine.kind.isolation() {
        IsolationMethod::LibpodInternal => Libpod::new(engine)?.inspect_network(name).await?,
        IsolationMethod::InhibitedBridge => None,
    };
    Ok(Some(from_inspect(engine, &read, libpod_view).await))
}

async fn inspect(engine: &Engine, name: &str) -> Result<bollard::models::NetworkInspect, EngineError> {
    engine
        .docker
        .inspect_network(name, None::<InspectNetworkOptions>)
        .await
        .map_err(|e| engine::api(format!("reading network {name} back"), e))
}

async fn from_inspect(
    engine: &Engine,
    read: &bollard::models::NetworkInspect,
    libpod_view: Option<libpod::Network>,
) -> SandboxNetwork {
    let name = read.name.clone().unwrap_or_default();
    let configs = read.ipam.as_ref().and_then(|i| i.config.clone()).unwrap_or_default();
    let gateways = configs.iter().filter_map(|c| c.gateway.as_deref()?.parse().ok()).collect();
    let labels = read.labels.clone().unwrap_or_default();
    let fixed = labels.get(HOSTS_LABEL).and_then(|hosts| {
        let names: BTreeMap<String, u8> = serde_json::from_str(hosts).ok()?;
        let base = configs.iter().find_map(|c| ipv4_base(c.subnet.as_deref()?))?;
        Some(Fixed { base, names })
    });
    // A /24 whose engine-given range is its upper half: the lower half is ours.
    let reserved = configs.iter().find_map(|c| {
        let subnet = c.subnet.as_deref().filter(|s| s.ends_with("/24"))?;
        let base = ipv4_base(subnet)?;
        let range = Ipv4Addr::from(u32::from(base) + u32::from(DYNAMIC_RANGE.0));
        (c.ip_range.as_deref()? == format!("{range}/{}", DYNAMIC_RANGE.1)).then_some(base)
    });
    let subnet = configs.iter().filter_map(|c| c.subnet.clone()).find(|s| !s.contains(':'));
    let interface = match (engine.kind.isolation(), libpod_view) {
        (IsolationMethod::LibpodInternal, Some(view)) => view.network_interface,
        (IsolationMethod::LibpodInternal, None) => None,
        (IsolationMethod::InhibitedBridge, _) => {
            let options = read.options.clone().unwrap_or_default();
            options
                .get("com.docker.network.bridge.name")
                .cloned()
                .or_else(|| read.id.as_ref().map(|id| format!("br-{}", &id[..id.len().min(12)])))
        }
    };
    SandboxNetwork { name, fixed, interface, gateways, dns: None, reserved, subnet }
}

/// The network address of an IPv4 subnet with room for every slot (/24 or larger).
fn ipv4_base(cidr: &str) -> Option<Ipv4Addr> {
    let (addr, prefix) = cidr.split_once('/')?;
    let addr: Ipv4Addr = addr.parse().ok()?;
    let prefix: u32 = prefix.parse().ok()?;
    if prefix > 24 {
        return None;
    }
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    Some(Ipv4Addr::from(u32::from(addr) & mask))
}

/// What a libpod create dropped of what was asked.
fn dropped_libpod(asked: &libpod::NetworkCreate, made: &libpod::Network) -> Vec<String> {
    let mut dropped = Vec::new();
    if made.internal != asked.internal {
        dropped.push("the network was made without `internal`".to_string());
    }
    if made.dns_enabled != asked.dns_enabled {
        dropped.push("the network was made with DNS on".to_string());
    }
    if made.ipv6_enabled != asked.ipv6_enabled {
        dropped.push("the network was made with IPv6 on".to_string());
    }
    for (k, v) in &asked.labels {
        if made.labels.get(k) != Some(v) {
            dropped.push(format!("label {k} was dropped"));
        }
    }
    dropped
}

/// Why a network read back from the engine is not isolated: a warning on
/// create, a requested option missing, not internal, IPv6 on, or a host
/// address on the bridge (an IPAM gateway that `inhibit_ipv4` does not keep
/// off). Empty when it is isolated.
pub fn exposure(
    kind: EngineKind,
    create_warning: &str,
    requested: &HashMap<String, String>,
    read: &bollard::models::NetworkInspect,
) -> Vec<String> {
    let mut reasons = Vec::new();
    if !create_warning.trim().is_empty() {
        reasons.push(format!("the engine warned on create: {}", create_warning.trim()));
    }
    let options = read.options.clone().unwrap_or_default();
    for (k, v) in requested {
        if options.get(k) != Some(v) {
            reasons.push(format!("option {k}={v} was dropped"));
        }
    }
    if read.internal != Some(true) {
        reasons.push("the network is not internal".into());
    }
    if read.enable_ipv6 == Some(true) {
        reasons.push("IPv6 is enabled on the network".into());
    }
    let inhibited = kind.takes_docker_bridge_options() && options.get(INHIBIT_IPV4).map(String::as_str) == Some("true");
    for config in read.ipam.as_ref().and_then(|i| i.config.clone()).unwrap_or_default() {
        // Podman reports a missing gateway as "<nil>"; only real addresses count.
        match config.gateway.as_deref().and_then(|g| g.parse::<IpAddr>().ok()) {
            Some(IpAddr::V6(gw)) => reasons.push(format!("the bridge has the host address {gw} (IPv6)")),
            Some(IpAddr::V4(gw)) if !inhibited => reasons.push(format!("the bridge has the host address {gw}")),
            _ => {}
        }
        if let Some(subnet) = config.subnet.as_deref().filter(|s| s.contains(':')) {
            reasons.push(format!("the network has an IPv6 subnet {subnet}"));
        }
    }
    if std::env::var(FORCE_HOST_ADDRESS_ENV).as_deref() == Ok("1") {
        reasons
            .push(format!("{FORCE_HOST_ADDRESS_ENV}=1 (a test hook) makes the bridge count as having a host address"));
    }
    reasons
}

/// The host config of a probe container on `net` (doctor's self-test and
/// `verify`): no capabilities, no new privileges, a read-only root, joined
/// the way the app is (names, IPv6 off where the engine needs it).
pub fn probe_host(net: &SandboxNetwork) -> bollard::models::HostConfig {
    let mut host = bollard::models::HostConfig {
        network_mode: Some(net.name.clone()),
        cap_drop: Some(vec!["ALL".into()]),
        security_opt: Some(vec!["no-new-privileges:true".into()]),
        readonly_rootfs: Some(true),
        ..Default::default()
    };
    net.confine(&mut host);
    host
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{Ipam, IpamConfig, NetworkInspect};

    fn read(gateway: &str, options: &[(&str, &str)]) -> NetworkInspect {
        NetworkInspect {
            internal: Some(true),
            options: Some(options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            ipam: Some(Ipam {
                config: Some(vec![IpamConfig {
                    subnet: Some("10.89.1.0/24".into()),
                    gateway: Some(gateway.into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_host_address_or_a_dropped_option_is_exposure() {
        let asked = HashMap::from([(INHIBIT_IPV4.to_string(), "true".to_string())]);
        // Docker: a gateway in IPAM, kept off the bridge by inhibit_ipv4.
        assert!(exposure(EngineKind::Docker, "", &asked, &read("172.26.0.1", &[(INHIBIT_IPV4, "true")])).is_empty());
        // Podman's compatible API: the option is ignored with a warning, the bridge has an address.
        let podman = exposure(
            EngineKind::Podman,
            "\"com.docker.network.bridge.inhibit_ipv4: true\" is not a recognized option",
            &asked,
            &read("10.89.1.1", &[]),
        );
        assert_eq!(podman.len(), 3, "{podman:?}");
        assert!(podman.iter().any(|r| r.contains("host address 10.89.1.1")), "{podman:?}");
        // A libpod internal network: no gateway ("<nil>").
        assert!(exposure(EngineKind::Podman, "", &HashMap::new(), &read("<nil>", &[])).is_empty());
        assert!(!exposure(EngineKind::Podman, "", &HashMap::new(), &read("fe80::1", &[])).is_empty());
    }

    #[test]
    fn fixed_addresses_and_names_on_a_libpod_network() {
        assert_eq!(ipv4_base("10.89.3.0/24"), Some(Ipv4Addr::new(10, 89, 3, 0)));
        assert_eq!(ipv4_base("10.89.3.77/16"), Some(Ipv4Addr::new(10, 89, 0, 0)));
        assert_eq!(ipv4_base("10.89.3.0/28"), None);
        let net = SandboxNetwork {
            name: "prodbox-x".into(),
            fixed: Some(Fixed {
                base: Ipv4Addr::new(10, 89, 3, 0),
                names: BTreeMap::from([("app".into(), slot::APP), ("db".into(), slot::DEPENDENCY)]),
            }),
            interface: None,
            gateways: vec![],
            dns: None,
            reserved: None,
            subnet: Some("10.89.3.0/24".into()),
        };
        let mut host = HostConfig::default();
        net.confine(&mut host);
        assert_eq!(host.extra_hosts.unwrap(), vec!["app:10.89.3.3", "db:10.89.3.10"]);
        assert_eq!(host.sysctls.unwrap()["net.ipv6.conf.all.disable_ipv6"], "1");
        let endpoint = net.endpoint(slot::RELAY, vec![]);
        assert_eq!(endpoint.ipam_config.unwrap().ipv4_address.as_deref(), Some("10.89.3.2"));
        // The sinkhole learns the names too, and every container resolves through it.
        assert_eq!(
            net.fixed_hosts(),
            [("app".to_string(), Ipv4Addr::new(10, 89, 3, 3)), ("db".to_string(), Ipv4Addr::new(10, 89, 3, 10))]
        );
        let net = SandboxNetwork { dns: net.relay_address(), ..net };
        let mut host = HostConfig::default();
        net.confine(&mut host);
        assert_eq!(host.dns.unwrap(), ["10.89.3.2"]);
    }

    #[test]
    fn a_reserved_docker_subnet_fixes_prodbox_slots_only() {
        let net = SandboxNetwork {
            name: "prodbox-x".into(),
            fixed: None,
            interface: None,
            gateways: vec![],
            dns: None,
            reserved: Some(Ipv4Addr::new(10, 231, 7, 0)),
            subnet: Some("10.231.7.0/24".into()),
        };
        assert_eq!(net.relay_address(), Some(Ipv4Addr::new(10, 231, 7, 2)));
        assert_eq!(net.address(slot::APP), Some(Ipv4Addr::new(10, 231, 7, 3)));
        // The engine's half: verify's probe takes what the engine gives.
        assert_eq!(net.address(slot::PROBE), None);
        // No names in /etc/hosts and IPv6 untouched: the engine's DNS answers names.
        let mut host = HostConfig::default();
        net.confine(&mut host);
        assert_eq!((host.extra_hosts, host.sysctls), (None, None));
    }
}
