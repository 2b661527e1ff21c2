//! `prodbox down [NAME…] [--all]`.

use crate::engine::Engine;
use crate::error::UsageError;
use crate::sandbox::{self, teardown::Removed};

/// Removes the named sandboxes (or all); returns what each removal took away.
pub async fn run(names: &[String], all: bool) -> anyhow::Result<Vec<(String, Removed)>> {
    if names.is_empty() && !all {
        return Err(UsageError("name the sandboxes to remove, or pass --all (see `prodbox ls`)".into()).into());
    }
    let engine = Engine::connect().await?;
    let targets: Vec<String> =
        if all { sandbox::list(&engine).await?.into_iter().map(|s| s.name).collect() } else { names.to_vec() };
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for name in targets {
        let removed = sandbox::remove(&engine, &name).await?;
        if removed.is_empty() && !all {
            missing.push(name.clone());
        }
        out.push((name, removed));
    }
    if !missing.is_empty() {
        anyhow::bail!("no sandbox named {}; see `prodbox ls`", missing.join(", "));
    }
    Ok(out)
}
