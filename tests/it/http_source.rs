//! The `http` source against a stub deploy registry (the company's system,
//! not ours): bearer token, retries on 5xx, clear 4xx.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::*;

/// Serves `body` to requests with `Bearer tok`, after `fail_first` 503s; 401 without the token.
fn stub(body: String, fail_first: usize) -> (u16, Arc<AtomicUsize>) {
    stub_routes(vec![(String::new(), body)], fail_first)
}

/// Like [`stub`], choosing the body by the longest matching path suffix; 404 when none matches.
fn stub_routes(routes: Vec<(String, String)>, fail_first: usize) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(&stream);
            let mut authorized = false;
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            line.clear();
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                if line.to_ascii_lowercase().starts_with("authorization: bearer tok") {
                    authorized = true;
                }
                line.clear();
            }
            let (status, text) = if n < fail_first {
                ("503 Service Unavailable", "busy".to_string())
            } else if !authorized {
                ("401 Unauthorized", "no".to_string())
            } else {
                match routes.iter().filter(|(suffix, _)| path.ends_with(suffix.as_str())).max_by_key(|(s, _)| s.len()) {
                    Some((_, body)) => ("200 OK", body.clone()),
                    None => ("404 Not Found", "{}".to_string()),
                }
            };
            let mut s = &stream;
            let _ = write!(s, "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}", text.len());
        }
    });
    (port, hits)
}

#[test]
fn http_source_with_token_retries_and_map() {
    let registry = Registry::start();
    let pinned = registry.push(&fixture_image("1.0.0"), "shop/web", "1.0.0");
    // Another shape, read through [source.map].
    let body = serde_json::json!({
        "spec": {"template": {"image": pinned, "env": {"GREETING": "from-http"}}},
        "meta": {"at": "2026-11-21T09:00:00Z", "by": "argo", "rev": "abc1234"}
    })
    .to_string();
    let (port, hits) = stub(body, 2);
    let project = Project::new();
    let name = unique("http");
    project.write(
        "profiles/web.toml",
        &format!(
            r#"[source]
kind = "http"
url = "http://127.0.0.1:{port}/v1/services/{{service}}/environments/{{environment}}"
token_env = "DEPLOY_TOKEN"
[source.map]
image = "/spec/template/image"
env = "/spec/template/env"
deployed_at = "/meta/at"
deployed_by = "/meta/by"
revision = "/meta/rev"
[image]
repository = "{}/shop/web"
[sanitize]
keep = ["GREETING"]
[run]
ports = [8080]
health = {{ http = "/healthz" }}
"#,
            registry.address
        ),
    );

    // No token in the environment: a usage error that names the variable.
    project.prodbox(&["up", "web", "-d", "--name", &name]).code(2).stderr_has("DEPLOY_TOKEN");
    assert_eq!(hits.load(Ordering::SeqCst), 0);

    // Two 503s, then the record: retried with backoff, and it runs.
    let report = project
        .prodbox_env(&["up", "web", "-d", "--name", &name, "--json"], &[("DEPLOY_TOKEN", "tok")])
        .success()
        .json();
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_eq!(report["deployed_by"], "argo");
    assert_eq!(report["revision"], "abc1234");
    let port = report["ports"][0][1].as_u64().unwrap() as u16;
    assert!(http_get(port, "/").contains("from-http"));
    project.prodbox(&["down", &name]).success();

    // A wrong token: 401, exit 1, with a hint, and the token never printed.
    let run =
        project.prodbox_env(&["up", "web", "-d", "--name", &name], &[("DEPLOY_TOKEN", "wrong-token-value")]).code(1);
    assert!(run.stderr.contains("answered 401"), "{}", run.stderr);
    assert!(!run.stderr.contains("wrong-token-value"));
    assert!(project.leftovers().is_empty());
}

#[test]
fn http_history_feeds_at_and_history() {
    let registry = Registry::start();
    let v1 = registry.push(&fixture_image("1.0.0"), "shop/hh", "1.0.0");
    let v2 = registry.push(&fixture_image("2.0.0"), "shop/hh", "2.0.0");
    let current = serde_json::json!({"image": v2, "deployed_at": "2026-11-20T14:05:00Z", "revision": "bbb2222"});
    let history = serde_json::json!({"deploys": [
        current.clone(),
        {"image": v1, "deployed_at": "2026-11-01T09:00:00Z", "revision": "aaa1111"}
    ]});
    let (port, _) = stub_routes(
        vec![("/production".into(), current.to_string()), ("/production/history".into(), history.to_string())],
        0,
    );
    let project = Project::new();
    let profile = |port: u16| {
        format!(
            "[source]\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/v1/{{service}}/{{environment}}\"\ntoken_env = \"DEPLOY_TOKEN\"\n[image]\nrepository = \"{}/shop/hh\"\n[run]\nports = [8080]\nhealth = {{ http = \"/healthz\" }}\n",
            registry.address
        )
    };
    project.write("profiles/hh.toml", &profile(port));
    let env = [("DEPLOY_TOKEN", "tok")];
    let h = project.prodbox_env(&["history", "hh", "--json"], &env).success().json();
    assert_eq!(h[0]["revision"], "bbb2222");
    assert_eq!(h[1]["revision"], "aaa1111");
    let name = unique("hh");
    let r = project
        .prodbox_env(&["up", "hh", "-d", "--name", &name, "--json", "--at", "2026-11-05"], &env)
        .success()
        .json();
    assert_eq!(r["revision"], "aaa1111");
    project.prodbox(&["down", &name]).success();

    // A registry that keeps no history says so.
    let (port, _) = stub_routes(vec![("/production".into(), current.to_string())], 0);
    project.write("profiles/hh.toml", &profile(port));
    project.prodbox_env(&["history", "hh"], &env).code(1).stderr_has("keeps no history for hh");
    assert!(project.leftovers().is_empty());
}
