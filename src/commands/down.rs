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
    /// What each sandbox tried to reach in its life (its egress sinkhole's
    /// record, read before removal), one line each.
    #[serde(skip)]
    pub tried: Vec<(String, String)>,
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
    let mut pairs = Vec::new();
    for l in only {
        match l.split_once('=') {
            Some((k, v)) if !k.is_empty() => pairs.push((k, v)),
            _ => return Err(UsageError(format!("--label {l}: want KEY=VALUE, as given to `up --label`")).into()),
        }
    }
    let engine = ctx.engine().await?;
    let mut unique: Vec<String> = Vec::new();
    for n in names {
        if !unique.contains(n) {
            unique.push(n.clone());
        }
    }
    // What each tried to reach, read as it goes; a sandbox that tried
    // nothing adds no line.
    let mut tried = Vec::new();
    let mut note = |name: &String, summary: Option<Vec<sandbox::sinkhole::Destination>>| {
        if let Some(destinations) = summary.filter(|d| !d.is_empty()) {
            tried.push((name.clone(), sandbox::sinkhole::tried_line(&destinations)));
        }
    };
    // A lock left by a killed `up` goes too (it holds no sandbox label).
    let release = |names: Vec<String>| async move {
        let released =
            futures_util::future::join_all(names.iter().map(|n| sandbox::lock::release_any(engine, n))).await;
        released.into_iter().collect::<Result<Vec<bool>, _>>()
    };
    if all {
        let (removed, mut summaries) =
            sandbox::teardown::remove_by_sandbox_with_egress(engine, &labels::sandboxes_with(&pairs)).await?;
        let list: Vec<(String, Removed)> = removed.into_iter().filter(|(n, _)| !n.is_empty()).collect();
        release(list.iter().map(|(n, _)| n.clone()).collect()).await?;
        for (name, _) in &list {
            note(name, summaries.remove(name));
        }
        return Ok(Removals { list, verb: "remove", tried });
    }
    // The locks go beside the sandboxes: neither waits for the other.
    let removals =
        futures_util::future::join_all(unique.iter().map(|n| sandbox::teardown::remove_with_egress(engine, n)));
    let (removals, released) = tokio::join!(removals, release(unique.clone()));
    released?;
    let mut list = Vec::new();
    let mut missing = Vec::new();
    for (name, removed) in unique.into_iter().zip(removals) {
        let (removed, summary) = removed?;
        note(&name, summary);
        if removed.is_empty() {
            missing.push(name.clone());
        }
        list.push((name, removed));
    }
    if !missing.is_empty() {
        return Err(SandboxError::NotFound(missing.join(", ")).into());
    }
    Ok(Removals { list, verb: "remove", tried })
}
