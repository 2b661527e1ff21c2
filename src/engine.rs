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

/// Where the engine is expected, as the user would write it.
pub fn address() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

impl Engine {
    /// Connects and negotiates the API version (this also proves the engine answers).
    pub async fn connect() -> Result<Engine, EngineError> {
        let address = address();
        let unreachable =
            |e: bollard::errors::Error| EngineError::Unreachable { address: address.clone(), detail: e.to_string() };
        let docker = Docker::connect_with_defaults().map_err(unreachable)?;
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
