//! `prodbox gc`: remove what crashed or killed runs left behind — every
//! sandbox whose app container is not running.

use crate::engine::Engine;
use crate::sandbox::{self, teardown::Removed};

/// Removes sandboxes with no running app; returns their names and what went.
pub async fn run() -> anyhow::Result<Vec<(String, Removed)>> {
    let engine = Engine::connect().await?;
    let mut out = Vec::new();
    for s in sandbox::list(&engine).await? {
        if !s.is_running() {
            let removed = sandbox::remove(&engine, &s.name).await?;
            out.push((s.name, removed));
        }
    }
    Ok(out)
}
