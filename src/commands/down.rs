//! `prodbox down [NAME…] [--all [--label KEY=VALUE…]]`: named sandboxes are
//! removed side by side; `--all` removes every sandbox in one sweep.

use serde::Serialize;

use crate::error::UsageError;
use crate::sandbox::SandboxError;
use crate::targets::{Gone, Removed, SandboxTarget};

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

/// Removes the named sandboxes (or all); returns what each removal took
/// away. With `all`, only the sandboxes whose resources carry every
/// `KEY=VALUE` of `only` (labels given to `up --label`).
pub async fn run(target: &dyn SandboxTarget, names: &[String], all: bool, only: &[String]) -> anyhow::Result<Removals> {
    if names.is_empty() && !all {
        return Err(
            UsageError(format!("name the sandboxes to remove, or pass --all (see `{}`)", target.ls_hint())).into()
        );
    }
    let mut pairs = Vec::new();
    for l in only {
        match l.split_once('=') {
            Some((k, v)) if !k.is_empty() => pairs.push((k, v)),
            _ => return Err(UsageError(format!("--label {l}: want KEY=VALUE, as given to `up --label`")).into()),
        }
    }
    let mut unique: Vec<String> = Vec::new();
    for n in names {
        if !unique.contains(n) {
            unique.push(n.clone());
        }
    }
    // What each tried to reach comes back with its removal; a sandbox that
    // tried nothing adds no line.
    let mut tried = Vec::new();
    let mut list = Vec::new();
    let mut note = |name: String, gone: Gone| {
        if let Some(line) = gone.tried {
            tried.push((name.clone(), line));
        }
        list.push((name, gone.removed));
    };
    if all {
        for (name, gone) in target.down_all(&pairs).await? {
            note(name, gone);
        }
        return Ok(Removals { list, verb: "remove", tried });
    }
    let removals = futures_util::future::join_all(unique.iter().map(|n| target.down(n))).await;
    let mut missing = Vec::new();
    for (name, gone) in unique.into_iter().zip(removals) {
        let gone = gone?;
        if gone.removed.is_empty() {
            missing.push(name.clone());
        }
        note(name, gone);
    }
    if !missing.is_empty() {
        return Err(SandboxError::NotFound(missing.join(", ")).into());
    }
    Ok(Removals { list, verb: "remove", tried })
}
