//! One file per command. Every command takes a [`Ctx`] and returns a value
//! that is `Serialize` (the `--json` form) and knows its human rendering and
//! its exit code ([`Rendered`]); `main.rs` only dispatches and prints.

pub mod diff;
pub mod doctor;
pub mod down;
pub mod egress;
pub mod exec;
pub mod gc;
pub mod history;
pub mod inspect;
pub mod logs;
pub mod ls;
pub mod port_forward;
pub mod profiles;
pub mod record;
pub mod sanitize;
pub mod up;
pub mod verify;

use std::sync::Arc;

use clap::CommandFactory;

use crate::cli::{Cli, Command, ProfilesAction};
use crate::engine::{Engine, EngineError};
use crate::error::UsageError;
use crate::progress::Progress;
use crate::settings::Settings;
use crate::targets::{engine::EngineTarget, kubernetes::KubeTarget, SandboxTarget, TargetKind};

/// What every command runs with: the validated settings, the engine
/// (connected once, on first use), and where progress goes.
pub struct Ctx {
    /// Flags and environment, validated.
    pub settings: Settings,
    engine: tokio::sync::OnceCell<Engine>,
    /// Where stages report progress (the terminal's bars or lines).
    pub progress: Arc<dyn Progress>,
}

impl Ctx {
    /// A context whose engine is not connected yet.
    pub fn new(settings: Settings, progress: Arc<dyn Progress>) -> Ctx {
        Ctx { settings, engine: tokio::sync::OnceCell::new(), progress }
    }

    /// The engine, connected on the first
    /// call, within [`engine_deadline`](crate::limits::engine_deadline).
    pub async fn engine(&self) -> Result<&Engine, EngineError> {
        self.engine_within(crate::limits::engine_deadline()).await
    }

    /// [`Ctx::engine`] with a deadline of its own (`doctor` waits less):
    /// an engine that does not answer in time cannot be reached (exit 3).
    pub async fn engine_within(&self, limit: std::time::Duration) -> Result<&Engine, EngineError> {
        self.engine
            .get_or_try_init(|| async move {
                match tokio::time::timeout(limit, Engine::connect()).await {
                    Ok(connected) => connected,
                    Err(_) => Err(EngineError::Unreachable {
                        address: crate::engine::address(),
                        detail: format!(
                            "no answer within {}s; set PRODBOX_ENGINE_TIMEOUT (e.g. 2m) to wait longer",
                            limit.as_secs()
                        ),
                    }),
                }
            })
            .await
    }
}

impl Ctx {
    /// Where a sandbox command runs: `flag` (`--target`), else the settings
    /// file's `target`, else the local engine.
    pub fn target_kind(&self, flag: Option<&str>) -> Result<TargetKind, UsageError> {
        let setting = crate::settings::target_setting().map_err(UsageError)?;
        TargetKind::choose(flag, setting.as_ref()).map_err(|e| UsageError(e.to_string()))
    }

    /// The target `flag` names (see [`Ctx::target_kind`]), connected.
    pub async fn target(&self, flag: Option<&str>) -> anyhow::Result<Box<dyn SandboxTarget + '_>> {
        Ok(match self.target_kind(flag)? {
            TargetKind::Engine => Box::new(EngineTarget::new(self.engine().await?)),
            TargetKind::Kubernetes(cluster) => Box::new(KubeTarget::connect(&cluster).await?),
        })
    }
}

/// A command's result: its JSON form (`Serialize`), its human form, its exit code.
pub trait Rendered: serde::Serialize {
    /// What stdout shows without `--json`.
    fn human(&self) -> String;
    /// The exit code this result means (0 unless the verdict is a failure).
    fn exit_code(&self) -> u8 {
        0
    }
    /// Lines for stderr (problems found that are part of the result).
    fn stderr(&self) -> Vec<String> {
        Vec::new()
    }
    /// Whether the result has a JSON form (a shell script or a stream has none).
    fn has_json(&self) -> bool {
        true
    }
    /// The sandbox to stay attached to after printing (foreground `up`).
    fn attach(&self) -> Option<String> {
        None
    }
}

/// The object-safe face of [`Rendered`], for `main` to print any result.
pub trait Report {
    /// The `--json` form.
    fn json(&self) -> Option<serde_json::Value>;
    /// See [`Rendered`].
    fn human(&self) -> String;
    /// See [`Rendered`].
    fn exit_code(&self) -> u8;
    /// See [`Rendered`].
    fn stderr(&self) -> Vec<String>;
    /// See [`Rendered`].
    fn attach(&self) -> Option<String>;
}

impl<T: Rendered> Report for T {
    fn json(&self) -> Option<serde_json::Value> {
        self.has_json().then(|| serde_json::to_value(self).expect("serializable"))
    }
    fn human(&self) -> String {
        Rendered::human(self)
    }
    fn exit_code(&self) -> u8 {
        Rendered::exit_code(self)
    }
    fn stderr(&self) -> Vec<String> {
        Rendered::stderr(self)
    }
    fn attach(&self) -> Option<String> {
        Rendered::attach(self)
    }
}

/// Text printed as it is, with no JSON form (completion scripts, raw output).
#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
pub struct Text {
    /// Printed on stdout as it is.
    pub text: String,
    /// The exit code.
    #[serde(skip)]
    pub code: u8,
}

impl Rendered for Text {
    fn human(&self) -> String {
        self.text.clone()
    }
    fn exit_code(&self) -> u8 {
        self.code
    }
    fn has_json(&self) -> bool {
        false
    }
}

/// Runs one command. The sandbox commands run on the target `--target` or
/// the settings name ([`Ctx::target`]); the others on the engine.
pub async fn dispatch(ctx: &Ctx, command: Command) -> anyhow::Result<Box<dyn Report>> {
    Ok(match command {
        Command::Up(args) => match ctx.target_kind(args.target.target.as_deref())? {
            TargetKind::Engine => Box::new(up::attach::run_interruptible(ctx, &args).await?),
            TargetKind::Kubernetes(cluster) => up::cluster::run(ctx, &args, &cluster).await?,
        },
        Command::Down(args) => {
            let target = ctx.target(args.target.target.as_deref()).await?;
            Box::new(down::run(target.as_ref(), &args.names, args.all, &args.labels).await?)
        }
        Command::Ls(flag) => Box::new(ls::run(ctx.target(flag.target.as_deref()).await?.as_ref()).await?),
        Command::Logs(args) => {
            let target = ctx.target(args.target.target.as_deref()).await?;
            Box::new(logs::run(target.as_ref(), &args.name, args.candidate, args.follow, args.tail).await?)
        }
        Command::Exec(args) => {
            let target = ctx.target(args.target.target.as_deref()).await?;
            Box::new(exec::run(target.as_ref(), &args.name, args.candidate, &args.command).await?)
        }
        Command::Inspect(args) => Box::new(inspect::run(ctx, &args.target).await?),
        Command::Doctor => Box::new(doctor::run(ctx).await),
        Command::Profiles(args) => match args.action {
            Some(ProfilesAction::Schema) => Box::new(profiles::Schema(crate::profile::json_schema())),
            Some(ProfilesAction::Validate) => Box::new(profiles::run(&ctx.settings, true)?),
            None => Box::new(profiles::run(&ctx.settings, false)?),
        },
        Command::Gc(flag) => Box::new(gc::run(ctx.target(flag.target.as_deref()).await?.as_ref()).await?),
        Command::PortForward(args) => Box::new(port_forward::run(ctx, &args).await?),
        Command::History(args) => Box::new(history::run(ctx, &args.service, args.env.as_deref()).await?),
        Command::Diff(args) => {
            if let TargetKind::Kubernetes(_) = ctx.target_kind(None)? {
                return Err(UsageError(
                    "diff is not implemented on the kubernetes target yet; port-forward both pods and compare by hand meanwhile (see docs/kubernetes.md)".into(),
                )
                .into());
            }
            Box::new(diff::run(ctx, &args.name, args.requests, args.requests_file.as_deref(), args.port).await?)
        }
        Command::Verify(args) => {
            Box::new(verify::run(ctx.target(None).await?.as_ref(), &args.name, &args.targets).await?)
        }
        Command::Egress(_) if matches!(ctx.target_kind(None)?, TargetKind::Kubernetes(_)) => {
            return Err(UsageError(
                "egress is recorded by the engine's sinkhole; on the kubernetes target the NetworkPolicy refuses it unrecorded (see docs/kubernetes.md)".into(),
            )
            .into())
        }
        Command::Egress(args) if args.follow => Box::new(egress::follow(ctx, &args.name).await?),
        Command::Egress(args) => Box::new(egress::run(ctx, &args.name).await?),
        Command::Sanitize(args) => Box::new(sanitize::run(&ctx.settings, &args)?),
        Command::Record(args) => Box::new(record::run(&ctx.settings, &args.file).await?),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "prodbox", &mut out);
            Box::new(Text { text: String::from_utf8_lossy(&out).into_owned(), code: 0 })
        }
    })
}
