//! Waiting until the app is ready: the profile's HTTP or TCP check (probed
//! from the relay, inside the sandbox network), else the image's
//! HEALTHCHECK, else its first port accepting connections.

use std::time::{Duration, Instant};

use bollard::models::HealthStatusEnum;
use bollard::query_parameters::{InspectContainerOptions, LogsOptionsBuilder};
use futures_util::StreamExt;

use super::{exec, relay};
use crate::engine::{self, Engine, EngineError};

const POLL: Duration = Duration::from_millis(100);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How `up` decides the app is healthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthPlan {
    Http {
        path: String,
        port: u16,
        timeout: Duration,
    },
    Tcp {
        port: u16,
        timeout: Duration,
    },
    /// The image's own HEALTHCHECK, as the engine reports it.
    Image {
        timeout: Duration,
    },
    /// No port and no check: running is enough.
    Running,
}

impl HealthPlan {
    /// The plan from a profile's `health`, the image's HEALTHCHECK and its ports.
    pub fn choose(
        profile: Option<&crate::profile::Health>,
        image_has_healthcheck: bool,
        first_port: Option<u16>,
    ) -> HealthPlan {
        use crate::profile::Health;
        match profile {
            Some(Health::Http { path, port, timeout }) => {
                HealthPlan::Http { path: path.clone(), port: *port, timeout: *timeout }
            }
            Some(Health::Tcp { port, timeout }) => HealthPlan::Tcp { port: *port, timeout: *timeout },
            None if image_has_healthcheck => HealthPlan::Image { timeout: DEFAULT_TIMEOUT },
            None => match first_port {
                Some(port) => HealthPlan::Tcp { port, timeout: DEFAULT_TIMEOUT },
                None => HealthPlan::Running,
            },
        }
    }

    /// One line for the report.
    pub fn describe(&self) -> String {
        match self {
            HealthPlan::Http { path, port, .. } => format!("HTTP GET {path} on port {port}"),
            HealthPlan::Tcp { port, .. } => format!("TCP port {port}"),
            HealthPlan::Image { .. } => "the image's HEALTHCHECK".into(),
            HealthPlan::Running => "container running".into(),
        }
    }
}

/// Why the app never became healthy.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error("the app did not become healthy ({check}) within {seconds}s; its last log lines:\n{logs}")]
    Timeout { check: String, seconds: u64, logs: String },
    #[error("the app exited with code {code} before becoming healthy; its last log lines:\n{logs}")]
    Exited { code: i64, logs: String },
    #[error("the image's HEALTHCHECK reports unhealthy; its last log lines:\n{logs}")]
    Unhealthy { logs: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Polls until healthy, the timeout, or the container's exit. `app` is the
/// app's or the candidate's container; `alias` its name on the sandbox network.
pub async fn wait(
    engine: &Engine,
    app: &str,
    alias: &str,
    relay_container: &str,
    plan: &HealthPlan,
) -> Result<Duration, HealthError> {
    let started = Instant::now();
    let timeout = match plan {
        HealthPlan::Http { timeout, .. } | HealthPlan::Tcp { timeout, .. } | HealthPlan::Image { timeout } => *timeout,
        HealthPlan::Running => Duration::from_secs(5),
    };
    loop {
        let info = engine
            .docker
            .inspect_container(app, None::<InspectContainerOptions>)
            .await
            .map_err(|e| engine::api(format!("inspecting {app}"), e))?;
        let state = info.state.unwrap_or_default();
        if state.running != Some(true) {
            let code = state.exit_code.unwrap_or(-1);
            return Err(HealthError::Exited { code, logs: tail(engine, app, 20).await });
        }
        let healthy = match plan {
            HealthPlan::Running => true,
            HealthPlan::Image { .. } => match state.health.and_then(|h| h.status) {
                Some(HealthStatusEnum::HEALTHY) => true,
                Some(HealthStatusEnum::UNHEALTHY) => {
                    return Err(HealthError::Unhealthy { logs: tail(engine, app, 20).await })
                }
                _ => false,
            },
            HealthPlan::Http { path, port, .. } => probe(engine, relay_container, alias, *port, Some(path)).await?,
            HealthPlan::Tcp { port, .. } => probe(engine, relay_container, alias, *port, None).await?,
        };
        if healthy {
            return Ok(started.elapsed());
        }
        if started.elapsed() > timeout {
            return Err(HealthError::Timeout {
                check: plan.describe(),
                seconds: timeout.as_secs(),
                logs: tail(engine, app, 20).await,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Probes `alias:port` from the relay (which sits on the sandbox network).
async fn probe(
    engine: &Engine,
    relay_container: &str,
    alias: &str,
    port: u16,
    http: Option<&str>,
) -> Result<bool, EngineError> {
    let mut cmd = vec![relay::PATH.to_string(), "probe".into(), format!("{alias}:{port}")];
    if let Some(path) = http {
        cmd.extend(["--http".to_string(), path.to_string()]);
    }
    Ok(exec::capture(engine, relay_container, cmd).await?.0 == 0)
}

/// The last `lines` lines of a container's output, indented.
pub async fn tail(engine: &Engine, container: &str, lines: usize) -> String {
    let options = LogsOptionsBuilder::default().stdout(true).stderr(true).tail(&lines.to_string()).build();
    let mut stream = engine.docker.logs(container, Some(options));
    let mut out = String::new();
    while let Some(Ok(chunk)) = stream.next().await {
        out.push_str(&chunk.to_string());
    }
    if out.trim().is_empty() {
        return "  (no output)".into();
    }
    out.lines().map(|l| format!("  | {l}")).collect::<Vec<_>>().join("\n")
}
