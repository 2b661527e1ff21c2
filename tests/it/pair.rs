//! Pairing: a candidate build beside production's, as isolated as the app,
//! and `diff` showing how their answers differ (exit 1) or not (exit 0).

use std::net::TcpListener;

use crate::common::*;

#[test]
fn a_candidate_runs_beside_production_and_diff_shows_the_difference() {
    let registry = Registry::start();
    let v1 = registry.push(&fixture_image("1.0.0"), "shop/pair", "1.0.0");
    let project = Project::new();
    project.profile("pair", &format!("{}/shop/pair", registry.address), HTTP_HEALTH);
    project.record("pair", &v1, serde_json::json!({"env": {"GREETING": "hi"}}));
    let name = unique("pair");
    let candidate = fixture_image("2.0.0"); // a local build, never pushed anywhere
    let r =
        project.prodbox(&["up", "pair", "-d", "--name", &name, "--json", "--candidate", &candidate]).success().json();
    let cand_port = r["candidate"]["ports"][0][1].as_u64().unwrap() as u16;
    let app_port = r["ports"][0][1].as_u64().unwrap() as u16;
    assert_ne!(cand_port, app_port);
    assert!(http_get(cand_port, "/").contains("\"version\":\"2.0.0\""));
    assert!(http_get(cand_port, "/").contains("\"greeting\":\"hi\""), "same sanitized config");
    assert!(http_get(app_port, "/").contains("\"version\":\"1.0.0\""));

    // The candidate is as hardened and isolated as the app.
    let c = inspect(&format!("prodbox-{name}-candidate"));
    assert_eq!(c["Config"]["Labels"]["dev.prodbox.role"], "candidate");
    // Issue #9: the digest label held the image id. The id has its own
    // label; the digest label is absent for a build never pushed, else one of
    // the image's registry digests (other tests push this fixture).
    let id = docker(&["image", "inspect", &candidate, "--format", "{{.Id}}"]);
    assert_eq!(c["Config"]["Labels"]["dev.prodbox.image-id"], id.as_str());
    if let Some(digest) = c["Config"]["Labels"].get("dev.prodbox.digest").and_then(|d| d.as_str()) {
        assert_ne!(digest, id, "the digest label holds the image id");
        let repo_digests = docker(&["image", "inspect", &candidate, "--format", "{{json .RepoDigests}}"]);
        assert!(repo_digests.contains(&format!("@{digest}")), "{digest} not in {repo_digests}");
    }
    assert!(drops_all_capabilities(&c["HostConfig"]), "{}", c["HostConfig"]["CapDrop"]);
    assert_eq!(c["HostConfig"]["Privileged"], false);
    assert!(c["HostConfig"]["SecurityOpt"].to_string().contains("no-new-privileges"));
    assert_eq!(networks_of(&c), [format!("prodbox-{name}")]);
    let listener = TcpListener::bind("0.0.0.0:0").unwrap();
    let host_port = listener.local_addr().unwrap().port();
    let gw = gateway_of(&ingress_of(&name));
    assert_eq!(
        docker(&["exec", &format!("prodbox-{name}-relay"), "/prodbox-relay", "probe", &format!("{gw}:{host_port}")]),
        "open"
    );
    assert_eq!(http_get(cand_port, &format!("/connect?to={gw}:{host_port}")).trim(), "blocked");

    // diff: both answers, and exit 1.
    let d = project.prodbox(&["diff", &name, "--request", "GET /", "--request", "GET /healthz"]).code(1);
    assert!(d.stdout.contains("GET /: DIFFERENT (production 200, candidate 200)"), "{}", d.stdout);
    assert!(d.stdout.contains("-  \"version\": \"1.0.0\""), "{}", d.stdout);
    assert!(d.stdout.contains("+  \"version\": \"2.0.0\""), "{}", d.stdout);
    assert!(d.stdout.contains("version: 1.0.0 → 2.0.0"), "{}", d.stdout);
    let j = project.prodbox(&["diff", &name, "--request", "GET /", "--json"]).code(1).json();
    assert_eq!(j["answers"][0]["same"], false);
    let file = project.write("requests.txt", "# one per line\nGET /healthz\nGET /missing\n");
    let d = project.prodbox(&["diff", &name, "--requests", file.to_str().unwrap(), "--json"]).code(1).json();
    assert_eq!(d["answers"][1]["production_status"], 404);

    // logs and exec take --candidate.
    let logs = project.prodbox(&["logs", &name, "--candidate"]).success();
    assert!(logs.stdout.contains("version 2.0.0"), "{}", logs.stdout);
    project.prodbox(&["exec", &name, "--candidate", "--", "/demo-app", "health"]).success();

    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty());
}

#[test]
fn identical_builds_diff_clean() {
    let registry = Registry::start();
    let v1 = registry.push(&fixture_image("1.0.0"), "shop/same", "1.0.0");
    let project = Project::new();
    project.profile("same", &format!("{}/shop/same", registry.address), HTTP_HEALTH);
    project.record("same", &v1, serde_json::Value::Null);
    let name = unique("same");
    project.prodbox(&["up", "same", "-d", "--name", &name, "--candidate", &fixture_image("1.0.0")]).success();
    let d = project.prodbox(&["diff", &name, "--request", "GET /", "--request", "GET /healthz"]).success();
    assert!(d.stdout.contains("images: the same build"), "{}", d.stdout);
    assert!(d.stdout.contains("GET /: same"), "{}", d.stdout);
    project.prodbox(&["down", &name]).success();
    // diff without a candidate says how to get one.
    project.prodbox(&["up", "same", "-d", "--name", &name]).success();
    project.prodbox(&["diff", &name]).code(1).stderr_has("--candidate");
    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty());
}
