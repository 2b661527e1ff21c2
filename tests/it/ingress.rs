//! Issue #12: on Docker every sandbox's relay publishes from one shared
//! bridge, `prodbox-ingress`, made on first need with inter-container
//! traffic off and host bindings on 127.0.0.1. One sandbox cannot reach
//! another's relay on it, `down` leaves it, `gc` removes it once nothing
//! uses it, and an `up` whose chosen network went meanwhile makes it again.
//! On Podman each sandbox keeps a bridge of its own.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

/// The relay's address on `network` (by id) and the listen port of its first route.
fn relay_on(name: &str, network: &str) -> (String, u16) {
    let relay = inspect(&format!("prodbox-{name}-relay"));
    let endpoints = relay["NetworkSettings"]["Networks"].as_object().cloned().unwrap_or_default();
    let ip = endpoints
        .values()
        .find(|e| e["NetworkID"] == network)
        .and_then(|e| e["IPAddress"].as_str())
        .unwrap_or_else(|| panic!("the relay of {name} is not on {network}: {endpoints:?}"))
        .to_string();
    let routes: serde_json::Value =
        serde_json::from_str(relay["Config"]["Labels"]["dev.prodbox.routes"].as_str().unwrap()).unwrap();
    (ip, routes[0]["listen"].as_u64().unwrap() as u16)
}

/// Whether a network (by id or name) exists.
fn network_exists(network: &str) -> bool {
    Command::new("docker").args(["network", "inspect", network]).output().unwrap().status.success()
}

#[test]
fn sandboxes_share_one_ingress_bridge_and_cannot_reach_each_other_on_it() {
    if podman() {
        return; // Podman's bridge has no ICC switch: each sandbox keeps its own
    }
    let released = Fixture::new("shared").run(HTTP_HEALTH).build();
    let project = &released.project;
    let (a, b) = (unique("sha"), unique("shb"));
    let port_a = project.prodbox(&["up", "shared", "-d", "--name", &a, "--json"]).success().json()["ports"][0][1]
        .as_u64()
        .unwrap() as u16;
    project.prodbox(&["up", "shared", "-d", "--name", &b]).success();
    let shared = ingress_of(&a);
    assert_eq!(ingress_of(&b), shared, "both relays on one bridge");
    assert!(http_get(port_a, "/").contains("\"version\":\"1.0.0\""));

    // Made as asked: no traffic between its containers, bindings on
    // 127.0.0.1, a label of its own and no sandbox's.
    let net = inspect(&shared);
    assert_eq!(net["Name"], SHARED_INGRESS);
    assert_eq!(net["Options"]["com.docker.network.bridge.enable_icc"], "false", "{net}");
    assert_eq!(net["Options"]["com.docker.network.bridge.host_binding_ipv4"], "127.0.0.1", "{net}");
    assert_eq!(net["Labels"]["dev.prodbox.shared"], "ingress", "{net}");
    assert!(net["Labels"].get("dev.prodbox.sandbox").is_none(), "{net}");
    assert_eq!(net["Internal"], false);

    // A container on the shared bridge cannot connect to b's relay at its
    // own address and listen port, where b's relay does listen (control:
    // from inside b's relay, the same address and port answer).
    let (ip_b, listen_b) = relay_on(&b, &shared);
    let target = format!("{ip_b}:{listen_b}");
    let relay_b = format!("prodbox-{b}-relay");
    assert_eq!(docker(&["exec", &relay_b, "/prodbox-relay", "probe", &target]), "open", "b's relay listens there");
    let image = inspect(&relay_b)["Image"].as_str().unwrap().to_string();
    let label = format!("{TEST_LABEL}={}", project.id);
    let probe = Command::new("docker")
        .args(["run", "--rm", "--network", &shared, "--label", &label, "--cap-drop", "ALL", "--read-only"])
        .args(["--security-opt", "no-new-privileges", &image, "probe", &target])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "blocked", "{probe:?}");
    // Nor can a's relay, beside it on the bridge.
    let (ip_a, _) = relay_on(&a, &shared);
    assert_ne!(ip_a, ip_b);
    let relay_a = format!("prodbox-{a}-relay");
    let from_a = Command::new("docker").args(["exec", &relay_a, "/prodbox-relay", "probe", &target]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&from_a.stdout).trim(), "blocked", "{from_a:?}");

    // verify probes the host on the bridge the relay really uses.
    let probes = project.prodbox(&["verify", &a, "--json"]).success().json();
    let gateway = gateway_of(&shared);
    assert!(
        probes.as_array().unwrap().iter().any(|p| p["target"].as_str().unwrap_or_default().starts_with(&gateway)
            && p["what"] == "the host, on the relay's bridge"),
        "{probes}"
    );

    // down leaves the shared bridge; the leftover checks do not count it.
    project.prodbox(&["down", &a, &b]).success();
    assert!(project.leftovers().is_empty(), "{:?}", project.leftovers());
    assert!(leftovers(&format!("dev.prodbox.sandbox={a}")).is_empty());
}

#[test]
fn gc_removes_the_shared_ingress_bridge_once_nothing_uses_it() {
    if podman() {
        return; // no shared bridge on Podman
    }
    let released = Fixture::new("gcshared").run(HTTP_HEALTH).build();
    let project = &released.project;
    let (name, holder) = (unique("gcs"), unique("gch"));
    project.prodbox(&["up", "gcshared", "-d", "--name", &name]).success();
    project.prodbox(&["up", "gcshared", "-d", "--name", &holder]).success();
    let shared = ingress_of(&name);
    assert_eq!(ingress_of(&holder), shared);
    // In use: gc keeps it, and says nothing of it.
    let gc = project.prodbox(&["gc", "--json"]).success().json();
    assert!(network_exists(&shared), "gc removed a bridge in use: {gc}");
    assert!(!gc.to_string().contains(SHARED_INGRESS), "{gc}");
    // down leaves it. The second sandbox still holds it, so no other
    // test's gc can take it in between and make this check flaky (it did,
    // in CI, with only one sandbox).
    let down = project.prodbox(&["down", &name]).success();
    assert!(network_exists(&shared), "down removed the shared bridge");
    assert!(!down.stdout.contains(SHARED_INGRESS), "{}", down.stdout);
    let down = project.prodbox(&["down", &holder]).success();
    assert!(!down.stdout.contains(SHARED_INGRESS), "down named the shared bridge: {}", down.stdout);

    // Other tests' sandboxes may use it meanwhile: gc is asked until it
    // finds it unused. Should another run's gc take it first, a sandbox
    // makes it again.
    let mut shared = shared;
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        assert!(Instant::now() < deadline, "gc never removed {SHARED_INGRESS} ({shared})");
        if !network_exists(&shared) {
            project.prodbox(&["up", "gcshared", "-d", "--name", &name]).success();
            shared = ingress_of(&name);
            project.prodbox(&["down", &name]).success();
        }
        let gc = project.prodbox(&["gc"]).success();
        if gc.stdout.contains(&format!("{SHARED_INGRESS} (shared): removed 0 containers, 1 networks")) {
            assert!(!network_exists(&shared), "gc said it removed {shared}:\n{}", gc.stdout);
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(project.leftovers().is_empty(), "{:?}", project.leftovers());
}

#[test]
fn an_up_whose_shared_bridge_went_makes_it_again() {
    if podman() {
        return; // no shared bridge on Podman
    }
    let released = Fixture::new("regone").run(HTTP_HEALTH).build();
    let project = &released.project;
    let name = unique("regone");
    // The hook hands the relay a shared network that is gone, as when gc
    // removes it between `up`'s choice and the relay's creation.
    let run = project
        .prodbox_env(&["-v", "up", "regone", "-d", "--name", &name, "--json"], &[("PRODBOX_TEST_INGRESS_GONE", "1")])
        .success();
    assert!(run.stderr.contains("the ingress network went meanwhile"), "{}", run.stderr);
    let port = run.json()["ports"][0][1].as_u64().unwrap() as u16;
    assert!(http_get(port, "/").contains("\"version\":\"1.0.0\""));
    assert_eq!(inspect(&ingress_of(&name))["Name"], SHARED_INGRESS);
    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty(), "{:?}", project.leftovers());
}

#[test]
fn parallel_ups_all_find_or_make_the_shared_bridge() {
    if podman() {
        return; // no shared bridge on Podman
    }
    let released = Fixture::new("race").run(HTTP_HEALTH).build();
    let project = &released.project;
    // Gone when nothing uses it, so the runs race to make it (Docker 20.10
    // makes one per racer; each run settles on the oldest).
    let _ = Command::new("docker").args(["network", "rm", SHARED_INGRESS]).output();
    let names: Vec<String> = (0..6).map(|_| unique("race")).collect();
    let runs: Vec<_> = names.iter().map(|n| project.spawn(&["up", "race", "-d", "--name", n])).collect();
    for (name, run) in names.iter().zip(runs) {
        let (code, seen) = run.wait();
        assert_eq!(code, 0, "up {name}:\n{}", seen.join("\n"));
    }
    for name in &names {
        let net = inspect(&ingress_of(name));
        assert_eq!(net["Name"], SHARED_INGRESS);
        assert_eq!(net["Options"]["com.docker.network.bridge.enable_icc"], "false", "{net}");
    }
    let shared = docker(&["network", "ls", "-q", "--filter", &format!("name=^{SHARED_INGRESS}$")]);
    eprintln!("networks named {SHARED_INGRESS} after the race: {}", shared.lines().count());
    let mut down = vec!["down"];
    down.extend(names.iter().map(String::as_str));
    project.prodbox(&down).success();
    assert!(project.leftovers().is_empty(), "{:?}", project.leftovers());
}
