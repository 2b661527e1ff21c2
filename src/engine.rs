//! The engine connection: `DOCKER_HOST`, a Docker context or the default
//! socket. Requests carry no API version (bollard's paths are unversioned),
//! so each engine answers at its own: Debian's Docker 20.10 (API 1.41) works.
//!
//! Which engine answers (Docker Engine, Docker Desktop, Podman) and its
//! platform are detected once, on connect, from `/version` and `/info`, and
//! carried as [`EngineKind`] and [`Platform`]: what differs between engines is
//! asked of the kind's capability methods, never by comparing strings elsewhere.

use bollard::Docker;

/// The engine could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("docker engine at {address}: cannot be reached: {detail}")]
    Unreachable { address: String, detail: String },
    #[error("docker engine: {what}: {detail}")]
    Api { what: String, detail: String },
    /// Never silently open: the sandbox network came out with a way to the host.
    #[error("sandbox network {network} on {engine} would not be isolated: {reasons}; prodbox refuses to start anything on it ({hint})")]
    NotIsolated { network: String, engine: EngineKind, reasons: String, hint: &'static str },
    /// No relay fits the engine and none is configured (a setup problem).
    #[error("relay: {detail}")]
    NoRelay { detail: String },
    /// A network prodbox shares between sandboxes exists but is not made as
    /// prodbox makes it, so it is not used.
    #[error("network {network} is not as prodbox makes it: {reasons}; prodbox will not publish a sandbox from it")]
    Unfit { network: String, reasons: String },
    /// Another `up` of the same name holds the sandbox's lock: that run goes on, this one stops.
    #[error("{resource} is held by another `prodbox up` of the same name, which goes on; this one stops")]
    Taken { resource: String },
}

/// A connected engine, and what it is.
#[derive(Clone)]
pub struct Engine {
    pub docker: Docker,
    /// Where it is, for messages.
    pub address: String,
    /// Which engine answers.
    pub kind: EngineKind,
    /// Its OS and architecture (`/info`).
    pub platform: Platform,
    /// Its version as it reports it (`20.10.24`, `4.3.1`).
    pub version: String,
    /// The API version it speaks.
    pub api_version: String,
}

/// The engines prodbox knows, with what the sandbox needs to know about each
/// (the shape of cross-rs's `EngineType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum EngineKind {
    /// Docker's own engine (dockerd), e.g. Debian's `docker.io`.
    Docker,
    /// Docker Desktop: dockerd in a VM, so the engine's host is not this machine.
    DockerDesktop,
    /// Podman's Docker-compatible API (`podman system service`).
    Podman,
}

/// How a sandbox network with no host address is made on an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationMethod {
    /// A compatible-API bridge, `internal` and with
    /// `com.docker.network.bridge.inhibit_ipv4` (no host address on the bridge);
    /// names by the engine's DNS, IPv6 off in containers by the engine.
    InhibitedBridge,
    /// A libpod network, `internal` with DNS off (no gateway, so no host
    /// address); fixed addresses and `ExtraHosts` for names; IPv6 turned off
    /// in each container by sysctls.
    LibpodInternal,
}

impl EngineKind {
    /// From `/version` (the `Podman Engine` component, the platform name).
    pub fn detect(version: &bollard::models::SystemVersion) -> EngineKind {
        let components = version.components.as_deref().unwrap_or_default();
        if components.iter().any(|c| c.name.to_ascii_lowercase().contains("podman")) {
            return EngineKind::Podman;
        }
        let platform = version.platform.as_ref().map(|p| p.name.as_str()).unwrap_or_default();
        if platform.contains("Docker Desktop") {
            EngineKind::DockerDesktop
        } else {
            EngineKind::Docker
        }
    }

    /// The engine's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Docker => "Docker Engine",
            EngineKind::DockerDesktop => "Docker Desktop",
            EngineKind::Podman => "Podman",
        }
    }

    /// How this engine's sandbox network is made.
    pub fn isolation(self) -> IsolationMethod {
        match self {
            EngineKind::Docker | EngineKind::DockerDesktop => IsolationMethod::InhibitedBridge,
            EngineKind::Podman => IsolationMethod::LibpodInternal,
        }
    }

    /// Whether the compatible API's bridge driver takes Docker's
    /// `com.docker.network.bridge.*` options, `inhibit_ipv4` (no host address
    /// on the bridge) among them; Podman answers them with a warning and ignores them.
    pub fn takes_docker_bridge_options(self) -> bool {
        !matches!(self, EngineKind::Podman)
    }

    /// Whether the engine runs an image's HEALTHCHECK by itself (Podman
    /// needs systemd timers for that, which it does not have without systemd).
    pub fn runs_image_healthchecks(self) -> bool {
        !matches!(self, EngineKind::Podman)
    }

    /// The engine's default network and what to call it.
    pub fn default_network(self) -> (&'static str, &'static str) {
        match self {
            EngineKind::Docker | EngineKind::DockerDesktop => ("bridge", "the host, on Docker's default bridge"),
            EngineKind::Podman => ("podman", "the host, on Podman's default network"),
        }
    }

    /// Whether the engine's host may be this machine, so its interfaces and
    /// listening ports can be read here (Docker Desktop's is a VM).
    pub fn may_share_this_host(self) -> bool {
        !matches!(self, EngineKind::DockerDesktop)
    }

    /// What to do when its sandbox network cannot be isolated.
    pub fn isolation_hint(self) -> &'static str {
        match self {
            EngineKind::Docker | EngineKind::DockerDesktop => {
                "the engine must support the bridge driver's com.docker.network.bridge.inhibit_ipv4 option"
            }
            EngineKind::Podman => "prodbox needs Podman 4 with netavark and its libpod API on the same socket",
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An engine's OS and CPU architecture, in OCI terms (`linux`, `amd64`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Platform {
    pub os: String,
    pub arch: String,
}

impl Platform {
    /// From the names engines report (`x86_64` and `amd64`, `aarch64` and `arm64`).
    pub fn new(os: Option<&str>, arch: Option<&str>) -> Platform {
        let os = os.filter(|o| !o.is_empty()).unwrap_or("linux").to_ascii_lowercase();
        let arch = match arch.filter(|a| !a.is_empty()) {
            Some("x86_64") | Some("amd64") | None => "amd64",
            Some("aarch64") | Some("arm64") => "arm64",
            Some(other) => other,
        }
        .to_string();
        Platform { os, arch }
    }

    /// `os/arch`.
    pub fn oci(&self) -> String {
        format!("{}/{}", self.os, self.arch)
    }

    /// The Rust target architecture of a Linux binary this engine runs
    /// (`x86_64`, `aarch64`), if it is one prodbox can build a relay for.
    pub fn relay_arch(&self) -> Option<&'static str> {
        match (self.os.as_str(), self.arch.as_str()) {
            ("linux", "amd64") => Some("x86_64"),
            ("linux", "arm64") => Some("aarch64"),
            _ => None,
        }
    }
}

/// The default socket when nothing says otherwise.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// Where the engine is: `DOCKER_HOST`, else the Docker context named by
/// `DOCKER_CONTEXT` or the docker config's `currentContext`, else the default socket.
pub fn address() -> String {
    if let Ok(host) = std::env::var("DOCKER_HOST") {
        if !host.is_empty() {
            return host;
        }
    }
    let config_dir = std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".docker")));
    let Some(dir) = config_dir else { return DEFAULT_HOST.into() };
    let context = std::env::var("DOCKER_CONTEXT").ok().filter(|c| !c.is_empty()).or_else(|| {
        let config = std::fs::read_to_string(dir.join("config.json")).ok()?;
        let value: serde_json::Value = serde_json::from_str(&config).ok()?;
        value.get("currentContext")?.as_str().map(str::to_string)
    });
    match context {
        Some(name) if name != "default" => context_host(&dir, &name).unwrap_or_else(|| DEFAULT_HOST.into()),
        _ => DEFAULT_HOST.into(),
    }
}

/// The docker endpoint of context `name`: `contexts/meta/<sha256(name)>/meta.json`.
pub fn context_host(config_dir: &std::path::Path, name: &str) -> Option<String> {
    let meta = config_dir.join("contexts/meta").join(crate::digest::sha256_hex(name.as_bytes())).join("meta.json");
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(meta).ok()?).ok()?;
    value.pointer("/Endpoints/docker/Host")?.as_str().map(str::to_string)
}

impl Engine {
    /// Lists containers. Podman names a container that is between being
    /// stopped and being cleaned up `stopped`, a state the Docker API (and
    /// bollard) does not know, so the whole list fails to read: that moment
    /// passes within a second, and the list is asked for again.
    pub async fn list_containers(
        &self,
        options: bollard::query_parameters::ListContainersOptions,
    ) -> Result<Vec<bollard::models::ContainerSummary>, EngineError> {
        let mut tries = 0;
        loop {
            match self.docker.list_containers(Some(options.clone())).await {
                Err(bollard::errors::Error::JsonDataError { .. }) if tries < 20 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                }
                other => return other.map_err(|e| api("listing containers", e)),
            }
        }
    }

    /// Connects and reads what the engine is (this also proves it answers).
    pub async fn connect() -> Result<Engine, EngineError> {
        let address = address();
        let unreachable =
            |e: bollard::errors::Error| EngineError::Unreachable { address: address.clone(), detail: e.to_string() };
        let docker = connect_docker(&address).map_err(unreachable)?;
        // One /version, beside /info: bollard's `negotiate_version` would
        // ask for it a second time, and only to lower a client version its
        // requests do not carry (their paths are unversioned, so the engine
        // answers each at its own API version, Docker 20.10's 1.41 included).
        let (version, info) = tokio::join!(docker.version(), docker.info());
        let version = version.map_err(unreachable)?;
        let kind = EngineKind::detect(&version);
        // /info says what the engine runs containers on; /version is the
        // fallback should an engine's /info not parse.
        let platform = match info {
            Ok(info) => Platform::new(info.os_type.as_deref(), info.architecture.as_deref()),
            Err(e) => {
                tracing::debug!(error = %e, "engine /info unreadable; platform from /version");
                Platform::new(version.os.as_deref(), version.arch.as_deref())
            }
        };
        tracing::debug!(engine = kind.name(), platform = %platform.oci(), "engine detected");
        Ok(Engine {
            docker,
            address,
            kind,
            platform,
            version: version.version.unwrap_or_default(),
            api_version: version.api_version.unwrap_or_default(),
        })
    }

    /// The engine's platform as an OCI `os/arch`.
    pub fn platform(&self) -> String {
        self.platform.oci()
    }

    /// The engine's socket path, when it is a local Unix socket.
    pub fn unix_socket(&self) -> Option<&str> {
        self.address.strip_prefix("unix://")
    }
}

/// How long an idle engine connection is kept for the next request: long
/// enough to carry a whole run's requests on one connection, short enough to
/// be closed before an engine's own idle timeout (Podman's service) closes it.
const IDLE: std::time::Duration = std::time::Duration::from_secs(2);

/// Seconds a request may take before it fails (bollard's own default).
const REQUEST_TIMEOUT: u64 = 120;

/// A client for the engine at `address`. On a local Unix socket it keeps
/// its connections alive and reuses them: bollard's own Unix client opens a
/// new connection per request (it turns the pool off), which costs the
/// engine a connection and a goroutine for each of a run's requests.
/// Anything else (TCP, SSH) goes through bollard as it is.
fn connect_docker(address: &str) -> Result<Docker, bollard::errors::Error> {
    let Some(path) = address.strip_prefix("unix://") else { return Docker::connect_with_host(address) };
    if !std::path::Path::new(path).exists() {
        // bollard's error says which socket is missing.
        return Docker::connect_with_host(address);
    }
    let mut builder = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new());
    builder.pool_idle_timeout(IDLE);
    let client = std::sync::Arc::new(builder.build(hyperlocal::UnixConnector));
    // hyperlocal's connector reads the socket's path from the host, hex-encoded.
    let host = format!("unix://{}", hex(path.as_bytes()));
    Docker::connect_with_custom_transport(
        move |request: bollard::BollardRequest| {
            let client = std::sync::Arc::clone(&client);
            async move { client.request(request).await.map_err(bollard::errors::Error::from) }
        },
        Some(host),
        REQUEST_TIMEOUT,
        bollard::API_DEFAULT_VERSION,
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An engine API failure while doing `what`.
pub fn api(what: impl Into<String>, e: bollard::errors::Error) -> EngineError {
    EngineError::Api { what: what.into(), detail: e.to_string() }
}

/// Whether a bollard error is the engine's 404.
pub fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_docker_context_endpoint() {
        let dir = tempfile::tempdir().unwrap();
        let meta = dir.path().join("contexts/meta").join(crate::digest::sha256_hex(b"colima"));
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"colima","Endpoints":{"docker":{"Host":"unix:///home/u/.colima/docker.sock"}}}"#,
        )
        .unwrap();
        assert_eq!(context_host(dir.path(), "colima").as_deref(), Some("unix:///home/u/.colima/docker.sock"));
        assert_eq!(context_host(dir.path(), "missing"), None);
    }

    #[test]
    fn detects_the_engine_from_its_version() {
        use bollard::models::{SystemVersion, SystemVersionComponents, SystemVersionPlatform};
        let component = |name: &str| SystemVersionComponents { name: name.into(), ..Default::default() };
        let podman = SystemVersion {
            platform: Some(SystemVersionPlatform { name: "linux/amd64/debian-12".into() }),
            components: Some(vec![component("Podman Engine"), component("Conmon")]),
            ..Default::default()
        };
        assert_eq!(EngineKind::detect(&podman), EngineKind::Podman);
        let desktop = SystemVersion {
            platform: Some(SystemVersionPlatform { name: "Docker Desktop 4.30.0 (149282)".into() }),
            components: Some(vec![component("Engine")]),
            ..Default::default()
        };
        assert_eq!(EngineKind::detect(&desktop), EngineKind::DockerDesktop);
        let debian = SystemVersion { components: Some(vec![component("Engine")]), ..Default::default() };
        assert_eq!(EngineKind::detect(&debian), EngineKind::Docker);
        assert!(!EngineKind::Podman.takes_docker_bridge_options());
        assert_eq!(EngineKind::Podman.isolation(), IsolationMethod::LibpodInternal);
    }

    #[test]
    fn platforms_are_normalized_to_oci_names() {
        assert_eq!(Platform::new(Some("linux"), Some("x86_64")).oci(), "linux/amd64");
        assert_eq!(Platform::new(Some("linux"), Some("aarch64")).relay_arch(), Some("aarch64"));
        assert_eq!(Platform::new(Some("linux"), Some("amd64")).relay_arch(), Some("x86_64"));
        assert_eq!(Platform::new(Some("linux"), Some("s390x")).relay_arch(), None);
    }
}
