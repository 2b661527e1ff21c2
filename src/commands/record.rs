//! `prodbox record FILE`: push a deploy record as an OCI artifact referring
//! to the image digest it names, so the registry keeps the record beside the
//! image (what the `oci` source reads).

use std::path::Path;

use anyhow::Context as _;

use crate::error::UsageError;
use crate::resolve::oci::{self, Pushed};
use crate::settings::Settings;

/// Reads `file` (a deploy record) and pushes it.
pub async fn run(settings: &Settings, file: &Path) -> anyhow::Result<Pushed> {
    let bytes = crate::limits::read_file(file, crate::limits::MAX_RECORD)
        .map_err(|e| UsageError(format!("record {}: cannot read: {e}", file.display())))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| UsageError(format!("record {}: not a valid deploy record: not UTF-8", file.display())))?;
    let origin = file.display().to_string();
    crate::resolve::DeployRecord::from_json(&origin, &text).map_err(|e| UsageError(format!("record: {e}")))?;
    oci::push_record(&origin, &text, &settings.registry).await.with_context(|| format!("record {origin}"))
}
