//! `prodbox verify NAME [--target HOST:PORT…]`: probe the sandbox's isolation
//! from inside its network. Exit 1 when the host answered.

use serde::Serialize;

use super::Ctx;
use crate::sandbox::{self, verify::Probe};

/// Each probe's result.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Probes(pub Vec<Probe>);

/// Runs the probes.
pub async fn run(ctx: &Ctx, name: &str, targets: &[String]) -> anyhow::Result<Probes> {
    let engine = ctx.engine().await?;
    sandbox::require(engine, name).await?;
    Ok(Probes(sandbox::verify::verify(engine, name, targets).await?))
}
