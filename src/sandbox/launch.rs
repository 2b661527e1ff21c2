//! Creating a sandbox: the internal network with no host address (made and
//! checked by [`network`](super::network)), the ingress bridge (shared on
//! Docker, the sandbox's own on Podman: [`ingress`](super::ingress)), dependencies,
//! the hardened app container (config files copied in through the API before
//! it starts), and the relay.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use bollard::models::{
    ContainerCreateBody, HostConfig, Mount, MountType, NetworkConnectRequest, PortBinding, VolumeCreateRequest,
};
use bollard::query_parameters::{CreateContainerOptionsBuilder, UploadToContainerOptionsBuilder};

use super::ingress::{self, Ingress};
use super::labels::{self, Role};
use super::network::{self, slot, SandboxNetwork};
use super::{container_name, network_name, relay, sinkhole, SandboxSpec};
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
    pub fn ports(&self, role: Role) -> Vec<(u16, u16)> {
        self.routes.iter().filter(|r| r.role == role).map(|r| (r.port, r.host)).collect()
    }
}

/// One door of the relay: 127.0.0.1:`host` → relay:`listen` → `role`:`port`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Route {
    pub role: Role,
    pub port: u16,
    pub listen: u16,
    /// 0 until published (or the fixed host port asked for).
    pub host: u16,
}

/// The relay's routes: the app's ports as they are, the candidate's on
/// listen ports of their own (the relay cannot listen twice on one port).
pub fn plan_routes(spec: &SandboxSpec) -> Vec<Route> {
    routes_for(&spec.ports, spec.candidate.is_some())
}

/// [`plan_routes`] from the ports and whether there is a candidate.
pub fn routes_for(ports: &[crate::profile::PortSpec], candidate: bool) -> Vec<Route> {
    let mut routes: Vec<Route> =
        ports.iter().map(|p| Route { role: Role::App, port: p.container, listen: p.container, host: p.host }).collect();
    if candidate {
        let mut listen = CANDIDATE_LISTEN_BASE;
        for p in ports {
            while routes.iter().any(|r| r.listen == listen) {
                listen += 1;
            }
            routes.push(Route { role: Role::Candidate, port: p.container, listen, host: 0 });
            listen += 1;
        }
    }
    routes
}

/// Where the relay listens for the candidate's routes.
const CANDIDATE_LISTEN_BASE: u16 = 40_000;

/// Creates and starts everything; on error the caller removes the sandbox by label.
pub async fn launch(engine: &Engine, spec: &SandboxSpec) -> Result<Launched, EngineError> {
    let base = Base { name: &spec.name, service: &spec.deploy.service, extra_labels: &spec.extra_labels };
    let prepared = prepare(engine, base, network::names_for(spec)).await?;
    let (started, relay) = tokio::join!(prepared.start_workloads(engine, spec), prepared.start_relay(engine, spec));
    started?;
    prepared.launched(spec, relay?)
}

/// What a sandbox's resources are named and labelled after, known before
/// the app's image is pulled or its config sanitized.
#[derive(Debug, Clone, Copy)]
pub struct Base<'a> {
    pub name: &'a str,
    pub service: &'a str,
    /// Labels the user added (`--label`), on every resource.
    pub extra_labels: &'a [(String, String)],
}

/// The part of a sandbox that does not need the app's image: both networks
/// (the sandbox one made and checked: never silently open) and the relay
/// image, present in the engine. `up` makes it while the image is pulled.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The internal sandbox network.
    net: SandboxNetwork,
    /// The normal bridge the relay publishes from.
    ingress: Ingress,
    /// Sandbox, service and `--label` labels.
    labels: HashMap<String, String>,
    relay_image: String,
    sandbox: String,
    /// The relay's address on the sandbox network once it runs, where it
    /// is not fixed in advance (a Docker subnet from the engine's pools):
    /// the app waits for it, its DNS server. `Err` when the relay failed.
    relay_address: Arc<tokio::sync::watch::Sender<Option<Result<Ipv4Addr, ()>>>>,
}

/// Makes both networks and makes sure the relay image is there; on error
/// the caller removes the sandbox by label. `names` are the names on the
/// sandbox network ([`network::names_for`]).
pub async fn prepare(
    engine: &Engine,
    base: Base<'_>,
    names: std::collections::BTreeMap<String, u8>,
) -> Result<Prepared, EngineError> {
    // A missing relay is a setup error: say so before anything is made.
    relay::choose(engine)?;
    let mut labels = HashMap::from([
        (labels::SANDBOX.to_string(), base.name.to_string()),
        (labels::SERVICE.to_string(), base.service.to_string()),
    ]);
    labels.extend(base.extra_labels.iter().cloned());
    let net_name = network_name(base.name);
    // The sandbox network is checked (never silently open) before anything
    // starts on it. All three are awaited even when one fails (try_join
    // would drop a create already sent, and the engine would finish it after
    // the caller removed the sandbox by label).
    let (relay_image, net, ingress) = tokio::join!(
        relay::ensure_image(engine),
        network::create(engine, &net_name, names, &labels),
        ingress::ensure(engine, base.name, &labels),
    );
    let (net, relay_image, ingress) = (net?, relay_image?, ingress::first_use(ingress?));
    let relay_address = Arc::new(tokio::sync::watch::channel(None).0);
    Ok(Prepared { net, ingress, labels, relay_image, sandbox: base.name.to_string(), relay_address })
}

impl Prepared {
    /// The ingress network's name (shared on Docker).
    pub fn ingress_name(&self) -> &str {
        &self.ingress.name
    }

    /// Creates and starts the relay with the routes `spec` asks for; returns
    /// the (listen port, host port) pairs it got. It needs only the ports,
    /// not the app (it resolves the app's name per connection), so `up`
    /// starts it while the app's image is still being pulled.
    ///
    /// The egress sinkhole runs in the relay's process ([`sinkhole::Plan`]).
    pub async fn start_relay(
        &self,
        engine: &Engine,
        spec: &(dyn RelaySpec + Sync),
    ) -> Result<Vec<(u16, u16)>, EngineError> {
        let started = self.run_relay(engine, spec).await;
        // The app waits for the relay's address only where it is not fixed.
        self.relay_address.send_replace(Some(started.as_ref().map(|(_, address)| *address).map_err(|_| ())));
        started.map(|(published, _)| published)
    }

    async fn run_relay(
        &self,
        engine: &Engine,
        spec: &(dyn RelaySpec + Sync),
    ) -> Result<(Vec<(u16, u16)>, Ipv4Addr), EngineError> {
        let routes = spec.routes();
        let relay_name = container_name(&self.sandbox, Role::Relay.as_str());
        let launcher = Launcher { engine, spec: None, prepared: self, net: &self.net };
        let sinkhole = spec.sinkhole();
        let run = |ingress: Ingress| {
            let (launcher, routes, sinkhole, relay_name) = (&launcher, &routes, &sinkhole, &relay_name);
            async move {
                launcher.create_relay(routes, sinkhole, &self.relay_image, relay_name, &ingress.network).await?;
                start(engine, relay_name).await
            }
        };
        if let Err(e) = run(self.ingress.clone()).await {
            if !ingress::gone(&e, &self.ingress) {
                return Err(e);
            }
            // `gc` removed the shared network after it was chosen: it is
            // made again and the relay made anew on it, once.
            tracing::debug!(network = %self.ingress.name, "the ingress network went meanwhile; making it again");
            remove_container(engine, &relay_name).await?;
            run(ingress::ensure(engine, &self.sandbox, &self.labels).await?).await?;
        }
        let (published, address) = relay_facts(engine, &relay_name, &self.net.name).await?;
        let address = self.net.relay_address().or(address).ok_or_else(|| EngineError::Api {
            what: format!("reading {relay_name}'s address"),
            detail: format!("it has no IPv4 address on {}", self.net.name),
        })?;
        Ok((published, address))
    }

    /// Creates and starts the dependencies, then the app and the candidate
    /// side by side (config files copied in before each starts). Each
    /// resolves through the egress sinkhole in the relay: its address is
    /// fixed in advance, or (a Docker subnet from the engine's pools) this
    /// waits until the relay runs.
    pub async fn start_workloads(&self, engine: &Engine, spec: &SandboxSpec) -> Result<(), EngineError> {
        let mut net = self.net.clone();
        net.dns = match net.relay_address() {
            Some(fixed) => Some(fixed),
            None => {
                let mut rx = self.relay_address.subscribe();
                let address = rx.wait_for(Option::is_some).await.ok().and_then(|a| a.as_ref().and_then(|r| r.ok()));
                Some(address.ok_or_else(|| EngineError::Api {
                    what: "starting the app".into(),
                    detail: "the relay, its DNS server, did not start".into(),
                })?)
            }
        };
        Launcher { engine, spec: Some(spec), prepared: self, net: &net }.run().await
    }

    /// Where the started sandbox is reached, from the ports the relay got.
    pub fn launched(&self, spec: &SandboxSpec, published: Vec<(u16, u16)>) -> Result<Launched, EngineError> {
        let routes = plan_routes(spec)
            .into_iter()
            .map(|r| {
                let host = published.iter().find(|(listen, _)| *listen == r.listen).map(|(_, h)| *h).unwrap_or(r.host);
                Route { host, ..r }
            })
            .collect();
        Ok(Launched {
            app_container: container_name(&spec.name, Role::App.as_str()),
            candidate_container: spec.candidate.as_ref().map(|_| container_name(&spec.name, Role::Candidate.as_str())),
            relay_container: container_name(&spec.name, Role::Relay.as_str()),
            routes,
        })
    }
}

/// What the relay's routes are planned from: the ports, and whether a
/// candidate gets routes of its own.
pub trait RelaySpec {
    /// The relay's routes ([`plan_routes`]).
    fn routes(&self) -> Vec<Route>;
    /// What the egress sinkhole in the relay listens on and answers.
    fn sinkhole(&self) -> sinkhole::Plan;
}

impl RelaySpec for SandboxSpec {
    fn routes(&self) -> Vec<Route> {
        plan_routes(self)
    }

    fn sinkhole(&self) -> sinkhole::Plan {
        sinkhole::Plan::of_spec(self)
    }
}

/// Routes known before the spec is complete: the ports, and whether there
/// is a candidate; and the sinkhole's plan (from the sanitized config).
#[derive(Debug, Clone)]
pub struct EarlyRoutes {
    pub ports: Vec<crate::profile::PortSpec>,
    pub candidate: bool,
    pub sinkhole: sinkhole::Plan,
}

impl RelaySpec for EarlyRoutes {
    fn routes(&self) -> Vec<Route> {
        routes_for(&self.ports, self.candidate)
    }

    fn sinkhole(&self) -> sinkhole::Plan {
        self.sinkhole.clone()
    }
}

/// Everything a container of one sandbox is made with: the engine, the
/// spec (none for the relay, which is made before it is complete), and the
/// prepared networks and labels.
struct Launcher<'a> {
    engine: &'a Engine,
    spec: Option<&'a SandboxSpec>,
    prepared: &'a Prepared,
    /// The sandbox network as containers join it (its DNS server is the
    /// egress sinkhole once that runs).
    net: &'a SandboxNetwork,
}

/// The limits of one container, beside the hardening every container gets.
struct Limits {
    memory: i64,
    pids: i64,
    nano_cpus: Option<i64>,
    read_only: bool,
    cap_add: Vec<String>,
}

/// The one hardening of every container prodbox starts (app, candidate,
/// relay, dependencies): no privileges, every capability dropped but those
/// asked for, no-new-privileges, pid and memory limits, optionally a
/// read-only root with a small /tmp.
fn harden(host: &mut HostConfig, limits: Limits) {
    host.privileged = Some(false);
    host.cap_drop = Some(vec!["ALL".into()]);
    host.cap_add = (!limits.cap_add.is_empty()).then_some(limits.cap_add);
    host.security_opt = Some(vec!["no-new-privileges:true".into()]);
    host.pids_limit = Some(limits.pids);
    host.memory = Some(limits.memory);
    host.nano_cpus = limits.nano_cpus;
    host.readonly_rootfs = Some(limits.read_only);
    host.tmpfs =
        limits.read_only.then(|| HashMap::from([("/tmp".to_string(), "rw,nosuid,nodev,size=64m".to_string())]));
}

impl Launcher<'_> {
    fn spec(&self) -> &SandboxSpec {
        self.spec.expect("workloads are made from a complete spec")
    }

    async fn run(&self) -> Result<(), EngineError> {
        let spec = self.spec();
        for (i, dep) in spec.dependencies.iter().enumerate() {
            self.start_dependency(dep, slot::DEPENDENCY.saturating_add(i as u8)).await?;
        }
        let app = container_name(&spec.name, Role::App.as_str());
        let candidate = spec.candidate.as_ref().map(|_| container_name(&spec.name, Role::Candidate.as_str()));
        let start_app = self.start_workload(Role::App, &app);
        let start_candidate = async {
            match &candidate {
                Some(name) => self.start_workload(Role::Candidate, name).await,
                None => Ok(()),
            }
        };
        // Joined, not try_joined, for the same reason as the networks.
        let (app_started, candidate_started) = tokio::join!(start_app, start_candidate);
        app_started?;
        candidate_started
    }

    /// The limits of the app and the candidate: the profile's (or production's).
    fn workload_limits(&self) -> Limits {
        let spec = self.spec();
        Limits {
            memory: spec.memory.unwrap_or(super::DEFAULT_MEMORY),
            pids: super::PIDS_LIMIT,
            nano_cpus: spec.cpus.map(|c| (c * 1e9) as i64),
            read_only: spec.read_only,
            cap_add: spec.cap_add.clone(),
        }
    }

    /// A host config on the sandbox network, hardened with `limits`.
    fn host_config(&self, limits: Limits) -> HostConfig {
        let net = &self.net;
        let mut host = HostConfig { network_mode: Some(net.name.clone()), ..Default::default() };
        harden(&mut host, limits);
        net.confine(&mut host);
        host
    }

    fn labels_for(&self, role: Role) -> HashMap<String, String> {
        let mut l = self.prepared.labels.clone();
        l.insert(labels::ROLE.into(), role.as_str().into());
        l
    }

    async fn start_workload(&self, role: Role, name: &str) -> Result<(), EngineError> {
        self.create_workload(role, name).await?;
        upload_files(self.engine, name, &self.spec().files, self.spec().read_only).await?;
        start(self.engine, name).await
    }

    /// The app, or the candidate: same sanitized config, same hardening.
    async fn create_workload(&self, role: Role, name: &str) -> Result<(), EngineError> {
        let spec = self.spec();
        let (image, digest, id, aliases, at) = match (role, &spec.candidate) {
            (Role::Candidate, Some(c)) => (
                c.image.clone(),
                c.digest.clone(),
                Some(c.id.clone()),
                vec![Role::Candidate.to_string()],
                slot::CANDIDATE,
            ),
            _ => (
                spec.deploy.image.clone(),
                Some(spec.deploy.digest.clone()),
                None,
                vec![Role::App.to_string(), spec.deploy.service.clone()],
                slot::APP,
            ),
        };
        let mut l = self.labels_for(role);
        if let Some(digest) = digest {
            l.insert(labels::DIGEST.into(), digest);
        }
        if let Some(id) = id {
            l.insert(labels::IMAGE_ID.into(), id);
        }
        l.insert(labels::IMAGE.into(), image.clone());
        if spec.stop_timeout > 0 {
            l.insert(labels::STOP_TIMEOUT.into(), spec.stop_timeout.to_string());
        }
        l.insert(labels::ENVIRONMENT.into(), spec.deploy.environment.clone());
        l.insert(labels::SANITIZE.into(), spec.sanitize_json.clone());
        l.insert(
            labels::PORTS.into(),
            spec.ports.iter().map(|p| p.container.to_string()).collect::<Vec<_>>().join(","),
        );
        for (key, value) in [
            (labels::DEPLOYED_AT, &spec.deploy.deployed_at),
            (labels::DEPLOYED_BY, &spec.deploy.deployed_by),
            (labels::REVISION, &spec.deploy.revision),
        ] {
            if let Some(v) = value {
                l.insert(key.into(), v.clone());
            }
        }
        let mut host_config = self.host_config(self.workload_limits());
        if spec.read_only && !spec.files.is_empty() {
            host_config.mounts = Some(self.config_volumes(role).await?);
        }
        let body = ContainerCreateBody {
            image: Some(image),
            env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(l),
            host_config: Some(host_config),
            networking_config: Some(self.net.networking(at, aliases)),
            stop_timeout: (spec.stop_timeout > 0).then_some(spec.stop_timeout as i64),
            ..Default::default()
        };
        create(self.engine, name, body).await
    }

    /// A read-only root refuses the archive upload, so with `read_only` each
    /// config file's folder becomes a labelled volume (filled from the image, then
    /// given the sanitized files through the API). A file at `/` was refused
    /// before anything was made ([`SandboxSpec::check`](super::SandboxSpec::check)).
    async fn config_volumes(&self, role: Role) -> Result<Vec<Mount>, EngineError> {
        let mut mounts = Vec::new();
        for (i, dir) in config_dirs(&self.spec().files).iter().enumerate() {
            let name = format!("prodbox-{}-{role}-config-{i}", self.spec().name);
            let (docker, request) = (
                self.engine.docker.clone(),
                VolumeCreateRequest {
                    name: Some(name.clone()),
                    labels: Some(self.prepared.labels.clone()),
                    ..Default::default()
                },
            );
            super::inflight::track(async move { docker.create_volume(request).await })
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

    /// Creates the relay on `ingress` (its network mode) and joins it to the sandbox network.
    async fn create_relay(
        &self,
        routes: &[Route],
        sinkhole: &sinkhole::Plan,
        image: &str,
        name: &str,
        ingress: &str,
    ) -> Result<(), EngineError> {
        let mut l = self.labels_for(Role::Relay);
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
        let net = &self.net;
        cmd.extend(sinkhole.relay_args(net));
        let mut host =
            HostConfig { network_mode: Some(ingress.to_string()), port_bindings: Some(bindings), ..Default::default() };
        harden(&mut host, relay_limits());
        // It resolves the app's name on the sandbox network, so it needs the names too.
        net.confine(&mut host);
        // The sinkhole listens on 53, 80, 443… as nobody, with no capability:
        // the namespaced sysctl lets any user bind low ports in its own namespace only.
        let mut sysctls = host.sysctls.take().unwrap_or_default();
        sysctls.insert("net.ipv4.ip_unprivileged_port_start".into(), "0".into());
        host.sysctls = Some(sysctls);
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            cmd: Some(cmd),
            labels: Some(l),
            exposed_ports: Some(routes.iter().map(|r| format!("{}/tcp", r.listen)).collect()),
            host_config: Some(host),
            ..Default::default()
        };
        create(self.engine, name, body).await?;
        let endpoint = net.endpoint(slot::RELAY, vec![]);
        self.engine
            .docker
            .connect_network(
                &net.name,
                NetworkConnectRequest { container: name.to_string(), endpoint_config: Some(endpoint) },
            )
            .await
            .map_err(|e| engine::api(format!("attaching the relay to {}", net.name), e))
    }

    /// A dependency: hardened like the app (the default memory limit, every
    /// capability dropped but the dependency's own `cap_add`).
    async fn start_dependency(&self, dep: &crate::profile::Dependency, at: u8) -> Result<(), EngineError> {
        let name = container_name(&self.spec().name, &format!("dep-{}", dep.name));
        let mut aliases = vec![dep.name.clone()];
        aliases.extend(dep.aliases.iter().cloned());
        let host = self.host_config(Limits {
            memory: super::DEFAULT_MEMORY,
            pids: super::PIDS_LIMIT,
            nano_cpus: None,
            read_only: false,
            cap_add: dep.cap_add.clone(),
        });
        let body = ContainerCreateBody {
            image: Some(dep.image.clone()),
            env: Some(dep.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(self.labels_for(Role::Dependency)),
            host_config: Some(host),
            networking_config: Some(self.net.networking(at, aliases)),
            ..Default::default()
        };
        create(self.engine, &name, body).await?;
        start(self.engine, &name).await
    }
}

/// The relay's limits: it forwards bytes, so a little memory, few processes
/// and a read-only root are all it needs.
fn relay_limits() -> Limits {
    Limits { memory: 64 << 20, pids: 256, nano_cpus: None, read_only: true, cap_add: Vec::new() }
}

/// The folders config files land in (each becomes a volume with a read-only root).
pub fn config_dirs(files: &[(String, String)]) -> Vec<String> {
    let mut dirs: Vec<String> = files
        .iter()
        .map(|(path, _)| {
            std::path::Path::new(path).parent().map(|p| p.display().to_string()).unwrap_or_else(|| "/".into())
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// Creates a container as a tracked request ([`super::inflight`]): it lands
/// before any cleanup sweeps.
pub(super) async fn create(engine: &Engine, name: &str, body: ContainerCreateBody) -> Result<(), EngineError> {
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    let docker = engine.docker.clone();
    super::inflight::track(async move { docker.create_container(Some(options), body).await })
        .await
        .map_err(|e| engine::api(format!("creating container {name}"), e))?;
    Ok(())
}

/// Removes a container this run made (before making it anew).
async fn remove_container(engine: &Engine, name: &str) -> Result<(), EngineError> {
    let options = bollard::query_parameters::RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    match engine.docker.remove_container(name, Some(options)).await {
        Ok(()) => Ok(()),
        Err(e) if engine::is_not_found(&e) => Ok(()),
        Err(e) => Err(engine::api(format!("removing container {name}"), e)),
    }
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

/// The (container port, host port) pairs the relay got, and its address
/// on `network`, from one inspect.
async fn relay_facts(
    engine: &Engine,
    relay: &str,
    network: &str,
) -> Result<(Vec<(u16, u16)>, Option<Ipv4Addr>), EngineError> {
    let info = engine
        .docker
        .inspect_container(relay, None::<bollard::query_parameters::InspectContainerOptions>)
        .await
        .map_err(|e| engine::api(format!("inspecting {relay}"), e))?;
    let mut out = Vec::new();
    let settings = info.network_settings.unwrap_or_default();
    let address = settings
        .networks
        .as_ref()
        .and_then(|n| n.get(network))
        .and_then(|e| e.ip_address.as_deref())
        .and_then(|ip| ip.parse().ok());
    let ports = settings.ports.unwrap_or_default();
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
    Ok((out, address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harden_drops_everything_for_every_role() {
        let mut host = HostConfig::default();
        harden(&mut host, relay_limits());
        assert_eq!(host.cap_drop.as_deref(), Some(&["ALL".to_string()][..]));
        assert_eq!(host.cap_add, None);
        assert_eq!(host.privileged, Some(false));
        assert_eq!(host.security_opt.as_deref(), Some(&["no-new-privileges:true".to_string()][..]));
        assert_eq!(host.memory, Some(64 << 20));
        assert_eq!(host.readonly_rootfs, Some(true));
        assert!(host.tmpfs.is_some());
        let mut host = HostConfig::default();
        let limits = Limits {
            memory: 1 << 30,
            pids: 512,
            nano_cpus: Some(500_000_000),
            read_only: false,
            cap_add: vec!["CHOWN".into()],
        };
        harden(&mut host, limits);
        assert_eq!(host.cap_add.as_deref(), Some(&["CHOWN".to_string()][..]));
        assert_eq!((host.pids_limit, host.nano_cpus, host.tmpfs), (Some(512), Some(500_000_000), None));
    }

    #[test]
    fn config_dirs_are_the_files_folders_once_each() {
        let files = vec![
            ("/etc/app/a.yaml".to_string(), String::new()),
            ("/etc/app/b.yaml".to_string(), String::new()),
            ("/app.conf".to_string(), String::new()),
        ];
        assert_eq!(config_dirs(&files), ["/", "/etc/app"]);
    }
}
