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
            "files": {"/etc/sec/app.env": "region=eu-west-1\ndb_password=filepass-Q9w8e7r6\n"}
        }),
    );
    let up = project.prodbox(&["up", "sec", "-d", "-v", "--name", &name]).success();
    let inspect_out = project.prodbox(&["inspect", &name, "-v"]).success();
    let app = docker(&["inspect", &format!("prodbox-{name}-app")]);
    let relay = docker(&["inspect", &format!("prodbox-{name}-relay")]);
    // The config file, read back out of the container through the engine.
    let file =
        sh(std::process::Command::new("docker").args(["cp", &format!("prodbox-{name}-app:/etc/sec/app.env"), "-"]));
    for secret in SECRETS {
        for (place, text) in [
            ("up stdout", &up.stdout),
            ("up stderr", &up.stderr),
            ("inspect", &inspect_out.stdout),
            ("docker inspect app", &app),
            ("docker inspect relay", &relay),
            ("config file", &file),
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
    assert!(inspect_out.stdout.contains("redacted"), "{}", inspect_out.stdout);
    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty());
}
