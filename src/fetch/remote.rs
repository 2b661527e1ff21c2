//! Reading an image from the OCI registry by digest (oci-client): the
//! manifest (resolving an index to one platform), its config and labels.
//! Every byte read is hashed and compared with the digest that named it.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::Client;
use serde::Deserialize;

use super::auth::Credentials;
use super::{FetchError, ImageFacts};
use crate::digest::sha256_digest;
use crate::image_ref::ImageRef;

pub(crate) const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// How to talk to registries.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Registries (`host[:port]`) that may be spoken to over plain HTTP
    /// besides loopback ones.
    pub insecure: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    media_type: Option<String>,
    manifests: Option<Vec<IndexEntry>>,
    config: Option<Descriptor>,
    layers: Option<Vec<Descriptor>>,
}

#[derive(Deserialize)]
struct Descriptor {
    digest: String,
    size: u64,
}

#[derive(Deserialize)]
struct IndexEntry {
    digest: String,
    size: Option<u64>,
    platform: Option<PlatformJson>,
}

#[derive(Deserialize)]
struct PlatformJson {
    architecture: String,
    os: String,
    variant: Option<String>,
}

impl PlatformJson {
    fn name(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

#[derive(Deserialize, Default)]
struct ImageConfig {
    architecture: Option<String>,
    os: Option<String>,
    variant: Option<String>,
    created: Option<String>,
    #[serde(default)]
    config: RunConfig,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RunConfig {
    labels: Option<BTreeMap<String, String>>,
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    healthcheck: Option<serde_json::Value>,
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    env: Option<Vec<String>>,
}

/// Reads what `image` (pinned by digest) is, for `platform` (`os/arch[/variant]`),
/// within the overall network deadline: a registry that trickles bytes or
/// never answers is "cannot be reached" (exit 3), named.
pub async fn inspect_remote(
    image: &ImageRef,
    platform: &str,
    creds: &Credentials,
    options: &RegistryOptions,
) -> Result<ImageFacts, FetchError> {
    let limit = crate::limits::network_deadline();
    match tokio::time::timeout(limit, inspect(image, platform, creds, options)).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Unreachable {
            registry: image.registry.clone(),
            detail: format!(
                "no complete answer within {}s reading {}; set PRODBOX_NETWORK_TIMEOUT (e.g. 10m) to wait longer",
                limit.as_secs(),
                image.pinned()
            ),
        }),
    }
}

async fn inspect(
    image: &ImageRef,
    platform: &str,
    creds: &Credentials,
    options: &RegistryOptions,
) -> Result<ImageFacts, FetchError> {
    let digest = image.digest.clone().expect("inspect_remote takes a pinned image");
    // Building a client reads the system's root certificates, file by file
    // (a tenth of a second): on a blocking thread, so the task that awaits
    // this beside the sandbox's creation (`up`) goes on meanwhile.
    let (for_image, for_options) = (image.clone(), options.clone());
    let client = tokio::task::spawn_blocking(move || client_for(&for_image, &for_options))
        .await
        .unwrap_or_else(|_| client_for(image, options));
    let registry = image.registry.clone();

    let body = manifest_bytes(&client, image, &digest, creds, options).await?;
    let mut manifest: Manifest = parse(&registry, &digest, &body)?;
    let mut manifest_digest = digest.clone();
    if let Some(entries) = &manifest.manifests {
        let chosen = entries
            .iter()
            .find(|e| e.platform.as_ref().is_some_and(|p| platform_matches(p, platform)))
            .ok_or_else(|| FetchError::NoPlatform {
                reference: image.pinned(),
                platform: platform.to_string(),
                available: entries
                    .iter()
                    .filter_map(|e| e.platform.as_ref().map(PlatformJson::name))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        manifest_digest = chosen.digest.clone();
        if chosen.size.is_some_and(|n| n > crate::limits::MAX_MANIFEST) {
            return Err(too_large(&registry, image, "manifest", &manifest_digest, crate::limits::MAX_MANIFEST));
        }
        let body = manifest_bytes(&client, image, &manifest_digest, creds, options).await?;
        manifest = parse(&registry, &manifest_digest, &body)?;
    }
    let (Some(config_desc), Some(layers)) = (manifest.config, manifest.layers) else {
        return Err(FetchError::Registry {
            registry,
            reference: image.pinned(),
            detail: format!(
                "manifest {manifest_digest} (media type {}) is not an image manifest",
                manifest.media_type.unwrap_or_default()
            ),
        });
    };

    let max = crate::limits::MAX_CONFIG;
    if config_desc.size > max {
        return Err(too_large(&registry, image, "image config", &config_desc.digest, max));
    }
    // The descriptor's size may lie: the writer refuses more than the limit.
    let mut config_bytes = Capped { bytes: Vec::with_capacity(config_desc.size as usize), max };
    client.pull_blob(&image.to_reference(), config_desc.digest.as_str(), &mut config_bytes).await.map_err(|e| {
        match config_bytes.bytes.len() as u64 >= max {
            true => too_large(&registry, image, "image config", &config_desc.digest, max),
            false => classify(&registry, &image.pinned(), "image config", &config_desc.digest, e),
        }
    })?;
    let config_bytes = config_bytes.bytes;
    check(&registry, "image config", &config_desc.digest, &config_bytes)?;
    let config: ImageConfig = serde_json::from_slice(&config_bytes).unwrap_or_default();

    let platform_name = match (&config.os, &config.architecture) {
        (Some(os), Some(arch)) => match &config.variant {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        },
        _ => platform.to_string(),
    };
    let run = config.config;
    let mut exposed_ports: Vec<u16> =
        run.exposed_ports.unwrap_or_default().keys().filter_map(|k| k.split('/').next()?.parse().ok()).collect();
    exposed_ports.sort_unstable();
    let has_healthcheck = run
        .healthcheck
        .as_ref()
        .and_then(|h| h.get("Test"))
        .and_then(|t| t.as_array())
        .is_some_and(|t| t.first().and_then(|s| s.as_str()) != Some("NONE") && !t.is_empty());
    Ok(ImageFacts {
        reference: image.pinned(),
        digest,
        manifest_digest,
        platform: platform_name,
        size: layers.iter().map(|l| l.size).sum(),
        layers: layers.iter().map(|l| (l.digest.clone(), l.size)).collect(),
        labels: run.labels.unwrap_or_default(),
        created: config.created,
        exposed_ports,
        has_healthcheck,
        entrypoint: run.entrypoint.unwrap_or_default(),
        cmd: run.cmd.unwrap_or_default(),
        env_defaults: run.env.unwrap_or_default(),
    })
}

fn too_large(registry: &str, image: &ImageRef, what: &str, digest: &str, max: u64) -> FetchError {
    FetchError::Registry {
        registry: registry.into(),
        reference: image.pinned(),
        detail: format!("{what} {digest} is larger than {} MiB, more than prodbox reads", max >> 20),
    }
}

/// A buffer that takes at most `max` bytes and fails the write after that.
struct Capped {
    bytes: Vec<u8>,
    max: u64,
}

impl tokio::io::AsyncWrite for Capped {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if (self.bytes.len() + buf.len()) as u64 > self.max {
            let max = self.max;
            self.bytes.resize(max as usize, 0);
            return std::task::Poll::Ready(Err(std::io::Error::other("over the size limit")));
        }
        self.bytes.extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// An oci-client for `image`'s registry: plain HTTP only for loopback
/// registries and those the user listed as insecure. Made once per run for
/// each such list (making one reads the system's root certificates, file by
/// file), then shared: a run's reads of one registry share its connections.
pub(crate) fn client_for(image: &ImageRef, options: &RegistryOptions) -> Client {
    /// A client per list of plain-HTTP registries, made on first use.
    type Clients = Vec<(Vec<String>, Arc<OnceLock<Client>>)>;
    static CLIENTS: std::sync::Mutex<Clients> = std::sync::Mutex::new(Vec::new());
    let mut plain: Vec<String> = options.insecure.clone();
    if image.is_loopback_registry() {
        plain.push(image.registry.clone());
    }
    plain.sort();
    plain.dedup();
    let cell = {
        let mut clients = CLIENTS.lock().unwrap_or_else(|e| e.into_inner());
        match clients.iter().find(|(p, _)| *p == plain) {
            Some((_, cell)) => Arc::clone(cell),
            None => {
                let cell = Arc::new(OnceLock::new());
                clients.push((plain.clone(), Arc::clone(&cell)));
                cell
            }
        }
    };
    // Made outside the list's lock: a second caller for the same list waits
    // for this one's, callers for other lists do not.
    cell.get_or_init(|| {
        Client::new(ClientConfig {
            protocol: ClientProtocol::HttpsExcept(plain),
            connect_timeout: Some(Duration::from_secs(5)),
            read_timeout: Some(Duration::from_secs(30)),
            platform_resolver: None,
            ..Default::default()
        })
    })
    .clone()
}

/// Starts making [`client_for`]'s client on a thread of its own, so that
/// reading the manifest later finds it made (`up` calls this as soon as it
/// knows the registry, long before the digest is resolved).
pub fn warm_up(image: ImageRef, options: RegistryOptions) {
    std::thread::spawn(move || {
        client_for(&image, &options);
    });
}

async fn manifest_bytes(
    client: &Client,
    image: &ImageRef,
    digest: &str,
    creds: &Credentials,
    options: &RegistryOptions,
) -> Result<Vec<u8>, FetchError> {
    let reference = image.to_reference().clone_with_digest(digest.to_string());
    // oci-client reads a manifest whole, whatever its size: read it here
    // first, with the client's credentials, and stop past the cap. Any other
    // outcome (an error status, no connection) is left to oci-client, whose
    // errors say what went wrong.
    if let Some(body) = capped_manifest(client, image, &reference, creds, options).await? {
        check(&image.registry, "manifest", digest, &body)?;
        return Ok(body);
    }
    let (body, _) = client
        .pull_manifest_raw(&reference, &creds.registry, MANIFEST_TYPES)
        .await
        .map_err(|e| classify(&image.registry, &image.pinned(), "manifest", digest, e))?;
    check(&image.registry, "manifest", digest, &body)?;
    Ok(body.to_vec())
}

/// The manifest `reference` names, read up to [`crate::limits::MAX_MANIFEST`]
/// bytes (more is an error); None when the registry did not answer 200.
async fn capped_manifest(
    client: &Client,
    image: &ImageRef,
    reference: &oci_client::Reference,
    creds: &Credentials,
    options: &RegistryOptions,
) -> Result<Option<Vec<u8>>, FetchError> {
    use futures_util::StreamExt as _;
    let max = crate::limits::MAX_MANIFEST;
    let digest = reference.digest().unwrap_or_default().to_string();
    let Ok(token) = client.auth(reference, &creds.registry, oci_client::RegistryOperation::Pull).await else {
        return Ok(None);
    };
    let plain = image.is_loopback_registry() || options.insecure.contains(&image.registry);
    let url = format!(
        "{}://{}/v2/{}/manifests/{digest}",
        if plain { "http" } else { "https" },
        reference.resolve_registry(),
        reference.repository()
    );
    let Ok(http) = reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).build() else { return Ok(None) };
    let mut request = http.get(url).header(reqwest::header::ACCEPT, MANIFEST_TYPES.join(", "));
    request = match (token, &creds.registry) {
        (Some(token), _) => request.bearer_auth(token),
        (None, oci_client::secrets::RegistryAuth::Basic(user, password)) => request.basic_auth(user, Some(password)),
        (None, _) => request,
    };
    let Ok(response) = request.send().await else { return Ok(None) };
    if response.status() != reqwest::StatusCode::OK {
        return Ok(None);
    }
    if response.content_length().is_some_and(|n| n > max) {
        return Err(too_large(&image.registry, image, "manifest", &digest, max));
    }
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let Ok(chunk) = chunk else { return Ok(None) };
        if (body.len() + chunk.len()) as u64 > max {
            return Err(too_large(&image.registry, image, "manifest", &digest, max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// Our own check of content against the digest that named it.
fn check(registry: &str, what: &'static str, digest: &str, bytes: &[u8]) -> Result<(), FetchError> {
    let actual = sha256_digest(bytes);
    if actual != digest {
        return Err(FetchError::DigestMismatch { registry: registry.into(), what, digest: digest.into(), actual });
    }
    Ok(())
}

fn parse(registry: &str, digest: &str, body: &[u8]) -> Result<Manifest, FetchError> {
    serde_json::from_slice(body).map_err(|e| FetchError::Registry {
        registry: registry.into(),
        reference: digest.into(),
        detail: format!("manifest is not valid JSON ({e})"),
    })
}

fn platform_matches(p: &PlatformJson, want: &str) -> bool {
    let mut parts = want.split('/');
    let (os, arch, variant) = (parts.next(), parts.next(), parts.next());
    Some(p.os.as_str()) == os
        && Some(p.architecture.as_str()) == arch
        && (variant.is_none() || p.variant.as_deref() == variant)
}

/// Maps oci-client's errors to ours: unreachable, digest mismatch, auth, or the registry's own answer.
pub(crate) fn classify(
    registry: &str,
    reference: &str,
    what: &'static str,
    digest: &str,
    e: OciDistributionError,
) -> FetchError {
    use oci_client::errors::DigestError;
    match e {
        OciDistributionError::DigestError(DigestError::VerificationError { expected, actual }) => {
            FetchError::DigestMismatch { registry: registry.into(), what, digest: expected, actual }
        }
        OciDistributionError::RequestError(err) => {
            let mut detail = if err.is_timeout() { "timed out".to_string() } else { "connection failed".to_string() };
            let mut source = std::error::Error::source(&err);
            while let Some(s) = source {
                detail = format!("{detail}: {s}");
                source = s.source();
            }
            FetchError::Unreachable { registry: registry.into(), detail }
        }
        OciDistributionError::AuthenticationFailure(detail) => FetchError::Auth { registry: registry.into(), detail },
        OciDistributionError::UnauthorizedError { .. } => {
            FetchError::Auth { registry: registry.into(), detail: "unauthorized".into() }
        }
        other => FetchError::Registry {
            registry: registry.into(),
            reference: reference.into(),
            detail: format!("reading {what} {digest}: {other}"),
        },
    }
}
