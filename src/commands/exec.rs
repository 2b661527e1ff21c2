//! `prodbox exec NAME -- CMD…`: run a command in the app container —
//! interactive with a TTY when stdin is a terminal, else with its output
//! captured; either way its exit code is passed on.

use crate::engine::Engine;
use crate::sandbox::{self, exec, labels};

/// Runs the command; returns its exit code and (when not interactive) its output.
pub async fn run(name: &str, candidate: bool, command: &[String]) -> anyhow::Result<(i64, String)> {
    let engine = Engine::connect().await?;
    let Some(info) = sandbox::find(&engine, name).await? else {
        anyhow::bail!("no sandbox named {name}; see `prodbox ls`");
    };
    if candidate && info.candidate.is_none() {
        anyhow::bail!("sandbox {name} has no candidate; start one with `prodbox up SERVICE --candidate IMAGE`");
    }
    let role = if candidate { labels::ROLE_CANDIDATE } else { labels::ROLE_APP };
    let container = sandbox::container_name(name, role);
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Ok((exec::interactive(&engine, &container, command.to_vec()).await?, String::new()));
    }
    Ok(exec::capture(&engine, &container, command.to_vec()).await?)
}
