//! `prodbox verify NAME [--target HOST:PORT…]`: probe the sandbox's isolation
//! from inside its network. Exit 1 when the host answered.

use crate::engine::Engine;
use crate::sandbox::{self, verify::Probe};

/// Runs the probes.
pub async fn run(name: &str, targets: &[String]) -> anyhow::Result<Vec<Probe>> {
    let engine = Engine::connect().await?;
    if sandbox::find(&engine, name).await?.is_none() {
        anyhow::bail!("no sandbox named {name}; see `prodbox ls`");
    }
    Ok(sandbox::verify::verify(&engine, name, targets).await?)
}
