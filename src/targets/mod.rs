//! Where sandboxes run: the local engine (Docker or Podman: [`engine`],
//! over the `sandbox` stage) or a Kubernetes cluster ([`kubernetes`]). The
//! target is chosen once per command, from `--target` or the settings
//! file's `target = { kind = … }` (`commands::Ctx::target`), and `down`,
//! `ls`, `gc`, `logs`, `exec` and `verify` talk to it through
//! [`SandboxTarget`] alone. Only what one target cannot do looks at the
//! kind: `up` (the engine overlaps its pull with the creates; a cluster's
//! nodes pull), `port-forward` (cluster only) and `diff` (engine only).

pub mod engine;
pub mod kubernetes;

use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Serialize;

use crate::sandbox::SandboxSpec;

/// The namespace prefix when the settings name none.
pub const DEFAULT_NAMESPACE_PREFIX: &str = "prodbox-";
/// How long a cluster sandbox lives when `--ttl` is not given.
pub const DEFAULT_TTL: Duration = Duration::from_secs(8 * 3600);

/// The target a command runs against.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TargetKind {
    /// The local Docker or Podman engine (the default).
    #[default]
    Engine,
    /// A Kubernetes cluster, through the kubeconfig.
    Kubernetes(KubeTargetSettings),
}

/// Which cluster and how its namespaces are named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeTargetSettings {
    /// A kubeconfig context; `None` is the kubeconfig's current context.
    pub context: Option<String>,
    /// Every sandbox namespace starts with it (default `prodbox-`).
    pub namespace_prefix: String,
}

pub use crate::settings::TargetSetting;

/// A `--target` value or a settings entry that names no known target.
#[derive(Debug, thiserror::Error)]
#[error("target {given:?} ({from}): {why}")]
pub struct BadTarget {
    pub given: String,
    pub from: String,
    pub why: String,
}

impl TargetKind {
    /// The target from `--target` (wins) or the settings file; the engine when neither names one.
    pub fn choose(flag: Option<&str>, setting: Option<&TargetSetting>) -> Result<TargetKind, BadTarget> {
        if let Some(flag) = flag {
            return TargetKind::parse(flag);
        }
        let Some(s) = setting else { return Ok(TargetKind::Engine) };
        let bad = |why: &str| BadTarget { given: s.kind.clone(), from: "settings file".into(), why: why.into() };
        match s.kind.as_str() {
            "engine" | "docker" | "local" => {
                if s.context.is_some() || s.namespace_prefix.is_some() {
                    return Err(bad("context and namespace_prefix are for kind = \"kubernetes\""));
                }
                Ok(TargetKind::Engine)
            }
            "kubernetes" | "k8s" => {
                let prefix = s.namespace_prefix.clone().unwrap_or_else(|| DEFAULT_NAMESPACE_PREFIX.into());
                check_prefix(&prefix).map_err(|why| bad(&why))?;
                Ok(TargetKind::Kubernetes(KubeTargetSettings {
                    context: s.context.clone().filter(|c| !c.is_empty()),
                    namespace_prefix: prefix,
                }))
            }
            _ => Err(bad("kind must be \"engine\" or \"kubernetes\"")),
        }
    }

    /// `--target`: `engine` (or `docker`), `kubernetes` or `kubernetes:CONTEXT`.
    pub fn parse(flag: &str) -> Result<TargetKind, BadTarget> {
        let (kind, context) = match flag.split_once(':') {
            Some((k, c)) => (k, Some(c)),
            None => (flag, None),
        };
        match (kind, context) {
            ("engine" | "docker" | "local", None) => Ok(TargetKind::Engine),
            ("kubernetes" | "k8s", context) => Ok(TargetKind::Kubernetes(KubeTargetSettings {
                context: context.filter(|c| !c.is_empty()).map(str::to_string),
                namespace_prefix: DEFAULT_NAMESPACE_PREFIX.into(),
            })),
            _ => Err(BadTarget {
                given: flag.into(),
                from: "--target".into(),
                why: "use `engine`, `kubernetes` or `kubernetes:CONTEXT`".into(),
            }),
        }
    }
}

/// Namespace names are DNS labels: the prefix must start one.
fn check_prefix(prefix: &str) -> Result<(), String> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 20
        && prefix.starts_with(|c: char| c.is_ascii_lowercase())
        && prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "namespace_prefix {prefix:?} must be 1 to 20 lowercase letters, digits or '-', starting with a letter"
        ))
    }
}

/// The longest `--ttl`: 30 days.
const MAX_TTL_SECS: u64 = 30 * 86400;

/// `--ttl`: `90m`, `8h`, `2d`, `3600s` (or plain seconds).
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().map_err(|_| format!("--ttl {text:?}: give a number and a unit, e.g. 90m, 8h, 2d"))?;
    let per = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("--ttl {text:?}: the unit must be s, m, h or d")),
    };
    // Bounded: a typo of many digits is an error, not an overflow.
    let secs =
        n.checked_mul(per).filter(|s| *s <= MAX_TTL_SECS).ok_or_else(|| format!("--ttl {text:?}: at most 30d"))?;
    if secs < 60 {
        return Err(format!("--ttl {text:?}: at least one minute"));
    }
    Ok(Duration::from_secs(secs))
}

/// The cluster's API server could not be reached (exit code 3, like an engine).
#[derive(Debug, thiserror::Error)]
#[error("{doing}: the Kubernetes API server could not be reached: {detail}; check the context (`kubectl --context CONTEXT get ns`) and your network")]
pub struct ClusterUnreachable {
    pub doing: String,
    pub detail: String,
}

/// What a started sandbox reports back.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    /// Where it lives (the namespace on a cluster, the sandbox network on the engine).
    pub location: String,
    /// The app's container ports, to forward or publish.
    pub app_ports: Vec<u16>,
    /// The candidate's, when one runs.
    pub candidate_ports: Vec<u16>,
}

/// Which of a sandbox's workloads a command addresses.
pub use crate::sandbox::labels::Role;
/// Where a workload's output goes.
pub use crate::sandbox::logs::Sink;
/// What removing a sandbox took away.
pub use crate::sandbox::teardown::Removed;

/// A removed sandbox: what went, and what it had tried to reach outside
/// itself in its life (one line, from the engine's egress sinkhole; `None`
/// when nothing was recorded or the target records nothing).
#[derive(Debug, Clone, Default)]
pub struct Gone {
    pub removed: Removed,
    pub tried: Option<String>,
}
/// One isolation probe's result, the same on every target.
pub use crate::sandbox::verify::Probe;
/// A sandbox as every target lists it (`ls`, `gc`, `inspect`).
pub use crate::sandbox::SandboxInfo;

/// What the commands need from a place sandboxes run: the local engine
/// ([`engine::EngineTarget`], Docker or Podman) or a cluster
/// ([`kubernetes::KubeTarget`]). `down`, `ls`, `gc`, `logs`, `exec` and
/// `verify` are written once against it. `up` on the engine overlaps the
/// pull with the creates (`commands/up`), so it drives the engine's stages
/// itself; on a cluster the nodes pull, and `up` is [`SandboxTarget::up`]
/// then [`SandboxTarget::wait_healthy`].
pub trait SandboxTarget: Send + Sync {
    /// Create everything for `spec`, isolation first; replaces a sandbox of the same name.
    fn up<'a>(&'a self, spec: &'a SandboxSpec, ttl: Duration) -> BoxFuture<'a, anyhow::Result<Started>>;
    /// Wait until the app (and candidate) pass the health plan.
    fn wait_healthy<'a>(&'a self, spec: &'a SandboxSpec) -> BoxFuture<'a, anyhow::Result<()>>;
    /// Remove a sandbox and everything it made ([`Removed::is_empty`] when
    /// there was none), with what it had tried to reach.
    fn down<'a>(&'a self, name: &'a str) -> BoxFuture<'a, anyhow::Result<Gone>>;
    /// Remove every sandbox (of this user) whose resources carry all of `only`'s labels.
    fn down_all<'a>(&'a self, only: &'a [(&'a str, &'a str)]) -> BoxFuture<'a, anyhow::Result<Vec<(String, Gone)>>>;
    /// This user's sandboxes, by name.
    fn list(&self) -> BoxFuture<'_, anyhow::Result<Vec<SandboxInfo>>>;
    /// Remove what is garbage at `now` (Unix seconds): on the engine, sandboxes
    /// whose app exited and half-made ones; on a cluster, those past their TTL.
    fn gc(&self, now: i64) -> BoxFuture<'_, anyhow::Result<Vec<(String, Removed)>>>;
    /// Copies the app's (or candidate's) output, the last `tail` lines, to ours; with `follow`, until it ends.
    fn logs<'a>(
        &'a self,
        name: &'a str,
        role: Role,
        follow: bool,
        tail: Option<usize>,
        sink: Sink,
    ) -> BoxFuture<'a, anyhow::Result<()>>;
    /// Runs a command in the app (or candidate): its exit code and captured
    /// output (none when `interactive` and the target can attach a TTY).
    fn exec<'a>(
        &'a self,
        name: &'a str,
        role: Role,
        command: &'a [String],
        interactive: bool,
    ) -> BoxFuture<'a, anyhow::Result<(i64, String)>>;
    /// Probes the isolation from inside the sandbox: its fixed targets and `extra`.
    fn verify<'a>(&'a self, name: &'a str, extra: &'a [String]) -> BoxFuture<'a, anyhow::Result<Vec<Probe>>>;
    /// How `down` names this target in its hints (`prodbox ls` / `prodbox ls --target kubernetes`).
    fn ls_hint(&self) -> &'static str;
}

/// `ls` on a cluster: name, service, short digest, status, namespace, TTL left.
pub fn table(list: &[SandboxInfo], now: i64) -> String {
    let mut s = String::new();
    for t in list {
        let short = t.deploy.digest.strip_prefix("sha256:").unwrap_or(&t.deploy.digest);
        let ttl = match t.expires_at {
            Some(at) if at <= now => "expired".to_string(),
            Some(at) => format!("{} left", crate::timestamp::human_duration(at - now)),
            None => "no ttl".into(),
        };
        s.push_str(&format!(
            "{:<20} {:<16} {:<12} {:<12} {:<36} {}\n",
            t.name,
            t.deploy.service,
            &short[..short.len().min(12)],
            t.status,
            t.location.as_deref().unwrap_or("-"),
            ttl
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_parses_kind_and_context() {
        assert_eq!(TargetKind::parse("docker").unwrap(), TargetKind::Engine);
        assert_eq!(
            TargetKind::parse("kubernetes:kind-prodbox").unwrap(),
            TargetKind::Kubernetes(KubeTargetSettings {
                context: Some("kind-prodbox".into()),
                namespace_prefix: "prodbox-".into()
            })
        );
        assert!(matches!(TargetKind::parse("kubernetes").unwrap(), TargetKind::Kubernetes(k) if k.context.is_none()));
        assert!(TargetKind::parse("nomad").is_err());
        assert!(TargetKind::parse("docker:ctx").is_err());
    }

    #[test]
    fn flag_wins_over_settings_and_settings_are_checked() {
        let s: TargetSetting =
            toml::from_str("kind = \"kubernetes\"\ncontext = \"qa\"\nnamespace_prefix = \"pb-\"").unwrap();
        let k = TargetKind::choose(None, Some(&s)).unwrap();
        assert_eq!(
            k,
            TargetKind::Kubernetes(KubeTargetSettings { context: Some("qa".into()), namespace_prefix: "pb-".into() })
        );
        assert_eq!(TargetKind::choose(Some("engine"), Some(&s)).unwrap(), TargetKind::Engine);
        assert_eq!(TargetKind::choose(None, None).unwrap(), TargetKind::Engine);
        let bad = TargetSetting { kind: "kubernetes".into(), context: None, namespace_prefix: Some("Prod_".into()) };
        assert!(TargetKind::choose(None, Some(&bad)).is_err());
        assert!(toml::from_str::<TargetSetting>("kind = \"kubernetes\"\nnamespace = \"x\"").is_err());
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("8h").unwrap(), DEFAULT_TTL);
        assert_eq!(parse_ttl("90m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_ttl("2d").unwrap(), Duration::from_secs(172800));
        assert!(parse_ttl("10s").is_err());
        assert!(parse_ttl("8 hours").is_err());
        assert!(parse_ttl("").is_err());
        assert!(parse_ttl("99999999999999999999d").is_err());
        assert!(parse_ttl("999999999999999d").is_err(), "overflows, never panics");
        assert!(parse_ttl("31d").is_err());
    }
}
