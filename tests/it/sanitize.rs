//! `prodbox sanitize`: the sanitizer alone on local files. The decisions
//! are printed without a value; `--out` writes copies that still parse;
//! a profile's rules apply; `--strict` and bad input have their exit codes.

use crate::common::*;

const SECRETS: &[&str] =
    &["hunter2-yaml-Pw9", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "envPw-Q9w8e7r6", "Lilac-ch3rry84!"];

#[test]
fn sanitize_prints_decisions_never_values_and_writes_valid_copies() {
    let project = Project::new();
    project.write("in/app.yaml", "db:\n  host: db.example.com\n  password: hunter2-yaml-Pw9\nlog:\n  level: debug\n");
    project.write("in/settings.toml", "[api]\ntoken = \"ghp_16C7e42F292c6912E7710c838347Ae178B4a\"\nport = 8080\n");
    project.write("in/prod.env", "DB_PASSWORD=envPw-Q9w8e7r6\nLOG_LEVEL=info\nCFG=Lilac-ch3rry84!\n");
    project.write(
        "profiles/svc.toml",
        "[source]\nkind = \"file\"\npath = \"x.json\"\n[image]\nrepository = \"r/x\"\n[sanitize]\nkeep = [\"LOG_LEVEL\"]\nprod_hosts = [\"*.example.com\"]\n",
    );
    let run = project
        .prodbox(&[
            "sanitize",
            "in/app.yaml",
            "in/settings.toml",
            "--env-file",
            "in/prod.env",
            "--profile",
            "svc",
            "--out",
            "out",
        ])
        .success();
    for s in SECRETS {
        assert!(!run.stdout.contains(s) && !run.stderr.contains(s), "{s} printed:\n{}", run.stdout);
    }
    assert!(run.stdout.contains("in/app.yaml:db.password") && run.stdout.contains("redacted"), "{}", run.stdout);
    assert!(run.stdout.contains("keep LOG_LEVEL"), "{}", run.stdout);
    let yaml = std::fs::read_to_string(project.dir.path().join("out/app.yaml")).unwrap();
    assert_eq!(
        yaml,
        "db:\n  host: db.example.com.prodbox.invalid\n  password: prodbox-redacted\nlog:\n  level: debug\n"
    );
    let toml_out = std::fs::read_to_string(project.dir.path().join("out/settings.toml")).unwrap();
    assert!(toml_out.parse::<toml::Table>().is_ok(), "{toml_out}");
    let env = std::fs::read_to_string(project.dir.path().join("out/env")).unwrap();
    for s in SECRETS {
        assert!(!yaml.contains(s) && !toml_out.contains(s) && !env.contains(s), "{s} written");
    }
    assert!(env.contains("LOG_LEVEL=info"), "{env}");

    let json = project.prodbox(&["sanitize", "in/app.yaml", "--json"]).success().json();
    assert_eq!(json["rules"], "defaults");
    assert!(json["decisions"].as_array().unwrap().iter().any(|d| d["name"] == "in/app.yaml:db.password"));
    project.prodbox(&["sanitize", "in/app.yaml", "--strict"]).code(1);
}

#[test]
fn sanitize_refuses_bad_input() {
    let project = Project::new();
    project.prodbox(&["sanitize"]).code(2).stderr_has("FILE");
    project.prodbox(&["sanitize", "missing.yaml"]).code(1).stderr_has("missing.yaml");
    project.write("a.yaml", "a: 1\n");
    project.prodbox(&["sanitize", "a.yaml", "--profile", "nosuch"]).code(2).stderr_has("nosuch");
}
