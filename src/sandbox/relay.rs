//! The relay image, for the engine's platform (SPEC §6): the static Linux
//! `prodbox-relay` binary that build.rs made for the engine's architecture,
//! embedded here, in a `FROM scratch` image built locally by the engine the
//! first time it is missing; else the `relay_image` named by digest in the
//! settings (`PRODBOX_RELAY_IMAGE`), pulled like any image; else an error
//! that says what to set.

use bollard::query_parameters::BuildImageOptionsBuilder;
use futures_util::StreamExt;

use crate::engine::{self, Engine, EngineError};

/// The x86-64 Linux relay, embedded at build time (empty when it could not be built).
const X86_64: &[u8] = include_bytes!(env!("PRODBOX_RELAY_X86_64"));
/// The arm64 Linux relay, embedded at build time (empty when it could not be built).
const AARCH64: &[u8] = include_bytes!(env!("PRODBOX_RELAY_AARCH64"));

/// Path of the binary inside the image.
pub const PATH: &str = "/prodbox-relay";

/// Set to `off` to ignore the embedded relays (to test, or to force the
/// `relay_image`).
pub const EMBEDDED_ENV: &str = "PRODBOX_EMBEDDED_RELAY";

const DOCKERFILE: &str =
    "FROM scratch\nCOPY prodbox-relay /prodbox-relay\nUSER 65534:65534\nENTRYPOINT [\"/prodbox-relay\"]\n";

/// Which relay a sandbox gets, and why.
#[derive(Debug, Clone)]
pub struct RelayChoice {
    pub source: RelaySource,
    /// One line for `doctor`.
    pub why: String,
}

/// Where the relay image comes from.
#[derive(Debug, Clone)]
pub enum RelaySource {
    /// Built locally from the embedded binary for `arch`.
    Embedded { arch: &'static str, binary: &'static [u8] },
    /// Pulled by digest (`relay_image`).
    Image(String),
}

impl RelayChoice {
    /// The image reference the relay container runs.
    pub fn image(&self) -> String {
        match &self.source {
            RelaySource::Embedded { arch, .. } => format!("prodbox-relay:{}", embedded_tag(arch)),
            RelaySource::Image(reference) => reference.clone(),
        }
    }
}

/// The tag of the image built from the embedded relay for `arch`: a
/// fingerprint of the binary, taken by build.rs.
fn embedded_tag(arch: &str) -> &'static str {
    match arch {
        "aarch64" => env!("PRODBOX_RELAY_AARCH64_TAG"),
        _ => env!("PRODBOX_RELAY_X86_64_TAG"),
    }
}

/// The embedded Linux relay for a Rust architecture, when this build has one.
fn embedded(arch: &str) -> Option<&'static [u8]> {
    let binary = match arch {
        "x86_64" => X86_64,
        "aarch64" => AARCH64,
        _ => return None,
    };
    (!binary.is_empty()).then_some(binary)
}

/// The architectures this build embeds a relay for.
pub fn embedded_arches() -> Vec<&'static str> {
    ["x86_64", "aarch64"].into_iter().filter(|a| embedded(a).is_some()).collect()
}

/// Chooses the relay for `engine`: the embedded one for its architecture,
/// else `relay_image` from the settings, else an error saying what to set.
pub fn choose(engine: &Engine) -> Result<RelayChoice, EngineError> {
    let platform = engine.platform();
    let relay_image = crate::settings::relay_image().map_err(|detail| EngineError::NoRelay { detail })?;
    let disabled = std::env::var(EMBEDDED_ENV).is_ok_and(|v| v == "off");
    let arch = engine.platform.relay_arch();
    if let (false, Some(arch)) = (disabled, arch) {
        if let Some(binary) = embedded(arch) {
            return Ok(RelayChoice {
                source: RelaySource::Embedded { arch, binary },
                why: format!("embedded {arch} Linux relay, for the {platform} engine; built locally on first use"),
            });
        }
    }
    let why_not = if disabled {
        format!("{EMBEDDED_ENV}=off")
    } else {
        let built = embedded_arches();
        format!(
            "this prodbox embeds a Linux relay for {}, the engine is {platform}",
            if built.is_empty() { "no architecture".to_string() } else { built.join(" and ") }
        )
    };
    match relay_image {
        Some((reference, from)) => Ok(RelayChoice {
            why: format!("{reference} from {from} ({why_not}); pulled by digest"),
            source: RelaySource::Image(reference),
        }),
        None => Err(EngineError::NoRelay {
            detail: format!(
                "no relay for {} ({why_not}); set relay_image = \"REGISTRY/prodbox-relay@sha256:…\" in {} or PRODBOX_RELAY_IMAGE to a relay image for {platform} (docs/relay.md says how to publish one)",
                engine.kind,
                crate::settings::settings_file().map(|p| p.display().to_string()).unwrap_or_else(|| "the settings file".into()),
            ),
        }),
    }
}

/// Makes sure the relay image exists in the engine; returns its reference.
pub async fn ensure_image(engine: &Engine) -> Result<String, EngineError> {
    let choice = choose(engine)?;
    let reference = choice.image();
    match engine.docker.inspect_image(&reference).await {
        Ok(_) => return Ok(reference),
        Err(e) if engine::is_not_found(&e) => {}
        Err(e) => return Err(engine::api("inspecting the relay image", e)),
    }
    match choice.source {
        RelaySource::Embedded { binary, .. } => {
            // Runs started side by side on first use build it once: the others
            // wait for the first, then find its image.
            let _held = build_lock().await;
            match engine.docker.inspect_image(&reference).await {
                Ok(_) => {}
                Err(e) if engine::is_not_found(&e) => build(engine, &reference, binary).await?,
                Err(e) => return Err(engine::api("inspecting the relay image", e)),
            }
        }
        RelaySource::Image(_) => {
            let registry = crate::image_ref::ImageRef::parse(&reference)
                .map(|r| r.registry)
                .map_err(|e| EngineError::NoRelay { detail: format!("relay_image {reference}: {e}") })?;
            let creds = crate::fetch::auth::for_registry(&registry)
                .map_err(|e| EngineError::Api { what: format!("credentials for {registry}"), detail: e.to_string() })?;
            crate::fetch::ensure_image(engine, &reference, &creds, &crate::progress::Silent).await.map_err(|e| {
                EngineError::Api { what: format!("pulling the relay image {reference}"), detail: e.to_string() }
            })?;
        }
    }
    Ok(reference)
}

/// A lock on this machine held while the relay image is built (released
/// when dropped); `None` when the lock file cannot be had, and the build
/// goes ahead unguarded.
async fn build_lock() -> Option<std::fs::File> {
    let path = std::env::temp_dir().join("prodbox-relay-build.lock");
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).ok()?;
        file.lock().ok()?;
        Some(file)
    })
    .await
    .ok()
    .flatten()
}

async fn build(engine: &Engine, tag: &str, binary: &[u8]) -> Result<(), EngineError> {
    let context = build_context(binary)
        .map_err(|e| EngineError::Api { what: "packing the relay image".into(), detail: e.to_string() })?;
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(tag)
        .rm(true)
        .forcerm(true)
        .labels(&std::collections::HashMap::from([("dev.prodbox.relay", "true")]))
        .build();
    let mut stream = engine.docker.build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(event) = stream.next().await {
        let event = event.map_err(|e| engine::api("building the relay image", e))?;
        if let Some(detail) = event.error_detail.and_then(|d| d.message) {
            return Err(EngineError::Api { what: "building the relay image".into(), detail });
        }
    }
    Ok(())
}

fn build_context(binary: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    append(&mut tar, "Dockerfile", DOCKERFILE.as_bytes(), 0o644)?;
    append(&mut tar, "prodbox-relay", binary, 0o755)?;
    tar.into_inner()
}

/// Adds one regular file to a tar.
pub fn append(tar: &mut tar::Builder<Vec<u8>>, path: &str, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(mode);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs side by side wait for one build: while one holds the lock, no
    /// other can take it (flock is per open file, so this process stands
    /// in for a second one).
    #[tokio::test]
    async fn one_relay_build_at_a_time() {
        let held = build_lock().await.expect("the lock file can be made");
        let other = std::fs::OpenOptions::new()
            .write(true)
            .open(std::env::temp_dir().join("prodbox-relay-build.lock"))
            .unwrap();
        assert!(other.try_lock().is_err(), "taken while held");
        drop(held);
        assert!(other.try_lock().is_ok(), "free once released");
    }
}
