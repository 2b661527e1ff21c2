//! prodbox's entry point: parse, run, render one error, pick the exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use prodbox::cli::{Cli, Command, ProfilesAction};
use prodbox::commands::{self, up::UpRequest};
use prodbox::settings::Settings;
use prodbox::{error, render, ui};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let settings = Settings::new(&cli.global);
    init_logging(&settings);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    match runtime.block_on(run(cli.command, &settings)) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("{}", error::render(&err));
            ExitCode::from(error::exit_code(&err) as u8)
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

fn print(text: &str) {
    let mut out = std::io::stdout();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

async fn run(command: Command, settings: &Settings) -> anyhow::Result<u8> {
    let as_json = settings.json;
    match command {
        Command::Up(args) => {
            let req = UpRequest::new(&args)?;
            let progress = ui::Terminal::new(settings.quiet);
            let name = req.sandbox_name();
            let report = tokio::select! {
                r = commands::up::run(settings, &req, &progress) => r?,
                _ = tokio::signal::ctrl_c() => {
                    let removed = remove_after_interrupt(&name).await;
                    anyhow::bail!("interrupted: {removed}");
                }
            };
            print(&if as_json { render::json(&report) } else { render::up_report(&report, args.detach) });
            if args.detach {
                return Ok(0);
            }
            let engine = prodbox::engine::Engine::connect().await?;
            tokio::select! {
                r = commands::logs::stream(&engine, &name, prodbox::sandbox::labels::ROLE_APP, true, None) => {
                    r?;
                    let _ = prodbox::sandbox::remove(&engine, &name).await;
                    eprintln!("the app stopped; removed sandbox {name}");
                    Ok(1)
                }
                _ = tokio::signal::ctrl_c() => {
                    let _ = prodbox::sandbox::remove(&engine, &name).await;
                    eprintln!("\nstopped and removed sandbox {name}");
                    Ok(0)
                }
            }
        }
        Command::Down(args) => {
            let removed = commands::down::run(&args.names, args.all).await?;
            print(&if as_json { render::json(&removed) } else { render::removed(&removed, "remove") });
            Ok(0)
        }
        Command::Ls => {
            let list = commands::ls::run().await?;
            print(&if as_json { render::json(&list) } else { render::sandboxes(&list) });
            Ok(0)
        }
        Command::Logs(args) => {
            commands::logs::run(&args.name, args.candidate, args.follow, args.tail).await?;
            Ok(0)
        }
        Command::Exec(args) => {
            let (code, output) = commands::exec::run(&args.name, args.candidate, &args.command).await?;
            print(&output);
            Ok(code.clamp(0, 255) as u8)
        }
        Command::Inspect(args) => {
            let found = commands::inspect::run(settings, &args.target).await?;
            print(&if as_json { render::json(&found) } else { render::inspected(&found) });
            Ok(0)
        }
        Command::Doctor => {
            let checks = commands::doctor::run(settings).await;
            print(&if as_json { render::json(&checks) } else { render::checks(&checks) });
            Ok(if checks.iter().all(|c| c.ok) { 0 } else { 1 })
        }
        Command::Profiles(args) => {
            if let Some(ProfilesAction::Schema) = args.action {
                print(&render::json(&prodbox::profile::json_schema()));
                return Ok(0);
            }
            let (list, errors) = commands::profiles::run(settings);
            for e in &errors {
                eprintln!("error: {e}");
            }
            match args.action {
                Some(ProfilesAction::Validate) => {
                    if errors.is_empty() && !as_json {
                        print(&format!("{} profiles valid\n", list.len()));
                    }
                }
                Some(ProfilesAction::Schema) => unreachable!("handled above"),
                None => {
                    if as_json {
                        print(&render::json(&list));
                    } else {
                        for p in &list {
                            print(&format!(
                                "{:<16} {:<12} {:<40} {}\n",
                                p.service, p.environment, p.repository, p.source
                            ));
                        }
                    }
                }
            }
            Ok(if errors.is_empty() { 0 } else { error::USAGE as u8 })
        }
        Command::Gc => {
            let removed = commands::gc::run().await?;
            print(&if as_json { render::json(&removed) } else { render::removed(&removed, "collect") });
            Ok(0)
        }
        Command::History(args) => {
            let deploys = commands::history::run(settings, &args.service, args.env.as_deref()).await?;
            print(&if as_json { render::json(&deploys) } else { render::history(&deploys) });
            Ok(0)
        }
        Command::Diff(args) => {
            let report =
                commands::diff::run(&args.name, args.requests, args.requests_file.as_deref(), args.port).await?;
            print(&if as_json { render::json(&report) } else { render::diff(&report) });
            Ok(if report.same { 0 } else { 1 })
        }
        Command::Verify(args) => {
            let probes = commands::verify::run(&args.name, &args.targets).await?;
            print(&if as_json { render::json(&probes) } else { render::probes(&probes) });
            Ok(if probes.iter().any(|p| p.must_block && p.open) { 1 } else { 0 })
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "prodbox", &mut std::io::stdout());
            Ok(0)
        }
    }
}

/// After Ctrl-C during `up`: remove whatever the sandbox got so far.
async fn remove_after_interrupt(name: &str) -> String {
    match prodbox::engine::Engine::connect().await {
        Ok(engine) => match prodbox::sandbox::remove(&engine, name).await {
            Ok(r) if r.is_empty() => "nothing was created".into(),
            Ok(_) => format!("removed the half-made sandbox {name}"),
            Err(e) => format!("could not remove sandbox {name} ({e}); run `prodbox gc`"),
        },
        Err(_) => format!("run `prodbox gc` to remove what sandbox {name} left"),
    }
}
