//! Creating a sandbox: the internal network with no host address, the
//! ingress bridge, dependencies, the hardened app container (config files
//! copied in through the API before it starts), and the relay.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, Mount, MountType, NetworkConnectRequest, NetworkCreateRequest,
    NetworkingConfig, PortBinding, VolumeCreateRequest,
};
use bollard::query_parameters::{CreateContainerOptionsBuilder, UploadToContainerOptionsBuilder};

use super::{container_name, ingress_network_name, labels, network_name, relay, SandboxSpec};
use crate::engine::{self, Engine, EngineError};

/// Where a started sandbox can be reached.
#[derive(Debug, Clone)]
pub struct Launched {
    pub app_container: String,
    pub candidate_container: Option<String>,
    pub relay_container: String,
    /// Every relay route with the host port it got on 127.0.0.1.
    pub routes: Vec<Route>,
}

impl Launched {
    /// (container port, host port) of `role`'s routes.
    pub fn ports(&self, role: &str) -> Vec<(u16, u16)> {
        self.routes.iter().filter(|r| r.role == role).map(|r| (r.port, r.host)).collect()
    }
}

/// One door of the relay: 127.0.0.1:`host` → relay:`listen` → `role`:`port`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Route {
    pub role: String,
    pub port: u16,
    pub listen: u16,
    /// 0 until published (or the fixed host port asked for).
    pub host: u16,
}

/// The relay's routes: the app's ports as they are, the candidate's on
/// listen ports of their own (the relay cannot listen twice on one port).
pub fn plan_routes(spec: &SandboxSpec) -> Vec<Route> {
    let mut routes: Vec<Route> = spec
        .ports
        .iter()
        .map(|p| Route { role: labels::ROLE_APP.into(), port: p.container, listen: p.container, host: p.host })
        .collect();
    if spec.candidate.is_some() {
        let mut listen = CANDIDATE_LISTEN_BASE;
        for p in &spec.ports {
            while routes.iter().any(|r| r.listen == listen) {
                listen += 1;
            }
            routes.push(Route { role: labels::ROLE_CANDIDATE.into(), port: p.container, listen, host: 0 });
            listen += 1;
        }
    }
    routes
}

/// Where the relay listens for the candidate's routes.
const CANDIDATE_LISTEN_BASE: u16 = 40_000;

/// Creates and starts everything; on error the caller removes the sandbox by label.
pub async fn launch(engine: &Engine, spec: &SandboxSpec) -> Result<Launched, EngineError> {
    let base = base_labels(spec);
    let net = network_name(&spec.name);
    let ingress = ingress_network_name(&spec.name);
    let (relay_image, _, _) = tokio::try_join!(
        relay::ensure_image(engine),
        create_network(engine, &net, true, &base),
        create_network(engine, &ingress, false, &base),
    )?;

    for dep in &spec.dependencies {
        start_dependency(engine, spec, dep, &net, &base).await?;
    }

    // The workloads and the relay are independent until a connection arrives
    // (the relay resolves names per connection), so they are made side by side.
    let app = container_name(&spec.name, labels::ROLE_APP);
    let candidate = spec.candidate.as_ref().map(|_| container_name(&spec.name, labels::ROLE_CANDIDATE));
    let relay_name = container_name(&spec.name, labels::ROLE_RELAY);
    let routes = plan_routes(spec);
    let start_app = start_workload(engine, spec, labels::ROLE_APP, &app, &net, &base);
    let start_candidate = async {
        match &candidate {
            Some(name) => start_workload(engine, spec, labels::ROLE_CANDIDATE, name, &net, &base).await,
            None => Ok(()),
        }
    };
    let start_relay = async {
        create_relay(engine, &routes, &relay_image, &relay_name, &net, &ingress, &base).await?;
        start(engine, &relay_name).await?;
        published_ports(engine, &relay_name).await
    };
    let ((), (), published) = tokio::try_join!(start_app, start_candidate, start_relay)?;
    let routes = routes
        .into_iter()
        .map(|r| {
            let host = published.iter().find(|(listen, _)| *listen == r.listen).map(|(_, h)| *h).unwrap_or(r.host);
            Route { host, ..r }
        })
        .collect();
    Ok(Launched { app_container: app, candidate_container: candidate, relay_container: relay_name, routes })
}

async fn start_workload(
    engine: &Engine,
    spec: &SandboxSpec,
    role: &str,
    name: &str,
    net: &str,
    base: &HashMap<String, String>,
) -> Result<(), EngineError> {
    create_workload(engine, spec, role, name, net, base).await?;
    upload_files(engine, name, &spec.files, spec.read_only).await?;
    start(engine, name).await
}

fn base_labels(spec: &SandboxSpec) -> HashMap<String, String> {
    let mut l = HashMap::from([
        (labels::SANDBOX.to_string(), spec.name.clone()),
        (labels::SERVICE.to_string(), spec.service.clone()),
    ]);
    l.extend(spec.extra_labels.iter().cloned());
    l
}

async fn create_network(
    engine: &Engine,
    name: &str,
    sandbox: bool,
    base: &HashMap<String, String>,
) -> Result<(), EngineError> {
    let options = if sandbox {
        // Internal alone still lets containers reach the host's own services
        // through the bridge's host address; inhibit_ipv4 removes that address.
        Some(HashMap::from([("com.docker.network.bridge.inhibit_ipv4".to_string(), "true".to_string())]))
    } else {
        Some(HashMap::from([("com.docker.network.bridge.host_binding_ipv4".to_string(), "127.0.0.1".to_string())]))
    };
    let request = NetworkCreateRequest {
        name: name.to_string(),
        driver: Some("bridge".into()),
        internal: Some(sandbox),
        options,
        labels: Some(base.clone()),
        ..Default::default()
    };
    engine.docker.create_network(request).await.map_err(|e| engine::api(format!("creating network {name}"), e))?;
    Ok(())
}

fn hardened_host_config(spec: &SandboxSpec, network: &str) -> HostConfig {
    HostConfig {
        network_mode: Some(network.to_string()),
        privileged: Some(false),
        cap_drop: Some(vec!["ALL".into()]),
        cap_add: Some(spec.cap_add.clone()),
        security_opt: Some(vec!["no-new-privileges:true".into()]),
        pids_limit: Some(super::PIDS_LIMIT),
        memory: Some(spec.memory.unwrap_or(super::DEFAULT_MEMORY)),
        nano_cpus: spec.cpus.map(|c| (c * 1e9) as i64),
        readonly_rootfs: Some(spec.read_only),
        tmpfs: spec.read_only.then(|| HashMap::from([("/tmp".to_string(), "rw,nosuid,nodev,size=64m".to_string())])),
        ..Default::default()
    }
}

fn endpoint(network: &str, aliases: Vec<String>) -> NetworkingConfig {
    NetworkingConfig {
        endpoints_config: Some(HashMap::from([(
            network.to_string(),
            EndpointSettings { aliases: Some(aliases), ..Default::default() },
        )])),
    }
}

/// The app, or the candidate: same sanitized config, same hardening.
async fn create_workload(
    engine: &Engine,
    spec: &SandboxSpec,
    role: &str,
    name: &str,
    net: &str,
    base: &HashMap<String, String>,
) -> Result<(), EngineError> {
    let (image, digest, aliases) = match (role, &spec.candidate) {
        (labels::ROLE_CANDIDATE, Some(c)) => (c.image.clone(), c.id.clone(), vec![labels::ROLE_CANDIDATE.to_string()]),
        _ => (spec.image.clone(), spec.digest.clone(), vec!["app".to_string(), spec.service.clone()]),
    };
    let mut l = base.clone();
    l.insert(labels::ROLE.into(), role.into());
    l.insert(labels::DIGEST.into(), digest);
    l.insert(labels::IMAGE.into(), image.clone());
    l.insert(labels::ENVIRONMENT.into(), spec.environment.clone());
    l.insert(labels::SANITIZE.into(), spec.sanitize_json.clone());
    l.insert(labels::PORTS.into(), spec.ports.iter().map(|p| p.container.to_string()).collect::<Vec<_>>().join(","));
    for (key, value) in [
        (labels::DEPLOYED_AT, &spec.deployed_at),
        (labels::DEPLOYED_BY, &spec.deployed_by),
        (labels::REVISION, &spec.revision),
    ] {
        if let Some(v) = value {
            l.insert(key.into(), v.clone());
        }
    }
    let mut host_config = hardened_host_config(spec, net);
    if spec.read_only && !spec.files.is_empty() {
        host_config.mounts = Some(config_volumes(engine, spec, role, base).await?);
    }
    let body = ContainerCreateBody {
        image: Some(image),
        env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(l),
        host_config: Some(host_config),
        networking_config: Some(endpoint(net, aliases)),
        ..Default::default()
    };
    create(engine, name, body).await
}

/// A read-only root refuses the archive upload, so with `read_only` each
/// config file's folder becomes a labelled volume (filled from the image, then
/// given the sanitized files through the API).
async fn config_volumes(
    engine: &Engine,
    spec: &SandboxSpec,
    role: &str,
    base: &HashMap<String, String>,
) -> Result<Vec<Mount>, EngineError> {
    let mut dirs: Vec<String> = spec
        .files
        .iter()
        .map(|(path, _)| {
            std::path::Path::new(path).parent().map(|p| p.display().to_string()).unwrap_or_else(|| "/".into())
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut mounts = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        if dir == "/" {
            return Err(EngineError::Api {
                what: "preparing config files".into(),
                detail: "a config file at / cannot be placed in a read-only container; set run.read_only = false"
                    .into(),
            });
        }
        let name = format!("prodbox-{}-{role}-config-{i}", spec.name);
        engine
            .docker
            .create_volume(VolumeCreateRequest {
                name: Some(name.clone()),
                labels: Some(base.clone()),
                ..Default::default()
            })
            .await
            .map_err(|e| engine::api(format!("creating volume {name}"), e))?;
        mounts.push(Mount {
            target: Some(dir.clone()),
            source: Some(name),
            typ: Some(MountType::VOLUME),
            read_only: Some(false),
            ..Default::default()
        });
    }
    Ok(mounts)
}

async fn create_relay(
    engine: &Engine,
    routes: &[Route],
    image: &str,
    name: &str,
    net: &str,
    ingress: &str,
    base: &HashMap<String, String>,
) -> Result<(), EngineError> {
    let mut l = base.clone();
    l.insert(labels::ROLE.into(), labels::ROLE_RELAY.into());
    l.insert(labels::ROUTES.into(), serde_json::to_string(routes).unwrap_or_default());
    let bindings: HashMap<String, Option<Vec<PortBinding>>> = routes
        .iter()
        .map(|r| {
            (
                format!("{}/tcp", r.listen),
                Some(vec![PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(if r.host == 0 { String::new() } else { r.host.to_string() }),
                }]),
            )
        })
        .collect();
    let mut cmd = vec!["forward".to_string()];
    cmd.extend(routes.iter().map(|r| format!("{}={}:{}", r.listen, r.role, r.port)));
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(cmd),
        labels: Some(l),
        exposed_ports: Some(routes.iter().map(|r| format!("{}/tcp", r.listen)).collect()),
        host_config: Some(HostConfig {
            network_mode: Some(ingress.to_string()),
            port_bindings: Some(bindings),
            privileged: Some(false),
            cap_drop: Some(vec!["ALL".into()]),
            security_opt: Some(vec!["no-new-privileges:true".into()]),
            readonly_rootfs: Some(true),
            pids_limit: Some(256),
            memory: Some(64 << 20),
            ..Default::default()
        }),
        ..Default::default()
    };
    create(engine, name, body).await?;
    engine
        .docker
        .connect_network(net, NetworkConnectRequest { container: name.to_string(), endpoint_config: None })
        .await
        .map_err(|e| engine::api(format!("attaching the relay to {net}"), e))
}

async fn start_dependency(
    engine: &Engine,
    spec: &SandboxSpec,
    dep: &crate::profile::Dependency,
    net: &str,
    base: &HashMap<String, String>,
) -> Result<(), EngineError> {
    let name = container_name(&spec.name, &format!("dep-{}", dep.name));
    let mut l = base.clone();
    l.insert(labels::ROLE.into(), labels::ROLE_DEPENDENCY.into());
    let mut aliases = vec![dep.name.clone()];
    aliases.extend(dep.aliases.iter().cloned());
    let body = ContainerCreateBody {
        image: Some(dep.image.clone()),
        env: Some(dep.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(l),
        host_config: Some(HostConfig {
            network_mode: Some(net.to_string()),
            privileged: Some(false),
            security_opt: Some(vec!["no-new-privileges:true".into()]),
            pids_limit: Some(super::PIDS_LIMIT),
            ..Default::default()
        }),
        networking_config: Some(endpoint(net, aliases)),
        ..Default::default()
    };
    create(engine, &name, body).await?;
    start(engine, &name).await
}

async fn create(engine: &Engine, name: &str, body: ContainerCreateBody) -> Result<(), EngineError> {
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    engine
        .docker
        .create_container(Some(options), body)
        .await
        .map_err(|e| engine::api(format!("creating container {name}"), e))?;
    Ok(())
}

async fn start(engine: &Engine, name: &str) -> Result<(), EngineError> {
    engine
        .docker
        .start_container(name, None::<bollard::query_parameters::StartContainerOptions>)
        .await
        .map_err(|e| engine::api(format!("starting container {name}"), e))
}

/// Copies config files into the created (not yet started) container through
/// the API: they never touch the host's disk. One archive at `/` (parents
/// are created), or with a read-only root one per folder, each folder being
/// a volume that accepts them.
async fn upload_files(
    engine: &Engine,
    container: &str,
    files: &[(String, String)],
    per_folder: bool,
) -> Result<(), EngineError> {
    let mut by_dir: std::collections::BTreeMap<String, Vec<(String, &str)>> = Default::default();
    for (path, content) in files {
        let p = std::path::Path::new(path);
        if per_folder {
            let dir = p.parent().map(|d| d.display().to_string()).unwrap_or_else(|| "/".into());
            let file = p.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
            by_dir.entry(dir).or_default().push((file, content));
        } else {
            by_dir.entry("/".into()).or_default().push((path.trim_start_matches('/').to_string(), content));
        }
    }
    for (dir, entries) in by_dir {
        let packed = (|| {
            let mut tar = tar::Builder::new(Vec::new());
            for (file, content) in &entries {
                relay::append(&mut tar, file, content.as_bytes(), 0o644)?;
            }
            tar.into_inner()
        })()
        .map_err(|e| EngineError::Api { what: "packing config files".into(), detail: e.to_string() })?;
        let options = UploadToContainerOptionsBuilder::default().path(&dir).build();
        engine
            .docker
            .upload_to_container(container, Some(options), bollard::body_full(packed.into()))
            .await
            .map_err(|e| engine::api(format!("copying config files into {container}:{dir}"), e))?;
    }
    Ok(())
}

/// (container port, host port) pairs the relay got.
pub async fn published_ports(engine: &Engine, relay: &str) -> Result<Vec<(u16, u16)>, EngineError> {
    let info = engine
        .docker
        .inspect_container(relay, None::<bollard::query_parameters::InspectContainerOptions>)
        .await
        .map_err(|e| engine::api(format!("inspecting {relay}"), e))?;
    let mut out = Vec::new();
    let ports = info.network_settings.and_then(|n| n.ports).unwrap_or_default();
    for (key, bindings) in ports {
        let Some(container) = key.split('/').next().and_then(|p| p.parse().ok()) else { continue };
        for b in bindings.unwrap_or_default() {
            if let Some(host) = b.host_port.and_then(|p| p.parse().ok()) {
                out.push((container, host));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}
