//! `prodbox logs NAME [-f]`: the app's output, streamed to stdout/stderr.

use std::io::Write;

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::StreamExt;

use crate::engine::{self, Engine};
use crate::sandbox::{self, labels};

/// Streams the app container's logs until they end (or forever with `follow`).
pub async fn run(name: &str, candidate: bool, follow: bool, tail: Option<usize>) -> anyhow::Result<()> {
    let engine = Engine::connect().await?;
    let role = if candidate { labels::ROLE_CANDIDATE } else { labels::ROLE_APP };
    stream(&engine, name, role, follow, tail).await
}

/// Copies the container's stdout to ours and its stderr to ours.
pub async fn stream(engine: &Engine, name: &str, role: &str, follow: bool, tail: Option<usize>) -> anyhow::Result<()> {
    let container = sandbox::container_name(name, role);
    let tail = tail.map(|t| t.to_string()).unwrap_or_else(|| "all".into());
    let options = LogsOptionsBuilder::default().stdout(true).stderr(true).follow(follow).tail(&tail).build();
    let mut logs = engine.docker.logs(&container, Some(options));
    while let Some(chunk) = logs.next().await {
        match chunk {
            Ok(LogOutput::StdErr { message }) => {
                let _ = std::io::stderr().write_all(&message);
            }
            Ok(other) => {
                let mut out = std::io::stdout();
                let _ = out.write_all(other.as_ref());
                let _ = out.flush();
            }
            Err(e) if engine::is_not_found(&e) => {
                anyhow::bail!("sandbox {name} has no {role} container; see `prodbox ls`")
            }
            Err(e) => return Err(engine::api(format!("reading logs of {container}"), e).into()),
        }
    }
    Ok(())
}
