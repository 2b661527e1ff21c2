//! `prodbox verify NAME [--target HOST:PORT…]`: probe the sandbox's isolation
//! from inside its network (a pod in its namespace on a cluster). Exit 1
//! when the host answered.

use serde::Serialize;

use crate::targets::{Probe, SandboxTarget};

/// Each probe's result.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Probes(pub Vec<Probe>);

/// Runs the probes.
pub async fn run(target: &dyn SandboxTarget, name: &str, extra: &[String]) -> anyhow::Result<Probes> {
    Ok(Probes(target.verify(name, extra).await?))
}
