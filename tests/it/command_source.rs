//! The `command` source: a real process printing a foreign JSON shape, read
//! through a jq filter; history through `history_command`; its bad inputs.

use crate::common::*;

const FILTER: &str = r#".taskDefinition as $t | $t.containerDefinitions[] | select(.name == $service)
  | {image, deployed_at: $t.registeredAt, deployed_by: $t.registeredBy, revision: ($t.revision | tostring),
     config: {env: (.environment | map({(.name): .value}) | add),
              secret_env: [.secrets[]?.name]}}"#;

fn profile(registry: &Registry, command: &str, extra: &str) -> String {
    format!(
        "[source]\nkind = \"command\"\ncommand = {command}\nhistory_command = [\"sh\", \"history.sh\"]\nfilter = '''{FILTER}'''\nhistory_filter = '.versions | map({{image, deployed_at: .at, revision: .rev}})'\n{extra}[image]\nrepository = \"{}/shop/cmd\"\n[sanitize]\nkeep = [\"GREETING\"]\n{HTTP_HEALTH}",
        registry.address
    )
}

#[test]
fn command_source_up_history_at_and_bad_inputs() {
    let registry = Registry::start();
    let v1 = registry.push(&fixture_image("1.0.0"), "shop/cmd", "1.0.0");
    let v2 = registry.push(&fixture_image("2.0.0"), "shop/cmd", "2.0.0");
    let project = Project::new();
    let describe = serde_json::json!({"taskDefinition": {
    "revision": 7, "registeredAt": "2026-11-20T14:05:00Z", "registeredBy": "arn:aws:iam::1:role/deployer",
    "containerDefinitions": [
        {"name": "sidecar", "image": "elsewhere/x:1", "environment": []},
        {"name": "cmd", "image": v2, "environment": [{"name": "GREETING", "value": "from-command"}],
         "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:…"}]}
    ]}});
    // The script checks its placeholders were filled and no shell ran it.
    project.write(
        "profiles/describe.sh",
        &format!("[ \"$1\" = cmd ] && [ \"$2\" = production ] || {{ echo bad args \"$@\" >&2; exit 9; }}\ncat <<'EOF'\n{describe}\nEOF\n"),
    );
    let history = serde_json::json!({"versions": [
        {"image": v2, "at": "2026-11-20T14:05:00Z", "rev": "7"},
        {"image": v1, "at": "2026-11-01T09:00:00Z", "rev": "6"}
    ]});
    project.write("profiles/history.sh", &format!("cat <<'EOF'\n{history}\nEOF\n"));
    project
        .write("profiles/cmd.toml", &profile(&registry, r#"["sh", "describe.sh", "{service}", "{environment}"]"#, ""));

    let name = unique("cmd");
    let report = project.prodbox(&["up", "cmd", "-d", "--name", &name, "--json"]).success().json();
    assert_eq!(report["revision"], "7");
    assert_eq!(report["deployed_by"], "arn:aws:iam::1:role/deployer");
    let port = report["ports"][0][1].as_u64().unwrap() as u16;
    assert!(http_get(port, "/").contains("from-command"));
    project.prodbox(&["down", &name]).success();

    let h = project.prodbox(&["history", "cmd", "--json"]).success().json();
    assert_eq!(h.as_array().unwrap().len(), 2);
    assert_eq!(h[0]["revision"], "7");
    let r = project.prodbox(&["up", "cmd", "-d", "--name", &name, "--json", "--at", "2026-11-05"]).success().json();
    assert_eq!(r["revision"], "6");
    assert!(r["digest"].as_str().unwrap().len() > 10 && v1.ends_with(r["digest"].as_str().unwrap()));
    project.prodbox(&["down", &name]).success();
    project.prodbox(&["inspect", "cmd", "--json"]).success();

    // A command taking {at} answers for the instant itself, without history.
    project.write(
        "profiles/at.sh",
        &format!("case \"$1\" in 2026-11-0*) echo '{{\"image\": \"{v1}\", \"revision\": \"old\"}}';; *) echo '{{\"image\": \"{v2}\", \"revision\": \"new\"}}';; esac\n"),
    );
    project.write(
        "profiles/atcmd.toml",
        &format!("[source]\nkind = \"command\"\ncommand = [\"sh\", \"at.sh\", \"{{at}}\"]\n[image]\nrepository = \"{}/shop/cmd\"\n{HTTP_HEALTH}", registry.address),
    );
    assert_eq!(project.prodbox(&["inspect", "atcmd", "--json"]).success().json()["revision"], "new");
    let r = project.prodbox(&["up", "atcmd", "-d", "--name", &name, "--json", "--at", "2026-11-05"]).success().json();
    assert_eq!(r["revision"], "old");
    assert!(r["chosen"].as_str().unwrap().contains("live at 2026-11-05T00:00:00Z, as the source answered"), "{r}");
    project.prodbox(&["down", &name]).success();
    // A repro file of what runs now works without history.
    project.prodbox(&["up", "atcmd", "-d", "--name", &name, "--save", "repro.json"]).success();
    let r = project.prodbox(&["up", "--from", "repro.json", "-d", "--name", &name, "--json"]).success().json();
    assert_eq!(r["revision"], "new");
    project.prodbox(&["down", &name]).success();

    // A command that is not installed: exit 2, naming it.
    project.write("profiles/cmd.toml", &profile(&registry, r#"["prodbox-no-such-cli", "x"]"#, ""));
    project.prodbox(&["up", "cmd", "-d", "--name", &name]).code(2).stderr_has("prodbox-no-such-cli was not found");

    // A failing command: exit 3 with its last stderr lines, secrets replaced.
    let token = "ghp_R4nd0mT0k3nV4lu3Abcdefghij0123456789";
    project.write(
        "profiles/fail.sh",
        &format!("echo 'An error occurred (ExpiredToken)' >&2\necho 'token {token} expired' >&2\nexit 254\n"),
    );
    project.write("profiles/cmd.toml", &profile(&registry, r#"["sh", "fail.sh"]"#, ""));
    let run = project.prodbox(&["up", "cmd", "-d", "--name", &name]).code(3);
    assert!(run.stderr.contains("exit status 254") && run.stderr.contains("ExpiredToken"), "{}", run.stderr);
    assert!(!run.stderr.contains(token), "{}", run.stderr);

    // Too slow: exit 3, saying so.
    project.write("profiles/cmd.toml", &profile(&registry, r#"["sleep", "10"]"#, "timeout = \"300ms\"\n"));
    project.prodbox(&["history", "cmd"]).success();
    project.prodbox(&["up", "cmd", "-d", "--name", &name]).code(3).stderr_has("within 0.3s");

    // Output that is not a record: exit 1, naming the field, never the value.
    project.write("profiles/odd.sh", "echo '{\"taskDefinition\": {\"containerDefinitions\": [{\"name\": \"cmd\", \"image\": [\"hunter2\"], \"environment\": []}]}}'\n");
    project.write("profiles/cmd.toml", &profile(&registry, r#"["sh", "odd.sh"]"#, ""));
    let run =
        project.prodbox(&["up", "cmd", "-d", "--name", &name]).code(2).stderr_has("field `image` must be a string");
    assert!(!run.stderr.contains("hunter2"));

    // A filter that does not compile: exit 2 with where.
    project.write(
        "profiles/cmd.toml",
        &profile(&registry, r#"["sh", "odd.sh"]"#, "").replace(".versions | map(", ".versions | mapp("),
    );
    project
        .prodbox(&["up", "cmd", "-d", "--name", &name])
        .code(2)
        .stderr_has("source.history_filter: does not compile: filter mapp is not defined, at line 1 column 13");
    assert!(project.leftovers().is_empty());
}
