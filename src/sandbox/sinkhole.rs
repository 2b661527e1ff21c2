//! The egress sinkhole: the relay binary's `sinkhole` mode
//! (`relay/sinkhole.rs`), run in the relay's own process and container
//! ([`Plan::relay_args`]): the relay sits on the sandbox network anyway, so
//! a sandbox is two containers, not three. It records the sandbox
//! network's clients only; the host's connections to the relay's routes
//! are forwarded as ever. It is the DNS server of every container on the
//! sandbox network (the network's [`dns`](super::network::SandboxNetwork::dns)):
//! the sandbox's own names still resolve through the engine's DNS (Docker)
//! or `/etc/hosts` (Podman's DNS-off network), and every other name
//! resolves to the sinkhole, which accepts TCP on the ports production uses
//! and writes one JSON line per attempt to its stdout. It never forwards.
//!
//! This module starts it, reads its records back (container logs) and
//! folds them into destinations: name, port, protocol, count, first and last
//! seen, what was asked. Everything shown passes through the sanitizer's
//! value scrub first.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bollard::container::LogOutput;
use bollard::models::ContainerSummary;
use bollard::query_parameters::{ListContainersOptionsBuilder, LogsOptionsBuilder, StopContainerOptionsBuilder};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};

use super::network::SandboxNetwork;
use super::{container_name, labels, SandboxSpec};
use crate::engine::{self, Engine, EngineError};

/// Ports production services are usually reached on; the sinkhole listens on
/// these and on every port named in the sanitized config's URLs.
pub const PRODUCTION_PORTS: [u16; 10] = [80, 443, 5432, 3306, 6379, 5672, 9092, 27017, 25, 587];

/// UDP ports whose datagrams are received (and dropped, and counted).
const UDP_PORTS: [u16; 5] = [123, 161, 443, 514, 8125];

/// Most ports the sinkhole listens on.
const MAX_PORTS: usize = 64;

/// The suffix `prod_hosts` rewriting gives a production host without a stand-in.
const REWRITTEN_SUFFIX: &str = ".prodbox.invalid";

/// What the sandbox is told about the literal addresses it cannot be seen trying.
pub const LITERAL_IPS: &str = "connections to literal IP addresses outside the sandbox are not observable: there is no route out, so they fail in the app at once and never reach the sinkhole";

/// The container the sinkhole runs in: the relay's.
pub fn container(sandbox: &str) -> String {
    container_name(sandbox, labels::Role::Relay.as_str())
}

/// The TCP ports it listens on: production's usual ones and those the
/// sanitized config's URLs name (`scheme://host:PORT`).
pub fn ports(spec: &SandboxSpec) -> Vec<u16> {
    ports_of(&spec.env, &spec.files)
}

/// [`ports`] of a sanitized env and files.
fn ports_of(env: &[(String, String)], files: &[(String, String)]) -> Vec<u16> {
    let mut ports: BTreeSet<u16> = PRODUCTION_PORTS.into_iter().collect();
    let texts = env.iter().map(|(_, v)| v.as_str()).chain(files.iter().map(|(_, c)| c.as_str()));
    for text in texts {
        ports.extend(url_ports(text));
    }
    ports.into_iter().take(MAX_PORTS).collect()
}

/// The explicit ports of the URLs in `text`.
fn url_ports(text: &str) -> Vec<u16> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        rest = &rest[i + 3..];
        let end = rest.find(|c: char| "/?# \"'\n\t,;)]}".contains(c)).unwrap_or(rest.len());
        let authority = &rest[..end];
        let host_port = authority.rsplit('@').next().unwrap_or(authority);
        if let Some((_, port)) = host_port.rsplit_once(':') {
            if let Ok(port) = port.parse::<u16>() {
                if port != 0 {
                    out.push(port);
                }
            }
        }
    }
    out
}

/// What the sinkhole is told, known once the config is sanitized (before
/// the app's image is there): the TCP ports it listens on and how it answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// [`ports`] of the sanitized config.
    pub ports: Vec<u16>,
    /// `[run] egress = { http_status = N }`.
    pub http_status: Option<u16>,
}

impl Plan {
    /// The plan for a sanitized config (`env`, `files`) and the profile's egress policy.
    pub fn of(env: &[(String, String)], files: &[(String, String)], egress: &crate::profile::EgressPolicy) -> Plan {
        Plan { ports: ports_of(env, files), http_status: egress.http_status }
    }

    /// The plan for a complete spec.
    pub fn of_spec(spec: &SandboxSpec) -> Plan {
        Plan::of(&spec.env, &spec.files, &spec.egress)
    }

    /// What follows the relay's routes on its command line: the sinkhole
    /// runs in the relay's process (`--sinkhole`), recording the sandbox
    /// network's clients (`--net`), knowing the sandbox's fixed names
    /// (Podman's DNS-off network) whatever order a resolver asks in.
    pub fn relay_args(&self, net: &SandboxNetwork) -> Vec<String> {
        let mut args = vec!["--sinkhole".to_string()];
        if let Some(subnet) = &net.subnet {
            args.extend(["--net".to_string(), subnet.clone()]);
        }
        if let Some(status) = self.http_status {
            args.extend(["--http-status".to_string(), status.to_string()]);
        }
        args.extend(["--udp".to_string(), UDP_PORTS.map(|p| p.to_string()).join(",")]);
        for (host, ip) in net.fixed_hosts() {
            args.extend(["--host".to_string(), format!("{host}={ip}")]);
        }
        args.extend(self.ports.iter().map(u16::to_string));
        args
    }
}

/// One line the sinkhole wrote.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Record {
    /// Milliseconds since the epoch.
    pub ts: i64,
    /// `ready`, `dns`, `tcp` or `udp`.
    pub kind: String,
    #[serde(default)]
    pub client: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub qtype: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub proto: Option<String>,
    #[serde(default)]
    pub sni: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub answer: Option<String>,
    #[serde(default)]
    pub count: Option<u64>,
}

impl Record {
    /// What the first bytes said, as shown: `SNI h`, `GET h/path`.
    pub fn asked(&self) -> Option<String> {
        if let Some(sni) = &self.sni {
            return Some(format!("SNI {sni}"));
        }
        let method = self.method.as_ref()?;
        let host = self.host.as_deref().unwrap_or("(no Host)");
        Some(format!("{method} {host}{}", self.path.as_deref().unwrap_or("")))
    }
}

/// Parses the sinkhole's output; lines that are not records are skipped,
/// and so are the markers prodbox itself sends ([`settled_records`]).
pub fn parse(output: &str) -> Vec<Record> {
    output
        .lines()
        .filter_map(|l| serde_json::from_str::<Record>(l.trim()).ok())
        .filter(|r| !r.path.as_deref().is_some_and(|p| p.starts_with(MARKER)))
        .collect()
}

/// The path of prodbox's own marker requests to the sinkhole.
const MARKER: &str = "/.prodbox-marker/";

/// One destination the sandbox tried to reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Destination {
    /// The name as asked (scrubbed); `(no name asked)` when none was.
    pub name: String,
    /// The production host `prod_hosts` rewrote into this name, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewritten_from: Option<String>,
    /// `None` for a name that was resolved and never connected to.
    pub port: Option<u16>,
    /// `tcp`, `udp`, or `dns` (resolved only).
    pub transport: String,
    /// What the first bytes said the protocol is.
    pub protocol: String,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    /// SNI, HTTP method + Host + path (never bodies or other headers).
    pub asked: Vec<String>,
    /// Who tried: `app`, `candidate`, `dependency db`.
    pub from: Vec<String>,
    /// How the sinkhole answered (`closed`, `http 503`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(skip)]
    last_ms: i64,
}

impl Destination {
    /// `name:port`, or the name alone for a lookup only.
    pub fn target(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.shown_name()),
            None => self.shown_name(),
        }
    }

    /// The name, the production host first when it was rewritten.
    pub fn shown_name(&self) -> String {
        self.rewritten_from.clone().unwrap_or_else(|| self.name.clone())
    }
}

/// Folds records into destinations, newest activity last. `who` maps a
/// client address to what it is (`app`, `candidate`, …).
pub fn destinations(records: &[Record], who: &HashMap<String, String>) -> Vec<Destination> {
    let mut by_key: BTreeMap<(String, Option<u16>, String), Destination> = BTreeMap::new();
    let mut connected: BTreeSet<String> = BTreeSet::new();
    for r in records.iter().filter(|r| matches!(r.kind.as_str(), "tcp" | "udp")) {
        connected.insert(r.name.clone().unwrap_or_default());
    }
    for r in records {
        let name = r.name.clone().unwrap_or_default();
        let (port, transport) = match r.kind.as_str() {
            "tcp" | "udp" => (r.port, r.kind.clone()),
            // Lookups only count for names never connected to.
            "dns" if !connected.contains(&name) && r.qtype.as_deref() == Some("A") => (None, "dns".to_string()),
            _ => continue,
        };
        let key = (name.clone(), port, transport.clone());
        let seen = shown_time(r.ts);
        let d = by_key.entry(key).or_insert_with(|| {
            let scrubbed = if name.is_empty() { "(no name asked)".to_string() } else { scrub(&name) };
            Destination {
                rewritten_from: scrubbed.strip_suffix(REWRITTEN_SUFFIX).map(str::to_string),
                name: scrubbed,
                port,
                protocol: match transport.as_str() {
                    "dns" => "dns (resolved, never connected)".to_string(),
                    "udp" => "udp (dropped)".to_string(),
                    _ => scrub(r.proto.as_deref().unwrap_or("unknown")),
                },
                transport: transport.clone(),
                count: 0,
                first_seen: seen.clone(),
                last_seen: seen.clone(),
                asked: Vec::new(),
                from: Vec::new(),
                answer: None,
                last_ms: r.ts,
            }
        });
        d.count = match (transport.as_str(), r.count) {
            ("udp", Some(c)) => d.count.max(c),
            _ => d.count + 1,
        };
        if r.ts >= d.last_ms {
            d.last_ms = r.ts;
            d.last_seen = seen;
        }
        if let Some(asked) = r.asked().map(|a| scrub(&a)) {
            if !d.asked.contains(&asked) {
                d.asked.push(asked);
            }
        }
        if let Some(answer) = &r.answer {
            d.answer = Some(scrub(answer));
        }
        let from = r.client.as_ref().map(|c| who.get(c).cloned().unwrap_or_else(|| format!("container {c}")));
        if let Some(from) = from {
            if !d.from.contains(&from) {
                d.from.push(from);
            }
        }
    }
    let mut out: Vec<Destination> = by_key.into_values().collect();
    out.sort_by_key(|d| (d.last_ms, d.target()));
    out
}

/// `2026-11-23T14:40:01.123Z`.
fn shown_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()).unwrap_or_default()
}

fn scrub(text: &str) -> String {
    crate::sanitize::scrub_text(text)
}

/// One line per destination: `db.prod.example.com:5432 (postgres)`.
pub fn short_list(destinations: &[Destination]) -> String {
    destinations
        .iter()
        .map(|d| {
            let mut s = d.target();
            if d.rewritten_from.is_some() {
                s.push_str(&format!(" (rewritten to {})", d.name));
            }
            s
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line for `up` and `down`: "tried to reach 3 hosts: a:443, b:5432 (…)".
pub fn tried_line(destinations: &[Destination]) -> String {
    let connected: Vec<&Destination> = destinations.iter().filter(|d| d.port.is_some()).collect();
    let hosts: BTreeSet<String> = connected.iter().map(|d| d.shown_name()).collect();
    let looked_up = destinations.len() - connected.len();
    let mut line = match hosts.len() {
        0 => "tried to reach no hosts".to_string(),
        1 => format!("tried to reach 1 host: {}", short_list(&connected.into_iter().cloned().collect::<Vec<_>>())),
        n => format!("tried to reach {n} hosts: {}", short_list(&connected.into_iter().cloned().collect::<Vec<_>>())),
    };
    if looked_up > 0 {
        line.push_str(&format!("; {looked_up} more name(s) looked up, never connected to"));
    }
    line
}

/// Every record the sinkhole wrote until now. The engine copies a
/// container's output to its log a little after it is written, so a read
/// right after an attempt could miss it: prodbox first has the sinkhole
/// record a marker of its own (an HTTP request from inside its container)
/// and reads the log until the marker is there, and with it everything
/// written before. `None` when the sandbox has no sinkhole.
pub async fn settled_records(engine: &Engine, sandbox: &str) -> Result<Option<Vec<Record>>, EngineError> {
    let name = container(sandbox);
    let nonce = format!("{MARKER}{}", jiff::Timestamp::now().as_nanosecond());
    let probe = ["probe", "127.0.0.1:80", "--http", nonce.as_str()];
    let cmd = std::iter::once(super::relay::PATH).chain(probe).map(str::to_string).collect();
    // A sinkhole that is not running cannot mark: its log is all there is.
    let marked = super::exec::capture(engine, &name, cmd).await.is_ok();
    for _ in 0..MARKER_READS {
        let options = LogsOptionsBuilder::default().stdout(true).stderr(false).tail("all").build();
        let text = match read_log(engine, &name, options).await? {
            Some(text) => text,
            None => return Ok(None),
        };
        if !marked || text.contains(&nonce) {
            return Ok(Some(parse(&text)));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    records(engine, sandbox).await
}

/// How often the log is read for the marker (every 100 ms).
const MARKER_READS: usize = 100;

/// A container's log as text; `None` when the container is gone.
async fn read_log(
    engine: &Engine,
    name: &str,
    options: bollard::query_parameters::LogsOptions,
) -> Result<Option<String>, EngineError> {
    let mut logs = engine.docker.logs(name, Some(options));
    let mut text = Vec::new();
    while let Some(chunk) = logs.next().await {
        match chunk {
            Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => text.extend_from_slice(&message),
            Ok(_) => {}
            Err(e) if engine::is_not_found(&e) => return Ok(None),
            Err(e) => return Err(engine::api(format!("reading the records of {name}"), e)),
        }
    }
    Ok(Some(String::from_utf8_lossy(&text).into_owned()))
}

/// The sinkhole's records so far; `None` when the sandbox has no sinkhole.
pub async fn records(engine: &Engine, sandbox: &str) -> Result<Option<Vec<Record>>, EngineError> {
    let options = LogsOptionsBuilder::default().stdout(true).stderr(false).tail("all").build();
    Ok(read_log(engine, &container(sandbox), options).await?.map(|text| parse(&text)))
}

/// The sinkhole's records as they come (from now on, after the ones so far).
pub fn follow<'a>(engine: &'a Engine, sandbox: &str) -> impl Stream<Item = Result<Record, EngineError>> + use<'a> {
    let name = container(sandbox);
    let options = LogsOptionsBuilder::default().stdout(true).stderr(false).follow(true).tail("all").build();
    let mut pending = String::new();
    let shown = name.clone();
    engine.docker.logs(&name, Some(options)).flat_map(move |chunk| {
        let lines: Vec<Result<Record, EngineError>> = match chunk {
            Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => {
                pending.push_str(&String::from_utf8_lossy(&message));
                let mut out = Vec::new();
                while let Some(end) = pending.find('\n') {
                    let line: String = pending.drain(..=end).collect();
                    out.extend(parse(&line).into_iter().map(Ok));
                }
                out
            }
            Ok(_) => Vec::new(),
            Err(e) => vec![Err(engine::api(format!("reading the records of {shown}"), e))],
        };
        futures_util::stream::iter(lines)
    })
}

/// Who each address on the sandbox network is: `app`, `candidate`, `dependency NAME`.
pub async fn who(engine: &Engine, sandbox: &str) -> Result<HashMap<String, String>, EngineError> {
    let filter = labels::filter(&[(labels::SANDBOX, sandbox)]);
    let options = ListContainersOptionsBuilder::default().all(true).filters(&filter).build();
    Ok(who_of(&engine.list_containers(options).await?, sandbox))
}

/// [`who`] from the sandbox's containers as listed.
pub fn who_of(containers: &[ContainerSummary], sandbox: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let dep_prefix = container_name(sandbox, "dep-");
    for c in containers.iter().cloned() {
        let role = c.labels.as_ref().and_then(|l| l.get(labels::ROLE)).cloned().unwrap_or_default();
        let name = c.names.as_ref().and_then(|n| n.first()).map(|n| n.trim_start_matches('/').to_string());
        let what = match (role.as_str(), name.as_deref().and_then(|n| n.strip_prefix(&dep_prefix))) {
            ("dependency", Some(dep)) => format!("dependency {dep}"),
            _ => role,
        };
        let networks = c.network_settings.and_then(|n| n.networks).unwrap_or_default();
        for endpoint in networks.into_values() {
            if let Some(ip) = endpoint.ip_address.filter(|ip| !ip.is_empty()) {
                out.insert(ip, what.clone());
            }
        }
    }
    out
}

/// What a sandbox tried to reach: its destinations, or `None` without a sinkhole.
pub async fn summary(engine: &Engine, sandbox: &str) -> Result<Option<Vec<Destination>>, EngineError> {
    let Some(records) = settled_records(engine, sandbox).await? else { return Ok(None) };
    folded(engine, sandbox, &records).await.map(Some)
}

/// [`summary`] of what the sinkhole's log holds now, without waiting for
/// the latest lines to land (`up`'s report: what the app tried while it
/// became healthy). One log read; the containers are listed only when
/// something was tried.
pub async fn summary_so_far(engine: &Engine, sandbox: &str) -> Result<Option<Vec<Destination>>, EngineError> {
    let Some(records) = records(engine, sandbox).await? else { return Ok(None) };
    folded(engine, sandbox, &records).await.map(Some)
}

async fn folded(engine: &Engine, sandbox: &str, records: &[Record]) -> Result<Vec<Destination>, EngineError> {
    if !records.iter().any(|r| matches!(r.kind.as_str(), "dns" | "tcp" | "udp")) {
        return Ok(Vec::new());
    }
    Ok(destinations(records, &who(engine, sandbox).await?))
}

/// Every record of a sandbox that is going away: its relay (`relay`, an id
/// or name) is stopped at once, after which its log is complete, and read.
/// `None` when it is gone. The caller removes it.
pub async fn final_records(engine: &Engine, relay: &str) -> Result<Option<Vec<Record>>, EngineError> {
    let options = StopContainerOptionsBuilder::default().t(0).build();
    match engine.docker.stop_container(relay, Some(options)).await {
        Ok(()) => {}
        Err(e) if engine::is_not_found(&e) => return Ok(None),
        // 304: it had stopped already; its log is complete too.
        Err(e) => tracing::debug!(container = relay, error = %e, "stopping the relay"),
    }
    let options = LogsOptionsBuilder::default().stdout(true).stderr(false).tail("all").build();
    Ok(read_log(engine, relay, options).await?.map(|text| parse(&text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: &str) -> Record {
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn config_urls_add_their_ports() {
        assert_eq!(url_ports("postgres://u:p@db.prod:6543/x, https://a.example.com/v1 redis://r:7000"), [6543, 7000]);
        assert_eq!(url_ports("no urls here: 8080"), Vec::<u16>::new());
    }

    #[test]
    fn records_fold_into_destinations_newest_last() {
        let records = vec![
            rec(r#"{"ts":1000,"kind":"ready","tcp":[80],"udp":[]}"#),
            rec(r#"{"ts":1001,"kind":"dns","client":"10.0.0.3","name":"db.prod.example.com","qtype":"A"}"#),
            rec(
                r#"{"ts":1002,"kind":"tcp","client":"10.0.0.3","name":"db.prod.example.com","port":5432,"proto":"postgres","answer":"closed"}"#,
            ),
            rec(r#"{"ts":1003,"kind":"dns","client":"10.0.0.3","name":"nothing.example.org","qtype":"A"}"#),
            rec(r#"{"ts":1004,"kind":"dns","client":"10.0.0.3","name":"nothing.example.org","qtype":"AAAA"}"#),
            rec(
                r#"{"ts":1005,"kind":"tcp","client":"10.0.0.3","name":"api.example.net","port":443,"proto":"tls","sni":"api.example.net"}"#,
            ),
            rec(
                r#"{"ts":1006,"kind":"tcp","client":"10.0.0.4","name":"db.prod.example.com","port":5432,"proto":"postgres"}"#,
            ),
            rec(
                r#"{"ts":1007,"kind":"tcp","client":"10.0.0.3","name":"pay.example.com.prodbox.invalid","port":80,"proto":"http","method":"GET","host":"pay.example.com.prodbox.invalid","path":"/v1"}"#,
            ),
        ];
        // prodbox's own marker is never a destination.
        let marker = r#"{"ts":1008,"kind":"tcp","client":"127.0.0.1","port":80,"proto":"http","method":"GET","host":"127.0.0.1:80","path":"/.prodbox-marker/42"}"#;
        assert!(parse(marker).is_empty());
        let who = HashMap::from([("10.0.0.3".to_string(), "app".to_string())]);
        let d = destinations(&records, &who);
        let targets: Vec<String> = d.iter().map(Destination::target).collect();
        assert_eq!(
            targets,
            ["nothing.example.org", "api.example.net:443", "db.prod.example.com:5432", "pay.example.com:80"]
        );
        assert_eq!(d[0].transport, "dns");
        assert_eq!(d[0].count, 1);
        assert_eq!(d[1].asked, ["SNI api.example.net"]);
        assert_eq!(d[2].count, 2);
        assert_eq!(d[2].from, ["app", "container 10.0.0.4"]);
        assert_eq!(d[3].rewritten_from.as_deref(), Some("pay.example.com"));
        assert_eq!(d[3].asked, ["GET pay.example.com.prodbox.invalid/v1"]);
        assert!(short_list(&d).contains("pay.example.com:80 (rewritten to pay.example.com.prodbox.invalid)"));
    }

    #[test]
    fn secrets_in_what_was_asked_are_scrubbed() {
        let token = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
        let records = vec![rec(&format!(
            r#"{{"ts":1,"kind":"tcp","client":"c","name":"h.example.com","port":80,"proto":"http","method":"GET","host":"h.example.com","path":"/x/{token}"}}"#
        ))];
        let d = destinations(&records, &HashMap::new());
        assert!(!d[0].asked[0].contains(token), "{:?}", d[0].asked);
    }
}

/// The relay's sinkhole code, compiled here so its tests run with the crate's.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../relay/sinkhole.rs"]
mod relay_sinkhole;
