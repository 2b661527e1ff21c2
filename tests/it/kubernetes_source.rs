//! The `kubernetes` source against a Kubernetes API server stand-in inside
//! the test: it serves the paths prodbox calls with objects in the real API
//! shapes (apps/v1 Deployment and ReplicaSet, v1 Pod and ConfigMap, v1
//! Status for errors), reached through a kubeconfig. It records every path
//! asked for, so the test can prove no Secret is ever read.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::common::*;

/// Serves `objects` (by API path; lists filtered by `labelSelector`) on 127.0.0.1.
fn api_server(objects: Vec<(String, Value)>) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut header = String::new();
            while reader.read_line(&mut header).map(|n| n > 2).unwrap_or(false) {
                header.clear();
            }
            log.lock().unwrap().push(target.clone());
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            let selector = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("labelSelector="))
                .map(|s| s.replace("%3D", "=").replace("%2C", ","))
                .unwrap_or_default();
            let (status, body) = match objects.iter().find(|(p, _)| p == path) {
                Some((_, v)) if v["kind"].as_str().is_some_and(|k| k.ends_with("List")) => {
                    let mut list = v.clone();
                    let items: Vec<Value> = v["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|i| {
                            selector.split(',').filter(|s| !s.is_empty()).all(|kv| {
                                let (k, want) = kv.split_once('=').unwrap();
                                i["metadata"]["labels"][k] == want
                            })
                        })
                        .cloned()
                        .collect();
                    list["items"] = Value::Array(items);
                    ("200 OK", list)
                }
                Some((_, v)) => ("200 OK", v.clone()),
                None => (
                    "404 Not Found",
                    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": format!("{path} not found"), "reason": "NotFound", "code": 404}),
                ),
            };
            let text = body.to_string();
            let mut s = &stream;
            let _ = write!(s, "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}", text.len());
        }
    });
    (port, asked)
}

fn meta(
    name: &str,
    uid: &str,
    labels: Value,
    owner: Option<(&str, &str, &str)>,
    created: &str,
    annotations: Value,
) -> Value {
    let mut m = json!({"name": name, "namespace": "shop", "uid": uid, "labels": labels,
                       "creationTimestamp": created, "annotations": annotations, "resourceVersion": "1"});
    if let Some((kind, owner_name, owner_uid)) = owner {
        m["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": kind, "name": owner_name, "uid": owner_uid,
                                        "controller": true, "blockOwnerDeletion": true}]);
    }
    m
}

/// The pod template of revision `tag`: two containers, env from every kind of source, mounts.
fn template(app: &str, image: &str) -> Value {
    json!({
        "metadata": {"labels": {"app": app}},
        "spec": {
            "containers": [
                {"name": "app", "image": image,
                 "env": [
                     {"name": "GREETING", "valueFrom": {"configMapKeyRef": {"name": "kube-config", "key": "greeting"}}},
                     {"name": "LEVEL", "value": "debug"},
                     {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                     {"name": "POD_NS", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
                     {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}}
                 ],
                 "envFrom": [{"configMapRef": {"name": "kube-env"}}, {"secretRef": {"name": "kube-secrets"}}],
                 "volumeMounts": [
                     {"name": "files", "mountPath": "/etc/kube"},
                     {"name": "files", "mountPath": "/etc/single.yaml", "subPath": "app.yaml"},
                     {"name": "tls", "mountPath": "/etc/tls", "readOnly": true}
                 ],
                 "resources": {"limits": {"memory": "256Mi", "cpu": "500m"}, "requests": {"cpu": "100m"}}},
                {"name": "sidecar", "image": "envoyproxy/envoy:v1.30"}
            ],
            "volumes": [
                {"name": "files", "configMap": {"name": "kube-files", "items": [{"key": "app.yaml", "path": "app.yaml"}]}},
                {"name": "tls", "secret": {"secretName": "kube-tls", "items": [{"key": "tls.key", "path": "tls.key"}]}}
            ]
        }
    })
}

fn pod(name: &str, app: &str, rs: (&str, &str), image_id: &str, ready: bool) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": meta(name, &format!("uid-{name}"), json!({"app": app}), Some(("ReplicaSet", rs.0, rs.1)), "2026-11-20T14:06:00Z", json!({})),
        "spec": {"containers": [{"name": "app", "image": "ignored"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "containerStatuses": [
                {"name": "app", "image": "x", "imageID": image_id, "ready": ready, "restartCount": 0, "started": true,
                 "state": {"running": {"startedAt": "2026-11-20T14:06:00Z"}}},
                {"name": "sidecar", "image": "envoyproxy/envoy:v1.30", "imageID": "docker-pullable://envoyproxy/envoy@sha256:1111111111111111111111111111111111111111111111111111111111111111", "ready": true, "restartCount": 0}
            ]
        }
    })
}

/// A ReplicaSet (name, uid) of `deployment` (name, uid) at (revision, created).
fn replica_set(
    (name, uid): (&str, &str),
    app: &str,
    deployment: (&str, &str),
    (revision, created): (&str, &str),
    image: &str,
    ready: i64,
) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": meta(name, uid, json!({"app": app}), Some(("Deployment", deployment.0, deployment.1)), created,
                         json!({"deployment.kubernetes.io/revision": revision, "kubernetes.io/change-cause": format!("rollout {revision}")})),
        "spec": {"replicas": ready, "selector": {"matchLabels": {"app": app}}, "template": template(app, image)},
        "status": {"replicas": ready, "readyReplicas": ready, "availableReplicas": ready}
    })
}

fn config_map(name: &str, data: Value) -> (String, Value) {
    (
        format!("/api/v1/namespaces/shop/configmaps/{name}"),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(name, &format!("uid-{name}"), json!({}), None, "2026-10-01T00:00:00Z", json!({})), "data": data}),
    )
}

fn deployment(name: &str, uid: &str, revision: &str, image: &str) -> (String, Value) {
    (
        format!("/apis/apps/v1/namespaces/shop/deployments/{name}"),
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta(name, uid, json!({"app": name}), None, "2026-10-01T00:00:00Z", json!({"deployment.kubernetes.io/revision": revision})),
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": name}}, "template": template(name, image),
                     "strategy": {"type": "RollingUpdate"}},
            "status": {"replicas": 3, "readyReplicas": 3, "updatedReplicas": 3, "observedGeneration": 1}
        }),
    )
}

fn kubeconfig(port: u16) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n    namespace: shop\ncurrent-context: test\nusers:\n- name: test\n  user:\n    token: kube-test-token\n"
    )
}

fn profile(registry: &Registry, workload: &str, extra: &str) -> String {
    format!(
        "[source]\nkind = \"kubernetes\"\ncontext = \"test\"\nnamespace = \"shop\"\nworkload = \"{workload}\"\ncontainer = \"app\"\nkubeconfig = \"kubeconfig.yaml\"\n{extra}[image]\nrepository = \"{}/shop/kube\"\n[sanitize]\nkeep = [\"GREETING\", \"LEVEL\", \"FEATURE_X\", \"POD_NS\"]\n{HTTP_HEALTH}",
        registry.address
    )
}

#[test]
fn kubernetes_source_up_history_at_and_bad_inputs() {
    let registry = Registry::start();
    let v1 = registry.push(&fixture_image("1.0.0"), "shop/kube", "1.0.0");
    let v2 = registry.push(&fixture_image("2.0.0"), "shop/kube", "2.0.0");
    let repo = format!("{}/shop/kube", registry.address);
    let pullable = |pinned: &str| format!("docker-pullable://{pinned}");
    let d = ("kube", "uid-deploy");
    let mut objects = vec![
        deployment("kube", d.1, "3", &format!("{repo}:2.0.0")),
        (
            "/apis/apps/v1/namespaces/shop/replicasets".into(),
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSetList", "metadata": {"resourceVersion": "9"}, "items": [
                replica_set(("kube-5d8f", "uid-rs3"), "kube", d, ("3", "2026-11-20T14:05:00Z"), &format!("{repo}:2.0.0"), 3),
                replica_set(("kube-4c7e", "uid-rs2"), "kube", d, ("2", "2026-11-01T09:00:00Z"), &format!("{repo}:1.0.0"), 0),
                replica_set(("kube-3b6d", "uid-rs1"), "kube", d, ("1", "2026-10-01T00:00:00Z"), &format!("{repo}:0.9.0"), 0),
                replica_set(("bad-1", "uid-rs-bad"), "bad", ("bad", "uid-bad"), ("1", "2026-11-20T14:05:00Z"), &format!("{repo}:2.0.0"), 1),
            ]}),
        ),
        (
            "/api/v1/namespaces/shop/pods".into(),
            json!({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "9"}, "items": [
                pod("kube-5d8f-a", "kube", ("kube-5d8f", "uid-rs3"), &pullable(&v2), true),
                pod("kube-5d8f-b", "kube", ("kube-5d8f", "uid-rs3"), &pullable(&v2), true),
                // Mid-rollout of a moved tag: one pod pulled another digest.
                pod("kube-5d8f-c", "kube", ("kube-5d8f", "uid-rs3"), &pullable(&v1), true),
                pod("kube-5d8f-d", "kube", ("kube-5d8f", "uid-rs3"), "", false),
                // Revision 2 is scaled down; one terminating pod still says what it ran.
                pod("kube-4c7e-a", "kube", ("kube-4c7e", "uid-rs2"), &pullable(&v1), false),
                pod("bad-1-a", "bad", ("bad-1", "uid-rs-bad"), &format!("docker://{}", v2.rsplit('@').next().unwrap()), true),
            ]}),
        ),
        config_map("kube-config", json!({"greeting": "from-kubernetes"})),
        config_map("kube-env", json!({"FEATURE_X": "on"})),
        config_map("kube-files", json!({"app.yaml": "greeting: hi\n"})),
        deployment("bad", "uid-bad", "1", &format!("{repo}:2.0.0")),
    ];
    // A StatefulSet: its pods of the update revision say what runs.
    objects.push((
        "/apis/apps/v1/namespaces/shop/statefulsets/db".into(),
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
               "metadata": meta("db", "uid-sts", json!({"app": "db"}), None, "2026-10-01T00:00:00Z", json!({})),
               "spec": {"serviceName": "db", "replicas": 1, "selector": {"matchLabels": {"app": "db"}}, "template": template("db", &format!("{repo}:2.0.0"))},
               "status": {"replicas": 1, "readyReplicas": 1, "currentRevision": "db-7f", "updateRevision": "db-7f"}}),
    ));
    let mut db_pod = pod("db-0", "db", ("db", "uid-sts"), &pullable(&v2), true);
    db_pod["metadata"]["labels"]["controller-revision-hash"] = json!("db-7f");
    let pods = objects.iter_mut().find(|(p, _)| p == "/api/v1/namespaces/shop/pods").unwrap();
    pods.1["items"].as_array_mut().unwrap().push(db_pod);
    let (port, asked) = api_server(objects);
    let project = Project::new();
    project.write("profiles/kubeconfig.yaml", &kubeconfig(port));
    project.write("profiles/kube.toml", &profile(&registry, "deployment/{service}", ""));

    let name = unique("kube");
    let r = project.prodbox(&["up", "kube", "-d", "--name", &name, "--json"]).success().json();
    assert_eq!(r["revision"], "3");
    assert_eq!(r["deployed_by"], "rollout 3");
    assert_eq!(r["deployed_at"], "2026-11-20T14:05:00Z");
    assert!(v2.ends_with(r["digest"].as_str().unwrap()), "{r}");
    let chosen = r["chosen"].as_str().unwrap();
    assert!(chosen.contains("ready pods disagree (") && chosen.contains("2 run "), "{chosen}");
    assert!(chosen.contains("limits from production: memory 256 MiB, cpus 0.5"), "{chosen}");
    assert!(chosen.contains("envFrom secret/kube-secrets"), "{chosen}");
    let web = r["ports"][0][1].as_u64().unwrap() as u16;
    assert!(http_get(web, "/").contains("from-kubernetes"));
    let app = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=dev.prodbox.sandbox={name}"),
        "--filter",
        "label=dev.prodbox.role=app",
    ]);
    let app = inspect(&app);
    assert_eq!(app["HostConfig"]["Memory"], 256 << 20);
    assert_eq!(app["HostConfig"]["NanoCpus"], 500_000_000);
    let env: Vec<&str> = app["Config"]["Env"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    for want in ["LEVEL=debug", "FEATURE_X=on", "POD_NS=shop"] {
        assert!(env.contains(&want), "{want}: {env:?}");
    }
    project.prodbox(&["down", &name]).success();

    let i = project.prodbox(&["inspect", "kube", "--json", "-vv"]).success();
    for value in ["from-kubernetes", "greeting: hi", "kube-test-token"] {
        assert!(!i.stderr.contains(value) && !i.stdout.contains(value), "{value} printed with -vv");
    }
    let i = i.json();
    let names: Vec<&str> = i["decisions"].as_array().unwrap().iter().filter_map(|d| d["name"].as_str()).collect();
    for want in ["DB_PASSWORD", "POD_IP", "/etc/kube/app.yaml", "/etc/single.yaml", "/etc/tls/tls.key"] {
        assert!(names.contains(&want), "{want}: {names:?}");
    }

    let h = project.prodbox(&["history", "kube", "--json"]).success().json();
    let rows: Vec<(&str, &str)> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["revision"].as_str().unwrap(), d["digest"].as_str().unwrap()))
        .collect();
    assert_eq!(rows.len(), 3, "{h}");
    assert_eq!(rows[2], ("1", "unknown"), "revision 1 has no pods and names a tag");
    assert!(v1.ends_with(rows[1].1), "{h}");
    let r = project.prodbox(&["up", "kube", "-d", "--name", &name, "--json", "--at", "2026-11-05"]).success().json();
    assert_eq!(r["revision"], "2");
    project.prodbox(&["down", &name]).success();
    project
        .prodbox(&["up", "kube", "-d", "--name", &name, "--at", "2026-10-05"])
        .code(1)
        .stderr_has("no deploy of kube was live at");

    project.write("profiles/db.toml", &profile(&registry, "statefulset/db", ""));
    let i = project.prodbox(&["inspect", "db", "--json"]).success().json();
    assert_eq!(i["revision"], "db-7f");
    assert!(v2.ends_with(i["image"]["digest"].as_str().unwrap()), "{i}");
    project.prodbox(&["history", "db"]).code(1).stderr_has("keeps no history for db");

    // Bad inputs.
    project.write("profiles/bad.toml", &profile(&registry, "deployment/bad", ""));
    project.prodbox(&["up", "bad", "-d", "--name", &name]).code(1).stderr_has("not a repository digest");
    project.write("profiles/kube.toml", &profile(&registry, "deployment/nope", ""));
    project
        .prodbox(&["up", "kube", "-d", "--name", &name])
        .code(2)
        .stderr_has("deployment/nope does not exist in namespace shop");
    project.write(
        "profiles/kube.toml",
        &profile(&registry, "deployment/kube", "").replace("context = \"test\"", "context = \"prod-eu\""),
    );
    project
        .prodbox(&["up", "kube", "-d", "--name", &name])
        .code(2)
        .stderr_has("has no context \"prod-eu\" (it has: test)");
    project
        .write("profiles/kube.toml", &profile(&registry, "deployment/kube", "").replace("container = \"app\"\n", ""));
    project.prodbox(&["up", "kube", "-d", "--name", &name]).code(2).stderr_has("has containers app, sidecar");
    project.write("profiles/kubeconfig.yaml", &kubeconfig(free_port()));
    project.write("profiles/kube.toml", &profile(&registry, "deployment/kube", ""));
    let run = project.prodbox(&["up", "kube", "-d", "--name", &name]).code(3);
    assert!(!run.stderr.contains("kube-test-token"));

    let asked = asked.lock().unwrap();
    assert!(asked.iter().all(|p| !p.contains("/secrets")), "a Secret was read: {asked:?}");
    assert!(project.leftovers().is_empty());
}
