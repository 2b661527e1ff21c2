//! `up` overlaps its steps (issue #12): the networks and the relay are made
//! while the image is pulled. A failure at any point still removes all that
//! was made: a pull that breaks, a relay that cannot start (the app's
//! health failing is in `errors.rs`). And sandboxes brought up side by side
//! all come up, and `down --all` removes every one.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use crate::common::*;

/// The demo image with one more layer of its own, pushed; then the layer is
/// gone from both the engine and the registry, so the engine's pull of it
/// fails after the manifest was read and checked.
fn image_with_a_missing_layer(registry: &Registry, repo: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let tag = format!("prodbox-fixture/{}:broken", unique("layer"));
    std::fs::write(dir.path().join("extra"), unique("bytes no other layer has")).unwrap();
    std::fs::write(dir.path().join("Dockerfile"), format!("FROM {}\nCOPY extra /extra\n", fixture_image("1.0.0")))
        .unwrap();
    sh(Command::new("docker")
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "--label", &format!("{TEST_LABEL}=fixture"), "-t", &tag])
        .arg(dir.path()));
    let pinned = registry.push(&tag, repo, "broken");
    docker(&["rmi", &tag]);
    let digest = pinned.split('@').nth(1).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(registry.blob_path(digest)).unwrap()).unwrap();
    let last = manifest["layers"].as_array().unwrap().last().unwrap()["digest"].as_str().unwrap().to_string();
    let blob = registry.blob_path(&last);
    std::fs::remove_dir_all(Path::new(&blob).parent().unwrap()).unwrap();
    pinned
}

#[test]
fn a_pull_that_breaks_leaves_nothing_of_what_was_made_beside_it() {
    let registry = Registry::start();
    let pinned = image_with_a_missing_layer(&registry, "shop/broken");
    let project = Project::new();
    project.profile("broken", &format!("{}/shop/broken", registry.address), HTTP_HEALTH);
    project.record("broken", &pinned, serde_json::Value::Null);
    let name = unique("pull");

    let run = project.prodbox(&["up", "broken", "-d", "--name", &name]);
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("pulling"), "the pull is what failed:\n{}", run.stderr);
    assert!(run.stderr.lines().filter(|l| l.starts_with("error: ")).count() == 1, "{}", run.stderr);
    assert!(!run.stderr.contains("cancelled"), "the cause, not the side it stopped:\n{}", run.stderr);
    assert_eq!(leftovers(&format!("dev.prodbox.sandbox={name}")), Vec::<String>::new());
    assert!(project.leftovers().is_empty(), "{:?}", project.leftovers());
}

#[test]
fn a_relay_that_cannot_start_leaves_nothing_and_says_why() {
    let registry = Registry::start();
    let pinned = registry.push(&fixture_image("1.0.0"), "shop/door", "1.0.0");
    // The host port the relay must publish on is taken.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let project = Project::new();
    project.profile(
        "door",
        &format!("{}/shop/door", registry.address),
        &format!("[run]\nports = [\"{port}:8080\"]\nhealth = {{ http = \"/healthz\" }}\n"),
    );
    project.record("door", &pinned, serde_json::Value::Null);
    let name = unique("relay");

    let run = project.prodbox(&["up", "door", "-d", "--name", &name]);
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("relay"), "the relay is what failed:\n{}", run.stderr);
    assert!(run.stderr.contains("removed the half-made sandbox"), "{}", run.stderr);
    assert_eq!(leftovers(&format!("dev.prodbox.sandbox={name}")), Vec::<String>::new());
    assert!(project.leftovers().is_empty(), "{:?}", project.leftovers());
    drop(taken);
}

#[test]
fn ten_sandboxes_brought_up_side_by_side_are_healthy_and_down_all_removes_them() {
    let registry = Registry::start();
    let pinned = registry.push(&fixture_image("1.0.0"), "shop/many", "1.0.0");
    let project = Project::new();
    project.profile("many", &format!("{}/shop/many", registry.address), HTTP_HEALTH);
    project.record("many", &pinned, serde_json::Value::Null);
    let names: Vec<String> = (0..10).map(|_| unique("many")).collect();

    let reports: Vec<serde_json::Value> = std::thread::scope(|s| {
        let runs: Vec<_> = names
            .iter()
            .map(|name| s.spawn(|| project.prodbox(&["up", "many", "-d", "--name", name, "--json"]).success().json()))
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for (name, report) in names.iter().zip(&reports) {
        assert_eq!(report["name"], name.as_str(), "{report}");
        let url = report["urls"][0].as_str().unwrap();
        let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
        assert_eq!(http_get(port, "/healthz").trim(), "ok", "{name} answers through its relay");
    }
    let listed = project.prodbox(&["ls", "--json"]).success().json();
    for name in &names {
        let row = listed.as_array().unwrap().iter().find(|s| s["name"] == name.as_str());
        assert_eq!(row.map(|r| r["status"].clone()), Some("running".into()), "{name} in {listed}");
    }

    // Only this test's sandboxes: the engine is shared with other tests.
    let label = format!("{TEST_LABEL}={}", project.id);
    let removed = project.prodbox(&["down", "--all", "--label", &label, "--json"]).success().json();
    let gone: Vec<&str> = removed.as_array().unwrap().iter().map(|r| r[0].as_str().unwrap()).collect();
    for name in &names {
        assert!(gone.contains(&name.as_str()), "{name} not in {removed}");
    }
    assert_eq!(gone.len(), names.len(), "{removed}");
    assert!(project.leftovers().is_empty(), "{:?}", project.leftovers());
}

#[test]
fn down_waits_for_the_stop_timeout_the_profile_gives_only() {
    let registry = Registry::start();
    let pinned = registry.push(&fixture_image("1.0.0"), "shop/grace", "1.0.0");
    let project = Project::new();
    let run = format!("{HTTP_HEALTH}stop_timeout = \"7s\"\n");
    project.profile("grace", &format!("{}/shop/grace", registry.address), &run);
    project.record("grace", &pinned, serde_json::Value::Null);
    let name = unique("grace");
    project.prodbox(&["up", "grace", "-d", "--name", &name]).success();
    let app = inspect(&format!("prodbox-{name}-app"));
    assert_eq!(app["Config"]["Labels"]["dev.prodbox.stop-timeout"], "7", "{}", app["Config"]["Labels"]);
    assert_eq!(app["Config"]["StopTimeout"], 7, "docker stop honours it too");
    let relay = inspect(&format!("prodbox-{name}-relay"));
    assert!(relay["Config"]["Labels"].get("dev.prodbox.stop-timeout").is_none(), "the relay is killed at once");
    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty(), "{:?}", project.leftovers());

    // A bad duration is a profile error, with the key.
    project.profile("grace", &format!("{}/shop/grace", registry.address), "[run]\nstop_timeout = \"soon\"\n");
    let run = project.prodbox(&["up", "grace", "-d", "--name", &name]).code(2);
    assert!(run.stderr.contains("run.stop_timeout"), "{}", run.stderr);
}
