//! The behaviour side of `diff`: the same requests sent to both builds, their
//! statuses, the headers that differ (minus volatile ones), and a unified
//! diff of the bodies (JSON compared pretty-printed with sorted keys).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

/// One request to replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

impl Request {
    /// `METHOD /path [Name:value…] [body]`: tokens after the path that look
    /// like `Name:value` are headers; the rest of the line is the body.
    pub fn parse(line: &str) -> Result<Request, String> {
        let line = line.trim();
        // Splits off the first whitespace-separated token.
        fn token(s: &str) -> (&str, &str) {
            let s = s.trim_start();
            s.split_at(s.find(char::is_whitespace).unwrap_or(s.len()))
        }
        let (method, rest) = token(line);
        let (path, mut rest) = token(rest);
        let method = method.to_ascii_uppercase();
        if method.is_empty() || !method.chars().all(|c| c.is_ascii_alphabetic()) || !path.starts_with('/') {
            return Err(format!("{line:?}: want METHOD /path [Header:value…] [body], e.g. 'GET /cart/42'"));
        }
        let path = path.to_string();
        let mut headers = Vec::new();
        loop {
            let (t, after) = token(rest);
            match t.split_once(':') {
                Some((name, value))
                    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
                {
                    headers.push((name.to_string(), value.to_string()));
                    rest = after;
                }
                _ => break,
            }
        }
        let body = rest.trim();
        Ok(Request { method, path, headers, body: (!body.is_empty()).then(|| body.to_string()) })
    }

    /// `GET /cart/42`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// One side's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// The two answers to one request, compared.
#[derive(Debug, Clone, Serialize)]
pub struct Compared {
    pub request: String,
    pub production_status: Option<u16>,
    pub candidate_status: Option<u16>,
    /// (header, production value, candidate value).
    pub headers: Vec<(String, String, String)>,
    /// Unified diff of the bodies; empty when they are the same.
    pub body_diff: String,
    /// A side that gave no answer.
    pub error: Option<String>,
    pub same: bool,
}

/// Headers whose values change from one answer to the next whatever the build.
const VOLATILE: &[&str] = &[
    "date",
    "age",
    "expires",
    "last-modified",
    "etag",
    "set-cookie",
    "content-length",
    "x-request-id",
    "x-correlation-id",
    "x-trace-id",
    "traceparent",
    "server-timing",
    "connection",
    "keep-alive",
];

/// Sends one request to `base` (`http://127.0.0.1:PORT`).
pub async fn send(client: &reqwest::Client, base: &str, req: &Request) -> Result<Answer, String> {
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut builder = client.request(method, format!("{base}{}", req.path)).timeout(Duration::from_secs(15));
    for (k, v) in &req.headers {
        builder = builder.header(k, v);
    }
    if let Some(b) = &req.body {
        builder = builder.body(b.clone());
    }
    let resp = builder.send().await.map_err(|e| format!("{} {}: no answer ({e})", req.method, req.path))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = resp.text().await.map_err(|e| e.to_string())?;
    Ok(Answer { status, headers, body })
}

/// Compares two answers.
pub fn compare(req: &Request, production: Result<Answer, String>, candidate: Result<Answer, String>) -> Compared {
    let (a, b) = match (production, candidate) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            let error =
                [a.as_ref().err(), b.as_ref().err()].into_iter().flatten().cloned().collect::<Vec<_>>().join("; ");
            return Compared {
                request: req.label(),
                production_status: a.as_ref().ok().map(|x| x.status),
                candidate_status: b.as_ref().ok().map(|x| x.status),
                headers: vec![],
                body_diff: String::new(),
                error: Some(error),
                same: false,
            };
        }
    };
    let mut names: Vec<&String> = a.headers.keys().chain(b.headers.keys()).collect();
    names.sort();
    names.dedup();
    let headers: Vec<(String, String, String)> = names
        .into_iter()
        .filter(|n| !VOLATILE.contains(&n.as_str()))
        .filter_map(|n| {
            let (x, y) = (a.headers.get(n).cloned().unwrap_or_default(), b.headers.get(n).cloned().unwrap_or_default());
            (x != y).then(|| (n.clone(), x, y))
        })
        .collect();
    let (left, right) = (normalize(&a.body), normalize(&b.body));
    let body_diff = if left == right {
        String::new()
    } else {
        similar::TextDiff::from_lines(&left, &right)
            .unified_diff()
            .context_radius(3)
            .header("production", "candidate")
            .to_string()
    };
    Compared {
        request: req.label(),
        production_status: Some(a.status),
        candidate_status: Some(b.status),
        same: a.status == b.status && headers.is_empty() && body_diff.is_empty(),
        headers,
        body_diff,
        error: None,
    }
}

/// JSON bodies as pretty JSON with sorted keys; anything else as it is,
/// with a final newline so the diff reads cleanly.
pub fn normalize(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(v) => serde_json::to_string_pretty(&sorted(v)).unwrap_or_default() + "\n",
        Err(_) if body.ends_with('\n') || body.is_empty() => body.to_string(),
        Err(_) => format!("{body}\n"),
    }
}

fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request_lines() {
        let r = Request::parse("post /cart/42 Content-Type:application/json X-Trace:1 {\"qty\": 2}").unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/cart/42");
        assert_eq!(r.headers, vec![("Content-Type".into(), "application/json".into()), ("X-Trace".into(), "1".into())]);
        assert_eq!(r.body.as_deref(), Some("{\"qty\": 2}"));
        assert_eq!(Request::parse("GET /").unwrap().body, None);
        assert!(Request::parse("GET cart").is_err());
    }

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Result<Answer, String> {
        Ok(Answer {
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.into(),
        })
    }

    #[test]
    fn json_key_order_and_volatile_headers_do_not_count() {
        let req = Request::parse("GET /").unwrap();
        let c = compare(
            &req,
            answer(200, &[("date", "Mon"), ("x-v", "1")], r#"{"a":1,"b":2}"#),
            answer(200, &[("date", "Tue"), ("x-v", "1")], r#"{"b":2,"a":1}"#),
        );
        assert!(c.same, "{c:?}");
        let c = compare(&req, answer(200, &[("x-v", "1")], r#"{"a":1}"#), answer(500, &[("x-v", "2")], r#"{"a":2}"#));
        assert!(!c.same);
        assert_eq!(c.headers, vec![("x-v".into(), "1".into(), "2".into())]);
        assert!(c.body_diff.contains("-  \"a\": 1") && c.body_diff.contains("+  \"a\": 2"), "{}", c.body_diff);
    }
}
