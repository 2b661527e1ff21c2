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
    let mut out = Vec::new();
    for s in sandbox::list(engine).await? {
        if s.is_garbage(now, GRACE_SECS) {
            let removed = sandbox::remove(engine, &s.name).await?;
            out.push((s.name, removed));
        }
    }
    Ok(Removals { list: out, verb: "collect", tried: Vec::new() })
}
