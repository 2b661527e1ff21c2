//! Never silently open: when the engine's sandbox network would have a way
//! to the host, `up` refuses (exit 1, naming the engine) and leaves nothing.

use crate::common::*;

#[test]
fn up_refuses_a_sandbox_network_with_a_host_address_and_leaves_nothing() {
    let registry = Registry::start();
    let v1 = registry.push(&fixture_image("1.0.0"), "shop/open", "1.0.0");
    let project = Project::new();
    let name = unique("open");
    project.profile("open", &format!("{}/shop/open", registry.address), HTTP_HEALTH);
    project.record("open", &v1, serde_json::Value::Null);
    // The test hook makes the check see a host address on the bridge.
    let run = project
        .prodbox_env(&["up", "open", "-d", "--name", &name], &[("PRODBOX_TEST_FORCE_HOST_ADDRESS", "1")])
        .code(1)
        .stderr_has("would not be isolated");
    let engine = if podman() { "on Podman" } else { "on Docker Engine" };
    assert!(run.stderr.contains(engine), "names the engine: {}", run.stderr);
    assert!(run.stderr.contains("removed the half-made sandbox"), "{}", run.stderr);
    assert_eq!(project.leftovers(), Vec::<String>::new());
    assert_eq!(leftovers(&format!("dev.prodbox.sandbox={name}")), Vec::<String>::new());
    // doctor runs the same check, so it fails too, naming the network check.
    let run = project.prodbox_env(&["doctor"], &[("PRODBOX_TEST_FORCE_HOST_ADDRESS", "1")]).code(1);
    assert!(run.stdout.contains("FAIL sandbox network"), "{}", run.stdout);
}
