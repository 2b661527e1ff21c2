//! Sanitizer throughput on a large record: 10,000 env vars and 10 MB of
//! config files (YAML, JSON, .properties, text), as `up` would see it.
//! Two records: "dense", where every config block holds a secret and a
//! production address (the worst case), and "typical", where one block in
//! fifty does. The goal (under 100 ms) is for these two. A third record,
//! run only with `RECORD=one-file`, holds the dense record's 10 MB as one
//! YAML file, so no other file can keep the second core busy. Prints
//! figures; asserts nothing.
//! Run: `cargo bench --bench sanitize`.

use std::collections::BTreeMap;
use std::time::Instant;

use prodbox::profile::SanitizeSection;
use prodbox::resolve::{ProdConfig, ProdValue};
use prodbox::sanitize::sanitize;
use prodbox::secret::Secret;

fn plain(s: String) -> ProdValue {
    ProdValue::Plain(Secret::new(s))
}

/// `every`: one block in `every` holds a secret and a production address.
fn record(every: usize) -> ProdConfig {
    env_and_files(every, 4)
}

/// The dense record's 10 MB as one YAML file: no file to put on the other core.
fn one_file() -> ProdConfig {
    let mut config = env_and_files(1, 1);
    config.files.retain(|path, _| path == MAIN_YAML);
    config
}

const MAIN_YAML: &str = "/etc/app/config.yaml";

/// The record's env and its four files, the YAML `10 MB / quarter` long.
fn env_and_files(every: usize, quarter: usize) -> ProdConfig {
    let mut env = BTreeMap::new();
    for i in 0..10_000 / scale() {
        let (k, v) = match if i % every == 0 { i % 10 } else { 3 + i % 7 } {
            0 => (format!("SERVICE_{i}_URL"), format!("https://svc{i}.prod.example.com/v1/items")),
            1 => (format!("DB_{i}_PASSWORD"), format!("pw-{i}-Zx9Qp2Lm7Vb4")),
            2 => (format!("UPSTREAM_{i}"), format!("AKIA{:016}", i)),
            3 => (format!("FEATURE_{i}"), "true".to_string()),
            4 => (format!("POOL_{i}"), format!("min=2,max={i}")),
            _ => (format!("SETTING_{i}"), format!("value-{i}-for-checkout")),
        };
        env.insert(k, plain(v));
    }
    let mut files = BTreeMap::new();
    let target = 10 * 1024 * 1024 / scale();
    let mut yaml = String::new();
    let mut n = 0;
    while yaml.len() < target / quarter {
        if n % every == 0 {
            yaml.push_str(&format!(
                "service{n}:\n  url: https://svc{n}.prod.example.com/api\n  timeout: 30s\n  password: \"s3cr3t-{n}-pw\"\n  labels:\n    - checkout\n    - tier-{n}\n"
            ));
        } else {
            yaml.push_str(&format!(
                "service{n}:\n  url: http://svc{n}.local:8080/api\n  timeout: 30s\n  pool: 16\n  labels:\n    - checkout\n    - tier-{n}\n"
            ));
        }
        n += 1;
    }
    files.insert(MAIN_YAML.to_string(), plain(yaml));
    let mut json = String::from("{\"services\":[");
    let mut first = true;
    while json.len() < target / 4 {
        if !first {
            json.push(',');
        }
        first = false;
        if n % every == 0 {
            json.push_str(&format!(
                "{{\"name\":\"svc{n}\",\"endpoint\":\"http://10.20.{}.{}:8080\",\"apiKey\":\"sk_live_{:024}\",\"retries\":3}}",
                n % 250,
                n % 200,
                n
            ));
        } else {
            json.push_str(&format!(
                "{{\"name\":\"svc{n}\",\"endpoint\":\"http://svc{n}.local:8080\",\"weight\":{},\"retries\":3}}",
                n % 100
            ));
        }
        n += 1;
    }
    json.push_str("]}");
    files.insert("/etc/app/services.json".to_string(), plain(json));
    let mut props = String::new();
    while props.len() < target / 4 {
        props.push_str(&format!(
            "app.cache.{n}.size=1024\napp.db.{n}.url=jdbc:postgresql://db{n}.prod.example.com/shop\n"
        ));
        n += 1;
    }
    files.insert("/etc/app/app.properties".to_string(), plain(props));
    let mut text = String::new();
    while text.len() < target / 4 {
        text.push_str(&format!("2026-11-20T14:05:{:02}Z INFO request {n} served in 12ms by checkout-7f9c\n", n % 60));
        n += 1;
    }
    files.insert("/var/log/app/last.log".to_string(), plain(text));
    ProdConfig { env, files }
}

/// `SCALE=N` divides the record by N and runs once (for `valgrind --tool=callgrind`).
fn scale() -> usize {
    std::env::var("SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1).max(1)
}

fn main() {
    // `ONLY=yaml` (json, properties, log): one file of the typical record (`DENSE=1`: the dense one), for a profiler.
    if let Ok(only) = std::env::var("ONLY") {
        let config = record(if std::env::var_os("DENSE").is_some() { 1 } else { 50 });
        let files = config.files.into_iter().filter(|(p, _)| p.contains(&only)).collect();
        let one = ProdConfig { env: BTreeMap::new(), files };
        let rules = SanitizeSection { prod_hosts: vec!["*.example.com".into()], ..Default::default() };
        drop(sanitize(&one, &rules).expect("sanitizes"));
        return;
    }
    // `RECORD=dense` (or typical) runs one record, `RUNS=1` once: with
    // `valgrind --tool=callgrind --toggle-collect='prodbox::sanitize::sanitize'`
    // that counts all the work (env, files, scrub) as instructions, which a
    // busy machine does not change.
    let only = std::env::var("RECORD").ok();
    for (label, every) in [("dense", 1), ("typical", 50)] {
        if only.as_deref().is_none_or(|o| o == label) {
            run(label, &record(every));
        }
    }
    // Asked for by name only: the goal is for the two records above.
    if only.as_deref() == Some("one-file") {
        run("one-file", &one_file());
    }
    println!("goal: under 100 ms on this machine");
}

fn run(label: &str, config: &ProdConfig) {
    if std::env::var_os("BREAKDOWN").is_some() {
        breakdown(label, config);
    }
    let bytes: usize =
        config.files.values().map(|v| if let ProdValue::Plain(s) = v { s.expose().len() } else { 0 }).sum();
    let rules = SanitizeSection {
        keep: vec!["FEATURE_*".into()],
        prod_hosts: vec!["*.example.com".into(), "10.20.0.0/16".into()],
        ..Default::default()
    };
    let runs = std::env::var("RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(if scale() > 1 { 1 } else { 11 });
    // One run first, not counted when there are several: it pays what only
    // the first sanitize in a process pays (the scanner's tables, the
    // allocator's first pages), which read as noise in a median of a few.
    let first = if runs > 1 {
        let t = Instant::now();
        drop(sanitize(config, &rules).expect("sanitizes"));
        format!("; first run {:.1} ms, not counted", t.elapsed().as_secs_f64() * 1000.0)
    } else {
        String::new()
    };
    let mut times = Vec::new();
    let mut decisions = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let out = sanitize(config, &rules).expect("sanitizes");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        decisions = out.decisions.len();
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = times[runs / 2];
    println!(
        "sanitize {label:<8} {} env vars + {:.1} MB in {} files: median {:.1} ms over {runs} runs (min {:.1}, max {:.1}); {:.0} MB/s; {decisions} decisions{first}",
        config.env.len(),
        bytes as f64 / 1048576.0,
        config.files.len(),
        median,
        times[0],
        times[runs - 1],
        bytes as f64 / 1048576.0 / (median / 1000.0)
    );
}

/// `BREAKDOWN=1`: the env alone and each file alone, to see where time goes.
fn breakdown(label: &str, config: &ProdConfig) {
    let rules =
        SanitizeSection { prod_hosts: vec!["*.example.com".into(), "10.20.0.0/16".into()], ..Default::default() };
    let env_only = ProdConfig { env: config.env.clone(), files: BTreeMap::new() };
    let t = Instant::now();
    drop(sanitize(&env_only, &rules));
    println!("  {label} env only: {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    for (path, value) in &config.files {
        let one = ProdConfig { env: BTreeMap::new(), files: BTreeMap::from([(path.clone(), value.clone())]) };
        let t = Instant::now();
        drop(sanitize(&one, &rules));
        println!("  {label} {path}: {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    }
}
