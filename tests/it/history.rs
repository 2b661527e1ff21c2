//! Reproducing a customer report: history, `--at` at its boundaries,
//! `--revision`/`--digest` pins, and repro files.

use crate::common::*;

/// A project whose `file` record has v2 live now and v1 before it.
fn two_releases(registry: &Registry) -> (Project, String, String) {
    let v1 = registry.push(&fixture_image("1.0.0"), "shop/hist", "1.0.0");
    let v2 = registry.push(&fixture_image("2.0.0"), "shop/hist", "2.0.0");
    let project = Project::new();
    project.profile("hist", &format!("{}/shop/hist", registry.address), HTTP_HEALTH);
    let record = serde_json::json!({
        "service": "hist", "environment": "production",
        "image": v2, "deployed_at": "2026-11-20T14:05:00Z", "deployed_by": "pipeline#2", "revision": "bbb2222",
        "history": [
            {"image": v2, "deployed_at": "2026-11-20T14:05:00Z", "deployed_by": "pipeline#2", "revision": "bbb2222"},
            {"image": v1, "deployed_at": "2026-11-01T09:00:00Z", "deployed_by": "pipeline#1", "revision": "aaa1111"}
        ]
    });
    project.write("deploys/hist.json", &record.to_string());
    (project, v1, v2)
}

#[test]
fn history_and_at_pick_the_deploy_live_then() {
    let registry = Registry::start();
    let (project, v1, v2) = two_releases(&registry);
    let digest = |pinned: &str| pinned.split('@').nth(1).unwrap().to_string();

    let history = project.prodbox(&["history", "hist", "--json"]).success().json();
    let list = history.as_array().unwrap();
    assert_eq!(list.len(), 2, "{history}");
    assert_eq!(list[0]["revision"], "bbb2222");
    assert_eq!(list[0]["current"], true);
    assert_eq!(list[1]["revision"], "aaa1111");
    assert_eq!(list[1]["live_for"], "19d 5h");
    let table = project.prodbox(&["history", "hist"]).success().stdout;
    assert!(table.contains("(live now)"), "{table}");

    let name = unique("at");
    // Exactly at the second deploy's instant: the second deploy.
    let r =
        project.prodbox(&["up", "hist", "-d", "--name", &name, "--json", "--at", "2026-11-20 14:05"]).success().json();
    assert_eq!(r["digest"], digest(&v2).as_str());
    assert_eq!(r["version"], "2.0.0");
    // One second before: the first, and the report says why.
    let r = project
        .prodbox(&["up", "hist", "-d", "--name", &name, "--json", "--at", "2026-11-20T14:04:59Z"])
        .success()
        .json();
    assert_eq!(r["digest"], digest(&v1).as_str());
    assert_eq!(r["chosen"], "live at 2026-11-20T14:04:59Z: from 2026-11-01T09:00:00Z to 2026-11-20T14:05:00Z (19d 5h)");
    let port = r["ports"][0][1].as_u64().unwrap() as u16;
    let body = http_get(port, "/");
    assert!(body.contains("\"version\":\"1.0.0\""), "{body}");
    // Before the first deploy: a clear error, and the running sandbox is untouched.
    project.prodbox(&["up", "hist", "-d", "--name", &name, "--at", "2026-10-01"]).code(1).stderr_has(
        "no deploy of hist was live at 2026-10-01T00:00:00Z: the oldest known deploy is from 2026-11-01T09:00:00Z",
    );
    let listed = project.prodbox(&["ls", "--json"]).success().json();
    let still = listed.as_array().unwrap().iter().find(|s| s["name"] == name.as_str()).expect("sandbox still listed");
    assert_eq!(still["status"], "running", "{still}");
    assert_eq!(still["digest"], digest(&v1).as_str(), "{still}");
    let body = http_get(port, "/");
    assert!(body.contains("\"version\":\"1.0.0\""), "the sandbox no longer answers as before: {body}");
    project.prodbox(&["up", "hist", "-d", "--at", "last tuesday"]).code(2).stderr_has("--at");

    // Pins.
    let r = project.prodbox(&["up", "hist", "-d", "--name", &name, "--json", "--revision", "aaa1"]).success().json();
    assert_eq!(r["digest"], digest(&v1).as_str());
    let short = &digest(&v2)[..7 + 16];
    let r = project.prodbox(&["up", "hist", "-d", "--name", &name, "--json", "--digest", short]).success().json();
    assert_eq!(r["digest"], digest(&v2).as_str());
    project
        .prodbox(&["up", "hist", "-d", "--name", &name, "--revision", "zzz9"])
        .code(1)
        .stderr_has("no deploy of hist has revision zzz9");

    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty());
}

#[test]
fn a_repro_file_round_trips_and_warns_when_the_profile_changed() {
    let registry = Registry::start();
    let (project, v1, _) = two_releases(&registry);
    let name = unique("repro");
    let saved = project.dir.path().join("repro.json");
    project
        .prodbox(&["up", "hist", "-d", "--name", &name, "--revision", "aaa1111", "--save", saved.to_str().unwrap()])
        .success();
    let repro: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(repro["digest"], v1.split('@').nth(1).unwrap());
    assert_eq!(repro["service"], "hist");
    assert!(repro.get("config").is_none());
    project.prodbox(&["down", &name]).success();

    // Again, from the file alone: the same digest, though v2 is live now.
    let r = project.prodbox(&["up", "--from", saved.to_str().unwrap(), "-d", "--name", &name, "--json"]).success();
    assert_eq!(r.json()["digest"], repro["digest"]);
    assert!(!r.stderr.contains("changed"), "{}", r.stderr);

    // The profile changed since: a warning, and still that digest.
    let profile = project.dir.path().join("profiles/hist.toml");
    let text = std::fs::read_to_string(&profile).unwrap();
    std::fs::write(&profile, text.replace("[run]", "[run]\nmemory = \"512m\"")).unwrap();
    let r = project.prodbox(&["up", "--from", saved.to_str().unwrap(), "-d", "--name", &name, "--json"]).success();
    assert!(r.stderr.contains("changed since the repro file was saved"), "{}", r.stderr);
    assert_eq!(r.json()["digest"], repro["digest"]);
    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty());
}

/// `--at` in the user's zone: a zone name, an offset, `--tz`, `TZ`; the
/// report shows the instant in UTC and in the zone asked for.
#[test]
fn at_reads_times_in_the_zone_asked_for() {
    let registry = Registry::start();
    let (project, v1, v2) = two_releases(&registry);
    let digest = |pinned: &str| pinned.split('@').nth(1).unwrap().to_string();
    let name = unique("tz");
    // v2 was deployed at 14:05Z = 15:05 in Berlin (CET, +01:00).
    for (at, env, want) in [
        (&["--at", "2026-11-20 15:05 Europe/Berlin"][..], &[][..], &v2),
        (&["--at", "2026-11-20 15:04:59 +01:00"], &[], &v1),
        (&["--at", "2026-11-20 15:05", "--tz", "Europe/Berlin"], &[], &v2),
        (&["--at", "2026-11-20 15:04"], &[("TZ", "Europe/Berlin")], &v1),
    ] {
        let mut args = vec!["up", "hist", "-d", "--name", &name, "--json"];
        args.extend_from_slice(at);
        let r = project.prodbox_env(&args, env).success().json();
        assert_eq!(r["digest"], digest(want).as_str(), "{at:?} {env:?}: {}", r["chosen"]);
    }
    let r = project
        .prodbox(&[
            "up",
            "hist",
            "-d",
            "--name",
            &name,
            "--json",
            "--at",
            "2026-11-20 15:04:59",
            "--tz",
            "Europe/Berlin",
        ])
        .success()
        .json();
    assert_eq!(
        r["chosen"],
        "live at 2026-11-20T14:04:59Z: from 2026-11-01T09:00:00Z to 2026-11-20T14:05:00Z (19d 5h); asked for 2026-11-20 15:04:59 CET (+01:00)"
    );
    project
        .prodbox(&["up", "hist", "-d", "--at", "2026-11-20 15:05", "--tz", "Mars/Olympus"])
        .code(2)
        .stderr_has("--tz");
    project.prodbox(&["down", &name]).success();
}
