//! The Kubernetes target through the real binary: `prodbox up SERVICE
//! --target kubernetes` with a real registry (the manifest is checked by
//! digest) and a Kubernetes API server stand-in inside the test, reached
//! through a kubeconfig. The stand-in keeps the namespaces it was sent,
//! answers creates with what it got and reports pods Ready; it records every
//! request with its body, so the test checks what reached the "cluster".

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::common::*;

/// (method, path, body) of each request, in order.
type Seen = Arc<Mutex<Vec<(String, String, Value)>>>;

fn api_server() -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        let mut namespaces: BTreeMap<String, Value> = BTreeMap::new();
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or("").to_string();
            let target = parts.next().unwrap_or("/").to_string();
            let mut length = 0;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) <= 2 {
                    break;
                }
                if let Some((k, v)) = header.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut raw = vec![0; length];
            let _ = reader.read_exact(&mut raw);
            let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
            let path = target.split('?').next().unwrap_or("").to_string();
            log.lock().unwrap().push((method.clone(), path.clone(), body.clone()));
            let not_found = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                   "message": format!("{path} not found"), "reason": "NotFound", "code": 404});
            let (status, answer) = match (method.as_str(), path.as_str()) {
                ("POST", "/api/v1/namespaces") => {
                    namespaces.insert(body["metadata"]["name"].as_str().unwrap_or("").into(), body.clone());
                    ("201 Created", body)
                }
                ("POST", _) => ("201 Created", body),
                ("GET", "/api/v1/namespaces") => (
                    "200 OK",
                    json!({"apiVersion": "v1", "kind": "NamespaceList", "metadata": {},
                           "items": namespaces.values().cloned().collect::<Vec<_>>()}),
                ),
                ("GET", p) if p.ends_with("/pods/app") => (
                    "200 OK",
                    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app"},
                           "spec": {"containers": [{"name": "app", "image": "x", "ports": [{"containerPort": 8080}]}]},
                           "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}),
                ),
                ("GET", p) => match p.strip_prefix("/api/v1/namespaces/").and_then(|n| namespaces.get(n)) {
                    Some(ns) => ("200 OK", ns.clone()),
                    None => ("404 Not Found", not_found),
                },
                ("DELETE", p) => match p.strip_prefix("/api/v1/namespaces/").and_then(|n| namespaces.remove(n)) {
                    Some(ns) => ("200 OK", ns),
                    None => ("404 Not Found", not_found),
                },
                _ => ("404 Not Found", not_found),
            };
            let text = answer.to_string();
            let mut s = &stream;
            let _ = write!(s, "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}", text.len());
        }
    });
    (port, seen)
}

fn kubeconfig_text(port: u16) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: test\ncurrent-context: test\nusers:\n- name: test\n  user:\n    token: kube-test-token\n"
    )
}

#[test]
fn up_on_a_cluster_sends_isolation_first_and_no_secret_then_ls_and_down() {
    let registry = Registry::start();
    let pinned = registry.push(&fixture_image("1.0.0"), "shop/kt", "1.0.0");
    let digest = pinned.rsplit_once('@').unwrap().1.to_string();
    let project = Project::new();
    project.profile(
        "kt",
        &format!("{}/shop/kt", registry.address),
        "[sanitize]\nkeep = [\"GREETING\"]\n[run]\nports = [8080]\nhealth = { http = \"/healthz\", port = 8080, timeout = \"30s\" }\nread_only = true\n",
    );
    let secret = "pr0d-Pa55w0rd-kube-target";
    project.record(
        "kt",
        &pinned,
        json!({"env": {"GREETING": "hello", "DATABASE_PASSWORD": secret, "API_TOKEN": "tok_9fK2mQ7xLp4Vw8Rz1Bn6Yc3Hd5Tj0Gs"},
               "files": {"/etc/kt/app.env": format!("password={secret}\n")}}),
    );
    let (port, seen) = api_server();
    let kubeconfig = project.write("kubeconfig.yaml", &kubeconfig_text(port));
    let env = [("KUBECONFIG", kubeconfig.to_str().unwrap()), ("USER", "tester")];

    let up = project.prodbox_env(&["up", "kt", "-d", "--target", "kubernetes:test", "--ttl", "2h"], &env).success();
    assert!(up.stdout.contains("sandbox kt is up"), "{}", up.stdout);
    assert!(up.stdout.contains("prodbox down kt --target kubernetes"), "{}", up.stdout);
    let requests = seen.lock().unwrap().clone();
    let calls: Vec<String> = requests.iter().map(|(m, p, _)| format!("{m} {p}")).collect();
    let ns = "prodbox-tester-kt";
    assert_eq!(
        calls,
        [
            format!("GET /api/v1/namespaces/{ns}"),
            "POST /api/v1/namespaces".into(),
            format!("POST /apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies"),
            format!("POST /api/v1/namespaces/{ns}/resourcequotas"),
            format!("POST /api/v1/namespaces/{ns}/limitranges"),
            format!("POST /api/v1/namespaces/{ns}/configmaps"),
            format!("POST /api/v1/namespaces/{ns}/services"),
            format!("POST /api/v1/namespaces/{ns}/pods"),
            format!("GET /api/v1/namespaces/{ns}/pods/app"),
        ]
    );
    for (m, p, body) in &requests {
        let text = body.to_string();
        assert!(!text.contains(secret) && !text.contains("tok_9fK2"), "a production secret in {m} {p}");
        assert!(!text.contains("kube-test-token"));
    }
    let pod = &requests[7].2;
    assert_eq!(pod["spec"]["containers"][0]["image"], pinned.as_str(), "the image by digest");
    assert_eq!(pod["spec"]["automountServiceAccountToken"], false);
    assert_eq!(pod["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(requests[1].2["metadata"]["annotations"]["dev.prodbox.digest"], digest.as_str());
    assert_eq!(requests[1].2["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted");

    // The settings file picks the cluster without --target.
    project.write("config/prodbox/settings.toml", "target = { kind = \"kubernetes\", context = \"test\" }\n");
    let xdg = project.dir.path().join("config");
    let env = [env[0], env[1], ("XDG_CONFIG_HOME", xdg.to_str().unwrap())];
    let ls = project.prodbox_env(&["ls", "--json"], &env).success().json();
    assert_eq!(ls[0]["name"], "kt");
    assert_eq!(ls[0]["digest"], digest.as_str());
    assert_eq!(ls[0]["status"], "running");
    assert!(ls[0]["expires_at"].as_i64().is_some());
    // Nothing has expired: gc keeps it.
    let gc = project.prodbox_env(&["gc", "--json"], &env).success().json();
    assert_eq!(gc, json!([]));

    project.prodbox_env(&["down", "kt"], &env).success();
    let last = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!((last.0.as_str(), last.1.as_str()), ("DELETE", format!("/api/v1/namespaces/{ns}").as_str()));
    project.prodbox_env(&["down", "kt"], &env).code(1).stderr_has("no sandbox named kt");
    // What only the engine records is refused on a cluster, not run on the engine.
    project.prodbox_env(&["egress", "kt"], &env).code(2).stderr_has("kubernetes target");
    project.prodbox_env(&["diff", "kt"], &env).code(2).stderr_has("kubernetes target");
    // A bad target is a usage error before anything is asked.
    project.prodbox_env(&["ls", "--target", "nomad"], &env).code(2);
    assert!(project.leftovers().is_empty(), "nothing on the local engine");

    // No API server: exit 3, like an engine that cannot be reached; no kubeconfig: exit 2.
    let closed = free_port();
    project.write("closed.yaml", &kubeconfig_text(closed));
    let closed_env = [("KUBECONFIG", "closed.yaml"), ("USER", "tester")];
    project.prodbox_env(&["ls", "--target", "kubernetes:test"], &closed_env).code(3).stderr_has("could not be reached");
    let none = project.dir.path().join("none.yaml");
    let none_env = [("KUBECONFIG", none.to_str().unwrap()), ("USER", "tester")];
    project.prodbox_env(&["ls", "--target", "kubernetes"], &none_env).code(2).stderr_has("kubeconfig");
}
