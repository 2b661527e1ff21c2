//! The Docker engine connection: `DOCKER_HOST` or the default socket, API
//! version negotiated so Debian's Docker 20.10 (API 1.41) works.

use bollard::Docker;

/// The engine could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("docker engine at {address}: cannot be reached: {detail}; is the engine running and may you use its socket? try `prodbox doctor`")]
    Unreachable { address: String, detail: String },
    #[error("docker engine: {what}: {detail}")]
    Api { what: String, detail: String },
}

/// A connected, version-negotiated engine.
#[derive(Clone)]
pub struct Engine {
    pub docker: Docker,
    /// Where it is, for messages.
    pub address: String,
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
    /// Connects and negotiates the API version (this also proves the engine answers).
    pub async fn connect() -> Result<Engine, EngineError> {
        let address = address();
        let unreachable =
            |e: bollard::errors::Error| EngineError::Unreachable { address: address.clone(), detail: e.to_string() };
        let docker = Docker::connect_with_host(&address).map_err(unreachable)?;
        let docker = docker.negotiate_version().await.map_err(unreachable)?;
        Ok(Engine { docker, address })
    }

    /// The engine's platform as an OCI `os/arch`.
    pub async fn platform(&self) -> Result<String, EngineError> {
        let v = self.docker.version().await.map_err(|e| api("reading the engine version", e))?;
        let os = v.os.unwrap_or_else(|| "linux".into());
        let arch = match v.arch.as_deref() {
            Some("x86_64") | None => "amd64".to_string(),
            Some("aarch64") => "arm64".to_string(),
            Some(other) => other.to_string(),
        };
        Ok(format!("{os}/{arch}"))
    }
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
}
