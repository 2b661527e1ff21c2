//! `prodbox doctor`: check the engine, isolation support, the relay image,
//! registry credentials and profiles; each failure says how to fix it.

use serde::Serialize;

use super::Ctx;
use crate::engine::{Engine, EngineError, IsolationMethod};
use crate::profile::Profile;
use crate::sandbox::relay;
use crate::sandbox::selftest::{self, SelfTest};
use crate::settings::Settings;

/// One check's outcome.
#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

/// Every check's outcome, in order.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Checks(pub Vec<Check>);

/// Runs every check; never fails itself.
pub async fn run(ctx: &Ctx) -> Checks {
    Checks(checks(ctx).await)
}

async fn checks(ctx: &Ctx) -> Vec<Check> {
    let settings = &ctx.settings;
    let mut checks = Vec::new();
    let limit = crate::limits::DOCTOR_ENGINE_DEADLINE.min(crate::limits::engine_deadline());
    let engine = match ctx.engine_within(limit).await {
        Ok(e) => e,
        Err(e) => {
            checks.push(Check {
                name: "engine",
                ok: false,
                detail: e.to_string(),
                fix: Some(
                    "start the engine (`sudo systemctl start docker` or `dockerd &`), or point DOCKER_HOST at it"
                        .into(),
                ),
            });
            checks.push(config_check(settings).await);
            checks.push(profiles_check(settings));
            return checks;
        }
    };
    checks.push(Check {
        name: "engine",
        ok: true,
        detail: format!(
            "{} {} at {}, API {} (prodbox speaks {}), {}",
            engine.kind,
            engine.version,
            engine.address,
            engine.api_version,
            engine.docker.client_version(),
            engine.platform()
        ),
        fix: None,
    });
    let relay = relay::ensure_image(engine).await;
    checks.push(match (&relay, relay::choose(engine)) {
        (Ok(image), Ok(choice)) => {
            Check { name: "relay image", ok: true, detail: format!("{image}: {}", choice.why), fix: None }
        }
        (Err(e @ EngineError::NoRelay { .. }), _) => Check {
            name: "relay image",
            ok: false,
            detail: e.to_string(),
            fix: Some("publish a relay image for the engine's platform (docs/relay.md) and set PRODBOX_RELAY_IMAGE or relay_image".into()),
        },
        (Err(e), choice) => Check {
            name: "relay image",
            ok: false,
            detail: format!("{e}{}", choice.map(|c| format!(" ({})", c.why)).unwrap_or_default()),
            fix: Some("the engine must build a FROM scratch image (embedded relay) or pull the relay_image; check `docker build` and the registry credentials".into()),
        },
        (Ok(image), Err(e)) => Check { name: "relay image", ok: false, detail: format!("{image}: {e}"), fix: None },
    });
    checks.push(isolation_check(engine, relay.as_ref().ok()).await);
    checks.push(config_check(settings).await);
    checks.push(profiles_check(settings));
    checks
}

/// Can the engine make the sandbox network as `up` makes it (the same
/// never-silently-open checks), and do two containers on it reach each other?
async fn isolation_check(engine: &Engine, relay_image: Option<&String>) -> Check {
    let name = "sandbox network";
    let how = match engine.kind.isolation() {
        IsolationMethod::InhibitedBridge => "internal bridge with inhibit_ipv4",
        IsolationMethod::LibpodInternal => "libpod network, internal, DNS off, fixed addresses, IPv6 off in containers",
    };
    let Some(image) = relay_image else {
        return Check {
            name,
            ok: false,
            detail: "not checked: its test containers need the relay image".into(),
            fix: Some("fix the relay image first".into()),
        };
    };
    match selftest::run(engine, image).await {
        Ok(SelfTest::Passed) => Check {
            name,
            ok: true,
            detail: format!("{how}: no host address, nothing dropped, containers reach each other"),
            fix: None,
        },
        Ok(SelfTest::NotIsolated(why)) => {
            Check { name, ok: false, detail: why, fix: Some(engine.kind.isolation_hint().to_string()) }
        }
        Ok(SelfTest::Unreachable(why)) => Check {
            name,
            ok: false,
            detail: format!("{how}: {why}"),
            fix: Some(
                "a firewall may drop traffic between containers: with FORWARD policy DROP, accept the engine's bridges (for Podman: iptables -I FORWARD -i podman+ -o podman+ -j ACCEPT)"
                    .into(),
            ),
        },
        Err(e) => Check { name, ok: false, detail: e.to_string(), fix: Some(engine.kind.isolation_hint().to_string()) },
    }
}

/// The docker config's credential settings (the parts prodbox reads).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    cred_helpers: std::collections::BTreeMap<String, String>,
    creds_store: Option<String>,
}

/// Where the docker config is: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
fn docker_config_path() -> Option<std::path::PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".docker")))
        .map(|d| d.join("config.json"))
}

/// The registries the profiles pull from.
fn profile_registries(settings: &Settings) -> Vec<String> {
    let mut out: Vec<String> = Profile::list(&settings.profile_dirs)
        .iter()
        .filter_map(|p| Profile::load(p).ok())
        .filter_map(|p| crate::image_ref::ImageRef::parse(&p.image.repository).ok())
        .map(|r| r.registry)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Parses the docker config and runs each credential helper it names, as
/// `up` would: `list`, then `get` for every registry the profiles name.
async fn config_check(settings: &Settings) -> Check {
    const NAME: &str = "registry credentials";
    let Some(path) = docker_config_path() else {
        return Check { name: NAME, ok: true, detail: "no HOME: registries are read anonymously".into(), fix: None };
    };
    if !path.is_file() {
        return Check {
            name: NAME,
            ok: true,
            detail: format!("no {}: registries are read anonymously", path.display()),
            fix: Some("for a private registry run `docker login REGISTRY`".into()),
        };
    }
    let config = match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str::<DockerConfig>(&t).map_err(|e| e.to_string()))
    {
        Ok(c) => c,
        Err(e) => {
            return Check {
                name: NAME,
                ok: false,
                detail: format!("{}: {e}", path.display()),
                fix: Some(format!("fix the JSON of {} or move it away and `docker login` again", path.display())),
            }
        }
    };
    let registries = profile_registries(settings);
    let mut seen = Vec::new();
    let mut failures = Vec::new();
    let mut helpers: Vec<&str> = config.cred_helpers.values().map(String::as_str).collect();
    helpers.extend(config.creds_store.as_deref());
    helpers.sort();
    helpers.dedup();
    for helper in &helpers {
        match run_helper(helper, "list", "").await {
            Ok(_) => seen.push(format!("docker-credential-{helper} list ok")),
            Err(e) => failures.push(e),
        }
    }
    for registry in &registries {
        let helper = config.cred_helpers.get(registry).map(String::as_str).or(config.creds_store.as_deref());
        match helper {
            Some(helper) => match run_helper(helper, "get", registry).await {
                Ok(_) => seen.push(format!("{registry}: {helper}")),
                Err(e) if e.contains("credentials not found") => seen.push(format!("{registry}: anonymous")),
                Err(e) => failures.push(e),
            },
            None if config.auths.contains_key(registry) => seen.push(format!("{registry}: auths")),
            None => seen.push(format!("{registry}: anonymous")),
        }
    }
    if failures.is_empty() {
        let what =
            if seen.is_empty() { "no credential helpers, no profile registries".into() } else { seen.join(", ") };
        Check { name: NAME, ok: true, detail: format!("{}: {what}", path.display()), fix: None }
    } else {
        Check {
            name: NAME,
            ok: false,
            detail: failures.join("; "),
            fix: Some(format!(
                "install or repair the helper, or remove it from credHelpers/credsStore in {} and `docker login` again",
                path.display()
            )),
        }
    }
}

/// Runs `docker-credential-HELPER verb` with `input` on stdin (10 s at most).
async fn run_helper(helper: &str, verb: &str, input: &str) -> Result<String, String> {
    use tokio::io::AsyncWriteExt;
    let program = format!("docker-credential-{helper}");
    let what = if input.is_empty() { format!("{program} {verb}") } else { format!("{program} {verb} ({input})") };
    let mut child = tokio::process::Command::new(&program)
        .arg(verb)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes()).await;
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait_with_output())
        .await
        .map_err(|_| format!("{what}: no answer within 10s"))?
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    // Helpers say why on stdout (the docker-credential-helpers protocol) or stderr.
    let why =
        [out.stdout, out.stderr].iter().map(|b| String::from_utf8_lossy(b).trim().to_string()).find(|t| !t.is_empty());
    Err(format!("{what}: {}", why.unwrap_or_else(|| out.status.to_string())))
}

fn profiles_check(settings: &Settings) -> Check {
    let (ok, errors) = super::profiles::load(settings);
    let dirs = settings.profile_dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ");
    if errors.is_empty() {
        Check {
            name: "profiles",
            ok: true,
            detail: format!("{} valid in {dirs}", ok.len()),
            fix: ok.is_empty().then(|| "create profiles/SERVICE.toml (see README) or pass --profiles DIR".to_string()),
        }
    } else {
        Check {
            name: "profiles",
            ok: false,
            detail: errors.join("\n"),
            fix: Some("fix the keys named above; `prodbox profiles validate`".into()),
        }
    }
}
