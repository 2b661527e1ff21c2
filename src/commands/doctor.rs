//! `prodbox doctor`: check the engine, isolation support, the relay image,
//! registry credentials and profiles; each failure says how to fix it.

use std::collections::HashMap;

use bollard::models::NetworkCreateRequest;
use serde::Serialize;

use crate::engine::{self, Engine};
use crate::sandbox::{labels, relay};
use crate::settings::Settings;

/// One check's outcome.
#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

/// Runs every check; never fails itself.
pub async fn run(settings: &Settings) -> Vec<Check> {
    let mut checks = Vec::new();
    let engine = match Engine::connect().await {
        Ok(e) => e,
        Err(e) => {
            checks.push(Check {
                name: "docker engine",
                ok: false,
                detail: e.to_string(),
                fix: Some(
                    "start the engine (`sudo systemctl start docker` or `dockerd &`), or point DOCKER_HOST at it"
                        .into(),
                ),
            });
            checks.push(config_check());
            checks.push(profiles_check(settings));
            return checks;
        }
    };
    match engine.docker.version().await {
        Ok(v) => checks.push(Check {
            name: "docker engine",
            ok: true,
            detail: format!(
                "{} at {}, engine {} (API {}, prodbox speaks {})",
                v.platform.map(|p| p.name).filter(|n| !n.is_empty()).unwrap_or_else(|| "Docker Engine".into()),
                engine.address,
                v.version.unwrap_or_default(),
                v.api_version.unwrap_or_default(),
                engine.docker.client_version()
            ),
            fix: None,
        }),
        Err(e) => checks.push(Check { name: "docker engine", ok: false, detail: e.to_string(), fix: None }),
    }
    checks.push(isolation_check(&engine).await);
    checks.push(match relay::ensure_image(&engine).await {
        Ok(tag) => Check { name: "relay image", ok: true, detail: format!("{tag} present (built locally)"), fix: None },
        Err(e) => Check {
            name: "relay image",
            ok: false,
            detail: e.to_string(),
            fix: Some("the engine must be able to build a FROM scratch image; check `docker build` works".into()),
        },
    });
    checks.push(config_check());
    checks.push(profiles_check(settings));
    checks
}

/// Can the engine make the sandbox network (internal, no host address)?
async fn isolation_check(engine: &Engine) -> Check {
    let name = format!("prodbox-doctor-{}", std::process::id());
    let request = NetworkCreateRequest {
        name: name.clone(),
        internal: Some(true),
        options: Some(HashMap::from([("com.docker.network.bridge.inhibit_ipv4".to_string(), "true".to_string())])),
        labels: Some(HashMap::from([(labels::SANDBOX.to_string(), name.clone())])),
        ..Default::default()
    };
    match engine.docker.create_network(request).await {
        Ok(_) => {
            let _ = engine.docker.remove_network(&name).await;
            Check {
                name: "sandbox network",
                ok: true,
                detail: "internal bridge with no host address can be created".into(),
                fix: None,
            }
        }
        Err(e) => Check {
            name: "sandbox network",
            ok: false,
            detail: engine::api("creating a test network", e).to_string(),
            fix: Some(
                "prodbox needs the bridge driver with com.docker.network.bridge.inhibit_ipv4; use Docker's own engine"
                    .into(),
            ),
        },
    }
}

fn config_check() -> Check {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".docker")));
    let path = dir.map(|d| d.join("config.json"));
    match path {
        Some(p) if p.is_file() => Check {
            name: "registry credentials",
            ok: true,
            detail: format!("{} (auths, credHelpers and credsStore are read)", p.display()),
            fix: None,
        },
        Some(p) => Check {
            name: "registry credentials",
            ok: true,
            detail: format!("no {}: registries are read anonymously", p.display()),
            fix: Some("for a private registry run `docker login REGISTRY`".into()),
        },
        None => Check { name: "registry credentials", ok: true, detail: "no HOME: anonymous".into(), fix: None },
    }
}

fn profiles_check(settings: &Settings) -> Check {
    let (ok, errors) = super::profiles::run(settings);
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
