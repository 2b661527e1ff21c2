//! The demo service that `Dockerfile.example` packages: a tiny HTTP server,
//! std only, built as a static binary so it runs in a `FROM scratch` image.
//!
//! * `GET /healthz`          → `ok`
//! * `GET /`                 → JSON with the build's version and a few settings
//! * `GET /connect?to=H:P`   → `open` or `blocked`: can this container reach H:P?
//!   (shows the sandbox's isolation from the inside)
//! * `GET /call?url=U`       → what answered a call to U (`https://` sends a TLS
//!   ClientHello naming the host, `http://` a GET, `postgres://` a startup
//!   message, `udp://` one datagram): `blocked`, `closed`, `sent` or the
//!   answer's first line
//! * `GET /resolve?name=N`   → N's addresses, or `unresolved`
//! * `demo-app health`       → exit 0 when the server answers (the image's HEALTHCHECK)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::time::Duration;

fn main() {
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".into());
    if std::env::args().nth(1).as_deref() == Some("health") {
        let ok = TcpStream::connect(("127.0.0.1", port.parse().unwrap_or(8080)))
            .and_then(|mut s| {
                s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n")?;
                let mut buf = String::new();
                s.read_to_string(&mut buf)?;
                Ok(buf.starts_with("HTTP/1.0 200"))
            })
            .unwrap_or(false);
        std::process::exit(if ok { 0 } else { 1 });
    }
    let listener = TcpListener::bind(("0.0.0.0", port.parse().unwrap_or(8080))).expect("bind");
    println!("demo listening on :{port}, version {}", env("APP_VERSION"));
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || handle(stream));
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

fn handle(stream: TcpStream) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Skip the headers; the demo reads no body.
    let mut line = String::new();
    while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
        line.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    println!("{}", request_line.trim_end());
    let (status, body) = route(path);
    let mut out = &stream;
    let _ = write!(
        out,
        "HTTP/1.0 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nX-Demo-Version: {}\r\n\r\n{body}",
        body.len(),
        env("APP_VERSION"),
    );
}

fn route(path: &str) -> (&'static str, String) {
    if path == "/healthz" {
        return ("200 OK", "ok\n".into());
    }
    if let Some(target) = path.strip_prefix("/connect?to=") {
        let open = target
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .map(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok())
            .unwrap_or(false);
        return ("200 OK", format!("{}\n", if open { "open" } else { "blocked" }));
    }
    if let Some(url) = path.strip_prefix("/call?url=") {
        return ("200 OK", format!("{}\n", call(url)));
    }
    if let Some(name) = path.strip_prefix("/resolve?name=") {
        let addrs: Vec<String> =
            (name, 0).to_socket_addrs().map(|a| a.map(|a| a.ip().to_string()).collect()).unwrap_or_default();
        return ("200 OK", format!("{}\n", if addrs.is_empty() { "unresolved".into() } else { addrs.join(" ") }));
    }
    if path == "/" {
        let body = format!(
            "{{\"service\":\"demo\",\"version\":\"{}\",\"greeting\":\"{}\",\"upstream\":\"{}\"}}\n",
            env("APP_VERSION"),
            env("GREETING"),
            env("UPSTREAM_URL"),
        );
        return ("200 OK", body);
    }
    ("404 Not Found", "not found\n".into())
}

/// Calls `url` once the way a client of its scheme would begin.
fn call(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return "bad url".into() };
    let (authority, path) = rest.find('/').map(|i| rest.split_at(i)).unwrap_or((rest, "/"));
    let default_port = match scheme {
        "https" => 443,
        "postgres" => 5432,
        _ => 80,
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().unwrap_or(default_port)),
        None => (authority, default_port),
    };
    let Some(addr) = (host, port).to_socket_addrs().ok().and_then(|mut a| a.next()) else { return "blocked".into() };
    if scheme == "udp" {
        let sent = std::net::UdpSocket::bind("0.0.0.0:0").and_then(|s| s.send_to(b"demo", addr));
        return if sent.is_ok() { "sent".into() } else { "blocked".into() };
    }
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else { return "blocked".into() };
    let hello = match scheme {
        "https" => client_hello(host),
        "postgres" => {
            let params = b"user\0demo\0database\0demo\0\0";
            let mut m = ((8 + params.len()) as u32).to_be_bytes().to_vec();
            m.extend_from_slice(&[0, 3, 0, 0]);
            m.extend_from_slice(params);
            m
        }
        _ => format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").into_bytes(),
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream.write_all(&hello).is_err() {
        return "closed".into();
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    match String::from_utf8_lossy(&answer).lines().next() {
        Some(line) if !line.is_empty() => line.to_string(),
        _ => "closed".into(),
    }
}

/// A TLS 1.2 ClientHello with one cipher suite and the server name.
fn client_hello(host: &str) -> Vec<u8> {
    let name = host.as_bytes();
    let mut sni = vec![0, 0];
    sni.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
    sni.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    sni.push(0);
    sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sni.extend_from_slice(name);
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x42; 32]);
    body.extend_from_slice(&[0, 0, 2, 0xc0, 0x2f, 1, 0]);
    body.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    body.extend_from_slice(&sni);
    let mut handshake = vec![1, 0];
    handshake.extend_from_slice(&(body.len() as u16).to_be_bytes());
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 3, 1];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}
