//! Profiles: `profiles/<service>.toml`, one per service (SPEC §3).
//!
//! Parsing is strict: unknown keys are errors, and every error names the file,
//! line, column and key. [`Profile::load`] returns a profile whose values are
//! already checked (durations, sizes, ports, source kind), so later stages
//! never re-validate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// A profile that failed to load.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("no profile for service {service:?} in {dirs}; create {first}/{service}.toml or pass --profiles DIR")]
    NotFound { service: String, dirs: String, first: String },
    #[error("{path}: cannot read: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid { path: String, line: usize, column: usize, message: String },
}

/// A parsed and validated profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The file it came from.
    pub path: PathBuf,
    pub service: String,
    pub environment: String,
    pub source: SourceSection,
    pub image: ImageSection,
    pub sanitize: SanitizeSection,
    pub run: RunSection,
    pub dependencies: Vec<Dependency>,
    /// sha256 of the file's bytes, for repro files and reports.
    pub hash: String,
}

/// `[source]`: where prodbox asks what runs, and how its JSON becomes a
/// deploy record. `resolve::source_for` turns it into one source, once.
#[derive(Debug, Clone)]
pub struct SourceSection {
    pub kind: Source,
    /// `[source.map]`: JSON Pointers for simple shapes.
    pub map: BTreeMap<String, String>,
    /// A jq program turning the source's JSON into a record (checked to compile).
    pub filter: Option<String>,
    /// A jq program turning the source's history JSON into records.
    pub history_filter: Option<String>,
}

/// The kind of deploy source and its own settings.
#[derive(Debug, Clone)]
pub enum Source {
    /// A JSON deploy record on disk (path relative to the profile).
    File { path: PathBuf },
    /// An HTTP deploy registry.
    Http { url: String, history_url: Option<String>, token_env: Option<String> },
    /// An external command whose stdout is JSON (run without a shell).
    Command { command: Vec<String>, history_command: Option<Vec<String>>, timeout: Duration, dir: PathBuf },
    /// The OCI registry itself: a tag of `[image].repository`.
    Oci { tag: String, history_tags: Option<String> },
    /// A Deployment or StatefulSet in a Kubernetes cluster.
    Kubernetes {
        /// The kubeconfig context (default: its current context).
        context: Option<String>,
        /// Default: the context's namespace, else "default".
        namespace: Option<String>,
        workload: Workload,
        /// The container to run (default: the only one).
        container: Option<String>,
        /// A kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
        kubeconfig: Option<PathBuf>,
    },
}

/// `workload = "deployment/NAME"` or `"statefulset/NAME"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Workload {
    Deployment(String),
    StatefulSet(String),
}

impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Workload::Deployment(n) => write!(f, "deployment/{n}"),
            Workload::StatefulSet(n) => write!(f, "statefulset/{n}"),
        }
    }
}

impl Source {
    /// One line for listings: the kind and where it asks.
    pub fn describe(&self) -> String {
        match self {
            Source::File { path } => format!("file {}", path.display()),
            Source::Http { url, .. } => format!("http {url}"),
            Source::Command { command, .. } => format!("command {}", command.first().map(String::as_str).unwrap_or("")),
            Source::Oci { tag, .. } => format!("oci tag {tag}"),
            Source::Kubernetes { context, namespace, workload, .. } => format!(
                "kubernetes {}{}/{workload}",
                context.as_deref().map(|c| format!("{c} ")).unwrap_or_default(),
                namespace.as_deref().unwrap_or("(default namespace)")
            ),
        }
    }
}

/// `[image]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageSection {
    /// The only repository a deploy record may name.
    pub repository: String,
    /// `os/arch[/variant]`; default: the record's, else the engine's.
    pub platform: Option<String>,
}

/// `[sanitize]`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SanitizeSection {
    #[serde(default)]
    pub keep: Vec<String>,
    #[serde(default)]
    pub drop: Vec<String>,
    #[serde(default)]
    pub prod_hosts: Vec<String>,
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    #[serde(default)]
    pub hosts: BTreeMap<String, String>,
    #[serde(default)]
    pub strict: bool,
}

/// `[run]`, validated.
#[derive(Debug, Clone, Default)]
pub struct RunSection {
    pub ports: Vec<PortSpec>,
    pub health: Option<Health>,
    /// Bytes.
    pub memory: Option<i64>,
    pub cpus: Option<f64>,
    pub read_only: bool,
    pub cap_add: Vec<String>,
    /// How the egress sinkhole answers (`egress = { http_status = 503 }`).
    pub egress: EgressPolicy,
    /// How long `down` lets the app stop on SIGTERM before it is killed
    /// (`stop_timeout = "10s"`); zero, the default, kills it at once: a
    /// sandbox holds nothing worth a graceful stop.
    pub stop_timeout: Duration,
}

/// `[run] egress`: how the sandbox's egress sinkhole answers what it accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EgressPolicy {
    /// Answer HTTP requests with this status (e.g. 503) instead of closing the connection.
    pub http_status: Option<u16>,
}

/// A container port published on 127.0.0.1; `host` 0 means "any free port".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSpec {
    pub host: u16,
    pub container: u16,
}

/// How to tell the app is ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Http { path: String, port: u16, timeout: Duration },
    Tcp { port: u16, timeout: Duration },
}

/// `[[dependencies]]`: a sibling container on the sandbox network.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    pub name: String,
    pub image: String,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Capabilities given back (every one is dropped, as for the app): a
    /// database that starts as root and drops to its user needs
    /// `["CHOWN", "SETUID", "SETGID", "DAC_OVERRIDE", "FOWNER"]`.
    #[serde(default)]
    pub cap_add: Vec<String>,
}

// ---- the file as written -------------------------------------------------

/// A profile file as written (`prodbox profiles schema` prints its JSON Schema).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "prodbox profile")]
struct RawProfile {
    /// Default: the file's stem.
    service: Option<String>,
    /// Default: production.
    environment: Option<String>,
    #[schemars(with = "RawSource")]
    source: toml::Spanned<RawSource>,
    image: ImageSection,
    #[serde(default)]
    sanitize: SanitizeSection,
    #[serde(default)]
    #[schemars(with = "Option<RawRun>")]
    run: Option<toml::Spanned<RawRun>>,
    #[serde(default)]
    dependencies: Vec<Dependency>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawSource {
    /// file | http | command | oci | kubernetes
    kind: String,
    /// file: a JSON record, or a folder of `<environment>.json` (relative to the profile).
    path: Option<String>,
    /// http: the record's URL (`{service}`, `{environment}` filled in).
    url: Option<String>,
    /// http: where history is (default: url + "/history").
    history_url: Option<String>,
    /// http: the variable holding a bearer token.
    token_env: Option<String>,
    /// command: program and arguments, run without a shell (`{service}`, `{environment}`, `{at}`).
    command: Option<Vec<String>>,
    /// command: the program printing past deploys.
    history_command: Option<Vec<String>>,
    /// command: how long it may run (default "30s").
    timeout: Option<String>,
    /// oci: the tag of [image].repository that production runs (`{service}`, `{environment}`).
    tag: Option<String>,
    /// oci: a glob of tags whose deploys are history, e.g. "prod-*".
    history_tags: Option<String>,
    /// kubernetes: the kubeconfig context (default: the current one).
    context: Option<String>,
    /// kubernetes: the namespace (default: the context's, else "default").
    namespace: Option<String>,
    /// kubernetes: "deployment/NAME" or "statefulset/NAME" (`{service}`, `{environment}`).
    workload: Option<String>,
    /// kubernetes: the container to run (default: the only one).
    container: Option<String>,
    /// kubernetes: a kubeconfig file, relative to the profile (default: $KUBECONFIG, else ~/.kube/config).
    kubeconfig: Option<String>,
    /// JSON Pointers into the source's JSON for simple shapes.
    #[serde(default)]
    map: BTreeMap<String, String>,
    /// A jq program turning the source's JSON into a deploy record.
    filter: Option<String>,
    /// A jq program turning the source's history JSON into deploy records.
    history_filter: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawRun {
    #[serde(default)]
    ports: Vec<RawPort>,
    health: Option<RawHealth>,
    memory: Option<String>,
    cpus: Option<f64>,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    cap_add: Vec<String>,
    /// How the egress sinkhole answers outbound attempts (default: it closes them).
    #[serde(default)]
    egress: EgressPolicy,
    stop_timeout: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
enum RawPort {
    Number(u16),
    Mapping(String),
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawHealth {
    http: Option<String>,
    tcp: Option<u16>,
    port: Option<u16>,
    timeout: Option<String>,
}

/// The JSON Schema of profile files, generated from the types that parse them.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RawProfile)).expect("a schema serializes")
}

/// Fields a `[source.map]` may point at.
pub const MAP_FIELDS: &[&str] =
    &["service", "environment", "image", "deployed_at", "deployed_by", "revision", "config", "env", "files", "deploys"];

const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(60);

impl Profile {
    /// Finds `<service>.toml` in the first of `dirs` that has it.
    pub fn find(dirs: &[PathBuf], service: &str) -> Result<Profile, ProfileError> {
        for dir in dirs {
            let path = dir.join(format!("{service}.toml"));
            if path.is_file() {
                return Profile::load(&path);
            }
        }
        Err(ProfileError::NotFound {
            service: service.to_string(),
            dirs: dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "),
            first: dirs.first().map(|d| d.display().to_string()).unwrap_or_else(|| "profiles".into()),
        })
    }

    /// Reads and validates one profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ProfileError::Read { path: path.display().to_string(), source })?;
        Profile::parse(path, &text)
    }

    /// Parses profile text; `path` names it in errors and anchors relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Profile, ProfileError> {
        let invalid = |offset: usize, message: String| {
            let (line, column) = line_column(text, offset);
            ProfileError::Invalid { path: path.display().to_string(), line, column, message }
        };
        let raw: RawProfile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let message = e.message().trim().to_string();
            match key_at(text, offset) {
                Some(key) => invalid(offset, format!("{key}: {message}")),
                None => invalid(offset, message),
            }
        })?;

        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("service").to_string();
        let service = raw.service.unwrap_or(stem);
        let environment = raw.environment.unwrap_or_else(|| "production".into());
        for (key, value) in [("service", &service), ("environment", &environment)] {
            if crate::name::plain_arg(value).is_err() {
                let offset = text.find(&format!("{key} =")).or_else(|| text.find(key)).unwrap_or(0);
                return Err(invalid(
                    offset,
                    format!("{key}: {value:?} is not a plain name (letters, digits, '-', '_' or '.', at most 48, starting with a letter or digit)"),
                ));
            }
        }
        if let Some(bad) = raw.sanitize.prod_hosts.iter().find(|p| !host_pattern(p)) {
            let offset = text.find(&format!("\"{bad}\"")).or_else(|| text.find("prod_hosts")).unwrap_or(0);
            return Err(invalid(
                offset,
                format!("sanitize.prod_hosts: {bad:?} can never match: give a host (api.example.com), a domain (*.example.com) or an IPv4 CIDR (10.20.0.0/16), without scheme, port, path or spaces"),
            ));
        }
        let base = path.parent().unwrap_or(Path::new("."));

        let source_span = raw.source.span().start;
        let source = parse_source(raw.source.into_inner(), base).map_err(|m| invalid(source_span, m))?;

        let run = match raw.run {
            None => RunSection::default(),
            Some(spanned) => {
                let span = spanned.span().start;
                parse_run(spanned.into_inner()).map_err(|m| invalid(span, m))?
            }
        };

        let mut taken: Vec<String> =
            RESERVED_ALIASES.iter().map(|r| r.to_string()).chain([service.to_ascii_lowercase()]).collect();
        for dep in &raw.dependencies {
            for alias in std::iter::once(&dep.name).chain(&dep.aliases) {
                if taken.contains(&alias.to_ascii_lowercase()) {
                    let offset = text.find(&format!("\"{alias}\"")).unwrap_or(0);
                    return Err(invalid(
                        offset,
                        format!(
                            "dependencies.{}: {alias:?} is taken (by the app, the candidate, the relay, the service {service:?} or another dependency); name it otherwise",
                            dep.name
                        ),
                    ));
                }
                taken.push(alias.to_ascii_lowercase());
            }
            if let Some(cap) = dep.cap_add.iter().find(|c| !capability(c)) {
                let offset = text.find(&format!("\"{cap}\"")).unwrap_or(0);
                return Err(invalid(
                    offset,
                    format!("dependencies.{}.cap_add: {cap:?} is not a Linux capability", dep.name),
                ));
            }
            let pinned = crate::image_ref::ImageRef::parse(&dep.image).map(|r| r.digest.is_some()).unwrap_or(false);
            if !pinned || !crate::name::SandboxName::valid(&dep.name) {
                let offset = text.find(&dep.image).unwrap_or(0);
                return Err(invalid(
                    offset,
                    format!(
                        "dependencies.{}: image must be pinned as repository@sha256:<64 hex> and name a plain word",
                        dep.name
                    ),
                ));
            }
        }

        let hash = crate::digest::sha256_hex(text.as_bytes());
        Ok(Profile {
            path: path.to_path_buf(),
            service,
            environment,
            source,
            image: raw.image,
            sanitize: raw.sanitize,
            run,
            dependencies: raw.dependencies,
            hash,
        })
    }

    /// Every `*.toml` in the first existing directory, in name order.
    pub fn list(dirs: &[PathBuf]) -> Vec<PathBuf> {
        for dir in dirs {
            if let Ok(entries) = std::fs::read_dir(dir) {
                let mut files: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                    .collect();
                files.sort();
                return files;
            }
        }
        Vec::new()
    }
}

const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Names on the sandbox network that belong to prodbox's own containers: a
/// dependency answering to one would take half the app's requests.
pub const RESERVED_ALIASES: &[&str] = &["app", "candidate", "relay", "sinkhole", "localhost"];

/// Whether a `prod_hosts` entry can ever match what the rewriter looks at
/// (runs of letters, digits, `.` and `-`): a host, `*.domain`, or an IPv4 CIDR.
fn host_pattern(pattern: &str) -> bool {
    let host = |h: &str| {
        !h.is_empty()
            && h.len() <= 253
            && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            && !h.starts_with(['.', '-'])
            && !h.ends_with(['.', '-'])
            && !h.contains("..")
    };
    if let Some(domain) = pattern.strip_prefix("*.") {
        return host(domain);
    }
    if let Some((net, bits)) = pattern.split_once('/') {
        return net.parse::<std::net::Ipv4Addr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| b <= 32);
    }
    host(pattern)
}

/// Which `[source]` keys each kind reads; any other key given is an error.
const KIND_KEYS: &[(&str, &[&str])] = &[
    ("file", &["path"]),
    ("http", &["url", "history_url", "token_env"]),
    ("command", &["command", "history_command", "timeout"]),
    ("oci", &["tag", "history_tags"]),
    ("kubernetes", &["context", "namespace", "workload", "container", "kubeconfig"]),
];

fn parse_source(raw: RawSource, base: &Path) -> Result<SourceSection, String> {
    let RawSource {
        kind,
        path,
        url,
        history_url,
        token_env,
        command,
        history_command,
        timeout,
        tag,
        history_tags,
        context,
        namespace,
        workload,
        container,
        kubeconfig,
        map,
        filter,
        history_filter,
    } = raw;
    let given: Vec<&str> = [
        ("path", path.is_some()),
        ("url", url.is_some()),
        ("history_url", history_url.is_some()),
        ("token_env", token_env.is_some()),
        ("command", command.is_some()),
        ("history_command", history_command.is_some()),
        ("timeout", timeout.is_some()),
        ("tag", tag.is_some()),
        ("history_tags", history_tags.is_some()),
        ("context", context.is_some()),
        ("namespace", namespace.is_some()),
        ("workload", workload.is_some()),
        ("container", container.is_some()),
        ("kubeconfig", kubeconfig.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    let required =
        |what: Option<String>, key: &str| what.ok_or_else(|| format!("source.{key}: required when kind = {kind:?}"));
    let source = match kind.as_str() {
        "file" => Source::File { path: base.join(required(path, "path")?) },
        "http" => Source::Http { url: required(url, "url")?, history_url, token_env },
        "command" => {
            let command = command.ok_or_else(|| "source.command: required when kind = \"command\"".to_string())?;
            for (key, argv) in [("command", Some(&command)), ("history_command", history_command.as_ref())] {
                if argv.is_some_and(|a| a.first().is_none_or(|p| p.is_empty())) {
                    return Err(format!(
                        "source.{key}: give the program and its arguments, e.g. [\"aws\", \"ecs\", …]"
                    ));
                }
            }
            let timeout = match &timeout {
                Some(t) => parse_duration(t)
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| format!("source.timeout: {t:?} is not a duration like \"30s\""))?,
                None => DEFAULT_COMMAND_TIMEOUT,
            };
            Source::Command { command, history_command, timeout, dir: base.to_path_buf() }
        }
        "oci" => {
            let tag = required(tag, "tag")?;
            Source::Oci { tag, history_tags }
        }
        "kubernetes" => {
            let w = workload.clone().ok_or_else(|| {
                "source.workload: required when kind = \"kubernetes\", e.g. \"deployment/checkout\"".to_string()
            })?;
            let workload = match w.split_once('/') {
                Some(("deployment" | "deployments" | "deploy", name)) if !name.is_empty() => {
                    Workload::Deployment(name.into())
                }
                Some(("statefulset" | "statefulsets" | "sts", name)) if !name.is_empty() => {
                    Workload::StatefulSet(name.into())
                }
                _ => return Err(format!("source.workload: {w:?} is not \"deployment/NAME\" or \"statefulset/NAME\"")),
            };
            Source::Kubernetes { context, namespace, workload, container, kubeconfig: kubeconfig.map(|k| base.join(k)) }
        }
        other => {
            return Err(format!(
                "source.kind: unknown kind {other:?}, expected one of file, http, command, oci, kubernetes"
            ))
        }
    };
    let allowed = KIND_KEYS.iter().find(|(k, _)| *k == kind).map(|(_, keys)| *keys).unwrap_or(&[]);
    if let Some(key) = given.iter().find(|k| !allowed.contains(k)) {
        return Err(format!("source.{key}: not used by kind = {kind:?} (it reads: {})", allowed.join(", ")));
    }
    if let Some(field) = map.keys().find(|k| !MAP_FIELDS.contains(&k.as_str())) {
        return Err(format!("source.map.{field}: unknown field, expected one of {}", MAP_FIELDS.join(", ")));
    }
    for (key, program) in [("filter", &filter), ("history_filter", &history_filter)] {
        if let Some(code) = program {
            crate::jq::check(code).map_err(|e| format!("source.{key}: does not compile: {e}"))?;
        }
    }
    if filter.is_some() && !map.is_empty() {
        return Err("source.map: give either [source.map] or filter, not both".into());
    }
    Ok(SourceSection { kind: source, map, filter, history_filter })
}

fn parse_run(raw: RawRun) -> Result<RunSection, String> {
    let ports = raw
        .ports
        .into_iter()
        .map(|p| match p {
            RawPort::Number(0) => Err("run.ports: 0 is not a port; use 1-65535".to_string()),
            RawPort::Number(container) => Ok(PortSpec { host: 0, container }),
            RawPort::Mapping(s) => parse_port_mapping(&s)
                .ok_or_else(|| format!("run.ports: {s:?} is not a port; use 8080 or \"18080:8080\"")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let health = match raw.health {
        None => None,
        Some(h) => {
            let timeout = match &h.timeout {
                Some(t) => parse_duration(t).filter(|d| !d.is_zero() && *d <= MAX_HEALTH_TIMEOUT).ok_or_else(|| {
                    format!("run.health.timeout: {t:?} is not a duration like \"60s\", more than 0 and at most 24h")
                })?,
                None => DEFAULT_HEALTH_TIMEOUT,
            };
            if h.port == Some(0) || h.tcp == Some(0) {
                return Err("run.health: port 0 is not a port; use 1-65535".into());
            }
            match (h.http, h.tcp) {
                (Some(path), None) => {
                    if !path.starts_with('/') || path.chars().any(|c| c.is_control() || c.is_whitespace()) {
                        return Err(format!(
                            "run.health.http: {path:?} is not a request path: start it with '/', without spaces or control characters"
                        ));
                    }
                    let port = h
                        .port
                        .or(ports.first().map(|p| p.container))
                        .ok_or("run.health.port: required with http when run.ports is empty".to_string())?;
                    Some(Health::Http { path, port, timeout })
                }
                (None, Some(port)) => Some(Health::Tcp { port, timeout }),
                _ => return Err("run.health: give exactly one of http = \"/path\" or tcp = PORT".into()),
            }
        }
    };
    let memory = match &raw.memory {
        Some(m) => Some(parse_size(m).filter(|b| (MIN_MEMORY..=MAX_MEMORY).contains(b)).ok_or_else(|| {
            format!("run.memory: {m:?} is not a size like \"512m\" or \"1g\", at least 6m and at most 1024g")
        })?),
        None => None,
    };
    if let Some(c) = raw.cpus {
        if !(c > 0.0 && c <= 1024.0) {
            return Err(format!("run.cpus: {c} must be greater than 0 and at most 1024"));
        }
    }
    if let Some(cap) = raw.cap_add.iter().find(|c| !capability(c)) {
        return Err(format!("run.cap_add: {cap:?} is not a Linux capability (e.g. \"NET_BIND_SERVICE\", \"CHOWN\")"));
    }
    if let Some(status) = raw.egress.http_status.filter(|s| !(100..=599).contains(s)) {
        return Err(format!("run.egress.http_status: {status} is not an HTTP status (100 to 599)"));
    }
    let stop_timeout = match &raw.stop_timeout {
        Some(t) => {
            parse_duration(t).ok_or_else(|| format!("run.stop_timeout: {t:?} is not a duration like \"10s\""))?
        }
        None => Duration::ZERO,
    };
    if stop_timeout > Duration::from_secs(3600) {
        return Err(format!("run.stop_timeout: {stop_timeout:?} is longer than an hour"));
    }
    Ok(RunSection {
        ports,
        health,
        memory,
        cpus: raw.cpus,
        read_only: raw.read_only,
        cap_add: raw.cap_add,
        egress: raw.egress,
        stop_timeout,
    })
}

/// `"18080:8080"` → host 18080, container 8080; `"8080"` → any host port.
/// A container port is never 0 (the host port 0 means "any free one").
pub fn parse_port_mapping(s: &str) -> Option<PortSpec> {
    let spec = match s.split_once(':') {
        Some((h, c)) => PortSpec { host: h.parse().ok()?, container: c.parse().ok()? },
        None => PortSpec { host: 0, container: s.parse().ok()? },
    };
    (spec.container != 0).then_some(spec)
}

/// The longest health timeout a profile may set.
const MAX_HEALTH_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// The longest duration any field takes (a week): beyond it is a typo.
const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Engines refuse less than 6 MiB.
const MIN_MEMORY: i64 = 6 << 20;
const MAX_MEMORY: i64 = 1 << 40;

/// Linux capabilities (`capabilities(7)`), as engines take them.
const CAPABILITIES: &[&str] = &[
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "PERFMON",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "WAKE_ALARM",
];

/// Whether `name` is a capability (`NET_ADMIN`, `CAP_NET_ADMIN`, any case).
pub fn capability(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    CAPABILITIES.contains(&upper.strip_prefix("CAP_").unwrap_or(&upper))
}

/// `"60s"`, `"500ms"`, `"2m"`, `"1h"`, at most a week; `None` for anything
/// else (never a panic, whatever the digits).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (num, unit) = s.split_at(split);
    if num.len() > 20 {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(secs).ok().filter(|d| *d <= MAX_DURATION)
}

/// `"512m"`, `"1g"`, `"1GiB"`, plain bytes.
pub fn parse_size(s: &str) -> Option<i64> {
    let lower = s.trim().to_ascii_lowercase();
    let split = lower.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    if num.is_empty() || num.len() > 20 {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let mult = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = n * mult;
    (bytes.is_finite() && bytes < i64::MAX as f64).then_some(bytes as i64)
}

/// The dotted key written on the line holding `offset` (`run.cpus`), so
/// type errors name their key as unknown-key errors do.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = text[line_start..].lines().next().unwrap_or("");
    let key = line.split_once('=')?.0.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('[') {
        return None;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key.to_string(),
    })
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
service = "checkout"
[source]
kind = "http"
url = "http://127.0.0.1:9/v1/{service}/{environment}"
token_env = "DEPLOY_TOKEN"
[image]
repository = "registry.example.com/shop/checkout"
[sanitize]
keep = ["LOG_LEVEL"]
[sanitize.set]
DATABASE_URL = "postgres://app:app@db:5432/app"
[run]
ports = [8080, "18081:8081"]
health = { http = "/healthz", port = 8080, timeout = "30s" }
memory = "1g"
cpus = 1.5
"#;

    fn parse(text: &str) -> Result<Profile, ProfileError> {
        Profile::parse(Path::new("profiles/checkout.toml"), text)
    }

    #[test]
    fn parses_a_full_profile() {
        let p = parse(GOOD).unwrap();
        assert_eq!(p.service, "checkout");
        assert_eq!(p.environment, "production");
        assert!(
            matches!(p.source.kind, Source::Http { ref token_env, .. } if token_env.as_deref() == Some("DEPLOY_TOKEN"))
        );
        assert_eq!(p.run.ports, vec![PortSpec { host: 0, container: 8080 }, PortSpec { host: 18081, container: 8081 }]);
        assert_eq!(
            p.run.health,
            Some(Health::Http { path: "/healthz".into(), port: 8080, timeout: Duration::from_secs(30) })
        );
        assert_eq!(p.run.memory, Some(1 << 30));
    }

    #[test]
    fn service_defaults_to_the_file_stem() {
        let p = Profile::parse(
            Path::new("x/demo.toml"),
            "[source]\nkind = \"file\"\npath = \"d.json\"\n[image]\nrepository = \"r/x\"\n",
        )
        .unwrap();
        assert_eq!(p.service, "demo");
        assert!(matches!(p.source.kind, Source::File { ref path } if path == Path::new("x/d.json")));
    }

    #[test]
    fn unknown_key_names_file_line_column_and_key() {
        let text = GOOD.replace("cpus = 1.5", "cpus = 1.5\nmemroy = \"2g\"");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.starts_with("profiles/checkout.toml:18:1: run.memroy: unknown field `memroy`"), "{err}");
        // …and says which keys [run] takes, so the typo is easy to mend.
        assert!(err.contains("expected one of") && err.contains("`memory`"), "{err}");
    }

    #[test]
    fn cpus_out_of_range_says_the_range() {
        let err = parse(&GOOD.replace("cpus = 1.5", "cpus = 2000.0")).unwrap_err().to_string();
        assert!(err.contains("run.cpus: 2000 must be greater than 0 and at most 1024"), "{err}");
    }

    #[test]
    fn bad_values_are_rejected_with_their_key() {
        for (from, to, key) in [
            ("timeout = \"30s\"", "timeout = \"soon\"", "run.health.timeout"),
            ("memory = \"1g\"", "memory = \"lots\"", "run.memory"),
            ("\"18081:8081\"", "\"x:8081\"", "run.ports"),
            ("kind = \"http\"", "kind = \"ftp\"", "source.kind"),
        ] {
            let err = parse(&GOOD.replace(from, to)).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
            assert!(err.starts_with("profiles/checkout.toml:"), "{err}");
        }
    }

    #[test]
    fn source_kinds_and_their_keys() {
        let with = |source: &str| parse(&format!("[source]\n{source}\n[image]\nrepository = \"r.example/x\"\n"));
        let p = with("kind = \"command\"\ncommand = [\"aws\", \"{service}\"]\ntimeout = \"5s\"").unwrap();
        assert!(matches!(p.source.kind, Source::Command { timeout, .. } if timeout == Duration::from_secs(5)));
        let p = with("kind = \"oci\"\ntag = \"prod\"\nhistory_tags = \"prod-*\"\nfilter = '.'").unwrap();
        assert!(matches!(p.source.kind, Source::Oci { ref tag, .. } if tag == "prod"));
        for (source, want) in [
            ("kind = \"command\"", "source.command: required"),
            ("kind = \"command\"\ncommand = []", "source.command: give the program"),
            ("kind = \"command\"\ncommand = [\"x\"]\ntimeout = \"soon\"", "source.timeout"),
            ("kind = \"oci\"\ntag = \"prod\"\nurl = \"http://x\"", "source.url: not used by kind = \"oci\""),
            ("kind = \"oci\"", "source.tag: required"),
            ("kind = \"file\"\npath = \"x\"\nfilter = '.a | ]'", "source.filter: does not compile: expected"),
            (
                "kind = \"file\"\npath = \"x\"\nhistory_filter = 'nope'",
                "source.history_filter: does not compile: filter nope is not defined, at line 1 column 1",
            ),
            ("kind = \"kubernetes\"", "source.workload: required"),
            ("kind = \"kubernetes\"\nworkload = \"pod/x\"", "is not \"deployment/NAME\""),
        ] {
            let err = with(source).unwrap_err().to_string();
            assert!(err.contains(want), "{source}: {err}");
            assert!(err.starts_with("profiles/checkout.toml:1:1: "), "{err}");
        }
    }

    #[test]
    fn the_schema_rejects_unknown_keys() {
        let schema = json_schema();
        assert_eq!(schema["additionalProperties"], false);
        for key in ["source", "image", "sanitize", "run", "dependencies"] {
            assert!(schema["properties"].get(key).is_some(), "{key}: {schema}");
        }
    }

    #[test]
    fn docs_profiles_names_every_schema_key() {
        let doc = include_str!("../docs/profiles.md");
        let schema = json_schema();
        let mut tables = vec![&schema];
        tables.extend(schema["$defs"].as_object().unwrap().values());
        for table in tables {
            for key in table["properties"].as_object().into_iter().flatten().map(|(k, _)| k) {
                let named = [format!("`{key}`"), format!("[{key}]"), format!("[[{key}]]")];
                assert!(named.iter().any(|n| doc.contains(n.as_str())), "docs/profiles.md does not describe `{key}`");
            }
        }
    }

    /// Issue #10's classes of bad profile values: each is refused at parse
    /// time with file:line:col and its key, and none panics.
    #[test]
    fn bad_profile_values_are_refused_with_their_key() {
        let cases: &[(&str, &str, &str)] = &[
            ("timeout = \"30s\"", "timeout = \"99999999999999999999s\"", "run.health.timeout"),
            ("timeout = \"30s\"", "timeout = \"1e400s\"", "run.health.timeout"),
            ("timeout = \"30s\"", "timeout = \"0s\"", "run.health.timeout"),
            ("timeout = \"30s\"", "timeout = \"9999h\"", "run.health.timeout"),
            ("timeout = \"30s\"", "timeout = \"-1s\"", "run.health.timeout"),
            ("memory = \"1g\"", "memory = \"1\"", "run.memory"),
            ("memory = \"1g\"", "memory = \"99999999999999999999999g\"", "run.memory"),
            ("memory = \"1g\"", "memory = \"5000g\"", "run.memory"),
            ("memory = \"1g\"", "memory = \"g\"", "run.memory"),
            ("cpus = 1.5", "cpus = 0.0", "run.cpus"),
            ("cpus = 1.5", "cpus = nan", "run.cpus"),
            ("cpus = 1.5", "cpus = 1.5\ncap_add = [\"NOT_A_CAP\"]", "run.cap_add"),
            ("ports = [8080, \"18081:8081\"]", "ports = [0]", "run.ports"),
            ("ports = [8080, \"18081:8081\"]", "ports = [\"18081:0\"]", "run.ports"),
            ("ports = [8080, \"18081:8081\"]", "ports = [70000]", "ports"),
            ("http = \"/healthz\"", "http = \"healthz\"", "run.health.http"),
            ("http = \"/healthz\"", "http = \"/a b\"", "run.health.http"),
            ("http = \"/healthz\"", "http = \"/a\\u0000\"", "run.health.http"),
            ("port = 8080, timeout", "port = 0, timeout", "run.health"),
            ("service = \"checkout\"", "service = \"\"", "service"),
            ("service = \"checkout\"", "service = \"../x\"", "service"),
            ("service = \"checkout\"", "service = \"checkout\"\nenvironment = \"a/b\"", "environment"),
            ("keep = [\"LOG_LEVEL\"]", "prod_hosts = [\"https://api.example.com\"]", "sanitize.prod_hosts"),
            ("keep = [\"LOG_LEVEL\"]", "prod_hosts = [\"api.example.com:443\"]", "sanitize.prod_hosts"),
            ("keep = [\"LOG_LEVEL\"]", "prod_hosts = [\"api example.com\"]", "sanitize.prod_hosts"),
            ("keep = [\"LOG_LEVEL\"]", "prod_hosts = [\"10.0.0.0/33\"]", "sanitize.prod_hosts"),
            ("keep = [\"LOG_LEVEL\"]", "prod_hosts = [\"10.0.0/8\"]", "sanitize.prod_hosts"),
            ("keep = [\"LOG_LEVEL\"]", "prod_hosts = [\"\"]", "sanitize.prod_hosts"),
            ("keep = [\"LOG_LEVEL\"]", "prod_hosts = [\"*.\"]", "sanitize.prod_hosts"),
        ];
        for (from, to, key) in cases {
            let text = GOOD.replace(from, to);
            assert_ne!(text, GOOD, "{from} is not in the profile");
            let err = match std::panic::catch_unwind(|| parse(&text)) {
                Ok(r) => r.expect_err(to).to_string(),
                Err(_) => panic!("{to}: panicked"),
            };
            assert!(err.contains(key), "{to}: wants {key}: {err}");
            assert!(err.starts_with("profiles/checkout.toml:"), "{to}: {err}");
        }
        let dep = |name: &str, extra: &str| {
            format!(
                "{GOOD}[[dependencies]]\nname = \"{name}\"\nimage = \"postgres@sha256:{}\"\n{extra}",
                "a".repeat(64)
            )
        };
        for (name, extra) in [
            ("app", ""),
            ("relay", ""),
            ("candidate", ""),
            ("checkout", ""),
            ("CHECKOUT", ""),
            ("db", "aliases = [\"app\"]"),
            ("db", "cap_add = [\"ROOT\"]"),
        ] {
            let err = parse(&dep(name, extra)).expect_err(name).to_string();
            assert!(err.contains("dependencies."), "{name} {extra}: {err}");
            assert!(err.starts_with("profiles/checkout.toml:"), "{err}");
        }
        let twice = format!(
            "{}[[dependencies]]\nname = \"db\"\nimage = \"postgres@sha256:{}\"\n",
            dep("db", ""),
            "b".repeat(64)
        );
        assert!(parse(&twice).unwrap_err().to_string().contains("is taken"));
        assert!(parse(&dep("db", "cap_add = [\"CAP_CHOWN\", \"setuid\"]")).is_ok());
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("2"), None);
        assert_eq!(parse_size("512m"), Some(512 << 20));
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size("1x"), None);
    }
}
