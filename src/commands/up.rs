//! `prodbox up SERVICE`: resolve → fetch → sanitize → launch → report.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use crate::engine::Engine;
use crate::error::UsageError;
use crate::fetch::{self, auth};
use crate::profile::{self, PortSpec, Profile};
use crate::progress::Progress;
use crate::repro::Repro;
use crate::resolve::Pick;
use crate::sandbox::labels;
use crate::sandbox::{self, HealthPlan, SandboxSpec};
use crate::sanitize::{self, Decision};
use crate::settings::Settings;
use crate::timestamp::Timestamp;
use crate::{resolve, sandbox::health};

/// What the user asked `up` for, validated.
#[derive(Debug, Clone)]
pub struct UpRequest {
    pub service: String,
    pub environment: Option<String>,
    pub name: String,
    pub publish: Vec<PortSpec>,
    pub labels: Vec<(String, String)>,
    pub pick: Pick,
    pub candidate: Option<String>,
    pub save: Option<PathBuf>,
    /// The repro file `--from` named, already read.
    pub from: Option<Repro>,
    /// Refuse unnamed redactions (`--strict`, or the profile's `strict`).
    pub strict: bool,
}

impl UpRequest {
    /// From the CLI's raw strings; errors are usage errors.
    pub fn new(args: &crate::cli::UpArgs) -> anyhow::Result<UpRequest> {
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
                Some((k, v)) if !k.is_empty() && !labels::RESERVED.contains(&k) => Ok((k.to_string(), v.to_string())),
                _ => Err(UsageError(format!("--label {l}: want KEY=VALUE with a key prodbox does not set itself"))),
            })
            .collect::<Result<_, _>>()?;
        let from = match &args.from {
            Some(path) => Some(Repro::read(path)?),
            None => None,
        };
        let service = match (&args.service, &from) {
            (Some(s), _) => s.clone(),
            (None, Some(r)) => r.service.clone(),
            (None, None) => return Err(UsageError("name a SERVICE or pass --from FILE".into()).into()),
        };
        let pick = if let Some(r) = &from {
            Pick::Digest(r.digest.clone())
        } else if let Some(at) = &args.at {
            Pick::At(Timestamp::parse_relative(at, Timestamp::now()).ok_or_else(|| {
                UsageError(format!(
                    "--at {at:?}: not a time; use RFC 3339 (2026-11-20T14:05:00Z), \"2026-11-20 14:05\" (UTC), a date, or \"2h ago\""
                ))
            })?)
        } else if let Some(rev) = &args.revision {
            Pick::Revision(rev.clone())
        } else if let Some(d) = &args.digest {
            let hex = d.trim_start_matches("sha256:");
            if hex.len() < 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(UsageError(format!("--digest {d}: want sha256:<hex>, at least 12 hex digits")).into());
            }
            Pick::Digest(d.clone())
        } else {
            Pick::Current
        };
        let name = args.name.clone().unwrap_or_else(|| service.clone());
        if !sandbox::valid_name(&name) {
            return Err(UsageError(format!(
                "sandbox name {name:?}: use letters, digits, '-', '_' or '.', at most 48, starting with a letter or digit (--name)"
            ))
            .into());
        }
        Ok(UpRequest {
            service,
            environment: args.env.clone().or_else(|| from.as_ref().map(|r| r.environment.clone())),
            name,
            publish,
            labels,
            pick,
            candidate: args.candidate.clone(),
            save: args.save.clone(),
            from,
            strict: args.strict,
        })
    }

    /// The sandbox name.
    pub fn sandbox_name(&self) -> String {
        self.name.clone()
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
    /// Which deploy was chosen and why ("what runs now", "live at … from … to …").
    pub chosen: String,
    pub candidate: Option<CandidateReport>,
    pub sanitized: String,
    pub decisions: Vec<Decision>,
    pub seconds: f64,
    pub stop: String,
    /// sha256 of the profile file used.
    pub profile_hash: String,
    /// Where `--save` wrote the repro file.
    pub saved: Option<PathBuf>,
}

/// The candidate's part of the report.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateReport {
    pub image: String,
    pub id: String,
    pub urls: Vec<String>,
    pub ports: Vec<(u16, u16)>,
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
    if let Some(repro) = &req.from {
        if repro.profile_hash != profile.hash {
            progress.warn(&format!(
                "profile {} changed since the repro file was saved: the same digest runs, its settings may differ",
                profile.path.display()
            ));
        }
    }
    let chosen = resolve::choose(&profile, &req.pick).await?;
    let record = chosen.record;
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

    let candidate = match &req.candidate {
        Some(image) => {
            let candidate_ref = crate::image_ref::ImageRef::parse(image)
                .map_err(|e| UsageError(format!("--candidate {image}: {e}")))?;
            let candidate_creds = auth::for_registry(&candidate_ref.registry).map_err(UsageError)?;
            let id = fetch::ensure_image(&engine, image, &candidate_creds, progress).await?;
            Some(sandbox::Candidate { image: image.clone(), id })
        }
        None => None,
    };

    progress.step("sanitizing production's configuration");
    let clean = sanitize::sanitize(&record.config, &profile.sanitize);
    if req.strict || profile.sanitize.strict {
        let unnamed = clean.unnamed_redactions();
        if !unnamed.is_empty() {
            let list: Vec<String> = unnamed.iter().map(|d| format!("  {} ({})", d.name, d.reason)).collect();
            return Err(StrictError(format!(
                "strict: {} value(s) would be redacted that {} does not name:\n{}\nname each in [sanitize] keep, drop or set (a `path:key` form names a key in a config file)",
                unnamed.len(),
                profile.path.display(),
                list.join("\n")
            ))
            .into());
        }
    }

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
        sanitize_json: label_json(&clean.decisions),
        ports,
        health: health.clone(),
        memory: profile.run.memory,
        cpus: profile.run.cpus,
        read_only: profile.run.read_only,
        cap_add: profile.run.cap_add.clone(),
        dependencies: profile.dependencies.clone(),
        extra_labels: req.labels.clone(),
        candidate,
    };

    tracing::debug!(elapsed = ?started.elapsed(), "resolved, fetched and sanitized");
    let existing = sandbox::remove(&engine, &name).await?;
    if !existing.is_empty() {
        progress.step(&format!("replaced the running sandbox {name}"));
    }
    progress.step(&format!("starting sandbox {name}"));
    let candidate_health = match &spec.candidate {
        Some(c) => Some(candidate_health(&engine, &c.id, profile.run.health.as_ref(), &spec.ports).await?),
        None => None,
    };
    let launched = match launch_and_wait(&engine, &spec, candidate_health.as_ref(), progress).await {
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
        urls: urls(&launched.ports(labels::ROLE_APP)),
        ports: launched.ports(labels::ROLE_APP),
        chosen: chosen.why,
        candidate: spec.candidate.as_ref().map(|c| CandidateReport {
            image: c.image.clone(),
            id: c.id.clone(),
            urls: urls(&launched.ports(labels::ROLE_CANDIDATE)),
            ports: launched.ports(labels::ROLE_CANDIDATE),
        }),
        sanitized: clean.summary(),
        decisions: clean.decisions,
        seconds: started.elapsed().as_secs_f64(),
        stop: format!("prodbox down {name}"),
        profile_hash: profile.hash.clone(),
        saved: None,
    })
    .and_then(|mut report: UpReport| {
        if let Some(path) = &req.save {
            repro_of(&report).write(path)?;
            report.saved = Some(path.clone());
        }
        Ok(report)
    })
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
                health::wait(engine, container, labels::ROLE_CANDIDATE, &launched.relay_container, plan)
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
    Ok(HealthPlan::choose(profile_health, has_check, ports.first().map(|p| p.container)))
}

/// `--strict` found redactions the profile does not name.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StrictError(String);

/// Labels are not for megabytes: the decisions as JSON, cut to fit
/// [`LABEL_LIMIT`] with a last row saying how many were left out.
fn label_json(decisions: &[Decision]) -> String {
    let full = serde_json::to_string(decisions).unwrap_or_default();
    if full.len() <= LABEL_LIMIT {
        return full;
    }
    let mut kept: Vec<&Decision> = Vec::new();
    let mut size = 2;
    for d in decisions {
        let row = serde_json::to_string(d).unwrap_or_default().len() + 1;
        if size + row > LABEL_LIMIT - 256 {
            break;
        }
        size += row;
        kept.push(d);
    }
    let mut rows: Vec<serde_json::Value> = kept.iter().filter_map(|d| serde_json::to_value(d).ok()).collect();
    rows.push(serde_json::json!({
        "kind": "note",
        "name": "(more)",
        "action": "kept",
        "reason": format!("{} more decisions not stored in the label; `prodbox inspect SERVICE` lists them all", decisions.len() - kept.len()),
    }));
    serde_json::to_string(&rows).unwrap_or_default()
}

/// The most decision JSON a container label carries.
const LABEL_LIMIT: usize = 64 * 1024;

fn urls(ports: &[(u16, u16)]) -> Vec<String> {
    ports.iter().map(|(_, h)| format!("http://127.0.0.1:{h}")).collect()
}

/// What `--save` writes for this run.
pub fn repro_of(report: &UpReport) -> Repro {
    Repro {
        prodbox: env!("CARGO_PKG_VERSION").into(),
        service: report.service.clone(),
        environment: report.environment.clone(),
        image: report.image.clone(),
        digest: report.digest.clone(),
        deployed_at: report.deployed_at.clone(),
        revision: report.revision.clone(),
        profile_hash: report.profile_hash.clone(),
    }
}
