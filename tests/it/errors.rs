//! Bad input: each case gets its clear error and exit code, and leaves nothing.

use crate::common::*;

/// One bad case: how to set the project up, then what `up` must say.
struct Case {
    what: &'static str,
    code: i32,
    stderr: &'static str,
}

fn check(project: &Project, case: &Case, env: &[(&str, &str)]) {
    let name = unique("bad");
    let run = project.prodbox_env(&["up", "svc", "-d", "--name", &name], env);
    assert_eq!(run.code, case.code, "{}: exit {} want {}\nstderr:\n{}", case.what, run.code, case.code, run.stderr);
    assert!(run.stderr.contains(case.stderr), "{}: stderr lacks {:?}:\n{}", case.what, case.stderr, run.stderr);
    assert!(run.stderr.lines().any(|l| l.starts_with("error: ")), "{}: one error line:\n{}", case.what, run.stderr);
    assert!(project.leftovers().is_empty(), "{}: left {:?}", case.what, project.leftovers());
    assert!(leftovers(&format!("dev.prodbox.sandbox={name}")).is_empty(), "{}: left resources", case.what);
}

#[test]
fn bad_records_and_unreachable_parts_fail_cleanly() {
    let registry = Registry::start();
    let pinned = registry.push(&fixture_image("1.0.0"), "shop/svc", "1.0.0");
    let repo = format!("{}/shop/svc", registry.address);
    let digest = pinned.split('@').nth(1).unwrap();

    // A record with a tag and no digest.
    let p = Project::new();
    p.profile("svc", &repo, "");
    p.record("svc", &format!("{repo}:1.0.0"), serde_json::Value::Null);
    check(&p, &Case { what: "tag only", code: 2, stderr: "has no digest" }, &[]);

    // A record for another repository.
    let p = Project::new();
    p.profile("svc", &repo, "");
    p.record("svc", &format!("{}/shop/other@{digest}", registry.address), serde_json::Value::Null);
    check(&p, &Case { what: "other repository", code: 2, stderr: "is not in repository" }, &[]);

    // An unreachable deploy registry (http source on a closed port).
    let p = Project::new();
    let closed = free_port();
    p.write(
        "profiles/svc.toml",
        &format!("[source]\nkind = \"http\"\nurl = \"http://127.0.0.1:{closed}/v1/{{service}}\"\n[image]\nrepository = \"{repo}\"\n"),
    );
    check(&p, &Case { what: "deploy registry down", code: 3, stderr: "cannot be reached" }, &[]);

    // An unreachable OCI registry.
    let p = Project::new();
    let gone = format!("127.0.0.1:{}", free_port());
    p.profile("svc", &format!("{gone}/shop/svc"), "");
    p.record("svc", &format!("{gone}/shop/svc@{digest}"), serde_json::Value::Null);
    check(&p, &Case { what: "registry down", code: 3, stderr: "cannot be reached" }, &[]);

    // An unreachable engine.
    let p = Project::new();
    p.profile("svc", &repo, "");
    p.record("svc", &pinned, serde_json::Value::Null);
    let run = p.prodbox_env(&["up", "svc", "-d"], &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("docker engine at unix:///nonexistent/docker.sock"), "{}", run.stderr);
    assert!(run.stderr.contains("prodbox doctor"), "{}", run.stderr);

    // A malformed profile names file, line and key; exit 2.
    let p = Project::new();
    p.profile("svc", &repo, "[run]\nports = [8080]\nmemroy = \"1g\"\n");
    check(
        &p,
        &Case { what: "unknown key", code: 2, stderr: "profiles/svc.toml:8:1: run.memroy: unknown field `memroy`" },
        &[],
    );
}

#[test]
fn an_app_that_never_gets_healthy_fails_with_its_logs_and_leaves_nothing() {
    let registry = Registry::start();
    let pinned = registry.push(&fixture_image("1.0.0"), "shop/svc", "1.0.0");
    let p = Project::new();
    p.profile(
        "svc",
        &format!("{}/shop/svc", registry.address),
        "[run]\nports = [8080]\nhealth = { http = \"/missing\", timeout = \"2s\" }\n",
    );
    p.record("svc", &pinned, serde_json::Value::Null);
    check(
        &p,
        &Case {
            what: "unhealthy",
            code: 1,
            stderr: "did not become healthy (HTTP GET /missing on port 8080) within 2s",
        },
        &[],
    );
    let name = unique("bad");
    let run = p.prodbox(&["up", "svc", "-d", "--name", &name]);
    assert!(run.stderr.contains("| demo listening on :8080"), "the app's last lines are shown:\n{}", run.stderr);
}

#[test]
fn a_manifest_whose_bytes_do_not_match_its_digest_is_refused() {
    let registry = Registry::start();
    let pinned = registry.push(&fixture_image("1.0.0"), "shop/svc", "1.0.0");
    let digest = pinned.split('@').nth(1).unwrap();
    let blob = registry.blob_path(digest);
    let bytes = std::fs::read(&blob).unwrap();
    // Same JSON, one more space: a different digest.
    let tampered = String::from_utf8(bytes).unwrap().replacen('{', "{ ", 1);
    std::fs::write(&blob, tampered).unwrap();

    let p = Project::new();
    p.profile("svc", &format!("{}/shop/svc", registry.address), "");
    p.record("svc", &pinned, serde_json::Value::Null);
    check(&p, &Case { what: "tampered manifest", code: 1, stderr: "does not match its content" }, &[]);
}

#[test]
fn every_command_rejects_bad_input_cleanly() {
    let p = Project::new();
    p.profile("svc", "127.0.0.1:9/shop/svc", "");
    p.record("svc", "127.0.0.1:9/shop/svc:1.0", serde_json::json!(null));
    let cases: &[(&[&str], i32, &str)] = &[
        (&["down", "nope-x"], 1, "no sandbox named nope-x"),
        (&["down"], 2, "--all"),
        (&["logs", "nope-x"], 1, "sandbox nope-x has no app container"),
        (&["exec", "nope-x", "--", "true"], 1, "no sandbox named nope-x"),
        (&["diff", "nope-x"], 1, "no sandbox named nope-x"),
        (&["verify", "nope-x"], 1, "no sandbox named nope-x"),
        (&["inspect", "nope-x"], 2, "no profile for service \"nope-x\""),
        (&["history", "nope-x"], 2, "no profile for service \"nope-x\""),
        (&["up", "nope-x"], 2, "no profile for service \"nope-x\""),
        (&["up", "svc", "--at", "soon"], 2, "--at \"soon\": not a time"),
        (&["up", "svc", "--name", "bad name!"], 2, "sandbox name \"bad name!\""),
        (&["up", "svc", "-p", "x:y"], 2, "-p x:y"),
        (&["up", "svc", "--digest", "sha256:12"], 2, "--digest sha256:12"),
        (&["up", "svc", "--label", "dev.prodbox.sandbox=x"], 2, "--label"),
        (&["up", "svc", "--at", "2026-01-01", "--revision", "abc"], 2, "cannot be used with"),
        (&["up", "--from", "missing.json"], 2, "repro file missing.json"),
        (&["diff", "x", "--request", "FETCH cart"], 2, "want METHOD /path"),
        (&["record", "missing.json"], 2, "record missing.json: cannot read"),
        (&["record", "deploys/svc.json"], 2, "has no digest"),
    ];
    for (args, code, needle) in cases {
        let run = p.prodbox(args);
        assert_eq!(run.code, *code, "{args:?}: exit {} want {code}\n{}", run.code, run.stderr);
        assert!(run.stderr.contains(needle), "{args:?}: stderr lacks {needle:?}:\n{}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: errors go to stderr, stdout had:\n{}", run.stdout);
    }
    assert!(p.leftovers().is_empty());
}
