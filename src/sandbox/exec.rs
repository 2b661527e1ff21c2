//! Running a command inside a sandbox container through the engine.

use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;

use crate::engine::{self, Engine, EngineError};

/// Runs `cmd` in `container`; returns (exit code, stdout+stderr).
pub async fn capture(engine: &Engine, container: &str, cmd: Vec<String>) -> Result<(i64, String), EngineError> {
    let exec = engine
        .docker
        .create_exec(
            container,
            CreateExecOptions {
                cmd: Some(cmd),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| engine::api(format!("exec in {container}"), e))?;
    let mut text = String::new();
    if let StartExecResults::Attached { mut output, .. } =
        engine.docker.start_exec(&exec.id, None).await.map_err(|e| engine::api(format!("exec in {container}"), e))?
    {
        while let Some(Ok(chunk)) = output.next().await {
            text.push_str(&chunk.to_string());
        }
    }
    let inspect =
        engine.docker.inspect_exec(&exec.id).await.map_err(|e| engine::api(format!("exec in {container}"), e))?;
    Ok((inspect.exit_code.unwrap_or(-1), text))
}
