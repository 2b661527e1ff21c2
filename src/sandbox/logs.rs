//! A container's output, copied to ours (`logs`, the foreground `up`).

use std::io::Write;

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::StreamExt;

use super::{container_name, labels::Role, SandboxError};
use crate::engine::{self, Engine};

/// Where a workload's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// Its stdout to ours, its stderr to ours.
    Split,
    /// Everything to our stderr (stdout carries `--json` output).
    Stderr,
}

impl Sink {
    /// Writes a chunk of the workload's stdout where this sink sends it.
    pub fn out(self, bytes: &[u8]) {
        match self {
            Sink::Stderr => {
                let _ = std::io::stderr().write_all(bytes);
            }
            Sink::Split => {
                let mut out = std::io::stdout();
                let _ = out.write_all(bytes);
                let _ = out.flush();
            }
        }
    }
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
    let container = container_name(name, role.as_str());
    let tail = tail.map(|t| t.to_string()).unwrap_or_else(|| "all".into());
    let options = LogsOptionsBuilder::default().stdout(true).stderr(true).follow(follow).tail(&tail).build();
    let mut logs = engine.docker.logs(&container, Some(options));
    while let Some(chunk) = logs.next().await {
        match chunk {
            Ok(LogOutput::StdErr { message }) => {
                let _ = std::io::stderr().write_all(&message);
            }
            Ok(other) => sink.out(other.as_ref()),
            Err(e) if engine::is_not_found(&e) => {
                return Err(SandboxError::NoContainer { name: name.to_string(), role }.into());
            }
            Err(e) => return Err(engine::api(format!("reading logs of {container}"), e).into()),
        }
    }
    Ok(())
}
