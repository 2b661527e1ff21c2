//! `prodbox up SERVICE`: resolve → fetch → sanitize → launch → report.

pub mod attach;
mod report;
mod request;

pub use report::{repro_of, CandidateReport, ConfigCounts, UpReport};
pub use request::UpRequest;

use std::time::Instant;

use anyhow::Context as _;

use super::Ctx;
use crate::engine::Engine;
use crate::error::{StrictError, UsageError};
use crate::fetch::{self, auth};
use crate::identity::Identity;
use crate::profile::{self, PortSpec, Profile};
use crate::progress::Progress;
use crate::sandbox::labels::{self, Role};
use crate::sandbox::{self, HealthPlan, SandboxSpec};
use crate::sanitize;
use crate::{resolve, sandbox::health};
use report::urls;

/// Runs the pipeline; on any failure after launch began, removes the sandbox.
pub async fn run(ctx: &Ctx, req: &UpRequest) -> anyhow::Result<UpReport> {
    let started = Instant::now();
    let settings = &ctx.settings;
    let progress = ctx.progress.as_ref();
    let mut profile = Profile::find(&settings.profile_dirs, &req.service)?;
    if let Some(env) = &req.environment {
        profile.environment = env.clone();
    }
    let engine = ctx.engine().await?;

    progress.step(&format!("resolving {} in {}", profile.service, profile.environment));
    if let Some(repro) = &req.from {
        if repro.profile_hash != profile.hash {
            progress.warn(&format!(
                "profile {} changed since the repro file was saved: the same digest runs, its settings may differ",
                profile.path.display()
            ));
        }
    }
    let mut chosen = resolve::choose(&profile, &req.pick, &settings.registry).await?;
    if let resolve::Pick::At(at) = &req.pick {
        // Shown back in UTC (above) and in the zone it was asked in.
        if req.zone != jiff::tz::TimeZone::UTC {
            chosen.why.push_str(&format!("; asked for {}", at.in_zone(&req.zone)));
        }
    }
    let (memory, cpus) = limits(&profile, &chosen.record, &mut chosen.why);
    let record = chosen.record;
    let digest = record.image.digest.clone().unwrap_or_default();

    let platform = match &profile.image.platform {
        Some(p) => p.clone(),
        None => engine.platform(),
    };
    progress.step(&format!("reading manifest {}", record.image.pinned()));
    let creds = auth::for_registry(&record.image.registry)?;
    let facts = fetch::inspect_remote(&record.image, &platform, &creds, &settings.registry).await?;
    let pulled = fetch::pull(engine, &facts, profile.image.platform.as_deref(), &creds, progress).await?;

    for dep in &profile.dependencies {
        ensure_image(engine, &dep.image, &format!("dependency {}", dep.name), progress).await?;
    }
    let candidate = match &req.candidate {
        Some(image) => {
            let id = candidate_image(engine, image, progress).await?;
            let digest = repo_digest(engine, &id).await?;
            Some(sandbox::Candidate { image: image.clone(), id, digest })
        }
        None => None,
    };

    progress.step("sanitizing production's configuration");
    let clean = sanitize::sanitize(&record.config, &profile.sanitize)?;
    if req.strict || profile.sanitize.strict {
        check_strict(&clean, &profile)?;
    }

    let name = req.sandbox_name();
    let (ports, health) = plan_ports(&profile, &facts, &req.publish, engine.kind);
    let spec = SandboxSpec {
        name: name.clone(),
        deploy: Identity {
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
        },
        env: clean.env.clone(),
        files: clean.files.clone(),
        sanitize_json: labels::decisions_json(&clean.decisions),
        ports,
        health: health.clone(),
        memory,
        cpus,
        read_only: profile.run.read_only,
        cap_add: profile.run.cap_add.clone(),
        dependencies: profile.dependencies.clone(),
        extra_labels: req.labels.iter().cloned().chain([(labels::OWNER.to_string(), req.owner.clone())]).collect(),
        candidate,
        egress: profile.run.egress.clone(),
    };
    spec.check().map_err(|e| anyhow::Error::new(e).context(format!("profile {}", profile.path.display())))?;

    tracing::debug!(elapsed = ?started.elapsed(), "resolved, fetched and sanitized");
    // One `up` per name at a time: a second one stops here, before it
    // removes or makes anything. Replacing a finished sandbox is fine.
    sandbox::lock::acquire(engine, &name, &req.owner, &req.labels).await?;
    let candidate_health = match replace_existing(engine, &spec, profile.run.health.as_ref(), progress).await {
        Ok(plan) => plan,
        Err(e) => {
            sandbox::lock::release(engine, &name, &req.owner).await;
            return Err(e);
        }
    };
    let launched = match launch_and_wait(engine, &spec, candidate_health.as_ref(), progress).await {
        Ok(l) => l,
        Err(e) => {
            remove_own(engine, req).await;
            return Err(e.context(format!("up {name}: removed the half-made sandbox")));
        }
    };
    sandbox::lock::release(engine, &name, &req.owner).await;

    let egress = sandbox::sinkhole::summary(engine, &name).await.ok().flatten();
    let mut report = UpReport {
        name: name.to_string(),
        deploy: spec.deploy.clone(),
        platform: facts.platform.clone(),
        size: facts.size,
        source: facts.label("org.opencontainers.image.source").map(str::to_string),
        version: facts.label("org.opencontainers.image.version").map(str::to_string),
        created: facts.created.clone(),
        downloaded: pulled.downloaded,
        health: health.clone(),
        urls: urls(&launched.ports(Role::App)),
        ports: launched.ports(Role::App),
        chosen: chosen.why,
        candidate: spec.candidate.as_ref().map(|c| CandidateReport {
            image: c.image.clone(),
            id: c.id.clone(),
            digest: c.digest.clone(),
            urls: urls(&launched.ports(Role::Candidate)),
            ports: launched.ports(Role::Candidate),
        }),
        sanitized: ConfigCounts::of(&clean.decisions),
        decisions: clean.decisions,
        seconds: started.elapsed().as_secs_f64(),
        profile_hash: profile.hash.clone(),
        egress,
        saved: None,
        stop: format!("prodbox down {name}"),
        detached: true,
    };
    if let Some(path) = &req.save {
        // The sandbox is up, but the user asked for the repro file too: a
        // failure here must not leave a sandbox nobody reported.
        if let Err(e) = repro_of(&report).write(path) {
            let _ = sandbox::remove(engine, &name).await;
            return Err(anyhow::Error::new(e).context(format!("up {name}: removed the sandbox")));
        }
        report.saved = Some(path.clone());
    }
    Ok(report)
}

/// With the lock held: removes the sandbox this one replaces, and reads the
/// candidate's health plan.
async fn replace_existing(
    engine: &Engine,
    spec: &SandboxSpec,
    health: Option<&profile::Health>,
    progress: &dyn Progress,
) -> anyhow::Result<Option<HealthPlan>> {
    let name = &spec.name;
    let existing = sandbox::remove(engine, name).await?;
    if !existing.is_empty() {
        progress.step(&format!("replaced the running sandbox {name}"));
    }
    progress.step(&format!("starting sandbox {name}"));
    Ok(match &spec.candidate {
        Some(c) => Some(candidate_health(engine, &c.id, health, &spec.ports).await?),
        None => None,
    })
}

/// Removes what this run made, and only that (a concurrent `up` of the same
/// name keeps its own): first every create still in flight lands, then
/// everything with this run's owner label goes, then its lock.
pub async fn remove_own(engine: &Engine, req: &UpRequest) -> sandbox::teardown::Removed {
    sandbox::inflight::settle().await;
    let removed = match sandbox::remove_all_labelled(engine, &req.own_resources()).await {
        Ok(removed) => removed,
        Err(e) => {
            tracing::warn!("removing what this run made: {e}");
            sandbox::teardown::Removed::default()
        }
    };
    sandbox::lock::release(engine, &req.name, &req.owner).await;
    removed
}

/// The registry digest the engine knows for a local image (its first
/// `RepoDigests` entry), if any.
async fn repo_digest(engine: &Engine, image_id: &str) -> anyhow::Result<Option<String>> {
    let image = engine
        .docker
        .inspect_image(image_id)
        .await
        .map_err(|e| crate::engine::api(format!("inspecting image {image_id}"), e))?;
    Ok(image.repo_digests.unwrap_or_default().iter().find_map(|d| d.split_once('@').map(|(_, h)| h.to_string())))
}

async fn launch_and_wait(
    engine: &Engine,
    spec: &SandboxSpec,
    candidate_health: Option<&HealthPlan>,
    progress: &dyn Progress,
) -> anyhow::Result<sandbox::launch::Launched> {
    let started = Instant::now();
    let launched = sandbox::launch(engine, spec).await.context("launching the sandbox")?;
    tracing::debug!(elapsed = ?started.elapsed(), "sandbox created and started");
    progress.step(&format!("waiting for health: {}", spec.health.describe()));
    let app = health::wait(engine, &launched.app_container, "app", &launched.relay_container, &spec.health);
    let candidate = async {
        match (&launched.candidate_container, candidate_health) {
            (Some(container), Some(plan)) => {
                health::wait(engine, container, Role::Candidate.as_str(), &launched.relay_container, plan)
                    .await
                    .map(Some)
                    .context("the candidate")
            }
            _ => Ok(None),
        }
    };
    let (app, candidate) = tokio::join!(app, candidate);
    let healthy_after = app?;
    candidate?;
    tracing::debug!(?healthy_after, "healthy");
    Ok(launched)
}

/// The candidate's health plan: the profile's check, else its own image's
/// HEALTHCHECK, else its first port.
async fn candidate_health(
    engine: &Engine,
    image_id: &str,
    profile_health: Option<&profile::Health>,
    ports: &[PortSpec],
) -> anyhow::Result<HealthPlan> {
    let image = engine
        .docker
        .inspect_image(image_id)
        .await
        .map_err(|e| crate::engine::api(format!("inspecting candidate image {image_id}"), e))?;
    let has_check =
        image.config.and_then(|c| c.healthcheck).and_then(|h| h.test).is_some_and(|t| !t.is_empty() && t[0] != "NONE");
    Ok(HealthPlan::choose(profile_health, has_check, ports.first().map(|p| p.container), engine.kind))
}

/// The candidate's image id. A candidate is a local build (`checkout:fix`)
/// unless it names its registry (`registry.example.com/checkout:fix`,
/// `localhost:5000/x`): only then may it be pulled; a local tag that is
/// missing (a typo) is an error, and nothing is asked of Docker Hub.
async fn candidate_image(engine: &Engine, image: &str, progress: &dyn Progress) -> anyhow::Result<String> {
    if crate::image_ref::names_registry(image) {
        return ensure_image(engine, image, "--candidate", progress).await;
    }
    match engine.docker.inspect_image(image).await {
        Ok(found) => Ok(found.id.unwrap_or_default()),
        Err(e) if crate::engine::is_not_found(&e) => Err(UsageError(format!(
            "--candidate {image}: no such local image; build it (`docker build -t {image} .`), or name its registry (REGISTRY/{image}) to pull it"
        ))
        .into()),
        Err(e) => Err(crate::engine::api(format!("inspecting image {image}"), e).into()),
    }
}

/// A dependency's or the candidate's image, present in the engine (pulled
/// with the docker config's credentials when missing); returns its id.
async fn ensure_image(engine: &Engine, image: &str, what: &str, progress: &dyn Progress) -> anyhow::Result<String> {
    let reference =
        crate::image_ref::ImageRef::parse(image).map_err(|e| UsageError(format!("{what}: image {image} {e}")))?;
    let creds = auth::for_registry(&reference.registry)?;
    Ok(fetch::ensure_image(engine, image, &creds, progress).await?)
}

/// The ports to publish (the profile's, else the image's EXPOSE, plus `-p`)
/// and the health plan; a health port is always published too.
fn plan_ports(
    profile: &Profile,
    facts: &fetch::ImageFacts,
    publish: &[PortSpec],
    engine: crate::engine::EngineKind,
) -> (Vec<PortSpec>, HealthPlan) {
    let mut ports = profile.run.ports.clone();
    if ports.is_empty() {
        ports = facts.exposed_ports.iter().map(|&c| PortSpec { host: 0, container: c }).collect();
    }
    for extra in publish {
        ports.retain(|p| p.container != extra.container);
        ports.push(*extra);
    }
    let health = HealthPlan::choose(
        profile.run.health.as_ref(),
        facts.has_healthcheck,
        ports.first().map(|p| p.container),
        engine,
    );
    if let HealthPlan::Http { port, .. }
    | HealthPlan::Tcp { port, .. }
    | HealthPlan::ImageByExec { fallback_port: Some(port), .. } = &health
    {
        if !ports.iter().any(|p| p.container == *port) {
            ports.push(PortSpec { host: 0, container: *port });
        }
    }
    (ports, health)
}

/// The sandbox's memory and CPU limits: the profile's, else production's
/// (`limits` in the record), saying so in `why`.
fn limits(profile: &Profile, record: &resolve::DeployRecord, why: &mut String) -> (Option<i64>, Option<f64>) {
    let memory = profile.run.memory.or(record.limits.memory);
    let cpus = profile.run.cpus.or(record.limits.cpus);
    let mut from_prod = Vec::new();
    if profile.run.memory.is_none() {
        if let Some(m) = record.limits.memory {
            from_prod.push(format!("memory {} MiB", m >> 20));
        }
    }
    if profile.run.cpus.is_none() {
        if let Some(c) = record.limits.cpus {
            from_prod.push(format!("cpus {c}"));
        }
    }
    if !from_prod.is_empty() {
        why.push_str(&format!("; limits from production: {} (the profile sets none)", from_prod.join(", ")));
    }
    (memory, cpus)
}

/// `--strict`: every redaction must be named by the profile.
fn check_strict(clean: &sanitize::SanitizedConfig, profile: &Profile) -> Result<(), StrictError> {
    let unnamed = clean.unnamed_redactions();
    if unnamed.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = unnamed.iter().map(|d| format!("  {} ({})", d.name, d.reason)).collect();
    Err(StrictError(format!(
        "strict: {} value(s) would be redacted that {} does not name:\n{}\nname each in [sanitize] keep, drop or set (a `path:key` form names a key in a config file)",
        unnamed.len(),
        profile.path.display(),
        list.join("\n")
    )))
}
