//! The cluster target against tower-test's mock service, as kube's own
//! tests use it (`Client::new(mock_service, ns)`): every request `up`,
//! `down`, `ls` and `gc` send is recorded, in order, with its body
//! deserialized into the k8s-openapi type it must be.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Method, Request, Response};
use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, Namespace, Pod, ResourceQuota, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::client::Body;
use serde_json::{json, Value};
use tower_test::mock;

use super::objects::{self, MANAGED_BY, USER};
use super::KubeTarget;
use crate::profile::{Dependency, PortSpec, SanitizeSection};
use crate::resolve::{ProdConfig, ProdValue};
use crate::sandbox::{labels, HealthPlan, SandboxSpec};
use crate::secret::Secret;
use crate::targets::SandboxTarget;

const DIGEST: &str = "sha256:4d2f9c3b1a0e8f7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605";
const SECRET: &str = "hunter2-prod-password";
const AWS_KEY: &str = "AKIAIOSFODNN7PRODKEY";
const NS: &str = "prodbox-alice-demo";

/// One request as the API server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    query: String,
    body: Option<Value>,
}

impl Seen {
    fn is(&self, method: &Method, path: &str) -> bool {
        self.method == *method && self.path == path
    }
}

type Answer = dyn Fn(&Seen) -> (u16, Value) + Send + Sync;

/// A client whose API server is `answer`; every request is logged.
fn cluster(answer: Box<Answer>) -> (KubeTarget, Arc<Mutex<Vec<Seen>>>) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    tokio::spawn(async move {
        let mut handle = std::pin::pin!(handle);
        while let Some((request, send)) = handle.next_request().await {
            let method = request.method().clone();
            let path = request.uri().path().to_string();
            let query = request.uri().query().unwrap_or("").to_string();
            let bytes = request.into_body().collect_bytes().await.unwrap();
            let body = (!bytes.is_empty()).then(|| serde_json::from_slice(&bytes).expect("request body is JSON"));
            let s = Seen { method, path, query, body };
            let (code, value) = answer(&s);
            seen.lock().unwrap().push(s);
            let response = Response::builder().status(code).body(Body::from(serde_json::to_vec(&value).unwrap()));
            send.send_response(response.unwrap());
        }
    });
    let mut target = KubeTarget::new(kube::Client::new(service, "default"), "prodbox-", "alice");
    target.poll = Duration::from_millis(1);
    (target, log)
}

fn status(code: u16, reason: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": format!("{reason} (from the mock)"), "reason": reason, "code": code}),
    )
}

fn ready_pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"containers": [{"name": name, "image": "x"}]},
           "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})
}

/// An API server with no sandbox yet: creates echo their body, pods are Ready.
fn empty_cluster(s: &Seen) -> (u16, Value) {
    match (s.method.as_str(), s.path.as_str()) {
        ("GET", p) if p == format!("/api/v1/namespaces/{NS}") => status(404, "NotFound"),
        ("GET", p) if p.contains("/pods/") => (200, ready_pod(p.rsplit('/').next().unwrap())),
        ("POST", _) => (201, s.body.clone().unwrap()),
        ("DELETE", _) => (200, json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})),
        _ => status(404, "NotFound"),
    }
}

/// A sandbox spec made the way `up` makes it: production's config through the sanitizer.
fn spec() -> SandboxSpec {
    let config = ProdConfig {
        env: BTreeMap::from([
            ("DATABASE_PASSWORD".into(), ProdValue::Plain(Secret::new(SECRET))),
            ("AWS_ACCESS_KEY_ID".into(), ProdValue::Plain(Secret::new(AWS_KEY))),
            ("LOG_LEVEL".into(), ProdValue::Plain(Secret::new("info"))),
        ]),
        files: BTreeMap::from([(
            "/etc/demo/app.yaml".into(),
            ProdValue::Plain(Secret::new(format!("db:\n  password: {SECRET}\nport: 8080\n"))),
        )]),
    };
    let clean = crate::sanitize::sanitize(&config, &SanitizeSection::default()).unwrap();
    SandboxSpec {
        name: crate::name::SandboxName::parse("demo").unwrap(),
        deploy: crate::identity::Identity {
            service: "demo".into(),
            environment: "production".into(),
            image: format!("registry.example.com/shop/demo@{DIGEST}"),
            digest: DIGEST.into(),
            deployed_at: Some("2026-11-20T14:05:00Z".into()),
            deployed_by: Some("pipeline#4411".into()),
            revision: Some("9f1c2ab".into()),
        },
        env: clean.env.clone(),
        files: clean.files.clone(),
        sanitize_json: labels::decisions_json(&clean.decisions),
        ports: vec![PortSpec { host: 0, container: 8080 }],
        health: HealthPlan::Http { path: "/healthz".into(), port: 8080, timeout: Duration::from_secs(60) },
        memory: Some(512 << 20),
        cpus: Some(0.5),
        read_only: true,
        cap_add: vec![],
        stop_timeout: 0,
        dependencies: vec![Dependency {
            name: "db".into(),
            image: format!("registry.example.com/postgres@{DIGEST}"),
            env: BTreeMap::from([("POSTGRES_PASSWORD".into(), "app".into())]),
            aliases: vec!["postgres".into()],
            cap_add: vec![],
        }],
        extra_labels: vec![],
        candidate: None,
        egress: Default::default(),
    }
}

fn body<T: serde::de::DeserializeOwned>(s: &Seen) -> T {
    serde_json::from_value(s.body.clone().expect("a body")).expect("the body is the k8s-openapi type")
}

/// No pod request reaches the API server before the deny policy was created
/// in the same namespace (answered 2xx).
fn assert_policy_before_pods(log: &[Seen], answered: &dyn Fn(&Seen) -> (u16, Value)) {
    let mut policy_in = Vec::<String>::new();
    for s in log {
        let parts: Vec<&str> = s.path.split('/').collect();
        let ns =
            parts.iter().position(|p| *p == "namespaces").and_then(|i| parts.get(i + 1)).unwrap_or(&"").to_string();
        if s.method == Method::POST && s.path.ends_with("/networkpolicies") && answered(s).0 < 300 {
            let p: NetworkPolicy = body(s);
            if p.metadata.name.as_deref() == Some(objects::DENY_POLICY) {
                policy_in.push(ns.clone());
            }
        }
        if s.method == Method::POST && s.path.ends_with("/pods") {
            assert!(policy_in.contains(&ns), "pod created in {ns} before its deny NetworkPolicy: {log:#?}");
        }
    }
}

#[tokio::test]
async fn up_sends_isolation_first_then_config_services_and_pods() {
    let (target, log) = cluster(Box::new(empty_cluster));
    let spec = spec();
    let started = target.up(&spec, Duration::from_secs(3600)).await.unwrap();
    target.wait_healthy(&spec).await.unwrap();
    assert_eq!(started.location, NS);
    let log = log.lock().unwrap().clone();
    let calls: Vec<String> = log.iter().map(|s| format!("{} {}", s.method, s.path)).collect();
    let ns = format!("/api/v1/namespaces/{NS}");
    assert_eq!(
        calls,
        [
            format!("GET {ns}"),
            "POST /api/v1/namespaces".into(),
            format!("POST /apis/networking.k8s.io/v1/namespaces/{NS}/networkpolicies"),
            format!("POST {ns}/resourcequotas"),
            format!("POST {ns}/limitranges"),
            format!("POST {ns}/configmaps"),
            format!("POST {ns}/services"),
            format!("POST {ns}/services"),
            format!("POST {ns}/services"),
            format!("POST {ns}/pods"),
            format!("POST {ns}/pods"),
            format!("GET {ns}/pods/app"),
        ]
    );
    assert_policy_before_pods(&log, &empty_cluster);

    // No production secret anywhere, and no config value outside the ConfigMap's data.
    for s in &log {
        let text = s.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
        assert!(!text.contains(SECRET) && !text.contains(AWS_KEY), "a secret in {} {}", s.method, s.path);
    }
    let cm: ConfigMap = body(&log[5]);
    let data = cm.data.clone().unwrap();
    assert_eq!(data.len(), spec.env.len() + spec.files.len());
    for s in log.iter().filter(|s| !s.path.ends_with("/configmaps")) {
        let text = s.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
        for (name, value) in &spec.env {
            if value.len() > 4 {
                assert!(!text.contains(&format!("\"{value}\"")), "the value of {name} outside the ConfigMap");
            }
        }
    }

    let ns_obj: Namespace = body(&log[1]);
    let l = ns_obj.metadata.labels.clone().unwrap();
    assert_eq!(ns_obj.metadata.name.as_deref(), Some(NS));
    assert_eq!(l[objects::PSA_ENFORCE], "restricted");
    assert_eq!(l[MANAGED_BY], "prodbox");
    assert_eq!(l[USER], "alice");
    assert_eq!(l[labels::SANDBOX], "demo");
    let a = ns_obj.metadata.annotations.clone().unwrap();
    assert_eq!(a[labels::DIGEST], DIGEST);
    let expires = crate::timestamp::Timestamp::parse(&a[objects::EXPIRES_AT]).unwrap().0;
    let now = crate::timestamp::Timestamp::now().0;
    assert!((now + 3590..=now + 3610).contains(&expires), "expires-at is now + ttl");

    let policy: NetworkPolicy = body(&log[2]);
    let p = policy.spec.unwrap();
    assert_eq!(p.pod_selector, Some(Default::default()), "selects every pod of the namespace");
    assert_eq!(p.policy_types.unwrap(), ["Ingress", "Egress"]);
    let ingress = p.ingress.unwrap();
    assert_eq!(ingress.len(), 1);
    let from = ingress[0].from.clone().unwrap();
    assert!(from.len() == 1 && from[0].namespace_selector.is_none() && from[0].ip_block.is_none());
    let egress = p.egress.unwrap();
    assert_eq!(egress.len(), 2);
    assert!(egress.iter().all(|r| r.to.iter().flatten().all(|peer| peer.ip_block.is_none())), "no CIDR is ever opened");
    let dns = &egress[1];
    assert!(dns
        .ports
        .iter()
        .flatten()
        .all(|port| port.port == Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(53))));
    let dns_peer = &dns.to.as_ref().unwrap()[0];
    assert_eq!(dns_peer.pod_selector.as_ref().unwrap().match_labels.as_ref().unwrap()["k8s-app"], "kube-dns");

    let quota: ResourceQuota = body(&log[3]);
    let hard = quota.spec.unwrap().hard.unwrap();
    assert_eq!(hard["pods"].0, "3", "app, db and verify's probe");
    assert_eq!(hard["limits.memory"].0, (3i64 * (512 << 20)).to_string());
    assert_eq!(hard["limits.cpu"].0, "1500m");
    let limits: LimitRange = body(&log[4]);
    assert_eq!(limits.spec.unwrap().limits[0].max.as_ref().unwrap()["cpu"].0, "500m");

    let services: Vec<Service> = log[6..9].iter().map(body).collect();
    let names: Vec<_> = services.iter().map(|s| s.metadata.name.clone().unwrap()).collect();
    assert_eq!(names, ["app", "db", "postgres"]);
    assert_eq!(services[0].spec.as_ref().unwrap().ports.as_ref().unwrap()[0].port, 8080);

    let pods: Vec<Pod> = log[9..11].iter().map(body).collect();
    assert_eq!(pods[0].metadata.name.as_deref(), Some("dep-db"));
    let app = &pods[1];
    assert_eq!(app.metadata.name.as_deref(), Some("app"));
    for pod in &pods {
        let ps = pod.spec.as_ref().unwrap();
        assert_eq!(ps.automount_service_account_token, Some(false));
        assert_eq!(ps.enable_service_links, Some(false));
        assert_ne!(ps.host_network, Some(true));
        let psc = ps.security_context.as_ref().unwrap();
        assert_eq!(psc.run_as_non_root, Some(true));
        assert_eq!(psc.seccomp_profile.as_ref().unwrap().type_, "RuntimeDefault");
        for c in &ps.containers {
            let sc = c.security_context.as_ref().unwrap();
            assert_eq!(sc.allow_privilege_escalation, Some(false));
            assert_eq!(sc.privileged, Some(false));
            assert_eq!(sc.capabilities.as_ref().unwrap().drop.as_deref(), Some(&["ALL".to_string()][..]));
            assert!(c.image.as_deref().unwrap().ends_with(&format!("@{DIGEST}")), "image by digest");
        }
    }
    let app_spec = app.spec.as_ref().unwrap();
    let c = &app_spec.containers[0];
    assert_eq!(c.image.as_deref(), Some(spec.deploy.image.as_str()));
    assert_eq!(c.security_context.as_ref().unwrap().read_only_root_filesystem, Some(true));
    assert!(c.env.iter().flatten().all(|e| e.value.is_none() && e.value_from.is_some()), "env only by reference");
    let mounts = c.volume_mounts.clone().unwrap();
    assert!(mounts.iter().any(|m| m.mount_path == "/etc/demo/app.yaml" && m.read_only == Some(true)));
    assert!(mounts.iter().any(|m| m.mount_path == "/tmp"), "a writable /tmp beside the read-only root");
    let probe = c.readiness_probe.as_ref().unwrap().http_get.as_ref().unwrap();
    assert_eq!(probe.path.as_deref(), Some("/healthz"));
}

#[tokio::test]
async fn a_failure_at_any_step_sends_no_pod_and_deletes_the_namespace() {
    let steps: [&'static str; 5] = ["/networkpolicies", "/resourcequotas", "/limitranges", "/configmaps", "/services"];
    for (i, &failing) in steps.iter().enumerate() {
        let code = if i == 0 { 404 } else { 403 };
        let answer = move |s: &Seen| {
            if s.method == Method::POST && s.path.ends_with(failing) {
                status(code, "Refused")
            } else {
                empty_cluster(s)
            }
        };
        let (target, log) = cluster(Box::new(answer));
        let err = target.up(&spec(), Duration::from_secs(60)).await.unwrap_err();
        let log = log.lock().unwrap().clone();
        assert!(!log.iter().any(|s| s.path.ends_with("/pods")), "a pod after {failing} failed: {log:#?}");
        assert!(
            log.last().unwrap().is(&Method::DELETE, &format!("/api/v1/namespaces/{NS}")),
            "namespace deleted after {failing} failed"
        );
        assert_policy_before_pods(&log, &answer);
        let text = format!("{err:#}");
        assert!(text.contains(&format!("deleted namespace {NS}")), "{text}");
        assert!(!text.contains(SECRET));
    }
}

#[tokio::test]
async fn the_deny_policy_must_be_the_one_prodbox_built() {
    // Were the policy object ever to admit traffic from outside, this test
    // (not a cluster) would be the one to notice.
    let spec = spec();
    let plan = objects::Plan {
        spec: &spec,
        namespace: NS.into(),
        user: "alice".into(),
        expires_at: crate::timestamp::Timestamp(0),
    };
    let p = plan.network_policy().spec.unwrap();
    for rule in p.ingress.iter().flatten() {
        for peer in rule.from.iter().flatten() {
            assert!(peer.namespace_selector.is_none() && peer.ip_block.is_none(), "ingress only from this namespace");
        }
    }
}

#[tokio::test]
async fn up_replaces_its_own_sandbox_and_refuses_a_foreign_namespace() {
    let gets = Arc::new(Mutex::new(0));
    let counter = gets.clone();
    let answer = move |s: &Seen| {
        if s.is(&Method::GET, &format!("/api/v1/namespaces/{NS}")) {
            let mut n = counter.lock().unwrap();
            *n += 1;
            if *n <= 2 {
                let labels = json!({MANAGED_BY: "prodbox", USER: "alice", labels::SANDBOX: "demo"});
                return (
                    200,
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS, "labels": labels}}),
                );
            }
        }
        empty_cluster(s)
    };
    let (target, log) = cluster(Box::new(answer));
    target.up(&spec(), Duration::from_secs(60)).await.unwrap();
    let log = log.lock().unwrap().clone();
    let ns = format!("/api/v1/namespaces/{NS}");
    assert!(log[0].is(&Method::GET, &ns));
    assert!(log[1].is(&Method::DELETE, &ns));
    assert!(log[2].is(&Method::GET, &ns), "waits for the old namespace to go");
    assert!(log[4].is(&Method::POST, "/api/v1/namespaces"));

    let foreign = |s: &Seen| {
        if s.is(&Method::GET, &format!("/api/v1/namespaces/{NS}")) {
            return (
                200,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS, "labels": {"team": "qa"}}}),
            );
        }
        empty_cluster(s)
    };
    let (target, log) = cluster(Box::new(foreign));
    let err = target.up(&spec(), Duration::from_secs(60)).await.unwrap_err();
    assert!(format!("{err}").contains("not a prodbox sandbox"), "{err}");
    assert!(!log.lock().unwrap().iter().any(|s| s.method != Method::GET), "nothing deleted or created");
}

#[tokio::test]
async fn down_deletes_the_namespace_and_nothing_else() {
    let answer = |s: &Seen| {
        if s.is(&Method::GET, &format!("/api/v1/namespaces/{NS}")) {
            let labels = json!({MANAGED_BY: "prodbox", USER: "alice"});
            return (200, json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS, "labels": labels}}));
        }
        empty_cluster(s)
    };
    let (target, log) = cluster(Box::new(answer));
    assert_eq!(target.down("demo").await.unwrap().removed.namespaces, 1);
    let log = log.lock().unwrap().clone();
    let calls: Vec<String> = log.iter().map(|s| format!("{} {}", s.method, s.path)).collect();
    assert_eq!(calls, [format!("GET /api/v1/namespaces/{NS}"), format!("DELETE /api/v1/namespaces/{NS}")]);
    let delete = log[1].body.clone().unwrap_or_default();
    assert_eq!(delete["propagationPolicy"], "Background");

    let (target, log) = cluster(Box::new(empty_cluster));
    assert!(target.down("demo").await.unwrap().removed.is_empty(), "no sandbox, nothing removed");
    assert!(!log.lock().unwrap().iter().any(|s| s.method == Method::DELETE));
}

fn sandbox_namespace(name: &str, expires: &str) -> Value {
    json!({"metadata": {"name": format!("prodbox-alice-{name}"),
        "labels": {MANAGED_BY: "prodbox", USER: "alice", labels::SANDBOX: name, labels::SERVICE: "demo"},
        "annotations": {objects::EXPIRES_AT: expires, labels::DIGEST: DIGEST}},
        "status": {"phase": "Active"}})
}

fn listing_cluster(s: &Seen) -> (u16, Value) {
    if s.is(&Method::GET, "/api/v1/namespaces") {
        return (
            200,
            json!({"apiVersion": "v1", "kind": "NamespaceList", "metadata": {}, "items": [
                sandbox_namespace("old", "2020-01-01T00:00:00Z"),
                sandbox_namespace("fresh", "2999-01-01T00:00:00Z"),
            ]}),
        );
    }
    if s.method == Method::GET && s.path.ends_with("/pods/app") {
        return (200, ready_pod("app"));
    }
    empty_cluster(s)
}

#[tokio::test]
async fn ls_shows_this_users_sandboxes_with_their_ttl() {
    let (target, log) = cluster(Box::new(listing_cluster));
    let list = target.list().await.unwrap();
    let now = crate::timestamp::Timestamp::now().0;
    let names: Vec<(&str, bool)> = list.iter().map(|s| (s.name.as_str(), s.expired(now))).collect();
    assert_eq!(names, [("fresh", false), ("old", true)]);
    assert!(list.iter().all(|s| s.status == "running" && s.deploy.digest == DIGEST));
    let query = log.lock().unwrap()[0].query.clone();
    let selector = query.replace("%3D", "=").replace("%2C", ",").replace("%2F", "/");
    assert!(selector.contains("app.kubernetes.io/managed-by=prodbox,dev.prodbox.user=alice"), "{query}");
    let table = crate::targets::table(&list, now);
    assert!(table.contains("expired") && table.contains("left"), "{table}");
}

#[tokio::test]
async fn gc_deletes_only_expired_namespaces() {
    let (target, log) = cluster(Box::new(listing_cluster));
    let removed = target.gc(crate::timestamp::Timestamp::now().0).await.unwrap();
    let names: Vec<&str> = removed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["old"]);
    let deletes: Vec<String> =
        log.lock().unwrap().iter().filter(|s| s.method == Method::DELETE).map(|s| s.path.clone()).collect();
    assert_eq!(deletes, ["/api/v1/namespaces/prodbox-alice-old"]);
}

#[tokio::test]
async fn a_pod_that_cannot_pull_fails_the_wait_at_once() {
    let answer = |s: &Seen| {
        if s.method == Method::GET && s.path.ends_with("/pods/app") {
            return (
                200,
                json!({"metadata": {"name": "app"}, "status": {"phase": "Pending", "containerStatuses": [{
                    "name": "app", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": "ImagePullBackOff", "message": "pull access denied"}}}]}}),
            );
        }
        empty_cluster(s)
    };
    let (target, _) = cluster(Box::new(answer));
    let err = target.wait_healthy(&spec()).await.unwrap_err();
    assert!(format!("{err:#}").contains("ImagePullBackOff"), "{err:#}");
}

#[test]
fn restricted_refuses_capabilities_it_does_not_allow() {
    let mut s = spec();
    s.cap_add = vec!["NET_ADMIN".into()];
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (target, log) = cluster(Box::new(empty_cluster));
        let err = target.up(&s, Duration::from_secs(60)).await.unwrap_err();
        assert!(format!("{err}").contains("NET_ADMIN"));
        assert!(log.lock().unwrap().is_empty(), "refused before any request");
    });
    assert!(objects::allowed_cap_add("NET_BIND_SERVICE"));
}

#[test]
fn namespace_names_are_dns_labels() {
    assert_eq!(objects::namespace_name("prodbox-", "Alice.B", "Check_Out").unwrap(), "prodbox-alice-b-check-out");
    assert!(objects::namespace_name("prodbox-", "alice", &"x".repeat(48)).is_ok());
    assert!(objects::namespace_name("prodbox-", &"a".repeat(20), &"x".repeat(48)).is_err());
    assert_eq!(objects::user_label("dom\\alice"), "dom-alice");
}

#[test]
#[should_panic(expected = "before its deny NetworkPolicy")]
fn the_order_check_catches_a_pod_sent_before_the_policy() {
    let pod = Seen {
        method: Method::POST,
        path: format!("/api/v1/namespaces/{NS}/pods"),
        query: String::new(),
        body: Some(json!({"metadata": {"name": "app"}})),
    };
    let policy = Seen {
        method: Method::POST,
        path: format!("/apis/networking.k8s.io/v1/namespaces/{NS}/networkpolicies"),
        query: String::new(),
        body: Some(json!({"metadata": {"name": objects::DENY_POLICY}})),
    };
    assert_policy_before_pods(&[pod, policy], &empty_cluster);
}

#[tokio::test]
async fn a_candidate_gets_its_own_pod_and_service_after_the_app() {
    let (target, log) = cluster(Box::new(empty_cluster));
    let mut spec = spec();
    let candidate = format!("registry.example.com/shop/demo@sha256:{}", "c".repeat(64));
    spec.candidate = Some(crate::sandbox::Candidate { image: candidate.clone(), id: candidate.clone(), digest: None });
    target.up(&spec, Duration::from_secs(60)).await.unwrap();
    target.wait_healthy(&spec).await.unwrap();
    let log = log.lock().unwrap().clone();
    let posted = |kind: &str| -> Vec<String> {
        log.iter()
            .filter(|s| s.method == Method::POST && s.path.ends_with(kind))
            .map(|s| s.body.as_ref().unwrap()["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(posted("/pods"), ["dep-db", "app", "candidate"]);
    assert_eq!(posted("/services"), ["app", "candidate", "db", "postgres"]);
    let pod: Pod = body(log.iter().rfind(|s| s.path.ends_with("/pods")).unwrap());
    assert_eq!(pod.spec.unwrap().containers[0].image.as_deref(), Some(candidate.as_str()));
    let quota: ResourceQuota = body(log.iter().find(|s| s.path.ends_with("/resourcequotas")).unwrap());
    assert_eq!(quota.spec.unwrap().hard.unwrap()["pods"].0, "4", "app, candidate, db and verify's probe");
    assert!(log.iter().any(|s| s.is(&Method::GET, &format!("/api/v1/namespaces/{NS}/pods/candidate"))));
    assert_policy_before_pods(&log, &empty_cluster);
}

#[tokio::test]
async fn port_forward_listens_on_loopback_only() {
    let (target, _) = cluster(Box::new(empty_cluster));
    let pods: kube::Api<Pod> = kube::Api::namespaced(target.client.clone(), NS);
    let fwd = super::portforward::bind(pods, "app", &[(8080, 0)]).await.unwrap();
    let (container, local) = fwd.ports[0];
    assert_eq!(container, 8080);
    assert_ne!(local, 0, "a free port was chosen");
    assert!(std::net::TcpStream::connect(("127.0.0.1", local)).is_ok(), "bound on 127.0.0.1");
}

#[tokio::test]
async fn down_all_deletes_the_namespaces_with_the_labels_asked_for() {
    let (target, log) = cluster(Box::new(listing_cluster));
    let removed = target.down_all(&[("team", "qa")]).await.unwrap();
    let names: Vec<&str> = removed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["old", "fresh"]);
    assert!(removed.iter().all(|(_, g)| g.removed.namespaces == 1 && g.tried.is_none()));
    let log = log.lock().unwrap().clone();
    let selector = log[0].query.replace("%3D", "=").replace("%2C", ",").replace("%2F", "/");
    assert!(selector.contains("managed-by=prodbox,dev.prodbox.user=alice,team=qa"), "{selector}");
    let deletes: Vec<&str> = log.iter().filter(|s| s.method == Method::DELETE).map(|s| s.path.as_str()).collect();
    assert_eq!(deletes, ["/api/v1/namespaces/prodbox-alice-old", "/api/v1/namespaces/prodbox-alice-fresh"]);
}
