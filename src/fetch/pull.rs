//! Pulling through the engine by digest, with per-layer progress, then
//! proving the engine holds exactly that digest.

use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;

use super::auth::Credentials;
use super::{FetchError, ImageFacts};
use crate::engine::{self, Engine};
use crate::progress::Progress;

/// The image, present in the engine under production's digest.
#[derive(Debug, Clone)]
pub struct PulledImage {
    /// `registry/repository@digest`: what containers are created from.
    pub reference: String,
    /// The engine's image id.
    pub id: String,
    /// Whether this run downloaded it (false: it was already there).
    pub downloaded: bool,
}

/// Pulls `facts.reference` unless the engine already has that digest.
pub async fn pull(
    engine: &Engine,
    facts: &ImageFacts,
    platform: Option<&str>,
    creds: &Credentials,
    progress: &dyn Progress,
) -> Result<PulledImage, FetchError> {
    pull_pinned(engine, &facts.reference, &facts.digest, platform, creds, progress).await
}

/// Pulls `reference` (`repo@digest`) unless the engine already has that
/// digest: all a pull needs is the record's digest, so `up` starts it
/// without waiting for anything else. Dropping the future cancels the pull.
pub async fn pull_pinned(
    engine: &Engine,
    reference: &str,
    digest: &str,
    platform: Option<&str>,
    creds: &Credentials,
    progress: &dyn Progress,
) -> Result<PulledImage, FetchError> {
    let reference = reference.to_string();
    if let Some(id) = pinned_id(engine, &reference, false).await? {
        progress.step(&format!("image {} already present", crate::digest::short(digest)));
        return Ok(PulledImage { reference, id, downloaded: false });
    }
    download(engine, &reference, platform, creds, progress).await?;
    let id = pinned_id(engine, &reference, true).await?.ok_or_else(|| FetchError::NotPinned {
        reference: reference.clone(),
        digest: digest.to_string(),
        found: "none".into(),
    })?;
    Ok(PulledImage { reference, id, downloaded: true })
}

/// Makes sure the engine has `reference` (a dependency, or a candidate such
/// as `checkout:fix` or `registry/repo@digest`), pulling it when missing.
/// Returns the image id.
pub async fn ensure_image(
    engine: &Engine,
    reference: &str,
    creds: &Credentials,
    progress: &dyn Progress,
) -> Result<String, FetchError> {
    match engine.docker.inspect_image(reference).await {
        Ok(image) => return Ok(image.id.unwrap_or_default()),
        Err(e) if engine::is_not_found(&e) => {}
        Err(e) => return Err(engine::api(format!("inspecting image {reference}"), e).into()),
    }
    download(engine, reference, None, creds, progress).await?;
    let image = engine
        .docker
        .inspect_image(reference)
        .await
        .map_err(|e| engine::api(format!("inspecting image {reference}"), e))?;
    Ok(image.id.unwrap_or_default())
}

/// Streams one engine pull into `progress`.
async fn download(
    engine: &Engine,
    reference: &str,
    platform: Option<&str>,
    creds: &Credentials,
    progress: &dyn Progress,
) -> Result<(), FetchError> {
    progress.step(&format!("pulling {reference}"));
    let mut options = CreateImageOptionsBuilder::default().from_image(reference);
    if let Some(p) = platform {
        options = options.platform(p);
    }
    let mut stream = engine.docker.create_image(Some(options.build()), None, creds.engine.clone());
    while let Some(event) = stream.next().await {
        let event = event.map_err(|e| pull_error(engine, reference, e))?;
        let (Some(id), Some(status)) = (event.id.as_deref(), event.status.as_deref()) else { continue };
        // The first event's id is the reference itself, not a layer.
        if reference.ends_with(id) || id.contains('@') || id.contains(':') {
            continue;
        }
        let detail = event.progress_detail.unwrap_or_default();
        progress.layer(id, status, detail.current.unwrap_or(0).max(0) as u64, detail.total.unwrap_or(0).max(0) as u64);
    }
    progress.layers_done();
    Ok(())
}

/// The image id when the engine has `reference` (`repo@digest`) in its
/// RepoDigests. Podman finds an image by its digest alone, whatever its
/// repository; before a pull (`strict` false) that counts as not there yet,
/// so the pull records this repository too.
async fn pinned_id(engine: &Engine, reference: &str, strict: bool) -> Result<Option<String>, FetchError> {
    match engine.docker.inspect_image(reference).await {
        Ok(image) => {
            let digests = image.repo_digests.unwrap_or_default();
            if digests.iter().any(|d| same_reference(d, reference)) {
                Ok(image.id)
            } else if !strict {
                Ok(None)
            } else {
                Err(FetchError::NotPinned {
                    reference: reference.into(),
                    digest: reference.rsplit('@').next().unwrap_or_default().into(),
                    found: digests.join(", "),
                })
            }
        }
        Err(e) if engine::is_not_found(&e) => Ok(None),
        Err(e) => Err(engine::api(format!("inspecting image {reference}"), e).into()),
    }
}

/// RepoDigests drop the `docker.io/` and `library/` prefixes the engine adds.
fn same_reference(repo_digest: &str, reference: &str) -> bool {
    let norm = |s: &str| s.trim_start_matches("docker.io/").trim_start_matches("library/").to_string();
    norm(repo_digest) == norm(reference)
}

fn pull_error(engine: &Engine, reference: &str, e: bollard::errors::Error) -> FetchError {
    match e {
        bollard::errors::Error::DockerStreamError { error: detail }
        | bollard::errors::Error::DockerResponseServerError { message: detail, .. } => {
            // The engine could not reach the registry: exit 3, like any
            // registry prodbox cannot reach itself.
            if registry_unreachable(&detail) {
                let registry = crate::image_ref::ImageRef::parse(reference)
                    .map(|r| r.registry)
                    .unwrap_or_else(|_| reference.to_string());
                return FetchError::Unreachable { registry, detail: format!("the engine's pull failed: {detail}") };
            }
            FetchError::Pull { reference: reference.into(), detail }
        }
        other => crate::engine::EngineError::Unreachable { address: engine.address.clone(), detail: other.to_string() }
            .into(),
    }
}

/// Whether an engine's pull error says the registry did not answer (as
/// opposed to answering "no such image" or "unauthorized").
fn registry_unreachable(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    [
        "connection refused",
        "no such host",
        "i/o timeout",
        "network is unreachable",
        "no route to host",
        "connection reset",
        "tls handshake timeout",
        "context deadline exceeded",
        "client.timeout exceeded",
        "server misbehaving",
    ]
    .iter()
    .any(|needle| d.contains(needle))
}
