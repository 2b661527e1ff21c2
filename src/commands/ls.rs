//! `prodbox ls`: the sandboxes on the target, from one list call.

use serde::Serialize;

use crate::sandbox::SandboxInfo;
use crate::targets::SandboxTarget;

/// Every sandbox, by name.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Sandboxes(pub Vec<SandboxInfo>);

/// Lists the sandboxes.
pub async fn run(target: &dyn SandboxTarget) -> anyhow::Result<Sandboxes> {
    Ok(Sandboxes(target.list().await?))
}
