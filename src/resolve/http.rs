//! The `http` source: `GET url` returns a record, with a bearer token from the
//! environment, timeouts, retries with backoff on 5xx and connection errors,
//! and `[source.map]` or a filter for registries with their own shape.

use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::{record, Answer, DeploySource, Query, ResolveError};
use crate::secret::Secret;

const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// An HTTP deploy registry.
pub struct HttpSource {
    pub url: String,
    pub history_url: Option<String>,
    pub token_env: Option<String>,
}

impl DeploySource for HttpSource {
    /// GETs the current record.
    fn current<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, ResolveError>> {
        Box::pin(async move {
            let url = query.expand(&self.url);
            let token = token(self.token_env.as_deref(), &url)?;
            let body = get_json(&url, token.as_ref()).await?;
            Ok(Answer::new(url, body))
        })
    }

    /// GETs the history: `history_url`, default `url + "/history"`.
    fn history<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, ResolveError>> {
        Box::pin(async move {
            let history_url = match &self.history_url {
                Some(h) => query.expand(h),
                None => format!("{}/history", query.expand(&self.url).trim_end_matches('/')),
            };
            let token = token(self.token_env.as_deref(), &history_url)?;
            match get_json(&history_url, token.as_ref()).await {
                Err(ResolveError::Rejected { status: 404, origin, .. }) => Err(ResolveError::NoHistory {
                    origin,
                    service: query.service.clone(),
                    hint: "set [source].history_url if it keeps one elsewhere".into(),
                }),
                Ok(body) => Ok(Answer::new(history_url, body)),
                Err(e) => Err(e),
            }
        })
    }
}

fn token(token_env: Option<&str>, url: &str) -> Result<Option<Secret>, ResolveError> {
    let Some(var) = token_env else { return Ok(None) };
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
        _ => Err(ResolveError::Setup {
            origin: url.into(),
            detail: format!("the profile takes its token from ${var}, which is not set; export {var}=… and try again"),
        }),
    }
}

/// One GET with retries; the body parsed as JSON (never quoted in errors).
pub async fn get_json(url: &str, token: Option<&Secret>) -> Result<Value, ResolveError> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("prodbox/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ResolveError::Setup { origin: url.into(), detail: e.to_string() })?;
    let mut backoff = FIRST_BACKOFF;
    let mut last_detail = String::new();
    for attempt in 1..=ATTEMPTS {
        let mut request = client.get(url).header("Accept", "application/json");
        if let Some(t) = token {
            request = request.bearer_auth(t.expose());
        }
        match request.send().await {
            Ok(resp) if resp.status().is_success() => {
                let bytes = read_capped(resp, url).await?;
                if let Some((line, column)) = crate::limits::first_non_utf8(&bytes) {
                    let what = "bytes that are not UTF-8";
                    return Err(record::RecordError::Syntax { origin: url.into(), what, line, column }.into());
                }
                let text = String::from_utf8_lossy(&bytes);
                return serde_json::from_str(&text).map_err(|e| record::syntax(url, &e).into());
            }
            Ok(resp) if resp.status().is_server_error() => {
                last_detail = format!("HTTP {} after {attempt} tries", resp.status().as_u16());
            }
            Ok(resp) => {
                let status = resp.status().as_u16();
                let hint = match status {
                    401 | 403 => "; check the token in the profile's token_env variable",
                    404 => "; check [source].url and the service and environment names",
                    _ => "",
                };
                return Err(ResolveError::Rejected { origin: url.into(), status, hint: hint.into() });
            }
            Err(e) => last_detail = format!("{} (after {attempt} tries)", without_url(&e)),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    Err(ResolveError::Unreachable { origin: url.into(), detail: last_detail })
}

/// The answer's body, at most [`MAX_RECORD`](crate::limits::MAX_RECORD)
/// bytes: a larger one is refused as it arrives, never held whole.
async fn read_capped(mut resp: reqwest::Response, url: &str) -> Result<Vec<u8>, ResolveError> {
    let max = crate::limits::MAX_RECORD;
    // Too large is a bad record (exit 2), like a malformed one.
    let too_large = || -> ResolveError {
        record::RecordError::Field {
            origin: url.into(),
            field: "(record)".into(),
            problem: format!("is larger than {} MiB, more than prodbox reads", max >> 20),
        }
        .into()
    };
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let mut out = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if (out.len() + chunk.len()) as u64 > max {
                    return Err(too_large());
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(e) => {
                return Err(ResolveError::Unreachable {
                    origin: url.into(),
                    detail: format!("reading the answer failed: {}", without_url(&e)),
                })
            }
        }
    }
}

/// reqwest's error without the URL (the caller names it), with its causes.
fn without_url(e: &reqwest::Error) -> String {
    let mut msg = String::from(if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    });
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}
