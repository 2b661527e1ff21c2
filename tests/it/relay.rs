//! The relay for the engine's platform: without an embedded relay that fits,
//! prodbox says what to set; with `PRODBOX_RELAY_IMAGE` (pinned by digest) it
//! pulls that image from the registry and the sandbox works through it.

use std::path::Path;
use std::process::Command;

use crate::common::*;

/// A relay image built from Dockerfile.relay (as a team would publish it),
/// pushed to `registry`; returns `address/prodbox-relay@digest`.
fn push_relay_image(registry: &Registry) -> String {
    let context = tempfile::tempdir().unwrap();
    sh(Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--edition", "2021", "-O", "-C", "strip=symbols", "-C", "target-feature=+crt-static"])
        .args(["--target", "x86_64-unknown-linux-gnu"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("relay/main.rs"))
        .arg("-o")
        .arg(context.path().join("prodbox-relay-amd64")));
    let tag = format!("prodbox-fixture/relay:{}", unique("r"));
    sh(Command::new("docker")
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "-f"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile.relay"))
        .args(["--build-arg", "TARGETARCH=amd64", "--label", &format!("{TEST_LABEL}=fixture"), "-t", &tag])
        .arg(context.path()));
    let pinned = registry.push(&tag, "prodbox-relay", "test");
    docker(&["rmi", &tag]);
    pinned
}

#[test]
fn without_an_embedded_relay_the_relay_image_from_the_settings_is_pulled_and_used() {
    let registry = Registry::start();
    let v1 = registry.push(&fixture_image("1.0.0"), "shop/relayed", "1.0.0");
    let relay = push_relay_image(&registry);
    let project = Project::new();
    let name = unique("relayed");
    project.profile("relayed", &format!("{}/shop/relayed", registry.address), HTTP_HEALTH);
    project.record("relayed", &v1, serde_json::Value::Null);

    // No embedded relay and none configured: the error says what to set.
    let run = project
        .prodbox_env(&["up", "relayed", "-d", "--name", &name], &[("PRODBOX_EMBEDDED_RELAY", "off")])
        .code(2)
        .stderr_has("PRODBOX_RELAY_IMAGE");
    assert!(run.stderr.contains("relay_image"), "{}", run.stderr);
    assert!(project.leftovers().is_empty(), "{:?}", project.leftovers());
    // A relay image must be pinned by digest.
    let tagged = format!("{}/prodbox-relay:test", registry.address);
    project
        .prodbox_env(
            &["up", "relayed", "-d", "--name", &name],
            &[("PRODBOX_EMBEDDED_RELAY", "off"), ("PRODBOX_RELAY_IMAGE", &tagged)],
        )
        .code(2)
        .stderr_has("must be pinned by digest");

    let env = [("PRODBOX_EMBEDDED_RELAY", "off"), ("PRODBOX_RELAY_IMAGE", relay.as_str())];
    let report = project.prodbox_env(&["up", "relayed", "-d", "--name", &name, "--json"], &env).success().json();
    let port = report["ports"][0][1].as_u64().unwrap() as u16;
    assert!(http_get(port, "/").contains("\"version\":\"1.0.0\""));
    let relay_container = inspect(&format!("prodbox-{name}-relay"));
    assert_eq!(relay_container["Config"]["Image"], relay.as_str());
    let checks = project.prodbox_env(&["doctor", "--json"], &env).success().json();
    let relay_check = checks.as_array().unwrap().iter().find(|c| c["name"] == "relay image").unwrap().clone();
    let detail = relay_check["detail"].as_str().unwrap();
    assert!(detail.contains(&relay) && detail.contains("PRODBOX_EMBEDDED_RELAY=off"), "{detail}");
    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty());
}
