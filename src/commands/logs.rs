//! `prodbox logs NAME [-f]`: the app's output, streamed to stdout/stderr.

use std::io::Write;

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::StreamExt;

use super::{Ctx, Text};
use crate::engine::{self, Engine};
use crate::sandbox::{self, labels::Role, SandboxError};

/// Where a container's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// Its stdout to ours, its stderr to ours.
    Split,
    /// Everything to our stderr (stdout carries `--json` output).
    Stderr,
}

/// Streams the app container's logs until they end (or forever with `follow`).
pub async fn run(ctx: &Ctx, name: &str, candidate: bool, follow: bool, tail: Option<usize>) -> anyhow::Result<Text> {
    let engine = ctx.engine().await?;
    let role = if candidate { Role::Candidate } else { Role::App };
    stream(engine, name, role, follow, tail, Sink::Split).await?;
    Ok(Text { text: String::new(), code: 0 })
}

/// Copies the container's output to ours, as `sink` says.
pub async fn stream(
    engine: &Engine,
    name: &str,
    role: Role,
    follow: bool,
    tail: Option<usize>,
    sink: Sink,
) -> anyhow::Result<()> {
    let container = sandbox::container_name(name, role.as_str());
    let tail = tail.map(|t| t.to_string()).unwrap_or_else(|| "all".into());
    let options = LogsOptionsBuilder::default().stdout(true).stderr(true).follow(follow).tail(&tail).build();
    let mut logs = engine.docker.logs(&container, Some(options));
    while let Some(chunk) = logs.next().await {
        match chunk {
            Ok(LogOutput::StdErr { message }) => {
                let _ = std::io::stderr().write_all(&message);
            }
            Ok(other) if sink == Sink::Stderr => {
                let _ = std::io::stderr().write_all(other.as_ref());
            }
            Ok(other) => {
                let mut out = std::io::stdout();
                let _ = out.write_all(other.as_ref());
                let _ = out.flush();
            }
            Err(e) if engine::is_not_found(&e) => {
                return Err(SandboxError::NoContainer { name: name.to_string(), role }.into());
            }
            Err(e) => return Err(engine::api(format!("reading logs of {container}"), e).into()),
        }
    }
    Ok(())
}
