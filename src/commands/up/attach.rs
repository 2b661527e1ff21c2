//! Foreground `up`: Ctrl-C while the sandbox is being made removes what was
//! made; after the report, the app's logs are streamed until it stops or
//! Ctrl-C, and then the sandbox is removed. With `--json` the logs go to
//! stderr so stdout holds the JSON alone.

use super::{UpReport, UpRequest};
use crate::cli::UpArgs;
use crate::commands::{logs, Ctx};
use crate::sandbox::{self, labels::Role};

/// Runs `up`, removing the half-made sandbox on Ctrl-C.
pub async fn run_interruptible(ctx: &Ctx, args: &UpArgs) -> anyhow::Result<UpReport> {
    let req = UpRequest::new(args)?;
    let name = req.sandbox_name();
    let mut report = tokio::select! {
        r = super::run(ctx, &req) => r?,
        _ = tokio::signal::ctrl_c() => {
            let removed = remove_after_interrupt(ctx, &name).await;
            anyhow::bail!("interrupted: {removed}");
        }
    };
    report.detached = args.detach;
    Ok(report)
}

/// Streams the app's logs until it stops (exit 1) or Ctrl-C (exit 0); either
/// way the sandbox is removed.
pub async fn follow(ctx: &Ctx, name: &str) -> anyhow::Result<u8> {
    let engine = ctx.engine().await?;
    let sink = if ctx.settings.json { logs::Sink::Stderr } else { logs::Sink::Split };
    tokio::select! {
        r = logs::stream(engine, name, Role::App, true, None, sink) => {
            r?;
            let _ = sandbox::remove(engine, name).await;
            eprintln!("the app stopped; removed sandbox {name}");
            Ok(1)
        }
        _ = tokio::signal::ctrl_c() => {
            let _ = sandbox::remove(engine, name).await;
            eprintln!("\nstopped and removed sandbox {name}");
            Ok(0)
        }
    }
}

/// After Ctrl-C during `up`: remove whatever the sandbox got so far.
async fn remove_after_interrupt(ctx: &Ctx, name: &str) -> String {
    match ctx.engine().await {
        Ok(engine) => match sandbox::remove(engine, name).await {
            Ok(r) if r.is_empty() => "nothing was created".into(),
            Ok(_) => format!("removed the half-made sandbox {name}"),
            Err(e) => format!("could not remove sandbox {name} ({e}); run `prodbox gc`"),
        },
        Err(_) => format!("run `prodbox gc` to remove what sandbox {name} left"),
    }
}
