//! `up --target kubernetes`: the same stages as on the engine (resolve, the
//! manifest by digest, sanitize) but nothing is pulled here: the cluster's
//! nodes pull the image by digest. Then the target makes the sandbox
//! ([`SandboxTarget::up`], isolation first) and waits for health; without
//! `-d` the ports are forwarded to 127.0.0.1 and the app's logs streamed
//! until Ctrl-C, and the namespace is deleted.

use std::time::Instant;

use super::{check_strict, limits, plan_ports, Plan, UpReport, UpRequest};
use crate::cli::UpArgs;
use crate::commands::{Ctx, Report, Text};
use crate::error::UsageError;
use crate::fetch::{self, auth};
use crate::image_ref::ImageRef;
use crate::profile::Profile;
use crate::progress::Progress;
use crate::sandbox::{Candidate, SandboxSpec};
use crate::targets::kubernetes::{objects::APP_POD, portforward, KubeTarget};
use crate::targets::{parse_ttl, KubeTargetSettings, Role, SandboxTarget, Sink, DEFAULT_TTL};
use crate::timestamp::Timestamp;
use crate::{resolve, sanitize};

/// Makes the sandbox on the cluster. With `-d` the report is returned for
/// printing; in the foreground it is printed here and the forward held
/// until Ctrl-C (exit 0) or until it or the app's logs end (exit 1).
pub async fn run(ctx: &Ctx, args: &UpArgs, cluster: &KubeTargetSettings) -> anyhow::Result<Box<dyn Report>> {
    let req = UpRequest::new(args)?;
    let ttl = match &args.ttl {
        Some(t) => parse_ttl(t).map_err(UsageError)?,
        None => DEFAULT_TTL,
    };
    let progress = ctx.progress.as_ref();
    let started = Instant::now();
    let (spec, mut report) = prepare(ctx, &req, progress).await?;
    let target = KubeTarget::connect(cluster).await?;
    progress.step(&format!("creating sandbox {} on the cluster", spec.name));
    let make = async {
        let made = target.up(&spec, ttl).await?;
        progress.step(&format!("waiting for health in {}: {}", made.location, spec.health.describe()));
        if let Err(e) = target.wait_healthy(&spec).await {
            let _ = target.down(&spec.name).await;
            return Err(e.context(format!("up {}: deleted namespace {}", spec.name, made.location)));
        }
        Ok(made)
    };
    let made = tokio::select! {
        r = make => r?,
        _ = tokio::signal::ctrl_c() => {
            let removed = match target.down(&spec.name).await {
                Ok(_) => format!("deleted the namespace of sandbox {}", spec.name),
                Err(e) => format!("could not delete the namespace of sandbox {} ({e}); `prodbox gc` removes it after its --ttl", spec.name),
            };
            anyhow::bail!("interrupted: {removed}");
        }
    };
    report.seconds = started.elapsed().as_secs_f64();
    report.stop = format!("prodbox down {} --target kubernetes", spec.name);
    report.detached = true;
    if let Some(path) = &req.save {
        super::repro_of(&report).write(path)?;
        report.saved = Some(path.clone());
    }
    if args.detach {
        report.chosen.push_str(&format!(
            "; on the cluster in namespace {} until {}; reach it with `prodbox port-forward {} --target kubernetes`",
            made.location,
            Timestamp(Timestamp::now().0 + ttl.as_secs() as i64),
            spec.name
        ));
        return Ok(Box::new(report));
    }
    let pods = kube::Api::namespaced(target.client.clone(), &made.location);
    let wanted: Vec<(u16, u16)> = spec.ports.iter().map(|p| (p.container, p.host)).collect();
    let fwd = portforward::bind(pods, APP_POD, &wanted).await?;
    report.ports = fwd.ports.clone();
    report.urls = fwd.ports.iter().map(|(_, l)| format!("http://127.0.0.1:{l}")).collect();
    report.detached = false;
    // Printed before the forward is held (as `render::emit` would after).
    let text = match Report::json(&report).filter(|_| ctx.settings.json) {
        Some(value) => format!("{}\n", serde_json::to_string_pretty(&value)?),
        None => Report::human(&report),
    };
    print!("{text}");
    let sink = if ctx.settings.json { Sink::Stderr } else { Sink::Split };
    let outcome = tokio::select! {
        r = fwd.hold() => r.map(|_| 1),
        r = target.logs(&spec.name, Role::App, true, None, sink) => r.map(|_| 1),
        _ = tokio::signal::ctrl_c() => Ok(0),
    };
    let _ = target.down(&spec.name).await;
    eprintln!("\nstopped; deleted namespace {}", made.location);
    Ok(Box::new(Text { text: String::new(), code: outcome? }))
}

/// Resolve → manifest by digest → sanitize → the spec and the report to print.
async fn prepare(ctx: &Ctx, req: &UpRequest, progress: &dyn Progress) -> anyhow::Result<(SandboxSpec, UpReport)> {
    let settings = &ctx.settings;
    let mut profile = Profile::find(&settings.profile_dirs, &req.service)?;
    if let Some(env) = &req.environment {
        profile.environment = env.clone();
    }
    progress.step(&format!("resolving {} in {}", profile.service, profile.environment));
    let mut chosen = resolve::choose(&profile, &req.pick, &settings.registry).await?;
    let (memory, cpus) = limits(&profile, &chosen.record, &mut chosen.why);
    let record = chosen.record;
    let platform = profile.image.platform.clone().unwrap_or_else(|| "linux/amd64".into());
    progress.step(&format!("reading manifest {}", record.image.pinned()));
    let creds = auth::for_registry(&record.image.registry)?;
    let facts = fetch::inspect_remote(&record.image, &platform, &creds, &settings.registry).await?;

    progress.step("sanitizing production's configuration");
    let clean = sanitize::sanitize(&record.config, &profile.sanitize)?;
    if req.strict || profile.sanitize.strict {
        check_strict(&clean, &profile)?;
    }
    let candidate = match &req.candidate {
        Some(image) => {
            let r = ImageRef::parse(image).map_err(|e| UsageError(format!("--candidate {image} {e}")))?;
            if r.digest.is_none() {
                progress.warn(&format!(
                    "--candidate {image} has no digest: the cluster pulls whatever the tag names then; push it and pass repo@sha256:…"
                ));
            }
            Some(Candidate { image: image.clone(), id: image.clone(), digest: r.digest.clone() })
        }
        None => None,
    };
    // The kubelet ignores the image's HEALTHCHECK: the profile's check, else the first port.
    let ports = plan_ports(&profile, &facts, false, &req.publish, crate::engine::EngineKind::Docker);
    let name = req.sandbox_name();
    let plan = Plan {
        profile: &profile,
        record: &record,
        facts: &facts,
        name: &name,
        memory,
        cpus,
        extra_labels: &req.labels,
    };
    let spec = plan.spec(record.image.pinned(), &clean, ports, candidate);
    let report = plan.report(&spec, clean.decisions, chosen.why);
    Ok((spec, report))
}
