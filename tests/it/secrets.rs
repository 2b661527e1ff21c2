//! A record full of secrets goes through `up -v`: none of them reaches the
//! container (env, files, labels) or prodbox's output; set/keep/hosts apply.

use crate::common::*;

const SECRETS: &[&str] = &[
    "pr0d-Pa55w0rd",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "s3ss10n-s3cr3t-marked",
    "Zx9Qp2Lm7Vb4Nc8Rt6Yh3Kj5Wd1Fg0Sa",
    "filepass-Q9w8e7r6",
    "yamlpass-W3e4r5t6",
    "sk_live_5Xj8TPQxjq4i9DoV8gz4FkQ1",
    "jsonpass-Z1x2c3v4",
];

#[test]
fn secrets_never_reach_the_sandbox_or_the_terminal() {
    let registry = Registry::start();
    let pinned = registry.push(&fixture_image("1.0.0"), "shop/sec", "1.0.0");
    let project = Project::new();
    let name = unique("sec");
    project.profile(
        "sec",
        &format!("{}/shop/sec", registry.address),
        r#"[sanitize]
keep = ["GREETING"]
prod_hosts = ["*.example.com"]
[sanitize.set]
DATABASE_URL = "postgres://app:app@db:5432/app"
[sanitize.hosts]
"payments.example.com" = "payments-stub"
[run]
ports = [8080]
health = { http = "/healthz" }
"#,
    );
    project.record(
        "sec",
        &pinned,
        serde_json::json!({
            "env": {
                "GREETING": "hello",
                "DATABASE_URL": "postgres://shop:pr0d-Pa55w0rd@db.prod.example.com:5432/shop",
                "UPSTREAM": "AKIAIOSFODNN7EXAMPLE",
                "GH": "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
                "SESSION": {"value": "s3ss10n-s3cr3t-marked", "secret": true},
                "CFG": "Zx9Qp2Lm7Vb4Nc8Rt6Yh3Kj5Wd1Fg0Sa",
                "UPSTREAM_URL": "https://payments.example.com/v1",
            },
            "files": {
                "/etc/sec/app.env": "region=eu-west-1\ndb_password=filepass-Q9w8e7r6\n",
                "/etc/sec/app.yaml": "# app\ndatabase:\n  host: db.prod.example.com\n  password: yamlpass-W3e4r5t6\n  pool: 8\n",
                "/etc/sec/app.json": "{\"payments\":{\"url\":\"https://payments.example.com/v1\",\"key\":\"sk_live_5Xj8TPQxjq4i9DoV8gz4FkQ1\",\"retries\":3},\"admin\":{\"password\":\"jsonpass-Z1x2c3v4\"}}"
            }
        }),
    );
    let up = project.prodbox(&["up", "sec", "-d", "-v", "--name", &name]).success();
    let inspect_out = project.prodbox(&["inspect", &name, "-v"]).success();
    let app = docker(&["inspect", &format!("prodbox-{name}-app")]);
    let relay = docker(&["inspect", &format!("prodbox-{name}-relay")]);
    // The config file, read back out of the container through the engine.
    let read =
        |path: &str| sh(std::process::Command::new("docker").args(["cp", &format!("prodbox-{name}-app:{path}"), "-"]));
    let file = read("/etc/sec/app.env");
    let yaml = read("/etc/sec/app.yaml");
    let json_tar = read("/etc/sec/app.json");
    for secret in SECRETS {
        for (place, text) in [
            ("up stdout", &up.stdout),
            ("up stderr", &up.stderr),
            ("inspect", &inspect_out.stdout),
            ("docker inspect app", &app),
            ("docker inspect relay", &relay),
            ("config file", &file),
            ("yaml file", &yaml),
            ("json file", &json_tar),
        ] {
            assert!(!text.contains(secret), "{secret} leaked into {place}");
        }
    }
    let env = inspect(&format!("prodbox-{name}-app"))["Config"]["Env"].clone();
    let env: Vec<&str> = env.as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert!(env.contains(&"GREETING=hello"), "{env:?}");
    assert!(env.contains(&"DATABASE_URL=postgres://app:app@db:5432/app"), "{env:?}");
    assert!(env.contains(&"UPSTREAM_URL=https://payments-stub/v1"), "{env:?}");
    assert!(file.contains("region=eu-west-1"), "{file}");
    // Structured files keep their structure and their ordinary values.
    assert!(
        yaml.contains(
            "# app\ndatabase:\n  host: db.prod.example.com.prodbox.invalid\n  password: prodbox-redacted\n  pool: 8\n"
        ),
        "{yaml}"
    );
    let start = json_tar.find('{').unwrap();
    let end = json_tar.rfind('}').unwrap();
    let json: serde_json::Value = serde_json::from_str(&json_tar[start..=end]).expect("still valid JSON");
    assert_eq!(json["payments"]["url"], "https://payments-stub/v1");
    assert_eq!(json["payments"]["retries"], 3);
    assert!(json["payments"]["key"].as_str().unwrap().starts_with("sk_live_"), "same shape: {json}");
    assert!(inspect_out.stdout.contains("redacted"), "{}", inspect_out.stdout);
    // The report names what changed (names only).
    let redacted_line = up.stdout.lines().find(|l| l.trim_start().starts_with("redacted")).unwrap_or_default();
    assert!(redacted_line.contains("CFG") && redacted_line.contains("UPSTREAM"), "{}", up.stdout);
    assert!(up.stdout.contains("rewritten UPSTREAM_URL"), "{}", up.stdout);
    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty());
}

#[test]
fn strict_refuses_unnamed_redactions_and_names_them() {
    let registry = Registry::start();
    let pinned = registry.push(&fixture_image("1.0.0"), "shop/strict", "1.0.0");
    let project = Project::new();
    let name = unique("strict");
    let repo = format!("{}/shop/strict", registry.address);
    let run = HTTP_HEALTH;
    project.profile("strict", &repo, run);
    project.record(
        "strict",
        &pinned,
        serde_json::json!({"env": {"API_TOKEN": "t0k3n-value-123", "UPSTREAM": "AKIAIOSFODNN7EXAMPLE", "LEVEL": "info"}}),
    );
    let r = project.prodbox(&["up", "strict", "-d", "--name", &name, "--strict"]).code(1);
    assert!(r.stderr.contains("2 value(s) would be redacted"), "{}", r.stderr);
    assert!(r.stderr.contains("API_TOKEN (name matches TOKEN)"), "{}", r.stderr);
    assert!(r.stderr.contains("UPSTREAM (value looks like aws-access-key-id)"), "{}", r.stderr);
    assert!(!r.stderr.contains("AKIAIOSFODNN7EXAMPLE") && !r.stderr.contains("t0k3n"), "{}", r.stderr);
    assert!(project.leftovers().is_empty());

    // Naming them (here: dropping one, setting the other) satisfies strict, also from the profile.
    project.profile(
        "strict",
        &repo,
        &format!("[sanitize]\nstrict = true\ndrop = [\"UPSTREAM\"]\n[sanitize.set]\nAPI_TOKEN = \"local\"\n{run}"),
    );
    project.prodbox(&["up", "strict", "-d", "--name", &name]).success();
    let table = project.prodbox(&["inspect", "strict"]).success().stdout;
    assert!(table.contains("UPSTREAM") && table.contains("dropped"), "{table}");
    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty());
}
