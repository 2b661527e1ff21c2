//! The example profiles under profiles/examples/: each filter turns a fixture
//! in the shape its CLI prints (from the public API references) into the
//! record we expect. The CLIs are not here, so the profile's command is swapped
//! for one that prints the fixture (`cat`, a real process); the filter,
//! history_filter and everything after them are the example's own.

use std::path::{Path, PathBuf};

use prodbox::profile::{Profile, Source};
use prodbox::resolve::{self, DeployRecord, ProdValue};

const DIGEST: &str = "sha256:5f0c9a1e3b7d2c4a6e8f0b1d3c5e7a9b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a1c";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/examples")
}

/// The example `name`, its command(s) replaced by `cat FIXTURE`.
fn example(name: &str, fixture: &str, history: Option<&str>) -> Profile {
    let mut profile = Profile::load(&examples().join(format!("{name}.toml"))).unwrap();
    let cat = |f: &str| vec!["cat".to_string(), examples().join("fixtures").join(f).display().to_string()];
    let Source::Command { command, history_command, .. } = &mut profile.source.kind else {
        panic!("{name} is not a command example")
    };
    *command = cat(fixture);
    if let Some(h) = history {
        *history_command = Some(cat(h));
    }
    profile
}

fn current(profile: &Profile) -> DeployRecord {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(resolve::current(profile, &Default::default())).unwrap_or_else(|e| panic!("{e}")).record
}

fn plain(r: &DeployRecord, name: &str) -> String {
    match &r.config.env[name] {
        ProdValue::Plain(s) => s.expose().to_string(),
        other => panic!("{name}: {other:?}"),
    }
}

fn reference(r: &DeployRecord, name: &str) -> String {
    match &r.config.env[name] {
        ProdValue::Reference(s) => s.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn ecs_example() {
    let r = current(&example("ecs", "ecs.json", None));
    assert_eq!(r.image.pinned(), format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/checkout@{DIGEST}"));
    assert_eq!(r.deployed_at.as_deref(), Some("2026-11-20T14:05:00.512000+00:00"));
    assert_eq!(r.revision.as_deref(), Some("checkout:42"));
    assert_eq!(r.deployed_by.as_deref(), Some("arn:aws:sts::123456789012:assumed-role/deployer/pipeline-4411"));
    assert_eq!(plain(&r, "LOG_LEVEL"), "info");
    assert_eq!(reference(&r, "STRIPE_KEY"), "arn:aws:ssm:eu-west-1:123456789012:parameter/checkout/stripe");
    assert!(reference(&r, "DATABASE_URL").starts_with("arn:aws:secretsmanager:"));
    assert_eq!(r.limits.memory, Some(1 << 30));
    assert_eq!(r.limits.cpus, Some(0.5));
}

#[test]
fn cloud_run_example() {
    let r = current(&example("cloudrun", "cloudrun.json", None));
    assert_eq!(r.image.digest.as_deref(), Some(DIGEST));
    assert_eq!(r.revision.as_deref(), Some("checkout-00017-xyz"));
    assert_eq!(r.deployed_at.as_deref(), Some("2026-11-20T14:05:00.000000Z"));
    assert_eq!(plain(&r, "LOG_LEVEL"), "info");
    assert_eq!(reference(&r, "DATABASE_URL"), "checkout-db-url/latest");
    assert_eq!(r.limits.memory, Some(512 << 20));
    assert_eq!(r.limits.cpus, Some(1.0));
}

#[test]
fn argo_cd_example() {
    let r = current(&example("argocd", "argocd.json", None));
    assert_eq!(r.image.pinned(), format!("ghcr.io/example-shop/checkout@{DIGEST}"));
    assert_eq!(r.revision.as_deref(), Some("9f1c2ab"));
    assert_eq!(r.deployed_by.as_deref(), Some("alice@example.com"));
    assert!(r.config.env.is_empty());
}

#[test]
fn nomad_example_with_history() {
    let p = example("nomad", "nomad.json", Some("nomad-history.json"));
    let r = current(&p);
    assert_eq!(r.image.digest.as_deref(), Some(DIGEST));
    assert_eq!(r.deployed_at.as_deref(), Some("2026-11-20T14:05:00Z"));
    assert_eq!(r.revision.as_deref(), Some("9f1c2ab"));
    assert_eq!(plain(&r, "PAYMENTS_URL"), "https://payments.example.com");
    assert!(matches!(r.config.files["/local/app.yaml"], ProdValue::Plain(_)));
    assert!(matches!(r.config.files["/secrets/db.env"], ProdValue::Marked(_)), "a Vault template is marked secret");
    assert_eq!(r.limits.memory, Some(512 << 20));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let h = rt.block_on(resolve::history(&p, &Default::default())).unwrap();
    let revs: Vec<_> = h.iter().map(|r| r.revision.clone().unwrap()).collect();
    assert_eq!(revs, ["9f1c2ab", "1a2b3c4"]);
    assert_eq!(h[1].deployed_at.as_deref(), Some("2026-11-10T10:00:00Z"));
}

#[test]
fn kubectl_example() {
    let r = current(&example("kubectl", "kubectl.json", None));
    assert_eq!(r.image.digest.as_deref(), Some(DIGEST));
    assert_eq!(r.revision.as_deref(), Some("9"));
    assert_eq!(r.deployed_at.as_deref(), Some("2026-11-20T14:05:00Z"));
    assert_eq!(plain(&r, "LOG_LEVEL"), "info");
    assert_eq!(reference(&r, "DATABASE_PASSWORD"), "checkout-db/password");
    assert_eq!(reference(&r, "FEATURE_FLAGS"), "configmap:checkout-config/flags");
    assert_eq!(r.limits.memory, Some(1 << 30));
}

#[test]
fn every_example_profile_is_valid() {
    let mut seen = 0;
    for entry in std::fs::read_dir(examples()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            Profile::load(&path).unwrap_or_else(|e| panic!("{e}"));
            seen += 1;
        }
    }
    assert_eq!(seen, 6);
}
