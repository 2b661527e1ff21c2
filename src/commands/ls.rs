//! `prodbox ls`.

use crate::engine::Engine;
use crate::sandbox::{self, SandboxInfo};

/// Every sandbox, by name.
pub async fn run() -> anyhow::Result<Vec<SandboxInfo>> {
    let engine = Engine::connect().await?;
    Ok(sandbox::list(&engine).await?)
}
