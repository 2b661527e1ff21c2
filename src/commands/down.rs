//! `prodbox down [NAME…] [--all [--label KEY=VALUE…]]`: named sandboxes are
//! removed side by side; `--all` removes every sandbox in one sweep.

use serde::Serialize;

use super::Ctx;
use crate::error::UsageError;
use crate::sandbox::{self, labels, teardown::Removed, SandboxError};

/// What `down` or `gc` removed, sandbox by sandbox.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Removals {
    /// Each sandbox and what went with it.
    pub list: Vec<(String, Removed)>,
    /// `remove` or `collect`, for "nothing to …".
    #[serde(skip)]
    pub verb: &'static str,
}

/// Removes the named sandboxes (or all); returns what each removal took away.
pub async fn run(ctx: &Ctx, names: &[String], all: bool) -> anyhow::Result<Removals> {
    run_labelled(ctx, names, all, &[]).await
}

/// [`run`]; with `all`, only the sandboxes whose resources carry every
/// `KEY=VALUE` of `only` (labels given to `up --label`).
pub async fn run_labelled(ctx: &Ctx, names: &[String], all: bool, only: &[String]) -> anyhow::Result<Removals> {
    if names.is_empty() && !all {
        return Err(UsageError("name the sandboxes to remove, or pass --all (see `prodbox ls`)".into()).into());
    }
    let mut pairs = vec![(labels::SANDBOX, "")];
    for l in only {
        match l.split_once('=') {
            Some((k, v)) if !k.is_empty() => pairs.push((k, v)),
            _ => return Err(UsageError(format!("--label {l}: want KEY=VALUE, as given to `up --label`")).into()),
        }
    }
    let engine = ctx.engine().await?;
    if all {
        let removed = sandbox::teardown::remove_by_sandbox(engine, &pairs).await?;
        return Ok(Removals { list: removed.into_iter().filter(|(n, _)| !n.is_empty()).collect(), verb: "remove" });
    }
    let mut unique: Vec<&String> = Vec::new();
    for n in names {
        if !unique.contains(&n) {
            unique.push(n);
        }
    }
    let removals = futures_util::future::join_all(unique.iter().map(|n| sandbox::remove(engine, n))).await;
    let mut list = Vec::new();
    let mut missing = Vec::new();
    for (name, removed) in unique.into_iter().zip(removals) {
        let removed = removed?;
        if removed.is_empty() {
            missing.push(name.clone());
        }
        list.push((name.clone(), removed));
    }
    if !missing.is_empty() {
        return Err(SandboxError::NotFound(missing.join(", ")).into());
    }
    Ok(Removals { list, verb: "remove" })
}
