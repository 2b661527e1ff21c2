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
    let mut rows: Vec<(Vec<String>, i32, String)> =
        cases.iter().map(|(a, c, n)| (a.iter().map(|s| s.to_string()).collect(), *c, n.to_string())).collect();
    rows.extend(issue_10_rows());
    std::fs::write(p.dir.path().join("latin1.json"), b"{\"image\": \"caf\xe9\"}").unwrap();
    rows.push((vec!["record".into(), "latin1.json".into()], 2, "not UTF-8".into()));
    for (args, code, needle) in &rows {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = p.prodbox(&args);
        assert_eq!(run.code, *code, "{args:?}: exit {} want {code}\n{}", run.code, run.stderr);
        assert!(run.stderr.contains(needle.as_str()), "{args:?}: stderr lacks {needle:?}:\n{}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: errors go to stderr, stdout had:\n{}", run.stdout);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    }
    eprintln!("every_command_rejects_bad_input_cleanly: {} cases", rows.len());
    assert!(p.leftovers().is_empty());
}

/// Issue #10's classes of bad command-line input, each against every
/// command that takes it: a sandbox name (empty, a path, blanks, a reserved
/// suffix), a service or environment (a path out of the profiles folder), a
/// probe target that cannot be probed, empty pins, implausible times, ports 0,
/// labels in prodbox's own namespace, a missing --profiles folder. Every one
/// is exit 2 before anything is made: nothing becomes "all".
fn issue_10_rows() -> Vec<(Vec<String>, i32, String)> {
    let mut rows = Vec::new();
    let mut row = |args: &[&str], code: i32, needle: &str| {
        rows.push((args.iter().map(|s| s.to_string()).collect(), code, needle.to_string()))
    };
    for bad in ["", " ", "../x", "a b", "a/b", ".x", "x-ingress", "ingress", "x\n", "é", &"x".repeat(49)] {
        for args in [
            vec!["down", bad],
            vec!["down", "ok-name", bad],
            vec!["logs", bad],
            vec!["exec", bad, "--", "true"],
            vec!["diff", bad],
            vec!["verify", bad],
            vec!["port-forward", bad],
            vec!["up", "svc", "--name", bad],
        ] {
            row(&args, 2, "sandbox name");
        }
    }
    for bad in ["", "..", "../outside/evil", "/etc/passwd", "a/b", "svc/../svc", ".hidden", "a b"] {
        for args in [
            vec!["up", bad, "--name", "ok-name"],
            vec!["inspect", bad],
            vec!["history", bad],
            vec!["up", "svc", "--env", bad],
            vec!["history", "svc", "--env", bad],
        ] {
            row(&args, 2, "not a plain name");
        }
    }
    for bad in ["not a target", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", ":80", "[::1]", "fd00::1:80", "a..b:1"] {
        row(&["verify", "ok-name", "--target", bad], 2, "--target");
    }
    for (flag, value) in [("--revision", ""), ("--revision", " "), ("--candidate", "")] {
        row(&["up", "svc", flag, value], 2, "must not be empty");
    }
    for at in ["9999-01-01", "1900-01-01", "99999999999h ago", "1999-12-31T23:59:59Z"] {
        row(&["up", "svc", "--at", at], 2, "is not a plausible deploy time");
    }
    for p in ["8080:0", "0", "x:8080", "70000"] {
        row(&["up", "svc", "-p", p], 2, "-p");
    }
    for l in ["dev.prodbox.owner=x", "=x", "nokey"] {
        row(&["up", "svc", "--label", l], 2, "--label");
    }
    for args in [
        vec!["diff", "ok-name", "--port", "0"],
        vec!["diff", "ok-name", "--port", "70000"],
        vec!["logs", "ok-name", "--tail", "-1"],
        vec!["logs", "ok-name", "--tail", "99999999999999999999999"],
    ] {
        row(&args, 2, "");
    }
    for args in [vec!["profiles", "validate"], vec!["profiles"]] {
        let mut args = args.clone();
        args.extend(["--profiles", "no/such/dir"]);
        row(&args, 2, "--profiles no/such/dir: no such directory");
    }
    rows
}

/// Issue #10: bad deploy records, each refused with exit 2 and the field
/// that is wrong, before anything is made: not UTF-8, another service or
/// environment, a `deployed_at` that is no time, config file paths that are
/// not absolute, not normalized, a folder, or under /proc, /sys or /dev; and
/// a repro file that names a path for its service.
#[test]
fn issue_10_bad_records_are_refused_with_their_field() {
    let repo = "127.0.0.1:9/shop/svc";
    let image = format!("{repo}@sha256:{}", "a".repeat(64));
    let record = |patch: serde_json::Value| {
        let mut r = serde_json::json!({
            "service": "svc", "environment": "production", "image": image,
            "deployed_at": "2026-11-20T14:05:00Z", "revision": "9f1c2ab",
        });
        for (k, v) in patch.as_object().unwrap() {
            r[k] = v.clone();
        }
        r.to_string().into_bytes()
    };
    let mut cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{\"image\": \"x\xff\"}".to_vec(), "not UTF-8"),
        (record(serde_json::json!({"service": "other"})), "field `service`"),
        (record(serde_json::json!({"environment": "staging"})), "field `environment`"),
        (record(serde_json::json!({"deployed_at": "last tuesday"})), "field `deployed_at`"),
        (record(serde_json::json!({"deployed_at": "2026-13-45T99:00:00Z"})), "field `deployed_at`"),
    ];
    for path in [
        "",
        "etc/app.yaml",
        "/",
        "/etc/",
        "/etc//a",
        "/etc/./a",
        "/etc/../a",
        "/proc/self/x",
        "/sys/x",
        "/dev/x",
        "/a\u{0}b",
    ] {
        cases.push((record(serde_json::json!({"config": {"files": {path: "x"}}})), "field `config.files`"));
    }
    let n = cases.len();
    for (bytes, needle) in cases {
        let p = Project::new();
        p.profile("svc", repo, "");
        std::fs::write(p.dir.path().join("deploys/svc.json"), &bytes).unwrap();
        for args in [vec!["up", "svc", "-d"], vec!["inspect", "svc"], vec!["history", "svc"]] {
            let run = p.prodbox(&args);
            assert_eq!(run.code, 2, "{needle} {args:?}: exit {}\n{}", run.code, run.stderr);
            assert!(run.stderr.contains(needle), "{args:?}: stderr lacks {needle:?}:\n{}", run.stderr);
        }
        assert!(p.leftovers().is_empty());
    }
    // A shared repro file cannot name a profile outside the profiles folder.
    let p = Project::new();
    p.profile("svc", repo, "");
    for (field, value) in [("service", "../outside/evil"), ("service", "/etc/x"), ("environment", "../x")] {
        let mut repro = serde_json::json!({
            "prodbox": "0", "service": "svc", "environment": "production", "image": image,
            "digest": format!("sha256:{}", "a".repeat(64)), "deployed_at": null, "revision": null, "profile_hash": "x",
        });
        repro[field] = value.into();
        p.write("repro.json", &repro.to_string());
        p.prodbox(&["up", "--from", "repro.json", "-d"]).code(2).stderr_has(&format!("repro file repro.json: {field}"));
    }
    eprintln!("issue_10_bad_records_are_refused_with_their_field: {} record cases x 3 commands + 3 repro cases", n);
}

/// Issue #10: a profile value that once panicked (a huge duration) is a
/// file:line:col error for `profiles`, `profiles validate`, `up` and
/// `doctor` alike, never exit 101; the other profiles still list.
#[test]
fn issue_10_no_profile_value_panics_any_command() {
    let p = Project::new();
    p.profile("ok", "127.0.0.1:9/shop/ok", "");
    for (name, run) in [
        ("huge", "[run]\nhealth = { tcp = 8080, timeout = \"99999999999999999999s\" }\n"),
        ("mem", "[run]\nmemory = \"99999999999999999999999999g\"\n"),
        ("zero", "[run]\nports = [0]\n"),
    ] {
        p.profile(name, "127.0.0.1:9/shop/x", run);
    }
    let run = p.prodbox(&["profiles", "validate"]).code(2);
    for name in ["huge", "mem", "zero"] {
        assert!(run.stderr.contains(&format!("profiles/{name}.toml:")), "{}", run.stderr);
    }
    let list = p.prodbox(&["profiles", "--json"]).code(2).json();
    assert_eq!(list[0]["service"], "ok", "{list}");
    p.prodbox(&["up", "huge", "-d"]).code(2).stderr_has("run.health.timeout");
    let doctor = p.prodbox(&["doctor"]);
    assert_ne!(doctor.code, 101, "{}", doctor.stderr);
    assert!(!doctor.stderr.contains("panicked"), "{}", doctor.stderr);
}

/// Issue #10: one past record from another repository is listed as
/// unusable; `history`, `--at` and `--revision` still work for the others.
#[test]
fn issue_10_one_foreign_past_record_does_not_break_history() {
    let repo = "127.0.0.1:9/shop/svc";
    let good = |hex: &str, at: &str, rev: &str| {
        serde_json::json!({"service": "svc", "environment": "production",
            "image": format!("{repo}@sha256:{}", hex.repeat(64)), "deployed_at": at, "revision": rev})
    };
    let foreign = serde_json::json!({"service": "svc", "environment": "production",
        "image": format!("127.0.0.1:9/other/repo@sha256:{}", "c".repeat(64)), "deployed_at": "2026-11-10T00:00:00Z"});
    let mut now = good("a", "2026-11-20T14:05:00Z", "aaa1111");
    now["history"] = serde_json::json!([
        good("a", "2026-11-20T14:05:00Z", "aaa1111"),
        foreign,
        good("b", "2026-11-01T00:00:00Z", "bbb2222")
    ]);
    let p = Project::new();
    p.profile("svc", repo, "");
    p.write("deploys/svc.json", &now.to_string());
    let list = p.prodbox(&["history", "svc", "--json"]).success().json();
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{list}");
    assert!(rows.iter().any(|r| r["digest"] == "unusable" && r["unusable"] == "another repository"), "{list}");
    let human = p.prodbox(&["history", "svc"]).success().stdout;
    assert!(human.contains("(cannot be run: another repository)"), "{human}");
    // Both pins get past resolving (the registry at 127.0.0.1:9 is down: 3, not 2).
    p.prodbox(&["up", "svc", "-d", "--revision", "bbb"]).code(3).stderr_has("cannot be reached");
    p.prodbox(&["up", "svc", "-d", "--at", "2026-11-05T00:00:00Z"]).code(3).stderr_has("cannot be reached");
}
