//! Snapshot tests of human output (insta): the `up` report shown in the
//! README, `ls`, `inspect`, `history`, `diff`, `verify`, `doctor` and the
//! main errors. What changes from run to run (digests, ports, durations,
//! dates, sizes, temp paths, test names) is blanked by [`filters`], as uv's
//! test crate does; runs of spaces are squeezed so a blanked value of
//! another width cannot shift a table column.
//!
//! A changed snapshot fails the test and leaves a `.snap.new` beside it:
//! review it, then `INSTA_UPDATE=always cargo test --test it snapshots` to accept.

use crate::common::*;

/// Regex → replacement, applied in order.
fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"sha256:[0-9a-f]{64}", "sha256:[DIGEST]"),
        (r"prodbox-relay:[0-9a-f]+", "prodbox-relay:[HASH]"),
        (r"\b[0-9a-f]{12}\b", "[SHORT]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[DATE]"),
        (r"\b\d+(\.\d+)? ?(B|KiB|MiB|GiB|kB|MB|GB)\b", "[SIZE]"),
        (r"\bin \d+\.\ds\b", "in [DURATION]"),
        (r"\b\d+d \d+h\b|\b\d+h \d+m\b|\b\d+m \d+s\b", "[SPAN]"),
        (r"/tmp/\.tmp\w+", "[TMP]"),
        // Whether the engine had the image already depends on the tests before.
        (r"pulled now|already present", "[PULLED]"),
        // Layers the two builds share depend on how the engine got each (pulled or built).
        (r"layers: \d+ added, \d+ removed", "layers: [N] added, [N] removed"),
        (r"\b([a-z]+)-\d+-\d+\b", "$1-[N]"),
        (r" {2,}", "  "),
    ]
}

/// Asserts `text` against the snapshot `name`, through [`filters`].
macro_rules! snapshot {
    ($name:expr, $text:expr) => {{
        let mut settings = insta::Settings::clone_current();
        for (re, with) in filters() {
            settings.add_filter(re, with);
        }
        if let Some(home) = std::env::var("HOME").ok().filter(|h| h.len() > 1) {
            let escaped: String = home
                .chars()
                .map(|c| if c.is_alphanumeric() || c == '/' { c.to_string() } else { format!("\\{c}") })
                .collect();
            settings.add_filter(&escaped, "[HOME]");
        }
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!($name, $text));
    }};
}

#[test]
fn human_output_of_every_command() {
    let f = Fixture::new("snap")
        .run(HTTP_HEALTH)
        .config(serde_json::json!({"env": {"LOG_LEVEL": "info", "API_TOKEN": "t0k3n-value-123", "DB_URL": "postgres://db.example.com/app"}}))
        .build();
    let project = &f.project;
    let name = unique("snap");
    let candidate = fixture_image("2.0.0");

    let up = project.prodbox(&["up", "snap", "-d", "--name", &name, "--candidate", &candidate]).success();
    snapshot!("up", up.stdout);
    // Other tests' sandboxes run at the same time: only this one's rows.
    let ls = project.prodbox(&["ls"]).success().stdout;
    let mut mine = String::new();
    let mut keep = false;
    for (i, line) in ls.lines().enumerate() {
        if !line.starts_with("  ") {
            keep = i == 0 || line.starts_with(&format!("{name} "));
        }
        if keep {
            mine.push_str(line);
            mine.push('\n');
        }
    }
    snapshot!("ls", mine);
    snapshot!("inspect_sandbox", project.prodbox(&["inspect", &name]).success().stdout);
    let diff = project.prodbox(&["diff", &name, "--request", "GET /healthz", "--request", "GET /"]).code(1);
    snapshot!("diff", diff.stdout);
    snapshot!("history", project.prodbox(&["history", "snap"]).success().stdout);
    // verify's rows are this machine's addresses and listening ports: the
    // header and the verdict are what is the same everywhere.
    let verify = project.prodbox(&["verify", &name]).success().stdout;
    let lines: Vec<&str> = verify.lines().collect();
    snapshot!("verify", format!("{}\n…\n{}\n", lines[0], lines[lines.len() - 1]));
    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty());
}

#[test]
fn human_output_of_doctor() {
    if podman() {
        return; // the engine and network lines name Podman's own setup
    }
    let project = Project::new();
    // No docker config and no profiles: what every machine can have.
    let home = project.dir.path().join("home");
    let config = project.dir.path().join("docker");
    let doctor = project
        .prodbox_env(&["doctor"], &[("HOME", home.to_str().unwrap()), ("DOCKER_CONFIG", config.to_str().unwrap())])
        .success()
        .stdout;
    // The engine's version, API and address are this machine's.
    let doctor: String = doctor
        .lines()
        .map(|l| if l.starts_with("ok   engine") { "ok   engine  [ENGINE]" } else { l })
        .map(|l| format!("{l}\n"))
        .collect();
    snapshot!("doctor", doctor);
}

#[test]
fn the_main_errors() {
    let f = Fixture::new("err").build();
    let project = &f.project;
    let mut out = String::new();
    for args in [
        &["down", "nope"][..],
        &["exec", "nope", "--", "true"],
        &["diff", "nope"],
        &["up", "missing", "-d"],
        &["up", "err", "-d", "--name", "bad/name"],
        &["up", "err", "-d", "-p", "x:y"],
        &["up", "err", "-d", "--at", "last tuesday"],
    ] {
        let run = project.prodbox(args);
        out.push_str(&format!("$ prodbox {}\nexit {}\n{}\n", args.join(" "), run.code, run.stderr.trim_end()));
    }
    project.write("profiles/broken.toml", "[image]\nrepository = \"r/x\"\nmemroy = 1\n");
    let run = project.prodbox(&["up", "broken", "-d"]);
    out.push_str(&format!("$ prodbox up broken -d\nexit {}\n{}\n", run.code, run.stderr.trim_end()));
    let run = project.prodbox_env(&["ls"], &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")]);
    out.push_str(&format!(
        "$ DOCKER_HOST=unix:///nonexistent/docker.sock prodbox ls\nexit {}\n{}\n",
        run.code,
        run.stderr.trim_end()
    ));
    snapshot!("errors", out);
}
