//! A small typed client for the few libpod API calls the Docker-compatible
//! API cannot express (bollard speaks only that one): creating and reading a
//! Podman network that is `internal` with DNS off. It talks to the same
//! socket as the engine, one HTTP/1.0 request per connection (so answers are
//! never chunked and end when the connection closes).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::engine::{Engine, EngineError};

/// The libpod API version prefix (Podman 4.0 and later answer it).
const API: &str = "/v4.0.0/libpod";

/// Where the libpod API is: the engine's own socket.
#[derive(Debug, Clone)]
pub struct Libpod {
    endpoint: Endpoint,
}

#[derive(Debug, Clone)]
enum Endpoint {
    Unix(String),
    Tcp(String),
}

/// `POST /libpod/networks/create`.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkCreate {
    pub name: String,
    pub driver: String,
    pub internal: bool,
    pub dns_enabled: bool,
    pub ipv6_enabled: bool,
    pub labels: HashMap<String, String>,
}

/// A libpod network as Podman reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct Network {
    pub name: String,
    #[serde(default)]
    pub id: String,
    /// The bridge's interface on the engine's host (`podman3`).
    #[serde(default)]
    pub network_interface: Option<String>,
    #[serde(default)]
    pub subnets: Vec<Subnet>,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub dns_enabled: bool,
    #[serde(default)]
    pub ipv6_enabled: bool,
    #[serde(default)]
    pub labels: HashMap<String, String>,
}

/// One of a libpod network's subnets.
#[derive(Debug, Clone, Deserialize)]
pub struct Subnet {
    /// CIDR, `10.89.3.0/24`.
    pub subnet: String,
    /// The bridge's address on the host, when it has one.
    #[serde(default)]
    pub gateway: Option<String>,
}

impl Libpod {
    /// The libpod API on `engine`'s socket (`unix://` or `tcp://`).
    pub fn new(engine: &Engine) -> Result<Libpod, EngineError> {
        let endpoint = if let Some(path) = engine.unix_socket() {
            Endpoint::Unix(path.to_string())
        } else if let Some(host) =
            engine.address.strip_prefix("tcp://").or_else(|| engine.address.strip_prefix("http://"))
        {
            Endpoint::Tcp(host.trim_end_matches('/').to_string())
        } else {
            return Err(EngineError::Api {
                what: "reaching Podman's libpod API".into(),
                detail: format!(
                    "{} is neither unix:// nor tcp://; point DOCKER_HOST at Podman's socket",
                    engine.address
                ),
            });
        };
        Ok(Libpod { endpoint })
    }

    /// Creates a network; Podman answers with the network as made.
    pub async fn create_network(&self, request: &NetworkCreate) -> Result<Network, EngineError> {
        let body = serde_json::to_vec(request).unwrap_or_default();
        let what = format!("creating network {} (libpod)", request.name);
        let (status, text) = self.call("POST", &format!("{API}/networks/create"), Some(&body), &what).await?;
        parse(status, &text, &what)
    }

    /// A network by name, or `None` when there is none.
    pub async fn inspect_network(&self, name: &str) -> Result<Option<Network>, EngineError> {
        let what = format!("inspecting network {name} (libpod)");
        let (status, text) = self.call("GET", &format!("{API}/networks/{name}/json"), None, &what).await?;
        if status == 404 {
            return Ok(None);
        }
        parse(status, &text, &what).map(Some)
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        what: &str,
    ) -> Result<(u16, Vec<u8>), EngineError> {
        let failed = |e: std::io::Error| EngineError::Api { what: what.to_string(), detail: e.to_string() };
        match &self.endpoint {
            Endpoint::Unix(path_) => {
                let stream = tokio::net::UnixStream::connect(path_).await.map_err(failed)?;
                exchange(stream, method, path, body).await.map_err(failed)
            }
            Endpoint::Tcp(host) => {
                let stream = tokio::net::TcpStream::connect(host).await.map_err(failed)?;
                exchange(stream, method, path, body).await.map_err(failed)
            }
        }
    }
}

fn parse<T: for<'de> Deserialize<'de>>(status: u16, body: &[u8], what: &str) -> Result<T, EngineError> {
    if !(200..300).contains(&status) {
        // libpod errors are {"cause": …, "message": …, "response": status}.
        let message = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
        return Err(EngineError::Api { what: what.to_string(), detail: format!("HTTP {status}: {message}") });
    }
    serde_json::from_slice(body)
        .map_err(|e| EngineError::Api { what: what.to_string(), detail: format!("unexpected answer: {e}") })
}

/// One HTTP/1.0 request and its whole answer: (status, body).
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
) -> std::io::Result<(u16, Vec<u8>)> {
    let body = body.unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("the engine's answer has no end of headers"))?;
    let status_line = String::from_utf8_lossy(&answer[..split]).lines().next().unwrap_or_default().to_string();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
    Ok((status, answer[split + 4..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_an_http_1_0_answer() {
        let (client, mut server) = tokio::io::duplex(4096);
        let serve = tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            let n = server.read(&mut buf).await.unwrap();
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            server
                .write_all(b"HTTP/1.0 201 Created\r\nContent-Type: application/json\r\n\r\n{\"name\":\"n\"}")
                .await
                .unwrap();
            request
        });
        let (status, body) = exchange(client, "POST", "/v4.0.0/libpod/networks/create", Some(b"{}")).await.unwrap();
        assert_eq!(status, 201);
        assert_eq!(body, b"{\"name\":\"n\"}");
        let request = serve.await.unwrap();
        assert!(request.starts_with("POST /v4.0.0/libpod/networks/create HTTP/1.0\r\n"), "{request}");
        assert!(request.contains("Content-Length: 2\r\n"));
        let network: Network =
            parse(201, b"{\"name\":\"n\",\"subnets\":[{\"subnet\":\"10.89.0.0/24\"}]}", "x").unwrap();
        assert_eq!(network.subnets[0].subnet, "10.89.0.0/24");
        let err = parse::<Network>(409, b"{\"message\":\"network name n already used\"}", "creating n").unwrap_err();
        assert!(err.to_string().contains("HTTP 409: network name n already used"), "{err}");
    }
}
