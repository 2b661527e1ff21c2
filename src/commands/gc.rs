//! `prodbox gc`: remove what crashed or killed runs left behind. On the
//! engine: every sandbox whose app exited, and half-made ones no `up` has
//! touched for a minute; on a cluster: every sandbox past its `--ttl`.

use super::down::Removals;
use crate::targets::SandboxTarget;
use crate::timestamp::Timestamp;

/// Removes dead sandboxes; returns their names and what went.
pub async fn run(target: &dyn SandboxTarget) -> anyhow::Result<Removals> {
    let list = target.gc(Timestamp::now().0).await?;
    Ok(Removals { list, verb: "collect", tried: Vec::new() })
}
