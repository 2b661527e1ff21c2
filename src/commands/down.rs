//! `prodbox down [NAME…] [--all]`.

use serde::Serialize;

use super::Ctx;
use crate::error::UsageError;
use crate::sandbox::{self, teardown::Removed, SandboxError};

/// What `down` or `gc` removed, sandbox by sandbox.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Removals {
    /// Each sandbox and what went with it.
    pub list: Vec<(String, Removed)>,
    /// `remove` or `collect`, for "nothing to …".
    #[serde(skip)]
    pub verb: &'static str,
    /// What each sandbox tried to reach in its life (its egress sinkhole's
    /// record, read before removal), one line each.
    #[serde(skip)]
    pub tried: Vec<(String, String)>,
}

/// Removes the named sandboxes (or all); returns what each removal took away.
pub async fn run(ctx: &Ctx, names: &[String], all: bool) -> anyhow::Result<Removals> {
    if names.is_empty() && !all {
        return Err(UsageError("name the sandboxes to remove, or pass --all (see `prodbox ls`)".into()).into());
    }
    let engine = ctx.engine().await?;
    let targets: Vec<String> =
        if all { sandbox::list(engine).await?.into_iter().map(|s| s.name).collect() } else { names.to_vec() };
    let mut list = Vec::new();
    let mut missing = Vec::new();
    let mut tried = Vec::new();
    for name in targets {
        // Read before removal; a sandbox that tried nothing adds no line.
        if let Ok(Some(destinations)) = sandbox::sinkhole::summary(engine, &name).await {
            if !destinations.is_empty() {
                tried.push((name.clone(), sandbox::sinkhole::tried_line(&destinations)));
            }
        }
        let removed = sandbox::remove(engine, &name).await?;
        // A lock left by a killed `up` goes too (it holds no sandbox label).
        sandbox::lock::release_any(engine, &name).await?;
        if removed.is_empty() && !all {
            missing.push(name.clone());
        }
        list.push((name, removed));
    }
    if !missing.is_empty() {
        return Err(SandboxError::NotFound(missing.join(", ")).into());
    }
    Ok(Removals { list, verb: "remove", tried })
}
