//! The command line: clap structs only. Nothing here does work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Run production's exact build in an isolated local sandbox.
#[derive(Debug, Parser)]
#[command(name = "prodbox", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Profiles directory [default: ./profiles, then $XDG_CONFIG_HOME/prodbox/profiles]
    #[arg(long, global = true, value_name = "DIR", env = "PRODBOX_PROFILES")]
    pub profiles: Option<PathBuf>,
    /// Print results as JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,
    /// More detail on stderr (-v, -vv)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// A registry (host[:port]) that may be reached over plain HTTP besides loopback ones
    #[arg(long = "insecure-registry", global = true, value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,
}

// Parsed once and matched once: boxing the big variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Resolve, fetch, sanitize and run production's build in a sandbox
    Up(UpArgs),
    /// Stop and remove sandboxes and everything they made
    Down(DownArgs),
    /// List sandboxes
    Ls(TargetArg),
    /// Show the app's logs
    Logs(LogsArgs),
    /// Run a command in the app container
    Exec(ExecArgs),
    /// What production runs for a service, or what a sandbox runs
    Inspect(InspectArgs),
    /// Check the Docker engine, registry credentials and profiles
    Doctor,
    /// List profiles, or validate them
    Profiles(ProfilesArgs),
    /// Remove prodbox resources whose sandbox is gone (on a cluster: whose --ttl passed)
    Gc(TargetArg),
    /// Reach a cluster sandbox on 127.0.0.1 through the API server (kubernetes target)
    PortForward(PortForwardArgs),
    /// Past deploys of a service, newest first
    History(HistoryArgs),
    /// Compare production's build and the candidate of a sandbox
    Diff(DiffArgs),
    /// Probe a sandbox's isolation from inside its network
    Verify(VerifyArgs),
    /// What a sandbox tried to reach outside itself (recorded, never delivered)
    Egress(EgressArgs),
    /// Run the sanitizer alone on local files: print its decisions (never values)
    Sanitize(SanitizeArgs),
    /// Push a deploy record as an OCI artifact beside the image it names
    Record(RecordArgs),
    /// Print a shell completion script
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct SanitizeArgs {
    /// Config files, read in the format their names say (JSON, YAML, TOML, XML, INI, .properties, .env, text)
    pub files: Vec<PathBuf>,
    /// KEY=VALUE lines to sanitize as the env
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// Take the [sanitize] rules of this profile (a service name or a path)
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Write the sanitized copies into DIR
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Exit 1 when a value was redacted that no rule of the profile names
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// The service (its profile is profiles/SERVICE.toml)
    #[arg(required_unless_present = "from", value_parser = crate::name::plain_arg)]
    pub service: Option<String>,
    /// Run the deploy that was live at TIME: RFC 3339, "2026-11-20 14:05" (in --tz), "2026-11-20 14:05 Europe/Berlin", "+01:00", a date, "2h ago", "yesterday 14:05"
    #[arg(long, value_name = "TIME", group = "pin")]
    pub at: Option<String>,
    /// The time zone --at is read in [default: $TZ, else the system's]
    #[arg(long, value_name = "ZONE", requires = "at")]
    pub tz: Option<String>,
    /// Run the newest deploy of this revision (a prefix is enough)
    #[arg(long, value_name = "REV", group = "pin", value_parser = crate::args::non_empty)]
    pub revision: Option<String>,
    /// Run the deploy of this digest (sha256:…, a prefix of 12+ hex is enough)
    #[arg(long, value_name = "DIGEST", group = "pin")]
    pub digest: Option<String>,
    /// Also run this build (a local image such as checkout:fix, or a registry reference) beside production's
    #[arg(long, value_name = "IMAGE", value_parser = crate::args::non_empty)]
    pub candidate: Option<String>,
    /// Write a repro file (service, digest, deploy time, profile hash; no config values)
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Run exactly what a repro file names
    #[arg(long, value_name = "FILE", group = "pin", conflicts_with = "service")]
    pub from: Option<PathBuf>,
    /// Return once healthy instead of streaming logs
    #[arg(short, long)]
    pub detach: bool,
    /// Environment to resolve [default: the profile's]
    #[arg(long, value_name = "ENV", value_parser = crate::name::plain_arg)]
    pub env: Option<String>,
    /// Sandbox name [default: the service]
    #[arg(long, value_parser = crate::name::sandbox_arg)]
    pub name: Option<String>,
    /// Extra port to publish on 127.0.0.1 (HOST:CONTAINER or CONTAINER)
    #[arg(short = 'p', long = "publish", value_name = "HOST:CONTAINER")]
    pub publish: Vec<String>,
    /// Extra label KEY=VALUE on everything this sandbox creates
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Refuse to start while any value is redacted that the profile does not name
    #[arg(long)]
    pub strict: bool,
    /// On a cluster: how long until `gc` may remove the sandbox (90m, 8h, 2d) [default: 8h]
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,
    #[command(flatten)]
    pub target: TargetArg,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Sandboxes to remove
    #[arg(value_parser = crate::name::sandbox_arg)]
    pub names: Vec<String>,
    /// Remove every sandbox
    #[arg(long, conflicts_with = "names")]
    pub all: bool,
    /// With --all: only the sandboxes made with this `up --label KEY=VALUE`
    #[arg(long = "label", value_name = "KEY=VALUE", requires = "all")]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub target: TargetArg,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    #[arg(value_parser = crate::name::sandbox_arg)]
    pub name: String,
    /// The candidate's logs instead of the app's
    #[arg(long)]
    pub candidate: bool,
    /// Follow the output
    #[arg(short, long)]
    pub follow: bool,
    /// Lines from the end
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
    #[command(flatten)]
    pub target: TargetArg,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[arg(value_parser = crate::name::sandbox_arg)]
    pub name: String,
    /// In the candidate container instead of the app's
    #[arg(long)]
    pub candidate: bool,
    /// The command and its arguments
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
    #[command(flatten)]
    pub target: TargetArg,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A sandbox name, or a service to resolve
    #[arg(value_parser = crate::name::plain_arg)]
    pub target: String,
}

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    #[command(subcommand)]
    pub action: Option<ProfilesAction>,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesAction {
    /// Validate every profile; errors as file:line:column
    Validate,
    /// Print the JSON Schema of profile files
    Schema,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[arg(value_parser = crate::name::plain_arg)]
    pub service: String,
    /// Environment [default: the profile's]
    #[arg(long, value_name = "ENV", value_parser = crate::name::plain_arg)]
    pub env: Option<String>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The sandbox (started with --candidate)
    #[arg(value_parser = crate::name::sandbox_arg)]
    pub name: String,
    /// A request sent to both, e.g. 'GET /cart/42' (repeatable)
    #[arg(long = "request", value_name = "'METHOD PATH'")]
    pub requests: Vec<String>,
    /// A file of requests, one per line: METHOD PATH [Header:value…] [body]
    #[arg(long = "requests", value_name = "FILE")]
    pub requests_file: Option<PathBuf>,
    /// The container port to send them to [default: the first]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// A deploy record (JSON) whose image is pinned by digest
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[arg(value_parser = crate::name::sandbox_arg)]
    pub name: String,
    /// Also probe this address (repeatable)
    #[arg(long = "target", value_name = "HOST:PORT", value_parser = crate::args::probe_target)]
    pub targets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EgressArgs {
    pub name: String,
    /// Keep printing attempts as they happen
    #[arg(short, long)]
    pub follow: bool,
}

/// Where sandboxes run, for the commands that create or find them.
#[derive(Debug, Args, Default)]
pub struct TargetArg {
    /// engine (the local Docker/Podman, default), kubernetes or kubernetes:CONTEXT [default: the settings file's target]
    #[arg(long, value_name = "KIND[:CONTEXT]")]
    pub target: Option<String>,
}

#[derive(Debug, Args)]
pub struct PortForwardArgs {
    /// The sandbox (started with `up -d --target kubernetes`)
    #[arg(value_parser = crate::name::sandbox_arg)]
    pub name: String,
    /// The candidate's ports instead of the app's
    #[arg(long)]
    pub candidate: bool,
    /// Local port for a container port (HOST:CONTAINER); others get free ports
    #[arg(short = 'p', long = "publish", value_name = "HOST:CONTAINER")]
    pub publish: Vec<String>,
    #[command(flatten)]
    pub target: TargetArg,
}
