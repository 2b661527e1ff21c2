//! fetch: read production's image from the OCI registry by digest, check it,
//! and pull it through the Docker engine by digest (SPEC §1.2, §8).

pub mod auth;
pub mod pull;
pub mod remote;

use std::collections::BTreeMap;

pub use pull::{ensure_image, pull, pull_pinned, PulledImage};
pub use remote::{inspect_remote, RegistryOptions};

/// Why the image could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("registry {registry}: cannot be reached: {detail}")]
    Unreachable { registry: String, detail: String },
    #[error("registry {registry}: {what} {digest} does not match its content (got {actual}); the registry or something between you and it served other bytes: refusing to run it")]
    DigestMismatch { registry: String, what: &'static str, digest: String, actual: String },
    #[error("registry {registry}: {reference}: {detail}")]
    Registry { registry: String, reference: String, detail: String },
    #[error("registry {registry}: authentication failed: {detail}")]
    Auth { registry: String, detail: String },
    /// The docker config names a credential helper (or store) that failed.
    #[error("registry {registry}: reading credentials from the docker config failed: {detail}")]
    Credentials { registry: String, detail: String },
    #[error("image {reference}: no manifest for platform {platform} (it has: {available})")]
    NoPlatform { reference: String, platform: String, available: String },
    #[error("docker engine: pulling {reference} failed: {detail}")]
    Pull { reference: String, detail: String },
    #[error(
        "docker engine: {reference} was pulled but its RepoDigests ({found}) do not hold {digest}; refusing to run it"
    )]
    NotPinned { reference: String, digest: String, found: String },
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
}

/// What the registry says about production's image, before any pull.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageFacts {
    /// `registry/repository@digest` exactly as the record pins it.
    pub reference: String,
    /// The record's digest (an index or a manifest).
    pub digest: String,
    /// The platform manifest's digest (same as `digest` for single-platform images).
    pub manifest_digest: String,
    /// `os/arch[/variant]`.
    pub platform: String,
    /// Compressed size of all layers, bytes.
    pub size: u64,
    /// Layer digests and compressed sizes, in order.
    pub layers: Vec<(String, u64)>,
    /// The image config's labels.
    pub labels: BTreeMap<String, String>,
    pub created: Option<String>,
    pub exposed_ports: Vec<u16>,
    pub has_healthcheck: bool,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// `NAME=value` defaults baked into the image (not production config).
    pub env_defaults: Vec<String>,
}

impl ImageFacts {
    /// An OCI label, e.g. `org.opencontainers.image.revision`.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }
}
