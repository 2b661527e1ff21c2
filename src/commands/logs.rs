//! `prodbox logs NAME [-f]`: the app's output, streamed to stdout/stderr.

use super::Text;
use crate::targets::{Role, SandboxTarget, Sink};

/// Streams the app's (or candidate's) logs until they end (or forever with `follow`).
pub async fn run(
    target: &dyn SandboxTarget,
    name: &str,
    candidate: bool,
    follow: bool,
    tail: Option<usize>,
) -> anyhow::Result<Text> {
    let role = if candidate { Role::Candidate } else { Role::App };
    target.logs(name, role, follow, tail, Sink::Split).await?;
    Ok(Text { text: String::new(), code: 0 })
}
