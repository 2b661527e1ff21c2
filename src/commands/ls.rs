//! `prodbox ls`.

use serde::Serialize;

use super::Ctx;
use crate::sandbox::{self, SandboxInfo};

/// Every sandbox, by name.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Sandboxes(pub Vec<SandboxInfo>);

/// Lists the sandboxes.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Sandboxes> {
    Ok(Sandboxes(sandbox::list(ctx.engine().await?).await?))
}
