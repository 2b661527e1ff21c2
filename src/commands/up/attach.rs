//! Foreground `up`: SIGINT, SIGTERM or SIGHUP while the sandbox is being
//! made removes what this run made (after the creates in flight land) and
//! exits 128 + the signal; after the report, the app's logs are streamed
//! until it stops or a signal comes, and then the sandbox is removed. With
//! `--json` the logs go to stderr so stdout holds the JSON alone.

use super::{UpReport, UpRequest};
use crate::cli::UpArgs;
use crate::commands::Ctx;
use crate::interrupt::{Interrupted, Signals};
use crate::sandbox::{self, labels::Role, logs};

/// Runs `up`, removing the half-made sandbox on a signal.
pub async fn run_interruptible(ctx: &Ctx, args: &UpArgs) -> anyhow::Result<UpReport> {
    // Before anything is made: from here on a signal is ours to handle.
    let mut signals = Signals::install()?;
    let req = UpRequest::new(args)?;
    let mut report = tokio::select! {
        r = super::run(ctx, &req) => r?,
        signal = signals.recv() => {
            let what = remove_after_interrupt(ctx, &req).await;
            return Err(Interrupted { signal, what }.into());
        }
    };
    report.detached = args.detach;
    Ok(report)
}

/// Streams the app's logs until it stops (exit 1) or a signal (exit 128 +
/// its number); either way the sandbox is removed.
pub async fn follow(ctx: &Ctx, name: &str) -> anyhow::Result<u8> {
    let mut signals = Signals::install()?;
    let engine = ctx.engine().await?;
    let sink = if ctx.settings.json { logs::Sink::Stderr } else { logs::Sink::Split };
    tokio::select! {
        r = logs::stream(engine, name, Role::App, true, None, sink) => {
            r?;
            let _ = sandbox::remove(engine, name).await;
            eprintln!("the app stopped; removed sandbox {name}");
            Ok(1)
        }
        signal = signals.recv() => {
            let _ = sandbox::remove(engine, name).await;
            eprintln!("\n{}: stopped and removed sandbox {name}", signal.name());
            Ok(signal.exit_code())
        }
    }
}

/// After a signal during `up`: remove whatever this run made so far.
async fn remove_after_interrupt(ctx: &Ctx, req: &UpRequest) -> String {
    let name = &req.name;
    match ctx.engine().await {
        Ok(engine) => {
            if super::remove_own(engine, req).await.is_empty() {
                "interrupted: nothing was created".into()
            } else {
                format!("interrupted: removed the half-made sandbox {name}")
            }
        }
        Err(_) => format!("interrupted: run `prodbox gc` to remove what sandbox {name} left"),
    }
}
