//! `prodbox-relay sinkhole`: the sandbox's resolver and recorder.
//!
//! The app, the candidate and the dependencies use it as their DNS server.
//! Every name asked of it resolves to its own address (the sandbox's own
//! names never reach it: the engine's DNS or `/etc/hosts` answers those), and
//! it accepts TCP on the ports production uses. Each attempt is one JSON line
//! on stdout: the time, the name last asked by that client, the port, and
//! what the first bytes say (TLS SNI; HTTP method, Host and path; otherwise
//! the protocol). No bodies, no header values but Host, no query strings.
//! It answers by closing the connection, or HTTP with a fixed status
//! (`--http-status N`). It never forwards anything. UDP to other ports it
//! listens on is dropped and counted.
//!
//! Names given with `--host NAME=IPV4` (the sandbox's own, where their
//! addresses are fixed) are answered with their address and not recorded:
//! a resolver that asks DNS before `/etc/hosts` still finds them.
//!
//! `prodbox-relay sinkhole [--net CIDR] [--http-status N] [--udp PORT,…] [--host NAME=IPV4]… PORT…`
//!
//! The relay runs it in its own process (`prodbox-relay forward ROUTE… --sinkhole …`,
//! see [`serve`]): one container is the sandbox's door and its sinkhole.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a connection may stay silent before it counts as "sent nothing".
const FIRST_BYTES: Duration = Duration::from_secs(2);

/// The name each client asked for last (connections are attributed to it).
type LastAsked = Arc<Mutex<HashMap<IpAddr, String>>>;

/// How the relay forwards a connection to a route's `HOST:PORT`.
pub type Forward = fn(TcpStream, &str);

/// The standalone sinkhole: every client is the sandbox's.
pub fn run(args: &[String]) -> ExitCode {
    serve(args, HashMap::new(), None)
}

/// The sinkhole, serving the relay's `routes` (listen port → `HOST:PORT`)
/// beside it in one process: a connection from the sandbox network
/// (`--net CIDR`; any client without it) or from this container itself to
/// a port the sinkhole listens on is recorded, every other connection to a
/// route's port is forwarded, and the rest are closed. So the app's port
/// may be one production uses too (80, 5432…): the host reaches the app
/// through it, the app's own attempts are recorded.
pub fn serve(args: &[String], routes: HashMap<u16, String>, forward: Option<Forward>) -> ExitCode {
    let mut http_status: Option<u16> = None;
    let mut udp: Vec<u16> = Vec::new();
    let mut tcp: Vec<u16> = Vec::new();
    let mut hosts: HashMap<String, Ipv4Addr> = HashMap::new();
    let mut net: Option<Net> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--http-status" => http_status = it.next().and_then(|s| s.parse().ok()),
            "--net" => net = it.next().and_then(|s| Net::parse(s)),
            "--host" => {
                if let Some((name, ip)) = it.next().and_then(|h| h.split_once('=')) {
                    if let Ok(ip) = ip.parse() {
                        hosts.insert(name.to_ascii_lowercase(), ip);
                    }
                }
            }
            "--udp" => {
                udp.extend(it.next().into_iter().flat_map(|s| s.split(',')).filter_map(|p| p.parse::<u16>().ok()))
            }
            port => match port.parse() {
                Ok(p) => tcp.push(p),
                Err(_) => {
                    eprintln!(
                        "usage: prodbox-relay sinkhole [--net CIDR] [--http-status N] [--udp PORT,…] [--host NAME=IPV4]… PORT…"
                    );
                    return ExitCode::from(2);
                }
            },
        }
    }
    tcp.sort_unstable();
    tcp.dedup();
    udp.sort_unstable();
    udp.dedup();
    udp.retain(|p| *p != 53);
    let last: LastAsked = Arc::default();
    let dns = match UdpSocket::bind(("0.0.0.0", 53)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("prodbox-relay: cannot listen on 53/udp: {e}");
            return ExitCode::from(1);
        }
    };
    let mut handles = Vec::new();
    {
        let last = last.clone();
        handles.push(thread::spawn(move || serve_dns(dns, last, hosts, net)));
    }
    let mut listening = Vec::new();
    let mut ports: Vec<u16> = tcp.iter().copied().chain(routes.keys().copied()).collect();
    ports.sort_unstable();
    ports.dedup();
    for port in ports {
        let sink = tcp.contains(&port);
        let route = routes.get(&port).cloned().zip(forward);
        match TcpListener::bind(("0.0.0.0", port)) {
            Ok(listener) => {
                if sink {
                    listening.push(port);
                }
                if let Some((target, _)) = &route {
                    eprintln!("prodbox-relay: {port} -> {target}");
                }
                let last = last.clone();
                let door = Door { sink, route, net, http_status };
                handles.push(thread::spawn(move || accept_loop(listener, last, door)));
            }
            // The relay's own door must open: a route that cannot listen fails the relay.
            Err(e) if route.is_some() => {
                eprintln!("prodbox-relay: cannot listen on {port}: {e}");
                return ExitCode::from(1);
            }
            Err(e) => eprintln!("prodbox-relay: cannot listen on {port}/tcp: {e}"),
        }
    }
    let mut udp_listening = Vec::new();
    for port in &udp {
        if let Ok(socket) = UdpSocket::bind(("0.0.0.0", *port)) {
            udp_listening.push(*port);
            let last = last.clone();
            let port = *port;
            handles.push(thread::spawn(move || drop_udp(socket, port, last, net)));
        }
    }
    emit(&format!("{{\"ts\":{},\"kind\":\"ready\",\"tcp\":{listening:?},\"udp\":{udp_listening:?}}}", now_ms()));
    for handle in handles {
        let _ = handle.join();
    }
    ExitCode::SUCCESS
}

/// The sandbox network's IPv4 subnet: who counts as the sandbox.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Net {
    base: u32,
    mask: u32,
}

impl Net {
    fn parse(cidr: &str) -> Option<Net> {
        let (addr, prefix) = cidr.split_once('/')?;
        let addr: Ipv4Addr = addr.parse().ok()?;
        let prefix: u32 = prefix.parse().ok().filter(|p| *p <= 32)?;
        let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
        Some(Net { base: u32::from(addr) & mask, mask })
    }
}

/// Whether `client` is the sandbox's: on its network, or this container
/// itself (prodbox's own marker); everyone when the network is not given.
fn from_sandbox(client: IpAddr, net: Option<Net>) -> bool {
    let Some(net) = net else { return true };
    match client {
        IpAddr::V4(ip) => ip.is_loopback() || u32::from(ip) & net.mask == net.base,
        IpAddr::V6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| from_sandbox(IpAddr::V4(v4), Some(net)))
        }
    }
}

/// What one listening port does with a connection.
struct Door {
    /// The sinkhole listens here: the sandbox's connections are recorded.
    sink: bool,
    /// A relay route: other connections are forwarded to its target.
    route: Option<(String, Forward)>,
    net: Option<Net>,
    http_status: Option<u16>,
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

/// One record on stdout (one write, so lines from threads never mix).
fn emit(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(format!("{line}\n").as_bytes());
    let _ = out.flush();
}

/// A JSON string (or `null`).
fn js(value: Option<&str>) -> String {
    let Some(value) = value else { return "null".into() };
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---- DNS -------------------------------------------------------------------

fn serve_dns(socket: UdpSocket, last: LastAsked, hosts: HashMap<String, Ipv4Addr>, net: Option<Net>) {
    let mut own: HashMap<IpAddr, Ipv4Addr> = HashMap::new();
    let mut buf = [0u8; 1500];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf) else { continue };
        if !from_sandbox(from.ip(), net) {
            continue;
        }
        let Some(query) = parse_query(&buf[..n]) else { continue };
        if let Some(ip) = hosts.get(&query.name) {
            // A name of the sandbox: its own address, not an attempt to leave.
            let _ = socket.send_to(&answer(&buf[..n], &query, *ip), from);
            continue;
        }
        // Every name resolves to this sinkhole: its address as the client sees it.
        let address = *own.entry(from.ip()).or_insert_with(|| own_address(from).unwrap_or(Ipv4Addr::UNSPECIFIED));
        if query.qtype == 1 {
            if let Ok(mut map) = last.lock() {
                map.insert(from.ip(), query.name.clone());
            }
        }
        emit(&format!(
            "{{\"ts\":{},\"kind\":\"dns\",\"client\":\"{}\",\"name\":{},\"qtype\":{}}}",
            now_ms(),
            from.ip(),
            js(Some(&query.name)),
            js(Some(qtype_name(query.qtype))),
        ));
        let _ = socket.send_to(&answer(&buf[..n], &query, address), from);
    }
}

/// This host's address on the path to `peer` (a connected UDP socket sends
/// nothing, it only picks the route).
fn own_address(peer: SocketAddr) -> Option<Ipv4Addr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect(peer).ok()?;
    match socket.local_addr().ok()?.ip() {
        IpAddr::V4(ip) => Some(ip),
        IpAddr::V6(_) => None,
    }
}

#[derive(Debug, PartialEq)]
struct Query {
    name: String,
    qtype: u16,
    /// Where the question ends in the packet.
    end: usize,
}

fn parse_query(packet: &[u8]) -> Option<Query> {
    if packet.len() < 12 || packet[2] & 0x80 != 0 || u16::from_be_bytes([packet[4], packet[5]]) < 1 {
        return None;
    }
    let mut labels: Vec<String> = Vec::new();
    let mut at = 12;
    loop {
        let len = *packet.get(at)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        let label = packet.get(at..at + len)?;
        labels.push(label.iter().map(|b| b.to_ascii_lowercase() as char).collect());
        at += len;
    }
    let qtype = u16::from_be_bytes([*packet.get(at)?, *packet.get(at + 1)?]);
    packet.get(at + 3)?;
    let name: String = labels.join(".");
    let name = name.chars().map(|c| if c.is_ascii_graphic() { c } else { '?' }).collect();
    Some(Query { name, qtype, end: at + 4 })
}

fn qtype_name(qtype: u16) -> &'static str {
    match qtype {
        1 => "A",
        28 => "AAAA",
        5 => "CNAME",
        15 => "MX",
        16 => "TXT",
        33 => "SRV",
        12 => "PTR",
        65 => "HTTPS",
        _ => "other",
    }
}

/// The answer: for A, one record with `address`; for anything else, none
/// (the name exists, with no data of that type).
fn answer(packet: &[u8], query: &Query, address: Ipv4Addr) -> Vec<u8> {
    let a = query.qtype == 1 && !address.is_unspecified();
    let mut out = Vec::with_capacity(query.end + 16);
    out.extend_from_slice(&packet[0..2]);
    // QR, the query's opcode and RD, RA; NOERROR.
    out.push(0x80 | (packet[2] & 0x79));
    out.push(0x80);
    out.extend_from_slice(&[0, 1, 0, a as u8, 0, 0, 0, 0]);
    out.extend_from_slice(&packet[12..query.end]);
    if a {
        // A pointer to the question's name, A, IN, TTL 5 s, 4 bytes.
        out.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4]);
        out.extend_from_slice(&address.octets());
    }
    out
}

// ---- TCP -------------------------------------------------------------------

fn accept_loop(listener: TcpListener, last: LastAsked, door: Door) {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    for client in listener.incoming().flatten() {
        let peer = client.peer_addr().map(|a| a.ip()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        if door.sink && from_sandbox(peer, door.net) {
            let (last, http_status) = (last.clone(), door.http_status);
            let _ = thread::Builder::new().spawn(move || record_tcp(client, port, &last, http_status));
        } else if let Some((target, forward)) = &door.route {
            let (target, forward) = (target.clone(), *forward);
            let _ = thread::Builder::new().spawn(move || forward(client, &target));
        }
        // Anything else is closed as it is dropped.
    }
}

fn asked_by(last: &LastAsked, client: IpAddr) -> Option<String> {
    last.lock().ok()?.get(&client).cloned()
}

fn record_tcp(mut client: TcpStream, port: u16, last: &LastAsked, http_status: Option<u16>) {
    let peer = client.peer_addr().map(|a| a.ip()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let name = asked_by(last, peer);
    let _ = client.set_read_timeout(Some(FIRST_BYTES));
    let mut buf = vec![0u8; 4096];
    let mut n = 0;
    // Enough for a request line and Host, or a ClientHello.
    while n < buf.len() {
        match client.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => {
                n += k;
                if complete(&buf[..n]) {
                    break;
                }
            }
        }
    }
    let seen = classify(&buf[..n], port);
    let answered = match (http_status, seen.proto) {
        (Some(status), "http") => {
            let reason = if status == 503 { "Service Unavailable" } else { "Sinkhole" };
            let _ = write!(
                client,
                "HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\nX-Prodbox: sinkhole\r\n\r\n"
            );
            format!("http {status}")
        }
        _ => "closed".to_string(),
    };
    emit(&format!(
        "{{\"ts\":{},\"kind\":\"tcp\",\"client\":\"{peer}\",\"name\":{},\"port\":{port},\"proto\":{},\"sni\":{},\"method\":{},\"host\":{},\"path\":{},\"bytes\":{n},\"answer\":{}}}",
        now_ms(),
        js(name.as_deref()),
        js(Some(seen.proto)),
        js(seen.sni.as_deref()),
        js(seen.method.as_deref()),
        js(seen.host.as_deref()),
        js(seen.path.as_deref()),
        js(Some(&answered)),
    ));
    let _ = client.shutdown(std::net::Shutdown::Both);
}

/// Whether the first bytes are enough to classify.
fn complete(bytes: &[u8]) -> bool {
    if bytes.first() == Some(&0x16) && bytes.len() >= 5 {
        let len = u16::from_be_bytes([bytes[3], bytes[4]]) as usize;
        return bytes.len() >= 5 + len;
    }
    if http_method(bytes).is_some() {
        return bytes.windows(4).any(|w| w == b"\r\n\r\n") || bytes.windows(2).any(|w| w == b"\n\n");
    }
    bytes.len() >= 8
}

/// What the first bytes of a connection say.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    proto: &'static str,
    sni: Option<String>,
    method: Option<String>,
    host: Option<String>,
    path: Option<String>,
}

const METHODS: [&str; 9] = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE"];

fn http_method(bytes: &[u8]) -> Option<&'static str> {
    METHODS.into_iter().find(|m| bytes.starts_with(m.as_bytes()) && bytes.get(m.len()) == Some(&b' '))
}

/// Printable ASCII only, at most 200 characters.
fn clean(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_graphic()).take(200).collect()
}

fn classify(bytes: &[u8], port: u16) -> Seen {
    if bytes.is_empty() {
        let proto = match port {
            3306 => "mysql? (sent nothing: the server speaks first)",
            25 | 587 | 465 => "smtp? (sent nothing: the server speaks first)",
            21 => "ftp? (sent nothing: the server speaks first)",
            22 => "ssh? (sent nothing)",
            _ => "none (sent nothing)",
        };
        return Seen { proto, ..Default::default() };
    }
    if bytes[0] == 0x16 && bytes.get(1) == Some(&0x03) {
        return Seen { proto: "tls", sni: sni(bytes), ..Default::default() };
    }
    if let Some(method) = http_method(bytes) {
        let text = String::from_utf8_lossy(bytes);
        let mut lines = text.split('\n');
        let target = lines.next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("");
        // The path only: a query string may carry tokens.
        let path = target.split(['?', '#']).next().unwrap_or("");
        let host = lines
            .take_while(|l| !l.trim().is_empty())
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("host")))
            .map(|(_, v)| clean(v.trim()));
        return Seen {
            proto: "http",
            method: Some(method.to_string()),
            host,
            path: Some(clean(path)),
            ..Default::default()
        };
    }
    let be32 = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let le32 = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let proto = match be32(4) {
        Some(0x0003_0000) => "postgres",
        Some(80_877_103) => "postgres (asks for TLS)",
        Some(80_877_104) => "postgres (asks for GSS encryption)",
        _ if bytes.starts_with(b"AMQP") => "amqp",
        _ if bytes[0] == b'*' || bytes.starts_with(b"PING") || bytes.starts_with(b"AUTH") => "redis",
        _ if matches!(le32(12), Some(2013 | 2004)) => "mongodb",
        _ if bytes.starts_with(b"SSH-") => "ssh",
        _ if port == 9092 && be32(0).is_some_and(|len| len as usize + 4 >= bytes.len()) => "kafka",
        _ => "unknown",
    };
    Seen { proto, ..Default::default() }
}

/// The server name of a TLS ClientHello.
fn sni(bytes: &[u8]) -> Option<String> {
    let u16_at = |at: usize| bytes.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]) as usize);
    // Record header (5), handshake type and length (4), version (2), random (32).
    if bytes.get(5) != Some(&1) {
        return None;
    }
    let mut at = 5 + 4 + 2 + 32;
    at += 1 + *bytes.get(at)? as usize; // session id
    at += 2 + u16_at(at)?; // cipher suites
    at += 1 + *bytes.get(at)? as usize; // compression methods
    let end = at + 2 + u16_at(at)?;
    at += 2;
    while at + 4 <= end {
        let (kind, len) = (u16_at(at)?, u16_at(at + 2)?);
        at += 4;
        if kind == 0 {
            // server_name: list length, then type 0, length, name.
            let name_len = u16_at(at + 3)?;
            let name = bytes.get(at + 5..at + 5 + name_len)?;
            return Some(clean(&String::from_utf8_lossy(name)));
        }
        at += len;
    }
    None
}

// ---- UDP -------------------------------------------------------------------

fn drop_udp(socket: UdpSocket, port: u16, last: LastAsked, net: Option<Net>) {
    let mut counts: HashMap<(IpAddr, Option<String>), u64> = HashMap::new();
    let mut buf = [0u8; 2048];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf) else { continue };
        if !from_sandbox(from.ip(), net) {
            continue;
        }
        let name = asked_by(&last, from.ip());
        let count = counts.entry((from.ip(), name.clone())).or_insert(0);
        *count += 1;
        // The first few, then every hundredth: a chatty client cannot flood the log.
        if *count <= 10 || count.is_multiple_of(100) {
            emit(&format!(
                "{{\"ts\":{},\"kind\":\"udp\",\"client\":\"{}\",\"name\":{},\"port\":{port},\"bytes\":{n},\"count\":{count}}}",
                now_ms(),
                from.ip(),
                js(name.as_deref()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, (qtype >> 8) as u8, qtype as u8, 0, 1]);
        q
    }

    pub fn client_hello(host: &str) -> Vec<u8> {
        let mut ext = vec![0, 0];
        let list_len = host.len() + 3;
        ext.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
        ext.extend_from_slice(&(list_len as u16).to_be_bytes());
        ext.push(0);
        ext.extend_from_slice(&(host.len() as u16).to_be_bytes());
        ext.extend_from_slice(host.as_bytes());
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut hs = vec![1, 0];
        hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
        hs.extend_from_slice(&body);
        let mut rec = vec![0x16, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn every_a_question_gets_the_sinkhole() {
        let q = query("DB.prod.example.com", 1);
        let parsed = parse_query(&q).unwrap();
        assert_eq!((parsed.name.as_str(), parsed.qtype), ("db.prod.example.com", 1));
        let a = answer(&q, &parsed, Ipv4Addr::new(10, 0, 0, 5));
        assert_eq!(&a[..2], &[0x12, 0x34]);
        assert_eq!(a[2] & 0x80, 0x80);
        assert_eq!(&a[6..8], &[0, 1]);
        assert_eq!(&a[a.len() - 4..], &[10, 0, 0, 5]);
        let q6 = query("db.prod.example.com", 28);
        let a6 = answer(&q6, &parse_query(&q6).unwrap(), Ipv4Addr::new(10, 0, 0, 5));
        assert_eq!(&a6[6..8], &[0, 0]);
        assert_eq!(a6.len(), q6.len());
    }

    #[test]
    fn the_sandbox_is_its_subnet_and_this_container() {
        let net = Net::parse("10.231.7.0/24");
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(from_sandbox(ip("10.231.7.3"), net));
        assert!(from_sandbox(ip("127.0.0.1"), net), "prodbox's marker, from inside");
        assert!(!from_sandbox(ip("172.18.0.1"), net), "the host, through the relay's bridge");
        assert!(!from_sandbox(ip("10.231.8.3"), net));
        assert!(from_sandbox(ip("172.18.0.1"), None), "the standalone sinkhole records everyone");
        assert_eq!(Net::parse("10.231.7.9/33"), None);
    }

    #[test]
    fn first_bytes_say_sni_host_path_or_protocol() {
        let hello = client_hello("api.partner.example.net");
        assert!(complete(&hello));
        let seen = classify(&hello, 443);
        assert_eq!((seen.proto, seen.sni.as_deref()), ("tls", Some("api.partner.example.net")));
        let seen = classify(b"GET /latest/meta-data?token=s3cr3t HTTP/1.1\r\nHost: metadata.internal\r\nAuthorization: Bearer x\r\n\r\n", 80);
        assert_eq!(seen.method.as_deref(), Some("GET"));
        assert_eq!(seen.host.as_deref(), Some("metadata.internal"));
        assert_eq!(seen.path.as_deref(), Some("/latest/meta-data"));
        let startup = [0, 0, 0, 8, 0, 3, 0, 0];
        assert_eq!(classify(&startup, 5432).proto, "postgres");
        assert_eq!(classify(&[0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f], 5432).proto, "postgres (asks for TLS)");
        assert!(classify(b"", 3306).proto.starts_with("mysql"));
        assert_eq!(classify(b"*1\r\n$4\r\nPING\r\n", 6379).proto, "redis");
        assert_eq!(js(Some("a\"b\n")), "\"a\\\"b\\u000a\"");
    }
}
