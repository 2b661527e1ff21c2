//! The relay image: the static `prodbox-relay` binary (built by build.rs from
//! `relay/main.rs` and embedded here) in a `FROM scratch` image, built
//! locally by the engine the first time it is missing.

use bollard::query_parameters::BuildImageOptionsBuilder;
use futures_util::StreamExt;

use crate::engine::{self, Engine, EngineError};

/// The relay binary, embedded at build time.
pub const BINARY: &[u8] = include_bytes!(env!("PRODBOX_RELAY_BIN"));

/// Path of the binary inside the image.
pub const PATH: &str = "/prodbox-relay";

const DOCKERFILE: &str =
    "FROM scratch\nCOPY prodbox-relay /prodbox-relay\nUSER 65534:65534\nENTRYPOINT [\"/prodbox-relay\"]\n";

/// `prodbox-relay:<hash of the binary>`: a new binary gets a new image.
pub fn image_tag() -> String {
    format!("prodbox-relay:{}", &crate::digest::sha256_hex(BINARY)[..12])
}

/// Makes sure the relay image exists; returns its tag.
pub async fn ensure_image(engine: &Engine) -> Result<String, EngineError> {
    let tag = image_tag();
    match engine.docker.inspect_image(&tag).await {
        Ok(_) => return Ok(tag),
        Err(e) if engine::is_not_found(&e) => {}
        Err(e) => return Err(engine::api("inspecting the relay image", e)),
    }
    let context = build_context()
        .map_err(|e| EngineError::Api { what: "packing the relay image".into(), detail: e.to_string() })?;
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(&tag)
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
    Ok(tag)
}

fn build_context() -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    append(&mut tar, "Dockerfile", DOCKERFILE.as_bytes(), 0o644)?;
    append(&mut tar, "prodbox-relay", BINARY, 0o755)?;
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
