//! prodbox's entry point: parse → dispatch → render → exit code.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use prodbox::cli::Cli;
use prodbox::commands::{self, Ctx};
use prodbox::settings::Settings;
use prodbox::{error, render, ui};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let settings = Settings::new(&cli.global);
    init_logging(&settings);
    let ctx = Ctx::new(settings, Arc::new(ui::Terminal::new(cli.global.quiet)));
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    let outcome = runtime.block_on(async {
        let report = commands::dispatch(&ctx, cli.command).await?;
        render::emit(ctx.settings.json, report.as_ref());
        match report.attach() {
            Some(name) => commands::up::attach::follow(&ctx, &name).await,
            None => Ok(report.exit_code()),
        }
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let diagnosis = error::diagnose(&err);
            eprintln!("{}", diagnosis.text);
            ExitCode::from(diagnosis.code)
        }
    }
}

fn init_logging(settings: &Settings) {
    let level = match (settings.quiet, settings.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "prodbox=debug,warn",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PRODBOX_LOG").unwrap_or_else(|_| level.into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::env::var_os("NO_COLOR").is_none() && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
