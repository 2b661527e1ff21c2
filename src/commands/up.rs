//! `prodbox up SERVICE`: resolve → fetch → sanitize → launch → report.

use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use crate::engine::Engine;
use crate::error::UsageError;
use crate::fetch::{self, auth};
use crate::profile::{self, PortSpec, Profile};
use crate::progress::Progress;
use crate::sandbox::{self, HealthPlan, SandboxSpec};
use crate::sanitize::{self, Decision};
use crate::settings::Settings;
use crate::{resolve, sandbox::health};

/// What the user asked `up` for, validated.
#[derive(Debug, Clone)]
pub struct UpRequest {
    pub service: String,
    pub environment: Option<String>,
    pub name: Option<String>,
    pub publish: Vec<PortSpec>,
    pub labels: Vec<(String, String)>,
}

impl UpRequest {
    /// From the CLI's raw strings; errors are usage errors.
    pub fn new(args: &crate::cli::UpArgs) -> Result<UpRequest, UsageError> {
        let publish = args
            .publish
            .iter()
            .map(|p| {
                profile::parse_port_mapping(p)
                    .ok_or_else(|| UsageError(format!("-p {p}: want HOST:CONTAINER or CONTAINER, e.g. -p 18080:8080")))
            })
            .collect::<Result<_, _>>()?;
        let labels = args
            .labels
            .iter()
            .map(|l| match l.split_once('=') {
                Some((k, v)) if !k.is_empty() && !k.starts_with("dev.prodbox.sandbox") => {
                    Ok((k.to_string(), v.to_string()))
                }
                _ => Err(UsageError(format!("--label {l}: want KEY=VALUE"))),
            })
            .collect::<Result<_, _>>()?;
        let name = args.name.clone().unwrap_or_else(|| args.service.clone());
        if !sandbox::valid_name(&name) {
            return Err(UsageError(format!(
                "sandbox name {name:?}: use letters, digits, '-', '_' or '.', at most 48, starting with a letter or digit (--name)"
            )));
        }
        Ok(UpRequest {
            service: args.service.clone(),
            environment: args.env.clone(),
            name: Some(name),
            publish,
            labels,
        })
    }

    /// The sandbox name.
    pub fn sandbox_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.service.clone())
    }
}

/// The one-screen report after `up` (also `--json`). Never holds a config value.
#[derive(Debug, Clone, Serialize)]
pub struct UpReport {
    pub name: String,
    pub service: String,
    pub environment: String,
    pub image: String,
    pub digest: String,
    pub platform: String,
    pub size: u64,
    pub deployed_at: Option<String>,
    pub deployed_by: Option<String>,
    pub revision: Option<String>,
    pub source: Option<String>,
    pub version: Option<String>,
    pub created: Option<String>,
    pub downloaded: bool,
    pub health: String,
    pub urls: Vec<String>,
    pub ports: Vec<(u16, u16)>,
    pub sanitized: String,
    pub decisions: Vec<Decision>,
    pub seconds: f64,
    pub stop: String,
}

/// Runs the pipeline; on any failure after launch began, removes the sandbox.
pub async fn run(settings: &Settings, req: &UpRequest, progress: &dyn Progress) -> anyhow::Result<UpReport> {
    let started = Instant::now();
    let mut profile = Profile::find(&settings.profile_dirs, &req.service)?;
    if let Some(env) = &req.environment {
        profile.environment = env.clone();
    }
    let engine = Engine::connect().await?;

    progress.step(&format!("resolving {} in {}", profile.service, profile.environment));
    let record = resolve::current(&profile).await?;
    let digest = record.image.digest.clone().unwrap_or_default();

    let platform = match &profile.image.platform {
        Some(p) => p.clone(),
        None => engine.platform().await?,
    };
    progress.step(&format!("reading manifest {}", record.image.pinned()));
    let creds = auth::for_registry(&record.image.registry).map_err(UsageError)?;
    let facts = fetch::inspect_remote(&record.image, &platform, &creds, &settings.registry).await?;
    let pulled = fetch::pull(&engine, &facts, profile.image.platform.as_deref(), &creds, progress).await?;

    for dep in &profile.dependencies {
        let dep_ref = crate::image_ref::ImageRef::parse(&dep.image)
            .map_err(|e| UsageError(format!("dependency {}: image {}", dep.name, e)))?;
        let dep_creds = auth::for_registry(&dep_ref.registry).map_err(UsageError)?;
        fetch::ensure_image(&engine, &dep.image, &dep_creds, progress).await?;
    }

    progress.step("sanitizing production's configuration");
    let clean = sanitize::sanitize(&record.config, &profile.sanitize);

    let name = req.sandbox_name();
    let mut ports = profile.run.ports.clone();
    if ports.is_empty() {
        ports = facts.exposed_ports.iter().map(|&c| PortSpec { host: 0, container: c }).collect();
    }
    for extra in &req.publish {
        ports.retain(|p| p.container != extra.container);
        ports.push(*extra);
    }
    let health =
        HealthPlan::choose(profile.run.health.as_ref(), facts.has_healthcheck, ports.first().map(|p| p.container));
    if let HealthPlan::Http { port, .. } | HealthPlan::Tcp { port, .. } = &health {
        if !ports.iter().any(|p| p.container == *port) {
            ports.push(PortSpec { host: 0, container: *port });
        }
    }
    let spec = SandboxSpec {
        name: name.clone(),
        service: profile.service.clone(),
        environment: profile.environment.clone(),
        image: pulled.reference.clone(),
        digest: digest.clone(),
        deployed_at: record.deployed_at.clone(),
        deployed_by: record.deployed_by.clone(),
        revision: record
            .revision
            .clone()
            .or_else(|| facts.label("org.opencontainers.image.revision").map(str::to_string)),
        env: clean.env.clone(),
        files: clean.files.clone(),
        sanitize_json: serde_json::to_string(&clean.decisions)?,
        ports,
        health: health.clone(),
        memory: profile.run.memory,
        cpus: profile.run.cpus,
        read_only: profile.run.read_only,
        cap_add: profile.run.cap_add.clone(),
        dependencies: profile.dependencies.clone(),
        extra_labels: req.labels.clone(),
    };

    tracing::debug!(elapsed = ?started.elapsed(), "resolved, fetched and sanitized");
    let existing = sandbox::remove(&engine, &name).await?;
    if !existing.is_empty() {
        progress.step(&format!("replaced the running sandbox {name}"));
    }
    progress.step(&format!("starting sandbox {name}"));
    let launched = match launch_and_wait(&engine, &spec, progress).await {
        Ok(l) => l,
        Err(e) => {
            let _ = sandbox::remove(&engine, &name).await;
            return Err(e.context(format!("up {name}: removed the half-made sandbox")));
        }
    };

    Ok(UpReport {
        name: name.clone(),
        service: profile.service.clone(),
        environment: profile.environment.clone(),
        image: pulled.reference,
        digest,
        platform: facts.platform.clone(),
        size: facts.size,
        deployed_at: record.deployed_at,
        deployed_by: record.deployed_by,
        revision: spec.revision.clone(),
        source: facts.label("org.opencontainers.image.source").map(str::to_string),
        version: facts.label("org.opencontainers.image.version").map(str::to_string),
        created: facts.created.clone(),
        downloaded: pulled.downloaded,
        health: health.describe(),
        urls: launched.ports.iter().map(|(_, h)| format!("http://127.0.0.1:{h}")).collect(),
        ports: launched.ports,
        sanitized: clean.summary(),
        decisions: clean.decisions,
        seconds: started.elapsed().as_secs_f64(),
        stop: format!("prodbox down {name}"),
    })
}

async fn launch_and_wait(
    engine: &Engine,
    spec: &SandboxSpec,
    progress: &dyn Progress,
) -> anyhow::Result<sandbox::launch::Launched> {
    let started = Instant::now();
    let launched = sandbox::launch(engine, spec).await.context("launching the sandbox")?;
    tracing::debug!(elapsed = ?started.elapsed(), "sandbox created and started");
    progress.step(&format!("waiting for health: {}", spec.health.describe()));
    let healthy_after = health::wait(engine, &launched.app_container, &launched.relay_container, &spec.health).await?;
    tracing::debug!(?healthy_after, "healthy");
    Ok(launched)
}
