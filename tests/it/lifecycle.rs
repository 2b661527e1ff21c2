//! `up` again replaces, `gc` collects dead sandboxes, `down` of an unknown
//! name fails, `profiles validate` points at the error.

use crate::common::*;

#[test]
fn up_again_replaces_and_gc_collects_dead_sandboxes() {
    let registry = Registry::start();
    let v1 = registry.push(&fixture_image("1.0.0"), "shop/life", "1.0.0");
    let v2 = registry.push(&fixture_image("2.0.0"), "shop/life", "2.0.0");
    let project = Project::new();
    let name = unique("life");
    let repo = format!("{}/shop/life", registry.address);
    project.profile("life", &repo, HTTP_HEALTH);
    project.record("life", &v1, serde_json::Value::Null);
    project.prodbox(&["up", "life", "-d", "--name", &name]).success();
    project.record("life", &v2, serde_json::Value::Null);
    let report = project.prodbox(&["up", "life", "-d", "--name", &name, "--json"]).success().json();
    assert_eq!(report["version"], "2.0.0");
    let apps = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=dev.prodbox.sandbox={name}"),
        "--filter",
        "label=dev.prodbox.role=app",
    ]);
    assert_eq!(apps.lines().count(), 1, "one app after replacing");
    // `--target engine` wins over a settings file that names a cluster: the
    // same commands, through the engine target, see the same sandbox.
    project.write("xdg/prodbox/settings.toml", "target = { kind = \"kubernetes\", context = \"nowhere\" }\n");
    let xdg = project.dir.path().join("xdg");
    let env = [("XDG_CONFIG_HOME", xdg.to_str().unwrap())];
    let ls = project.prodbox_env(&["ls", "--json", "--target", "engine"], &env).success().json();
    let listed = ls.as_array().unwrap().iter().find(|s| s["name"] == name.as_str()).cloned();
    let listed = listed.unwrap_or_else(|| panic!("{name} in {ls}"));
    assert_eq!(listed["status"], "running");
    assert!(listed.get("location").is_none() && listed.get("expires_at").is_none(), "{listed}");
    project.prodbox_env(&["exec", &name, "--target", "docker", "--", "/demo-app", "health"], &env).success();

    // The app dies (as after a crash): gc removes the whole sandbox.
    docker(&["kill", &format!("prodbox-{name}-app")]);
    let gc = project.prodbox(&["gc", "--json"]).success().json();
    assert!(gc.to_string().contains(&name), "{gc}");
    assert!(leftovers(&format!("dev.prodbox.sandbox={name}")).is_empty());

    project.prodbox(&["down", &name]).code(1).stderr_has("no sandbox named");
    project.prodbox(&["down"]).code(2);
}

#[test]
fn profiles_validate_points_at_file_line_and_key() {
    let project = Project::new();
    project.profile("ok", "127.0.0.1:5000/x/ok", "");
    project.write(
        "profiles/bad.toml",
        "[source]\nkind = \"file\"\npath = \"x.json\"\n[image]\nrepository = \"r/x\"\n[run]\ncpus = \"two\"\n",
    );
    let run = project.prodbox(&["profiles", "validate"]).code(2);
    assert!(run.stderr.contains("profiles/bad.toml:7:"), "{}", run.stderr);
    assert!(run.stderr.contains("cpus"), "{}", run.stderr);
    let list = project.prodbox(&["profiles", "--json"]).code(2).json();
    assert_eq!(list[0]["service"], "ok");
}

#[test]
fn completions_and_doctor() {
    let project = Project::new();
    let run = project.prodbox(&["completions", "bash"]).success();
    assert!(run.stdout.contains("prodbox"));
    let run = project.prodbox(&["doctor", "--json"]).success();
    let checks = run.json();
    assert!(checks.as_array().unwrap().iter().all(|c| c["ok"] == true), "{checks}");
    let run = project.prodbox_env(&["doctor"], &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")]).code(1);
    assert!(run.stdout.contains("FAIL"), "{}", run.stdout);
}

#[test]
fn ctrl_c_in_the_foreground_or_during_startup_leaves_nothing() {
    let registry = Registry::start();
    let v1 = registry.push(&fixture_image("1.0.0"), "shop/fg", "1.0.0");
    let project = Project::new();
    project.profile("fg", &format!("{}/shop/fg", registry.address), "");
    project.record("fg", &v1, serde_json::Value::Null);

    // Foreground: logs stream until Ctrl-C, which stops and removes everything.
    let name = unique("fg");
    let mut fg = project.spawn(&["up", "fg", "--name", &name]);
    fg.wait_for("streaming the app's logs");
    fg.wait_for("demo listening on :8080");
    let (code, lines) = fg.interrupt();
    assert_eq!(code, 130, "Ctrl-C is 130: {lines:?}");
    assert!(lines.iter().any(|l| l.contains("stopped and removed sandbox")), "{lines:?}");
    assert!(leftovers(&format!("dev.prodbox.sandbox={name}")).is_empty());

    // During startup (waiting for the image's HEALTHCHECK): the half-made sandbox goes.
    let name = unique("fg");
    let mut fg = project.spawn(&["up", "fg", "--name", &name]);
    fg.wait_for("waiting for health");
    let (code, lines) = fg.interrupt();
    assert_eq!(code, 130, "Ctrl-C is 130: {lines:?}");
    assert!(lines.iter().any(|l| l.contains("interrupted: removed the half-made sandbox")), "{lines:?}");
    assert!(leftovers(&format!("dev.prodbox.sandbox={name}")).is_empty());
    assert!(project.leftovers().is_empty());
}
