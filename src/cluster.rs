//! The sandbox commands on a cluster: `up`, `down`, `ls`, `logs`, `gc` and
//! `port-forward` when the target is Kubernetes (`--target` or the settings
//! file). `up` chains the same stages as on the engine (resolve, manifest
//! check by digest, sanitize) but pulls nothing locally: the cluster's nodes
//! pull the image by digest.

use std::io::Write as _;
use std::time::Instant;

use anyhow::Context as _;
use futures_util::{AsyncBufReadExt as _, StreamExt as _};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};

use crate::cli::{Command, TargetArg, UpArgs};
use crate::commands::up::{UpReport, UpRequest};
use crate::error::UsageError;
use crate::fetch::auth;
use crate::image_ref::ImageRef;
use crate::profile::{self, PortSpec, Profile};
use crate::progress::Progress;
use crate::sandbox::{labels, Candidate, HealthPlan, SandboxSpec};
use crate::settings::Settings;
use crate::targets::kubernetes::{role_pod, KubeTarget};
use crate::targets::{parse_ttl, Dispatched, KubeTargetSettings, Role, SandboxTarget, TargetKind, DEFAULT_TTL};
use crate::timestamp::Timestamp;
use crate::{engine, fetch, render, resolve, sanitize, ui};

/// Runs `command` on the cluster when the target is Kubernetes; hands it
/// back untouched for the engine.
pub async fn dispatch(command: Command, settings: &Settings) -> anyhow::Result<Dispatched> {
    let flag = |t: &TargetArg| t.target.clone();
    let given = match &command {
        Command::Up(a) => flag(&a.target),
        Command::Down(a) => flag(&a.target),
        Command::Ls(t) | Command::Gc(t) => flag(t),
        Command::Logs(a) => flag(&a.target),
        Command::Exec(a) => flag(&a.target),
        Command::PortForward(a) => flag(&a.target),
        Command::Verify(_) | Command::Diff(_) => None,
        _ => return Ok(Dispatched::Engine(Box::new(command))),
    };
    let setting = crate::settings::target_setting().map_err(UsageError)?;
    let kube = match TargetKind::choose(given.as_deref(), setting.as_ref()).map_err(|e| UsageError(e.to_string()))? {
        TargetKind::Engine => return Ok(Dispatched::Engine(Box::new(command))),
        TargetKind::Kubernetes(k) => k,
    };
    let as_json = settings.json;
    let code = match command {
        Command::Up(args) => up(settings, &args, &kube).await?,
        Command::Down(args) => {
            if args.names.is_empty() && !args.all {
                return Err(UsageError("name the sandboxes to remove, or pass --all (see `prodbox ls`)".into()).into());
            }
            let target = KubeTarget::connect(&kube).await?;
            let names: Vec<String> = if args.all {
                target.list().await?.into_iter().map(|s| s.name).collect()
            } else {
                args.names.clone()
            };
            let mut removed = Vec::new();
            let mut missing = Vec::new();
            for name in names {
                if target.down(&name).await? {
                    removed.push(name);
                } else {
                    missing.push(name);
                }
            }
            print(&if as_json { render::json(&removed) } else { lines(&removed, "deleted the namespace of") });
            if !missing.is_empty() && !args.all {
                anyhow::bail!("no sandbox named {} on the cluster; see `prodbox ls --target kubernetes`", missing.join(", "));
            }
            0
        }
        Command::Ls(_) => {
            let target = KubeTarget::connect(&kube).await?;
            let list = target.list().await?;
            print(&if as_json { render::json(&list) } else { crate::targets::table(&list, Timestamp::now().0) });
            0
        }
        Command::Gc(_) => {
            let target = KubeTarget::connect(&kube).await?;
            let removed = target.gc(Timestamp::now().0).await?;
            print(&if as_json { render::json(&removed) } else { lines(&removed, "expired; deleted the namespace of") });
            0
        }
        Command::Logs(args) => {
            let target = KubeTarget::connect(&kube).await?;
            let role = if args.candidate { Role::Candidate } else { Role::App };
            if args.follow {
                let ns = target.namespace(&args.name)?;
                follow_logs(&target, &ns, role_pod(role), args.tail).await?;
            } else {
                print(&target.logs(&args.name, role, args.tail).await?);
            }
            0
        }
        Command::PortForward(args) => {
            let target = KubeTarget::connect(&kube).await?;
            let ns = target.namespace(&args.name)?;
            let pod = role_pod(if args.candidate { Role::Candidate } else { Role::App });
            let pods: Api<Pod> = Api::namespaced(target.client.clone(), &ns);
            let p = pods.get_opt(pod).await?.with_context(|| {
                format!("no pod {pod} in namespace {ns}; is sandbox {} up? see `prodbox ls --target kubernetes`", args.name)
            })?;
            let mut ports: Vec<(u16, u16)> = container_ports(&p).into_iter().map(|c| (c, 0)).collect();
            for spec in &args.publish {
                let m = profile::parse_port_mapping(spec)
                    .ok_or_else(|| UsageError(format!("-p {spec}: want HOST:CONTAINER or CONTAINER")))?;
                ports.retain(|(c, _)| *c != m.container);
                ports.push((m.container, m.host));
            }
            let fwd = crate::targets::kubernetes::portforward::bind(pods, pod, &ports).await?;
            print(&urls_text(&fwd.ports));
            eprintln!("forwarding to {ns}/{pod}; Ctrl-C stops");
            tokio::select! {
                r = fwd.hold() => r?,
                _ = tokio::signal::ctrl_c() => {}
            }
            0
        }
        Command::Exec(args) => {
            let target = KubeTarget::connect(&kube).await?;
            let role = if args.candidate { Role::Candidate } else { Role::App };
            let (code, output) = SandboxTarget::exec(&target, &args.name, role, &args.command).await?;
            print(&output);
            code.clamp(0, 255) as u8
        }
        Command::Verify(args) => {
            let mut target = KubeTarget::connect(&kube).await?;
            target.relay_image = crate::settings::relay_image().map_err(UsageError)?.map(|(image, _)| image);
            let probes = SandboxTarget::verify(&target, &args.name, &args.targets).await?;
            print(&if as_json { render::json(&probes) } else { probes_text(&probes) });
            if probes.iter().any(|p| p.must_block && p.open) {
                1
            } else {
                0
            }
        }
        Command::Diff(_) => {
            return Err(UsageError(
                "diff is not implemented on the kubernetes target yet; port-forward both pods and compare by hand meanwhile (see docs/kubernetes.md)".into(),
            )
            .into())
        }
        other => return Ok(Dispatched::Engine(Box::new(other))),
    };
    Ok(Dispatched::Done(code))
}

fn print(text: &str) {
    let mut out = std::io::stdout();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn lines(names: &[String], what: &str) -> String {
    names.iter().map(|n| format!("{what} sandbox {n}\n")).collect()
}

fn probes_text(probes: &[crate::targets::Probe]) -> String {
    probes
        .iter()
        .map(|p| {
            let verdict = match (p.open, p.must_block) {
                (false, _) => "blocked",
                (true, true) => "OPEN (isolation broken)",
                (true, false) => "open",
            };
            format!("{:<32} {:<24} {}\n", p.target, verdict, p.what)
        })
        .collect()
}

fn container_ports(p: &Pod) -> Vec<u16> {
    p.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| u16::try_from(p.container_port).ok())
        .collect()
}

fn urls_text(ports: &[(u16, u16)]) -> String {
    ports.iter().map(|(c, l)| format!("http://127.0.0.1:{l} -> port {c}\n")).collect()
}

async fn follow_logs(target: &KubeTarget, ns: &str, pod: &str, tail: Option<usize>) -> anyhow::Result<()> {
    let params = LogParams { follow: true, tail_lines: tail.map(|t| t as i64), ..Default::default() };
    let stream = Api::<Pod>::namespaced(target.client.clone(), ns).log_stream(pod, &params).await?;
    let mut lines = stream.lines();
    while let Some(line) = lines.next().await {
        println!("{}", line?);
    }
    Ok(())
}

/// `up --target kubernetes`: resolve, check the manifest by digest,
/// sanitize, create the namespace and its objects, wait for Ready, then
/// (without `-d`) forward the ports and stream the logs until Ctrl-C.
async fn up(settings: &Settings, args: &UpArgs, kube: &KubeTargetSettings) -> anyhow::Result<u8> {
    let req = UpRequest::new(args)?;
    let ttl = match &args.ttl {
        Some(t) => parse_ttl(t).map_err(UsageError)?,
        None => DEFAULT_TTL,
    };
    let progress = ui::Terminal::new(settings.quiet);
    let started = Instant::now();
    let (spec, mut report) = prepare(settings, &req, &progress).await?;
    let target = KubeTarget::connect(kube).await?;
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
    report.detached = args.detach;
    if let Some(path) = &req.save {
        crate::commands::up::repro_of(&report).write(path)?;
        report.saved = Some(path.clone());
    }
    let pods: Api<Pod> = Api::namespaced(target.client.clone(), &made.location);
    if args.detach {
        report.chosen.push_str(&format!(
            "; on the cluster in namespace {} until {}; reach it with `prodbox port-forward {} --target kubernetes`",
            made.location,
            Timestamp(Timestamp::now().0 + ttl.as_secs() as i64),
            spec.name
        ));
        print(&if settings.json { render::json(&report) } else { render::up_report(&report, true) });
        return Ok(0);
    }
    let wanted: Vec<(u16, u16)> = spec.ports.iter().map(|p| (p.container, p.host)).collect();
    let fwd =
        crate::targets::kubernetes::portforward::bind(pods, crate::targets::kubernetes::objects::APP_POD, &wanted)
            .await?;
    report.ports = fwd.ports.clone();
    report.urls = fwd.ports.iter().map(|(_, l)| format!("http://127.0.0.1:{l}")).collect();
    print(&if settings.json { render::json(&report) } else { render::up_report(&report, false) });
    let ns = made.location.clone();
    let outcome = tokio::select! {
        r = fwd.hold() => r.map(|_| 1),
        r = follow_logs(&target, &ns, crate::targets::kubernetes::objects::APP_POD, None) => r.map(|_| 1),
        _ = tokio::signal::ctrl_c() => Ok(0),
    };
    let _ = target.down(&spec.name).await;
    eprintln!("\nstopped; deleted namespace {ns}");
    outcome
}

/// Resolve → manifest by digest → sanitize → the spec and the report to print.
async fn prepare(
    settings: &Settings,
    req: &UpRequest,
    progress: &dyn Progress,
) -> anyhow::Result<(SandboxSpec, UpReport)> {
    let mut profile = Profile::find(&settings.profile_dirs, &req.service)?;
    if let Some(env) = &req.environment {
        profile.environment = env.clone();
    }
    progress.step(&format!("resolving {} in {}", profile.service, profile.environment));
    let mut chosen = resolve::choose(&profile, &req.pick, &settings.registry).await?;
    let record = chosen.record.clone();
    let memory = profile.run.memory.or(record.limits.memory);
    let cpus = profile.run.cpus.or(record.limits.cpus);
    if profile.run.memory.is_none() && record.limits.memory.is_some() {
        chosen.why.push_str("; memory limit from production");
    }
    let platform = profile.image.platform.clone().unwrap_or_else(|| "linux/amd64".into());
    progress.step(&format!("reading manifest {}", record.image.pinned()));
    let creds = auth::for_registry(&record.image.registry)?;
    let facts = fetch::inspect_remote(&record.image, &platform, &creds, &settings.registry).await?;

    progress.step("sanitizing production's configuration");
    let clean = sanitize::sanitize(&record.config, &profile.sanitize)?;
    if req.strict || profile.sanitize.strict {
        let unnamed = clean.unnamed_redactions();
        if !unnamed.is_empty() {
            let names: Vec<&str> = unnamed.iter().map(|d| d.name.as_str()).collect();
            anyhow::bail!(
                "strict: {} value(s) would be redacted that {} does not name: {}",
                names.len(),
                profile.path.display(),
                names.join(", ")
            );
        }
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
    let mut ports = profile.run.ports.clone();
    if ports.is_empty() {
        ports = facts.exposed_ports.iter().map(|&c| PortSpec { host: 0, container: c }).collect();
    }
    for extra in &req.publish {
        ports.retain(|p| p.container != extra.container);
        ports.push(*extra);
    }
    // The kubelet ignores Docker's HEALTHCHECK: the profile's check, else the first port.
    let health = HealthPlan::choose(
        profile.run.health.as_ref(),
        false,
        ports.first().map(|p| p.container),
        engine::EngineKind::Docker,
    );
    if let HealthPlan::Http { port, .. } | HealthPlan::Tcp { port, .. } = &health {
        if !ports.iter().any(|p| p.container == *port) {
            ports.push(PortSpec { host: 0, container: *port });
        }
    }
    let digest = record.image.digest.clone().unwrap_or_default();
    let revision =
        record.revision.clone().or_else(|| facts.label("org.opencontainers.image.revision").map(str::to_string));
    let spec = SandboxSpec {
        name: req.sandbox_name(),
        deploy: crate::identity::Identity {
            service: profile.service.clone(),
            environment: profile.environment.clone(),
            image: record.image.pinned(),
            digest,
            deployed_at: record.deployed_at.clone(),
            deployed_by: record.deployed_by.clone(),
            revision,
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
        stop_timeout: profile.run.stop_timeout.as_secs() as u32,
        dependencies: profile.dependencies.clone(),
        extra_labels: req.labels.clone(),
        candidate,
        egress: profile.run.egress.clone(),
    };
    let report = UpReport {
        name: spec.name.to_string(),
        deploy: spec.deploy.clone(),
        platform: facts.platform.clone(),
        size: facts.size,
        source: facts.label("org.opencontainers.image.source").map(str::to_string),
        version: facts.label("org.opencontainers.image.version").map(str::to_string),
        created: facts.created.clone(),
        downloaded: false,
        health: health.clone(),
        urls: Vec::new(),
        ports: Vec::new(),
        chosen: chosen.why,
        candidate: None,
        sanitized: crate::commands::up::ConfigCounts::of(&clean.decisions),
        decisions: clean.decisions,
        seconds: 0.0,
        stop: String::new(),
        profile_hash: profile.hash.clone(),
        egress: None,
        saved: None,
        detached: true,
    };
    Ok((spec, report))
}
