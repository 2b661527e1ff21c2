//! prodbox-relay: the sandbox's only door, and its probe.
//!
//! Built from this file alone (std only) as a static binary and shipped in a
//! `FROM scratch` image, so nothing is ever pulled for it.
//!
//! * `prodbox-relay forward LISTEN=HOST:PORT…` accepts on `0.0.0.0:LISTEN` and
//!   pipes each connection to `HOST:PORT` (resolved per connection, so it
//!   follows the app container's name on the sandbox network). With
//!   `--sinkhole ARGS…` after the routes, the sandbox's egress sinkhole runs
//!   in the same process (`sinkhole::serve`).
//! * `prodbox-relay probe HOST:PORT [--http PATH]` connects once and prints
//!   `open` or `blocked` (exit 0 or 1); with `--http` the answer must be a 2xx/3xx.
//! * `prodbox-relay scan HOST:PORT…` tries each (in parallel) and prints
//!   `HOST:PORT open|blocked` per line (`prodbox verify`).
//! * `prodbox-relay sinkhole [--http-status N] [--udp PORT,…] PORT…` is the
//!   sandbox's resolver and recorder of outbound attempts (`sinkhole.rs`).
//!
//! A HOST may be an IPv6 link-local address with its interface,
//! `[fe80::1%eth0]:22` (std's parser takes no scope).

use std::io::{Read, Write};
use std::net::{Ipv6Addr, Shutdown, SocketAddr, SocketAddrV6, TcpListener, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

mod sinkhole;

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("forward") => forward(&args[1..]),
        Some("probe") => probe(&args[1..]),
        Some("scan") => scan(&args[1..]),
        Some("sinkhole") => sinkhole::run(&args[1..]),
        _ => {
            eprintln!("usage: prodbox-relay forward LISTEN=HOST:PORT… | probe HOST:PORT [--http PATH]");
            ExitCode::from(2)
        }
    }
}

fn forward(args: &[String]) -> ExitCode {
    // `--sinkhole …`: the sandbox's sinkhole runs in this process too.
    let (routes, sinkhole) = match args.iter().position(|a| a == "--sinkhole") {
        Some(i) => (&args[..i], Some(&args[i + 1..])),
        None => (args, None),
    };
    if let Some(sinkhole) = sinkhole {
        let mut table = std::collections::HashMap::new();
        for route in routes {
            let Some((listen, target)) = route.split_once('=').and_then(|(l, t)| Some((l.parse::<u16>().ok()?, t)))
            else {
                eprintln!("prodbox-relay: bad route {route:?}, want LISTEN=HOST:PORT");
                return ExitCode::from(2);
            };
            table.insert(listen, target.to_string());
        }
        return sinkhole::serve(sinkhole, table, Some(forward_one));
    }
    let mut handles = Vec::new();
    for route in routes {
        let Some((listen, target)) = route.split_once('=') else {
            eprintln!("prodbox-relay: bad route {route:?}, want LISTEN=HOST:PORT");
            return ExitCode::from(2);
        };
        let listener = match TcpListener::bind(("0.0.0.0", listen.parse::<u16>().unwrap_or(0))) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("prodbox-relay: cannot listen on {listen}: {e}");
                return ExitCode::from(1);
            }
        };
        eprintln!("prodbox-relay: {listen} -> {target}");
        let target = target.to_string();
        handles.push(thread::spawn(move || accept_loop(listener, target)));
    }
    for handle in handles {
        let _ = handle.join();
    }
    ExitCode::SUCCESS
}

fn accept_loop(listener: TcpListener, target: String) {
    for client in listener.incoming().flatten() {
        let target = target.clone();
        thread::spawn(move || forward_one(client, &target));
    }
}

/// Pipes one accepted connection to `target` (resolved now).
fn forward_one(client: TcpStream, target: &str) {
    if let Ok(upstream) = connect(target, Duration::from_secs(5)) {
        pipe(client, upstream);
    }
}

/// Copies both directions until each side closes.
fn pipe(client: TcpStream, upstream: TcpStream) {
    let (Ok(mut client_r), Ok(mut upstream_w)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let up = thread::spawn(move || {
        let _ = std::io::copy(&mut client_r, &mut upstream_w);
        let _ = upstream_w.shutdown(Shutdown::Write);
    });
    let (mut upstream_r, mut client_w) = (upstream, client);
    let _ = std::io::copy(&mut upstream_r, &mut client_w);
    let _ = client_w.shutdown(Shutdown::Write);
    let _ = up.join();
}

fn connect(target: &str, timeout: Duration) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::other("no address");
    for addr in resolve(target)? {
        match connect_one(&addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A fresh container's IPv6 link-local address is "tentative" for a second
/// or two (duplicate address detection): connecting from it fails with
/// EADDRNOTAVAIL although the path is open. So a probe waits that out, unless
/// IPv6 is off in this container (then it is blocked for good).
fn connect_one(addr: &SocketAddr, timeout: Duration) -> std::io::Result<TcpStream> {
    let deadline = std::time::Instant::now() + Duration::from_secs(4);
    loop {
        match TcpStream::connect_timeout(addr, timeout) {
            Err(e)
                if e.kind() == std::io::ErrorKind::AddrNotAvailable
                    && addr.is_ipv6()
                    && ipv6_on()
                    && std::time::Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

fn ipv6_on() -> bool {
    std::fs::read_to_string("/proc/sys/net/ipv6/conf/all/disable_ipv6").is_ok_and(|v| v.trim() == "0")
}

/// `HOST:PORT`, or `[IPV6%INTERFACE]:PORT` with the interface's index as scope.
fn resolve(target: &str) -> std::io::Result<Vec<SocketAddr>> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("bad target {target:?}"));
    if let Some((inside, port)) = target.strip_prefix('[').and_then(|t| t.split_once("]:")) {
        if let Some((addr, scope)) = inside.split_once('%') {
            let ip: Ipv6Addr = addr.parse().map_err(|_| bad())?;
            let port: u16 = port.parse().map_err(|_| bad())?;
            let index = scope.parse::<u32>().ok().or_else(|| {
                std::fs::read_to_string(format!("/sys/class/net/{scope}/ifindex")).ok()?.trim().parse().ok()
            });
            return Ok(vec![SocketAddr::V6(SocketAddrV6::new(ip, port, 0, index.ok_or_else(bad)?))]);
        }
    }
    Ok(target.to_socket_addrs()?.collect())
}

fn probe(args: &[String]) -> ExitCode {
    let Some(target) = args.first() else {
        eprintln!("usage: prodbox-relay probe HOST:PORT [--http PATH]");
        return ExitCode::from(2);
    };
    let http_path = match args.get(1).map(String::as_str) {
        Some("--http") => args.get(2).cloned(),
        _ => None,
    };
    let open = match connect(target, PROBE_TIMEOUT) {
        Ok(stream) => match http_path {
            Some(path) => http_ok(stream, target, &path),
            None => true,
        },
        Err(_) => false,
    };
    println!("{}", if open { "open" } else { "blocked" });
    if open {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn scan(targets: &[String]) -> ExitCode {
    let handles: Vec<_> = targets
        .iter()
        .cloned()
        .map(|t| thread::spawn(move || (connect(&t, PROBE_TIMEOUT).is_ok(), t)))
        .collect();
    for h in handles {
        if let Ok((open, target)) = h.join() {
            println!("{target} {}", if open { "open" } else { "blocked" });
        }
    }
    ExitCode::SUCCESS
}

fn http_ok(mut stream: TcpStream, host: &str, path: &str) -> bool {
    let _ = stream.set_read_timeout(Some(PROBE_TIMEOUT));
    let request = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: prodbox-probe\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    let mut read = 0;
    while read < head.len() {
        match stream.read(&mut head[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    // "HTTP/1.x 2xx" or 3xx
    read == head.len() && head.starts_with(b"HTTP/1.") && matches!(head[9], b'2' | b'3')
}
