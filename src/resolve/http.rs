//! The `http` source: `GET url` returns a record, with a bearer token from the
//! environment, timeouts, retries with backoff on 5xx and connection errors,
//! and `[source.map]` JSON Pointers for registries with their own shape.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};

use super::{record, ResolveError};
use crate::profile::{Profile, Source};
use crate::secret::Secret;

const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// GETs the current record; returns (origin, normalized JSON).
pub async fn fetch_current(profile: &Profile) -> Result<(String, Value), ResolveError> {
    let Source::Http { url, token_env, map, .. } = &profile.source else {
        unreachable!("http::fetch_current on a non-http source")
    };
    let url = expand(url, profile);
    let token = token(token_env.as_deref(), &url)?;
    let body = get_json(&url, token.as_ref()).await?;
    Ok((url, apply_map(&body, map)))
}

/// GETs the history: `history_url`, default `url + "/history"`, answering
/// `{"deploys": [record…]}` (or where `[source.map].deploys` points).
pub async fn fetch_history(profile: &Profile) -> Result<(String, Vec<Value>), ResolveError> {
    let Source::Http { url, history_url, token_env, map } = &profile.source else {
        unreachable!("http::fetch_history on a non-http source")
    };
    let history_url = match history_url {
        Some(h) => expand(h, profile),
        None => format!("{}/history", expand(url, profile).trim_end_matches('/')),
    };
    let token = token(token_env.as_deref(), &history_url)?;
    let body = match get_json(&history_url, token.as_ref()).await {
        Err(ResolveError::Rejected { status: 404, origin, .. }) => {
            return Err(ResolveError::NoHistory {
                origin,
                service: profile.service.clone(),
                hint: "set [source].history_url if it keeps one elsewhere".into(),
            })
        }
        other => other?,
    };
    let pointer = map.get("deploys").map(String::as_str).unwrap_or("/deploys");
    let deploys = body.pointer(pointer).and_then(Value::as_array).ok_or_else(|| super::RecordError::Field {
        origin: history_url.clone(),
        field: pointer.trim_start_matches('/').into(),
        problem: "must be a list of deploy records".into(),
    })?;
    Ok((history_url, deploys.iter().map(|d| apply_map(d, map)).collect()))
}

/// Fills `{service}` and `{environment}` in a URL template.
pub fn expand(template: &str, profile: &Profile) -> String {
    template.replace("{service}", &profile.service).replace("{environment}", &profile.environment)
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
                let bytes = resp.bytes().await.map_err(|e| ResolveError::Unreachable {
                    origin: url.into(),
                    detail: format!("reading the answer failed: {}", without_url(&e)),
                })?;
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

/// Reshapes a foreign JSON document into the normalized record shape using
/// `[source.map]` pointers; with no map the body is taken as it is.
pub fn apply_map(body: &Value, map: &BTreeMap<String, String>) -> Value {
    if map.is_empty() {
        return body.clone();
    }
    let get = |field: &str| map.get(field).and_then(|p| body.pointer(p)).cloned();
    let mut out = Map::new();
    for field in ["service", "environment", "image", "deployed_at", "deployed_by", "revision"] {
        if let Some(v) = get(field).or_else(|| body.get(field).cloned()) {
            out.insert(field.into(), v);
        }
    }
    let mut config = get("config").and_then(|c| c.as_object().cloned()).unwrap_or_default();
    for part in ["env", "files"] {
        if let Some(v) = get(part) {
            config.insert(part.into(), v);
        }
    }
    if !config.is_empty() {
        out.insert("config".into(), Value::Object(config));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_reshapes_foreign_records() {
        let body: Value = serde_json::json!({
            "spec": {"template": {"image": "r/x@sha256:ab", "env": {"A": "1"}}},
            "meta": {"at": "2026-11-20T14:05:00Z", "rev": "9f1c2ab"}
        });
        let map = BTreeMap::from([
            ("image".to_string(), "/spec/template/image".to_string()),
            ("env".to_string(), "/spec/template/env".to_string()),
            ("deployed_at".to_string(), "/meta/at".to_string()),
            ("revision".to_string(), "/meta/rev".to_string()),
        ]);
        let out = apply_map(&body, &map);
        assert_eq!(out["image"], "r/x@sha256:ab");
        assert_eq!(out["config"]["env"]["A"], "1");
        assert_eq!(out["revision"], "9f1c2ab");
    }
}
