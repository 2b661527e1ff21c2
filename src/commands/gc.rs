//! `prodbox gc`: remove what crashed or killed runs left behind — every
//! sandbox whose app exited, and half-made ones no `up` has touched for a minute.

use super::down::Removals;
use super::Ctx;
use crate::sandbox;
use crate::timestamp::Timestamp;

/// How long a half-made sandbox is left to the `up` that may be making it.
const GRACE_SECS: i64 = 60;

/// Removes dead sandboxes; returns their names and what went.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Removals> {
    let engine = ctx.engine().await?;
    let now = Timestamp::now().0;
    let garbage: Vec<String> = sandbox::list::list_with_leftovers(engine)
        .await?
        .into_iter()
        .filter(|s| s.is_garbage(now, GRACE_SECS))
        .map(|s| s.name)
        .collect();
    // Side by side: each removal waits on the engine, not on the others.
    let removals = futures_util::future::join_all(garbage.iter().map(|name| sandbox::remove(engine, name))).await;
    let mut out = Vec::new();
    for (name, removed) in garbage.into_iter().zip(removals) {
        out.push((name, removed?));
    }
    Ok(Removals { list: out, verb: "collect", tried: Vec::new() })
}
