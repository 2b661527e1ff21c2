//! `prodbox up SERVICE`: resolve → fetch → sanitize → launch → report.

pub mod attach;
pub mod cluster;
mod report;
mod request;

pub use report::{repro_of, CandidateReport, ConfigCounts, UpReport};
pub use request::UpRequest;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::Ctx;
use crate::engine::Engine;
use crate::error::{StrictError, UsageError};
use crate::fetch::{self, auth};
use crate::identity::Identity;
use crate::profile::{self, PortSpec, Profile};
use crate::progress::Progress;
use crate::sandbox::labels::{self, Role};
use crate::sandbox::launch::{self, Base, EarlyRoutes};
use crate::sandbox::{self, network, HealthPlan, SandboxSpec};
use crate::sanitize;
use crate::ui::human_size;
use crate::{resolve, sandbox::health};
use report::urls;

/// Runs the pipeline; on any failure after anything was made, removes the sandbox.
///
/// What does not depend on each other overlaps: the engine connection, the
/// deploy record and the registry's credentials; then, once the digest is
/// known, the image side (manifest, pull, other images) beside the sandbox
/// side (sanitizing, both networks and the relay image; then the relay as
/// soon as the manifest gives the ports, and beside it the app as soon as
/// its image is pulled). The image side makes nothing in the engine, so
/// when the sandbox side fails it is dropped and its pull cancelled; the
/// sandbox side is never dropped half-way (a create already sent would
/// finish after the cleanup). A running sandbox of the same name is
/// replaced only once the new images are there.
pub async fn run(ctx: &Ctx, req: &UpRequest) -> anyhow::Result<UpReport> {
    let started = Instant::now();
    let settings = &ctx.settings;
    let progress = ctx.progress.as_ref();
    let mut profile = Profile::find(&settings.profile_dirs, &req.service)?;
    // References that name their registry are read without the grammar;
    // it is compiled ahead (on a thread) only when this run will need it,
    // not to take a core from the run on a small machine.
    if !crate::image_ref::reads_without_grammar(&profile.image.repository)
        || !profile.dependencies.is_empty()
        || req.candidate.is_some()
    {
        crate::image_ref::warm_up();
    }
    if let Some(env) = &req.environment {
        profile.environment = env.clone();
    }
    if let Some(repro) = &req.from {
        if repro.profile_hash != profile.hash {
            progress.warn(&format!(
                "profile {} changed since the repro file was saved: the same digest runs, its settings may differ",
                profile.path.display()
            ));
        }
    }

    progress.step(&format!("resolving {} in {}", profile.service, profile.environment));
    // The repository is parsed beside the engine's connection, not before
    // it: the reference grammar may still be compiling (`warm_up`).
    let (engine, chosen, (registry, creds)) = tokio::join!(
        ctx.engine(),
        timed(resolve::choose(&profile, &req.pick, &settings.registry)),
        credentials(profile.image.repository.clone(), settings.registry.clone()),
    );
    let engine = engine?;
    let (chosen, took) = chosen;
    let mut chosen = chosen?;
    if let resolve::Pick::At(at) = &req.pick {
        // Shown back in UTC (above) and in the zone it was asked in.
        if req.zone != jiff::tz::TimeZone::UTC {
            chosen.why.push_str(&format!("; asked for {}", at.in_zone(&req.zone)));
        }
    }
    let (memory, cpus) = limits(&profile, &chosen.record, &mut chosen.why);
    let record = chosen.record;
    let digest = record.image.digest.clone().unwrap_or_default();
    progress.done(&format!("resolved {} to {}", profile.service, crate::digest::short(&digest)), took);
    let creds = match creds {
        Ok(c) if registry.as_deref() == Some(record.image.registry.as_str()) => c,
        _ => auth::for_registry(&record.image.registry)?,
    };
    let platform = match &profile.image.platform {
        Some(p) => p.clone(),
        None => engine.platform(),
    };
    let name = req.sandbox_name();
    // Everything this run makes carries its owner token: a failure or a
    // signal removes what this run made, never a concurrent run's.
    let extra_labels: Vec<(String, String)> =
        req.labels.iter().cloned().chain([(labels::OWNER.to_string(), req.owner.clone())]).collect();
    let base = Base { name: &name, service: &profile.service, extra_labels: &extra_labels };
    let names = network::names_of(&profile.service, &profile.dependencies, req.candidate.is_some());
    let (config, rules) = (record.config.clone(), profile.sanitize.clone());
    let sanitizing = tokio::task::spawn_blocking(move || timed_sync(|| sanitize::sanitize(&config, &rules)));

    // Set once the sandbox side may have made something: from then on a
    // failure removes the sandbox (before, a sandbox of that name that was
    // running is left alone).
    let made = AtomicBool::new(false);
    // Set once this run holds the sandbox name's lock.
    let locked = AtomicBool::new(false);
    let (abort, aborted) = tokio::sync::watch::channel(false);
    let (facts_tx, facts_rx) = tokio::sync::oneshot::channel::<fetch::ImageFacts>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    let (image_tx, image_rx) = tokio::sync::oneshot::channel::<Images>();
    let image_failed = AtomicBool::new(false);

    let image_side = async {
        progress.step(&format!("reading manifest {}", record.image.pinned()));
        let (facts, took) = timed(fetch::inspect_remote(&record.image, &platform, &creds, &settings.registry)).await;
        let facts = facts?;
        progress.done(&format!("read the manifest: {}, {}", facts.platform, human_size(facts.size)), took);
        let _ = facts_tx.send(facts.clone());
        let t = Instant::now();
        let pulled = fetch::pull_pinned(
            engine,
            &facts.reference,
            &facts.digest,
            profile.image.platform.as_deref(),
            &creds,
            progress,
        )
        .await?;
        if pulled.downloaded {
            progress.done(&format!("pulled {}", crate::digest::short(&digest)), t.elapsed());
        }
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
        let _ = ready_tx.send(());
        let _ = image_tx.send(Images { facts, pulled, candidate });
        anyhow::Ok(())
    };
    let image_side = async {
        let mut aborted = aborted;
        let result = tokio::select! {
            r = image_side => r,
            _ = aborted.wait_for(|a| *a) => Err(anyhow::Error::new(Cancelled)),
        };
        image_failed.store(result.is_err(), Ordering::SeqCst);
        result
    };

    // The spec of the sandbox, once the images and the sanitized config are there.
    let spec_of = |images: &Images, clean: &sanitize::SanitizedConfig| {
        let Images { facts, pulled, candidate } = images;
        let plan =
            Plan { profile: &profile, record: &record, facts, name: &name, memory, cpus, extra_labels: &extra_labels };
        let ports = plan_ports(&profile, facts, facts.has_healthcheck, &req.publish, engine.kind);
        plan.spec(pulled.reference.clone(), clean, ports, candidate.clone())
    };

    let sandbox_side = async {
        let result = async {
            let (clean, took) = sanitizing.await.context("sanitizing")?;
            let clean = clean?;
            progress.done("sanitized production's configuration", took);
            if req.strict || profile.sanitize.strict {
                check_strict(&clean, &profile)?;
            }
            sandbox::check_files(profile.run.read_only, &clean.files)
                .and_then(|()| sandbox::check_env(&clean.env))
                .map_err(|e| anyhow::Error::new(e).context(format!("profile {}", profile.path.display())))?;
            // One `up` per name at a time: a second one stops here, before it
            // removes or makes anything. Replacing a finished sandbox is fine.
            sandbox::lock::acquire(engine, &name, &req.owner, &req.labels).await?;
            locked.store(true, Ordering::SeqCst);
            let exists = sandbox::teardown::exists(engine, &name).await?;
            if exists {
                // A sandbox of that name is there: it is replaced only once
                // the new one's images are, so a failed `up` leaves it be.
                if ready_rx.await.is_err() {
                    return Ok(None);
                }
            }
            // The image side failed already (and says why): make nothing.
            if image_failed.load(Ordering::SeqCst) {
                return Ok(None);
            }
            made.store(true, Ordering::SeqCst);
            if exists {
                sandbox::remove(engine, &name).await?;
                progress.step(&format!("replaced the running sandbox {name}"));
            }
            let t = Instant::now();
            let prepared = launch::prepare(engine, base, names).await.context("launching the sandbox")?;
            progress.done(
                &format!("networks {} and {} ready", sandbox::network_name(&name), prepared.ingress_name()),
                t.elapsed(),
            );
            // The relay needs only the ports, the app its image: each starts
            // as soon as it can. A closed channel: the image side failed, and says why.
            let relay = async {
                let Ok(facts) = facts_rx.await else { return Ok(None) };
                let (ports, _) = plan_ports(&profile, &facts, facts.has_healthcheck, &req.publish, engine.kind);
                let t = Instant::now();
                let sinkhole = sandbox::sinkhole::Plan::of(&clean.env, &clean.files, &profile.run.egress);
                let routes = EarlyRoutes { ports, candidate: req.candidate.is_some(), sinkhole };
                match prepared.start_relay(engine, &routes).await {
                    Ok(published) => {
                        progress.done("relay started", t.elapsed());
                        Ok(Some(published))
                    }
                    Err(e) => {
                        // No app without its door: the pull stops now.
                        let _ = abort.send(true);
                        Err(anyhow::Error::new(e).context("launching the sandbox"))
                    }
                }
            };
            let workloads = async {
                let Ok(images) = image_rx.await else { return Ok(None) };
                let spec = spec_of(&images, &clean);
                progress.step(&format!("starting sandbox {name}"));
                let candidate_health = start_workloads(engine, &spec, &prepared, profile.run.health.as_ref(), progress)
                    .await
                    .context("launching the sandbox")?;
                anyhow::Ok(Some((images, spec, candidate_health)))
            };
            let (relay, workloads) = tokio::join!(relay, workloads);
            let (published, workloads) = (relay?, workloads?);
            anyhow::Ok(match (published, workloads) {
                (Some(published), Some(w)) => Some((clean, prepared, published, w)),
                _ => None,
            })
        }
        .await;
        if result.is_err() {
            let _ = abort.send(true);
        }
        result
    };

    let (image, sandbox_made) = tokio::join!(image_side, sandbox_side);
    let fail = |e: anyhow::Error| async {
        let ours = made.load(Ordering::SeqCst) || locked.load(Ordering::SeqCst);
        if ours && !remove_own(engine, req).await.is_empty() {
            return e.context(format!("up {name}: removed the half-made sandbox"));
        }
        e
    };
    let (clean, prepared, published, (Images { facts, pulled, .. }, spec, candidate_health)) =
        match (image, sandbox_made) {
            (Ok(()), Ok(Some(made))) => made,
            // The side that failed first, not the one it stopped.
            (Err(e), _) if !e.is::<Cancelled>() => return Err(fail(e).await),
            (_, Err(e)) => return Err(fail(e).await),
            (Err(e), _) => return Err(fail(e).await),
            (Ok(()), Ok(None)) => unreachable!("the sandbox side stops early only when the image side failed"),
        };
    tracing::debug!(elapsed = ?started.elapsed(), "fetched, sanitized, launched");
    let launched = match wait_healthy(engine, &spec, &prepared, published, candidate_health.as_ref(), progress).await {
        Ok(l) => l,
        Err(e) => {
            remove_own(engine, req).await;
            return Err(e.context(format!("up {name}: removed the half-made sandbox")));
        }
    };
    let (_, egress) = tokio::join!(
        sandbox::lock::release(engine, &name, &req.owner),
        sandbox::sinkhole::summary_so_far(engine, &name)
    );
    let egress = egress.ok().flatten();

    let plan = Plan {
        profile: &profile,
        record: &record,
        facts: &facts,
        name: &name,
        memory,
        cpus,
        extra_labels: &extra_labels,
    };
    let mut report = plan.report(&spec, clean.decisions, chosen.why);
    report.downloaded = pulled.downloaded;
    report.urls = urls(&launched.ports(Role::App));
    report.ports = launched.ports(Role::App);
    report.candidate = spec.candidate.as_ref().map(|c| CandidateReport {
        image: c.image.clone(),
        id: c.id.clone(),
        digest: c.digest.clone(),
        urls: urls(&launched.ports(Role::Candidate)),
        ports: launched.ports(Role::Candidate),
    });
    report.seconds = started.elapsed().as_secs_f64();
    report.egress = egress;
    report.stop = format!("prodbox down {name}");
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

/// What both ways of making a sandbox (the engine's pipeline, the
/// cluster's stages) know once the record is resolved and the manifest read:
/// the spec and the report are built from it the same way.
struct Plan<'a> {
    profile: &'a Profile,
    record: &'a resolve::DeployRecord,
    facts: &'a fetch::ImageFacts,
    name: &'a crate::name::SandboxName,
    memory: Option<i64>,
    cpus: Option<f64>,
    /// `--label`s (and, on the engine, the run's owner label).
    extra_labels: &'a [(String, String)],
}

impl Plan<'_> {
    /// The sandbox to make: `image` as it is run (`repo@digest`), the
    /// sanitized config, the ports and health plan from [`plan_ports`].
    fn spec(
        &self,
        image: String,
        clean: &sanitize::SanitizedConfig,
        (ports, health): (Vec<PortSpec>, HealthPlan),
        candidate: Option<sandbox::Candidate>,
    ) -> SandboxSpec {
        let (profile, record, facts) = (self.profile, self.record, self.facts);
        SandboxSpec {
            name: self.name.clone(),
            deploy: Identity {
                service: profile.service.clone(),
                environment: profile.environment.clone(),
                image,
                digest: record.image.digest.clone().unwrap_or_default(),
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
            health,
            memory: self.memory,
            cpus: self.cpus,
            read_only: profile.run.read_only,
            cap_add: profile.run.cap_add.clone(),
            stop_timeout: profile.run.stop_timeout.as_secs().min(u32::MAX as u64) as u32,
            dependencies: profile.dependencies.clone(),
            extra_labels: self.extra_labels.to_vec(),
            candidate,
            egress: profile.run.egress.clone(),
        }
    }

    /// The report of `spec`, with what only the caller knows (URLs, ports,
    /// timing, the stop command) left empty.
    fn report(&self, spec: &SandboxSpec, decisions: Vec<sanitize::Decision>, why: String) -> UpReport {
        let facts = self.facts;
        UpReport {
            name: spec.name.to_string(),
            deploy: spec.deploy.clone(),
            platform: facts.platform.clone(),
            size: facts.size,
            source: facts.label("org.opencontainers.image.source").map(str::to_string),
            version: facts.label("org.opencontainers.image.version").map(str::to_string),
            created: facts.created.clone(),
            downloaded: false,
            health: spec.health.clone(),
            urls: Vec::new(),
            ports: Vec::new(),
            chosen: why,
            candidate: None,
            sanitized: ConfigCounts::of(&decisions),
            decisions,
            seconds: 0.0,
            profile_hash: self.profile.hash.clone(),
            egress: None,
            saved: None,
            stop: String::new(),
            detached: true,
        }
    }
}

/// The image side gave up because the sandbox side failed (which says why).
#[derive(Debug, thiserror::Error)]
#[error("cancelled: the sandbox could not be made")]
struct Cancelled;

/// A future's output and how long it took.
async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, Duration) {
    let t = Instant::now();
    let out = f.await;
    (out, t.elapsed())
}

fn timed_sync<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed())
}

/// The registry of the profile's `repository`, and its credentials from the
/// docker config; both off the async threads (the reference grammar may be
/// compiling still, a credential helper is a process to run). The registry
/// client the manifest is read with starts being made meanwhile.
async fn credentials(
    repository: String,
    options: fetch::RegistryOptions,
) -> (Option<String>, anyhow::Result<auth::Credentials>) {
    let found = tokio::task::spawn_blocking(move || {
        let image = crate::image_ref::ImageRef::parse(&repository).ok();
        if let Some(image) = &image {
            fetch::remote::warm_up(image.clone(), options);
        }
        let registry = image.map(|r| r.registry);
        let creds = match &registry {
            Some(registry) => auth::for_registry(registry).map_err(anyhow::Error::from),
            None => Err(anyhow::anyhow!("the profile's repository names no registry")),
        };
        (registry, creds)
    })
    .await;
    found.unwrap_or_else(|e| (None, Err(e.into())))
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

/// What the image side hands on: the registry's facts, the pulled image,
/// the candidate.
struct Images {
    facts: fetch::ImageFacts,
    pulled: fetch::PulledImage,
    candidate: Option<sandbox::Candidate>,
}

/// Starts the dependencies, the app and the candidate (whose health plan,
/// from its image, is worked out meanwhile); returns that plan.
async fn start_workloads(
    engine: &Engine,
    spec: &SandboxSpec,
    prepared: &launch::Prepared,
    profile_health: Option<&profile::Health>,
    progress: &dyn Progress,
) -> anyhow::Result<Option<HealthPlan>> {
    let t = Instant::now();
    let candidate_health = async {
        match &spec.candidate {
            Some(c) => candidate_health(engine, &c.id, profile_health, &spec.ports).await.map(Some),
            None => Ok(None),
        }
    };
    let (started, candidate_health) = tokio::join!(prepared.start_workloads(engine, spec), candidate_health);
    started?;
    progress.done(&format!("started {}", sandbox::container_name(&spec.name, Role::App.as_str())), t.elapsed());
    candidate_health
}

async fn wait_healthy(
    engine: &Engine,
    spec: &SandboxSpec,
    prepared: &launch::Prepared,
    published: Vec<(u16, u16)>,
    candidate_health: Option<&HealthPlan>,
    progress: &dyn Progress,
) -> anyhow::Result<launch::Launched> {
    let launched = prepared.launched(spec, published)?;
    progress.step(&format!("waiting for health: {}", spec.health.describe()));
    let t = Instant::now();
    let app = health::wait_launched(engine, &launched, Role::App, &spec.health);
    let candidate = async {
        match (&launched.candidate_container, candidate_health) {
            (Some(_), Some(plan)) => {
                health::wait_launched(engine, &launched, Role::Candidate, plan).await.map(Some).context("the candidate")
            }
            _ => Ok(None),
        }
    };
    let (app, candidate) = tokio::join!(app, candidate);
    let healthy_after = app?;
    candidate?;
    progress.done("healthy", t.elapsed());
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
/// `image_check`: whether the image's own HEALTHCHECK may be run (not on a
/// cluster: the kubelet ignores it).
fn plan_ports(
    profile: &Profile,
    facts: &fetch::ImageFacts,
    image_check: bool,
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
    let health =
        HealthPlan::choose(profile.run.health.as_ref(), image_check, ports.first().map(|p| p.container), engine);
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
