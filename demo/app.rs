//! The demo service that `Dockerfile.example` packages: a tiny HTTP server,
//! std only, built as a static binary so it runs in a `FROM scratch` image.
//!
//! * `GET /healthz`          → `ok`
//! * `GET /`                 → JSON with the build's version and a few settings
//! * `GET /connect?to=H:P`   → `open` or `blocked`: can this container reach H:P?
//!   (shows the sandbox's isolation from the inside)
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
