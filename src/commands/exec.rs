//! `prodbox exec NAME -- CMD…`: run a command in the app container.
//! (Non-interactive: output is captured and the exit code passed on.)

use crate::engine::Engine;
use crate::sandbox::{self, exec, labels};

/// Runs the command; returns its exit code and output.
pub async fn run(name: &str, command: &[String]) -> anyhow::Result<(i64, String)> {
    let engine = Engine::connect().await?;
    if sandbox::find(&engine, name).await?.is_none() {
        anyhow::bail!("no sandbox named {name}; see `prodbox ls`");
    }
    let container = sandbox::container_name(name, labels::ROLE_APP);
    Ok(exec::capture(&engine, &container, command.to_vec()).await?)
}
