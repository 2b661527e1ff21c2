//! The engine as a `SandboxTarget`, driven through the trait alone. The
//! commands reach `down`, `ls`, `logs`, `exec` and `verify` this way; `up`
//! has its own pipelined driver on the engine, so the trait's `up` and
//! `wait_healthy` are checked here: what they make is hardened and answers
//! on 127.0.0.1 only, and `down` removes all of it.

use std::io::{Read, Write};
use std::time::Duration;

use prodbox::engine::Engine;
use prodbox::identity::Identity;
use prodbox::name::SandboxName;
use prodbox::profile::PortSpec;
use prodbox::sandbox::{HealthPlan, SandboxSpec};
use prodbox::targets::{engine::EngineTarget, Role, SandboxTarget};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_target_makes_lists_runs_in_and_removes_a_sandbox() {
    let image = fixture_image("1.0.0");
    let name = unique("tgt");
    let spec = SandboxSpec {
        name: SandboxName::parse(&name).unwrap(),
        deploy: Identity { service: "tgt".into(), environment: "test".into(), image, ..Default::default() },
        env: vec![("GREETING".into(), "hello from the target".into())],
        files: Vec::new(),
        sanitize_json: "[]".into(),
        ports: vec![PortSpec { host: 0, container: 8080 }],
        health: HealthPlan::Http { path: "/healthz".into(), port: 8080, timeout: Duration::from_secs(60) },
        memory: None,
        cpus: None,
        read_only: true,
        cap_add: Vec::new(),
        stop_timeout: 0,
        dependencies: Vec::new(),
        extra_labels: Vec::new(),
        candidate: None,
        egress: Default::default(),
    };
    let engine = Engine::connect().await.expect("an engine");
    let target = EngineTarget::new(&engine);

    let started = target.up(&spec, Duration::from_secs(3600)).await.expect("up");
    assert_eq!(started.app_ports, [8080]);
    target.wait_healthy(&spec).await.expect("healthy");

    let listed = target.list().await.unwrap().into_iter().find(|s| s.name == name).expect("listed");
    assert_eq!(listed.status, "running");
    let url = listed.urls.first().expect("a published URL").clone();
    let address = url.strip_prefix("http://").unwrap();
    assert!(address.starts_with("127.0.0.1:"), "{url}");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.contains("hello from the target"), "{answer}");

    let (code, _) = target.exec(&name, Role::App, &["/demo-app".into(), "health".into()], false).await.unwrap();
    assert_eq!(code, 0);
    let candidate = target.exec(&name, Role::Candidate, &["true".into()], false).await;
    assert!(candidate.unwrap_err().to_string().contains("has no candidate"));

    let app = format!("prodbox-{name}-app");
    let host = &inspect(&app)["HostConfig"];
    assert!(drops_all_capabilities(host), "{}", host["CapDrop"]);
    assert_eq!(host["ReadonlyRootfs"], true);

    let gone = target.down(&name).await.unwrap();
    // Its own network, and on Podman its own ingress bridge (Docker's is shared, and stays).
    let networks = if podman() { 2 } else { 1 };
    assert!(gone.removed.containers >= 2 && gone.removed.networks == networks, "{:?}", gone.removed);
    assert!(leftovers(&format!("dev.prodbox.sandbox={name}")).is_empty());
    assert!(target.down(&name).await.unwrap().removed.is_empty(), "nothing left to remove");
}
