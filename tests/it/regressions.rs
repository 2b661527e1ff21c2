//! Regression tests for the defects listed in issue #9, one per defect.

use crate::common::*;

/// Issue #9: `up --json` without `-d` printed the JSON and then the app's
/// logs on the same stdout. The logs go to stderr; stdout is the JSON alone.
#[test]
fn issue_9_up_json_in_the_foreground_keeps_logs_off_stdout() {
    let f = Fixture::new("reg").build();
    let project = &f.project;
    let name = unique("fgjson");
    let mut fg = project.spawn(&["--json", "up", "reg", "--name", &name]);
    fg.wait_for("demo listening on :8080");
    let (code, lines, stdout) = fg.interrupt_split();
    assert_eq!(code, 130, "Ctrl-C is 130: {lines:?}");
    let stdout = stdout.join("\n");
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}"));
    assert_eq!(report["name"], name.as_str());
    assert!(!stdout.contains("demo listening"), "{stdout}");
    assert!(leftovers(&format!("dev.prodbox.sandbox={name}")).is_empty());
}

/// Issue #9: `up --save` failing after the launch left the sandbox running.
#[test]
fn issue_9_up_save_failing_removes_the_sandbox() {
    let f = Fixture::new("reg").run(HTTP_HEALTH).build();
    let project = &f.project;
    let name = unique("save");
    project
        .prodbox(&["up", "reg", "-d", "--name", &name, "--save", "no/such/folder/repro.json"])
        .code(1)
        .stderr_has("repro file no/such/folder/repro.json");
    assert!(leftovers(&format!("dev.prodbox.sandbox={name}")).is_empty(), "the sandbox outlived its failed up");
    assert!(project.leftovers().is_empty());
}

/// Issue #9: a config file at `/` with `read_only` was refused only when
/// the volumes were made; it is refused before anything exists, exit 2.
#[test]
fn issue_9_a_config_file_at_the_root_of_a_read_only_container_is_refused_first() {
    let f = Fixture::new("ro")
        .run("[run]\nread_only = true\n")
        .config(serde_json::json!({"files": {"/app.conf": "level = info\n"}}))
        .build();
    let project = &f.project;
    let name = unique("ro");
    project
        .prodbox(&["up", "ro", "-d", "--name", &name])
        .code(2)
        .stderr_has("config file /app.conf sits at /")
        .stderr_has("read_only = false");
    assert!(leftovers(&format!("dev.prodbox.sandbox={name}")).is_empty());
    assert!(project.leftovers().is_empty());
}

/// Issue #9: doctor's credential check was `ok` in every branch and never
/// read the config. It runs the helpers the config names for the
/// registries the profiles name, and fails with the fix when one fails.
#[test]
fn issue_9_doctor_runs_the_configured_credential_helpers() {
    use std::os::unix::fs::PermissionsExt;
    let project = Project::new();
    let registry = "registry.internal.example:5000";
    project.profile("svc", &format!("{registry}/shop/svc"), "");
    let bin = project.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for (helper, script) in [
        ("broken", "#!/bin/sh\necho 'boom: keychain locked' >&2\nexit 1\n"),
        ("good", "#!/bin/sh\ncase \"$1\" in list) echo '{}';; get) echo '{\"Username\":\"u\",\"Secret\":\"s3cr3t-pw\"}';; esac\n"),
    ] {
        let path = bin.join(format!("docker-credential-{helper}"));
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let config_dir = project.dir.path().join("docker");
    std::fs::create_dir_all(&config_dir).unwrap();
    let check = |helper: &str| {
        std::fs::write(config_dir.join("config.json"), format!(r#"{{"credHelpers": {{"{registry}": "{helper}"}}}}"#))
            .unwrap();
        let run = project.prodbox_env(
            &["doctor", "--json"],
            &[("PATH", path.as_str()), ("DOCKER_CONFIG", config_dir.to_str().unwrap())],
        );
        let checks = run.json();
        let creds = checks.as_array().unwrap().iter().find(|c| c["name"] == "registry credentials").unwrap().clone();
        (run, creds)
    };
    let (run, creds) = check("broken");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(creds["ok"], false, "{creds}");
    assert!(creds["detail"].as_str().unwrap().contains("boom: keychain locked"), "{creds}");
    assert!(creds["fix"].as_str().unwrap().contains("credHelpers"), "{creds}");
    let (run, creds) = check("good");
    assert_eq!(creds["ok"], true, "{creds}");
    assert!(creds["detail"].as_str().unwrap().contains(&format!("{registry}: good")), "{creds}");
    assert!(!run.stdout.contains("s3cr3t-pw"), "{}", run.stdout);
}
