//! The local engine (Docker or Podman) as a [`SandboxTarget`]: every method
//! delegates to the `sandbox` stage, which it wraps unchanged.

use std::time::Duration;

use futures_util::future::BoxFuture;

use super::{Gone, Probe, Removed, Role, SandboxInfo, SandboxTarget, Sink, Started};
use crate::engine::Engine;
use crate::sandbox::{self, labels, SandboxError, SandboxSpec};

/// How long a half-made sandbox (no running app) is left to the `up` that
/// may be making it before `gc` takes it.
pub const GC_GRACE_SECS: i64 = 60;

/// Sandboxes on the engine prodbox is connected to.
pub struct EngineTarget<'e> {
    pub engine: &'e Engine,
}

impl<'e> EngineTarget<'e> {
    /// The target over a connected engine.
    pub fn new(engine: &'e Engine) -> EngineTarget<'e> {
        EngineTarget { engine }
    }

    /// The sandbox, or [`SandboxError::NotFound`]; with `role` the candidate,
    /// [`SandboxError::NoCandidate`] when it pairs none.
    async fn require(&self, name: &str, role: Role) -> anyhow::Result<SandboxInfo> {
        let info = sandbox::require(self.engine, name).await?;
        if role == Role::Candidate && info.candidate.is_none() {
            return Err(SandboxError::NoCandidate { name: name.to_string(), service: info.deploy.service }.into());
        }
        Ok(info)
    }
}

impl SandboxTarget for EngineTarget<'_> {
    /// The stages one after another (`up` itself overlaps them with the pull).
    fn up<'a>(&'a self, spec: &'a SandboxSpec, _ttl: Duration) -> BoxFuture<'a, anyhow::Result<Started>> {
        Box::pin(async move {
            spec.check()?;
            let launched = sandbox::launch(self.engine, spec).await?;
            let container_ports = |role| launched.ports(role).into_iter().map(|(c, _)| c).collect();
            Ok(Started {
                location: sandbox::network_name(&spec.name),
                app_ports: container_ports(Role::App),
                candidate_ports: container_ports(Role::Candidate),
            })
        })
    }

    fn wait_healthy<'a>(&'a self, spec: &'a SandboxSpec) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let relay = sandbox::container_name(&spec.name, Role::Relay.as_str());
            let app = sandbox::container_name(&spec.name, Role::App.as_str());
            sandbox::health::wait(self.engine, &app, Role::App.as_str(), &relay, &spec.health).await?;
            if spec.candidate.is_some() {
                let candidate = sandbox::container_name(&spec.name, Role::Candidate.as_str());
                sandbox::health::wait(self.engine, &candidate, Role::Candidate.as_str(), &relay, &spec.health).await?;
            }
            Ok(())
        })
    }

    /// Removes the sandbox, reading its egress record on the way, and
    /// beside it its name's lock (one a killed `up` left holds no sandbox
    /// label, so it goes even when nothing else was there).
    fn down<'a>(&'a self, name: &'a str) -> BoxFuture<'a, anyhow::Result<Gone>> {
        Box::pin(async move {
            let (removed, released) = tokio::join!(
                sandbox::teardown::remove_with_egress(self.engine, name),
                sandbox::lock::release_any(self.engine, name)
            );
            released?;
            let (removed, destinations) = removed?;
            Ok(Gone { removed, tried: tried_line(destinations) })
        })
    }

    /// One sweep over every sandbox's resources (their egress records read
    /// on the way), then their locks.
    fn down_all<'a>(&'a self, only: &'a [(&'a str, &'a str)]) -> BoxFuture<'a, anyhow::Result<Vec<(String, Gone)>>> {
        Box::pin(async move {
            let (removed, mut records) =
                sandbox::teardown::remove_by_sandbox_with_egress(self.engine, &labels::sandboxes_with(only)).await?;
            let list: Vec<(String, Removed)> = removed.into_iter().filter(|(n, _)| !n.is_empty()).collect();
            let released =
                futures_util::future::join_all(list.iter().map(|(n, _)| sandbox::lock::release_any(self.engine, n)))
                    .await;
            released.into_iter().collect::<Result<Vec<bool>, _>>()?;
            Ok(list
                .into_iter()
                .map(|(name, removed)| {
                    let tried = tried_line(records.remove(&name));
                    (name, Gone { removed, tried })
                })
                .collect())
        })
    }

    fn list(&self) -> BoxFuture<'_, anyhow::Result<Vec<SandboxInfo>>> {
        Box::pin(async move { Ok(sandbox::list(self.engine).await?) })
    }

    /// Every sandbox whose app exited, and half-made ones no `up` has
    /// touched for [`GC_GRACE_SECS`], removed side by side; then the shared
    /// ingress network, when no container is attached to it any more.
    fn gc(&self, now: i64) -> BoxFuture<'_, anyhow::Result<Vec<(String, Removed)>>> {
        Box::pin(async move {
            let garbage: Vec<String> = sandbox::list::list_with_leftovers(self.engine)
                .await?
                .into_iter()
                .filter(|s| s.is_garbage(now, GC_GRACE_SECS))
                .map(|s| s.name)
                .collect();
            let removals =
                futures_util::future::join_all(garbage.iter().map(|name| sandbox::remove(self.engine, name))).await;
            let mut out = Vec::new();
            for (name, removed) in garbage.into_iter().zip(removals) {
                out.push((name, removed?));
            }
            let shared = sandbox::ingress::collect(self.engine).await?;
            if shared > 0 {
                let removed = Removed { networks: shared, ..Removed::default() };
                out.push((format!("{} (shared)", sandbox::ingress::SHARED), removed));
            }
            Ok(out)
        })
    }

    fn logs<'a>(
        &'a self,
        name: &'a str,
        role: Role,
        follow: bool,
        tail: Option<usize>,
        sink: Sink,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(sandbox::logs::stream(self.engine, name, role, follow, tail, sink))
    }

    fn exec<'a>(
        &'a self,
        name: &'a str,
        role: Role,
        command: &'a [String],
        interactive: bool,
    ) -> BoxFuture<'a, anyhow::Result<(i64, String)>> {
        Box::pin(async move {
            self.require(name, role).await?;
            let container = sandbox::container_name(name, role.as_str());
            Ok(if interactive {
                (sandbox::exec::interactive(self.engine, &container, command.to_vec()).await?, String::new())
            } else {
                sandbox::exec::capture(self.engine, &container, command.to_vec()).await?
            })
        })
    }

    fn verify<'a>(&'a self, name: &'a str, extra: &'a [String]) -> BoxFuture<'a, anyhow::Result<Vec<Probe>>> {
        Box::pin(async move {
            self.require(name, Role::App).await?;
            Ok(sandbox::verify::verify(self.engine, name, extra).await?)
        })
    }

    fn ls_hint(&self) -> &'static str {
        "prodbox ls"
    }
}

/// The egress record as the line `down` prints; none when nothing was tried.
fn tried_line(destinations: Option<Vec<sandbox::sinkhole::Destination>>) -> Option<String> {
    destinations.filter(|d| !d.is_empty()).map(|d| sandbox::sinkhole::tried_line(&d))
}
