//! Waiting until the app is ready: the profile's HTTP or TCP check (probed
//! from the relay, inside the sandbox network), else the image's
//! HEALTHCHECK, else its first port accepting connections.
//!
//! On an engine that does not run image HEALTHCHECKs itself (Podman without
//! systemd), prodbox runs the check's command through exec; when it cannot
//! (a `CMD-SHELL` check in an image without a shell), it falls back to the
//! first port, and the report says so.

use std::time::{Duration, Instant};

use bollard::models::HealthStatusEnum;
use bollard::query_parameters::{InspectContainerOptions, LogsOptionsBuilder};
use futures_util::StreamExt;

use super::{exec, relay};
use crate::engine::{self, Engine, EngineError};

/// The first pause between polls; each pause doubles up to [`POLL_MAX`]:
/// an app that is up at once is seen at once, one that takes its time is
/// not flooded with requests (its log's tail stays its own).
const POLL_FIRST: Duration = Duration::from_millis(10);
const POLL_MAX: Duration = Duration::from_millis(250);

/// How long an HTTP check goes only through the relay's route on
/// 127.0.0.1 before each poll also runs it in the relay.
const ROUTE_ONLY: Duration = Duration::from_secs(1);
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
    /// The image's HEALTHCHECK command, run by prodbox through exec (the
    /// engine runs none); `fallback_port` when the command cannot run.
    ImageByExec {
        timeout: Duration,
        fallback_port: Option<u16>,
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
        engine: crate::engine::EngineKind,
    ) -> HealthPlan {
        use crate::profile::Health;
        match profile {
            Some(Health::Http { path, port, timeout }) => {
                HealthPlan::Http { path: path.clone(), port: *port, timeout: *timeout }
            }
            Some(Health::Tcp { port, timeout }) => HealthPlan::Tcp { port: *port, timeout: *timeout },
            None if image_has_healthcheck && engine.runs_image_healthchecks() => {
                HealthPlan::Image { timeout: DEFAULT_TIMEOUT }
            }
            None if image_has_healthcheck => {
                HealthPlan::ImageByExec { timeout: DEFAULT_TIMEOUT, fallback_port: first_port }
            }
            None => match first_port {
                Some(port) => HealthPlan::Tcp { port, timeout: DEFAULT_TIMEOUT },
                None => HealthPlan::Running,
            },
        }
    }

    /// The check as data: `kind` (`http`, `tcp`, `image`, `image-by-exec`,
    /// `running`), with its path, port and timeout where it has them.
    pub fn view(&self) -> HealthView {
        let (kind, path, port, timeout) = match self {
            HealthPlan::Http { path, port, timeout } => ("http", Some(path.clone()), Some(*port), Some(*timeout)),
            HealthPlan::Tcp { port, timeout } => ("tcp", None, Some(*port), Some(*timeout)),
            HealthPlan::Image { timeout } => ("image", None, None, Some(*timeout)),
            HealthPlan::ImageByExec { timeout, fallback_port } => {
                ("image-by-exec", None, *fallback_port, Some(*timeout))
            }
            HealthPlan::Running => ("running", None, None, None),
        };
        HealthView { kind, path, port, timeout_secs: timeout.map(|t| t.as_secs()) }
    }

    /// One line for the report.
    pub fn describe(&self) -> String {
        match self {
            HealthPlan::Http { path, port, .. } => format!("HTTP GET {path} on port {port}"),
            HealthPlan::Tcp { port, .. } => format!("TCP port {port}"),
            HealthPlan::Image { .. } => "the image's HEALTHCHECK".into(),
            HealthPlan::ImageByExec { fallback_port, .. } => format!(
                "the image's HEALTHCHECK, run by prodbox through exec (the engine runs none without systemd){}",
                fallback_port.map(|p| format!("; TCP port {p} if it cannot run")).unwrap_or_default()
            ),
            HealthPlan::Running => "container running".into(),
        }
    }
}

/// Serializes a [`HealthPlan`] as its [`HealthView`].
pub fn serialize_plan<S: serde::Serializer>(plan: &HealthPlan, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&plan.view(), s)
}

/// A [`HealthPlan`] as JSON data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HealthView {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The port checked (for `image-by-exec`, the port checked when the command cannot run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
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

/// [`wait`] for `role` (the app or the candidate) of a launched sandbox.
/// An HTTP check goes through the relay's route on 127.0.0.1, as a user's
/// request would, when the engine is local (its socket is a Unix one): one
/// request from here, not an exec in the relay per poll (after
/// [`ROUTE_ONLY`] without an answer there, each poll also runs it in the relay).
pub async fn wait_launched(
    engine: &Engine,
    launched: &super::launch::Launched,
    role: super::labels::Role,
    plan: &HealthPlan,
) -> Result<Duration, HealthError> {
    use super::labels::Role;
    let container = match role {
        Role::Candidate => launched.candidate_container.clone().unwrap_or_default(),
        _ => launched.app_container.clone(),
    };
    let host_port = match plan {
        HealthPlan::Http { port, .. } if engine.unix_socket().is_some() => {
            launched.routes.iter().find(|r| r.role == role && r.port == *port && r.host != 0).map(|r| r.host)
        }
        _ => None,
    };
    wait_via(engine, &container, role.as_str(), &launched.relay_container, plan, host_port).await
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
    wait_via(engine, app, alias, relay_container, plan, None).await
}

/// [`wait`]; an HTTP check goes to 127.0.0.1:`host_port` (the relay's
/// route to it) when given, else it runs in the relay.
async fn wait_via(
    engine: &Engine,
    app: &str,
    alias: &str,
    relay_container: &str,
    plan: &HealthPlan,
    host_port: Option<u16>,
) -> Result<Duration, HealthError> {
    let started = Instant::now();
    let timeout = match plan {
        HealthPlan::Http { timeout, .. }
        | HealthPlan::Tcp { timeout, .. }
        | HealthPlan::Image { timeout }
        | HealthPlan::ImageByExec { timeout, .. } => *timeout,
        HealthPlan::Running => Duration::from_secs(5),
    };
    // Set once the image's check turned out not runnable through exec.
    let mut fallback: Option<HealthPlan> = None;
    let mut pause = POLL_FIRST;
    loop {
        // Through the relay's route, the request goes beside the inspect.
        let (info, through_route) =
            tokio::join!(engine.docker.inspect_container(app, None::<InspectContainerOptions>), async {
                match (plan, host_port) {
                    (HealthPlan::Http { path, .. }, Some(port)) => Some(http_ok_on_host(port, path).await),
                    _ => None,
                }
            });
        let info = info.map_err(|e| engine::api(format!("inspecting {app}"), e))?;
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
            HealthPlan::ImageByExec { fallback_port, .. } => match &fallback {
                Some(HealthPlan::Tcp { port, .. }) => probe(engine, relay_container, alias, *port, None).await?,
                Some(_) => true,
                None => {
                    let test = info.config.as_ref().and_then(|c| c.healthcheck.as_ref()).and_then(|h| h.test.clone());
                    match run_image_check(engine, app, test.unwrap_or_default()).await? {
                        Some(passed) => passed,
                        None => {
                            tracing::debug!("the image's HEALTHCHECK cannot run through exec; using the first port");
                            fallback = Some(match fallback_port {
                                Some(port) => HealthPlan::Tcp { port: *port, timeout },
                                None => HealthPlan::Running,
                            });
                            false
                        }
                    }
                }
            },
            HealthPlan::Http { path, port, .. } => match through_route {
                Some(true) => true,
                // 127.0.0.1 may not be the engine's (a socket forwarded from
                // elsewhere): after a while the check also runs in the relay.
                Some(false) if started.elapsed() < ROUTE_ONLY => false,
                _ => probe(engine, relay_container, alias, *port, Some(path)).await?,
            },
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
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(POLL_MAX);
    }
}

/// Runs an image HEALTHCHECK's command (`["CMD", …]` or `["CMD-SHELL", "…"]`)
/// in the app: `Some(passed)`, or `None` when it cannot run there (no such
/// executable, no shell).
async fn run_image_check(engine: &Engine, app: &str, test: Vec<String>) -> Result<Option<bool>, EngineError> {
    let cmd = match test.split_first() {
        Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => rest.to_vec(),
        Some((kind, rest)) if kind == "CMD-SHELL" && !rest.is_empty() => {
            vec!["/bin/sh".into(), "-c".into(), rest.join(" ")]
        }
        _ => return Ok(None),
    };
    match exec::capture(engine, app, cmd).await {
        // 126/127: the runtime could not execute the command.
        Ok((126 | 127, _)) | Err(_) => Ok(None),
        Ok((code, _)) => Ok(Some(code == 0)),
    }
}

/// An HTTP GET of `path` on 127.0.0.1:`port` answers 2xx or 3xx (what the
/// relay's `probe --http` checks), within two seconds.
async fn http_ok_on_host(port: u16, path: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: prodbox-probe\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        Some(head.starts_with(b"HTTP/1.") && matches!(head[9], b'2' | b'3'))
    };
    tokio::time::timeout(Duration::from_secs(2), attempt).await.ok().flatten().unwrap_or(false)
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
