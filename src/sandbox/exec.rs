//! Running a command inside a sandbox container through the engine.

use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;

use crate::engine::{self, Engine, EngineError};

/// Creates an exec of `cmd` in `container` with its output attached; returns its id.
async fn create(engine: &Engine, container: &str, options: CreateExecOptions<String>) -> Result<String, EngineError> {
    let options = CreateExecOptions { attach_stdout: Some(true), attach_stderr: Some(true), ..options };
    let exec = engine
        .docker
        .create_exec(container, options)
        .await
        .map_err(|e| engine::api(format!("exec in {container}"), e))?;
    Ok(exec.id)
}

/// Runs `cmd` in `container`; returns (exit code, stdout+stderr).
pub async fn capture(engine: &Engine, container: &str, cmd: Vec<String>) -> Result<(i64, String), EngineError> {
    let id = create(engine, container, CreateExecOptions { cmd: Some(cmd), ..Default::default() }).await?;
    let mut text = String::new();
    if let StartExecResults::Attached { mut output, .. } =
        engine.docker.start_exec(&id, None).await.map_err(|e| engine::api(format!("exec in {container}"), e))?
    {
        while let Some(Ok(chunk)) = output.next().await {
            text.push_str(&chunk.to_string());
        }
    }
    let inspect = engine.docker.inspect_exec(&id).await.map_err(|e| engine::api(format!("exec in {container}"), e))?;
    let code = inspect.exit_code.ok_or_else(|| EngineError::Api {
        what: format!("exec in {container}"),
        detail: "the engine reported no exit code for the command".into(),
    })?;
    Ok((code, text))
}

/// Runs `cmd` in `container` with a TTY, wired to this terminal (raw mode
/// through `stty` while it runs); returns its exit code.
pub async fn interactive(engine: &Engine, container: &str, cmd: Vec<String>) -> Result<i64, EngineError> {
    use bollard::exec::ResizeExecOptions;
    use tokio::io::AsyncWriteExt;

    let term = std::env::var("TERM").unwrap_or_else(|_| "xterm".into());
    let id = create(
        engine,
        container,
        CreateExecOptions {
            cmd: Some(cmd),
            attach_stdin: Some(true),
            tty: Some(true),
            env: Some(vec![format!("TERM={term}")]),
            ..Default::default()
        },
    )
    .await?;
    let started = engine
        .docker
        .start_exec(&id, Some(bollard::exec::StartExecOptions { tty: true, ..Default::default() }))
        .await
        .map_err(|e| engine::api(format!("exec in {container}"), e))?;
    let StartExecResults::Attached { mut output, mut input } = started else {
        // Nothing attached means nothing ran here that could report success.
        return Err(EngineError::Api {
            what: format!("exec in {container}"),
            detail: "the engine started the command detached; its exit code is unknown".into(),
        });
    };
    if let Some((rows, cols)) = terminal_size() {
        let _ = engine.docker.resize_exec(&id, ResizeExecOptions { height: rows, width: cols }).await;
    }
    let saved = RawMode::enter();
    // stdin is read on a plain thread: tokio's stdin would keep the runtime
    // (and prodbox) waiting for one more key press after the command ended.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 1024];
        let mut stdin = std::io::stdin();
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 || tx.blocking_send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let pump = tokio::spawn(async move {
        while let Some(chunk) = rx.recv().await {
            if input.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = input.shutdown().await;
    });
    let mut stdout = tokio::io::stdout();
    while let Some(Ok(chunk)) = output.next().await {
        let _ = stdout.write_all(chunk.as_ref()).await;
        let _ = stdout.flush().await;
    }
    pump.abort();
    drop(saved);
    let inspect = engine.docker.inspect_exec(&id).await.map_err(|e| engine::api(format!("exec in {container}"), e))?;
    inspect.exit_code.ok_or_else(|| EngineError::Api {
        what: format!("exec in {container}"),
        detail: "the engine reported no exit code for the command".into(),
    })
}

/// The terminal's rows and columns, from `stty size`.
fn terminal_size() -> Option<(u16, u16)> {
    let out = std::process::Command::new("stty").arg("size").stdin(std::process::Stdio::inherit()).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().map(|n| n.parse().ok());
    Some((it.next()??, it.next()??))
}

/// The terminal in raw mode until dropped (then its settings are restored).
struct RawMode(Option<String>);

impl RawMode {
    fn enter() -> RawMode {
        let stty = |args: &[&str]| {
            std::process::Command::new("stty").args(args).stdin(std::process::Stdio::inherit()).output().ok()
        };
        let saved = stty(&["-g"]).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        let _ = stty(&["raw", "-echo"]);
        RawMode(saved)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = std::process::Command::new("stty").arg(saved).stdin(std::process::Stdio::inherit()).status();
        }
    }
}
