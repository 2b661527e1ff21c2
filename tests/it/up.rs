//! `up`: production's digest, hardened, reachable only through the relay on
//! 127.0.0.1, unable to reach the host; `down` leaves nothing.

use std::net::TcpListener;

use crate::common::*;

const HEALTHY: &str = "[run]\nports = [8080]\nhealth = { http = \"/healthz\", timeout = \"30s\" }\n";

#[test]
fn up_runs_production_digest_isolated_and_down_removes_everything() {
    let registry = Registry::start();
    let v1 = registry.push(&fixture_image("1.0.0"), "shop/demo", "1.0.0");
    // A newer tag exists too: it must not be what runs.
    registry.push(&fixture_image("2.0.0"), "shop/demo", "latest");
    let digest = v1.split('@').nth(1).unwrap().to_string();

    let project = Project::new();
    let name = unique("up");
    project.profile("demo", &format!("{}/shop/demo", registry.address), HEALTHY);
    project.record("demo", &v1, serde_json::json!({"env": {"GREETING": "hi"}}));

    let run = project.prodbox(&["up", "demo", "-d", "--name", &name, "--json"]).success();
    let report = run.json();
    assert_eq!(report["digest"], digest.as_str());
    assert_eq!(report["deployed_by"], "pipeline#4411");
    assert_eq!(report["revision"], "9f1c2ab");
    assert_eq!(report["version"], "1.0.0");
    // JSON carries data, not sentences (issue #9).
    assert_eq!(report["sanitized"]["kept"], 1, "{}", report["sanitized"]);
    assert_eq!(report["health"]["kind"], "http", "{}", report["health"]);
    assert!(report.get("stop").is_none(), "{report}");

    // The running container's image carries production's digest, not a tag's.
    let app = inspect(&format!("prodbox-{name}-app"));
    let image = inspect(app["Image"].as_str().unwrap());
    let repo_digests: Vec<&str> = image["RepoDigests"].as_array().unwrap().iter().filter_map(|d| d.as_str()).collect();
    assert!(repo_digests.contains(&v1.as_str()), "{repo_digests:?} lacks {v1}");
    assert_eq!(app["Config"]["Labels"]["dev.prodbox.digest"], digest.as_str());
    assert_eq!(app["Config"]["Labels"]["dev.prodbox.sandbox"], name.as_str());
    assert_eq!(app["Config"]["Labels"]["dev.prodbox.role"], "app");

    // Hardened.
    let host = &app["HostConfig"];
    assert_eq!(host["Privileged"], false);
    assert!(drops_all_capabilities(host), "{}", host["CapDrop"]);
    assert!(host["SecurityOpt"].to_string().contains("no-new-privileges"), "{}", host["SecurityOpt"]);
    assert!(host["PidsLimit"].as_i64().unwrap() > 0);
    assert!(host["Memory"].as_i64().unwrap() > 0);
    assert!(host["Binds"].as_array().is_none_or(|b| b.is_empty()), "no host mounts: {}", host["Binds"]);
    // On the sandbox network only (Podman's NetworkMode says "bridge" for any).
    assert_eq!(networks_of(&app), [format!("prodbox-{name}")]);
    // (Podman lists the image's EXPOSEd ports with no binding.)
    let mut published = host["PortBindings"].as_object().into_iter().flatten();
    assert!(
        published.all(|(_, b)| b.as_array().is_none_or(|b| b.is_empty())),
        "the app publishes nothing itself: {}",
        host["PortBindings"]
    );
    let net = inspect(&format!("prodbox-{name}"));
    assert_eq!(net["Internal"], true);
    if podman() {
        // A libpod network: no gateway at all (Podman prints none as "<nil>").
        let gateway = net["IPAM"]["Config"][0]["Gateway"].as_str().unwrap_or_default();
        assert!(gateway.parse::<std::net::IpAddr>().is_err(), "{net}");
    } else {
        assert_eq!(net["Options"]["com.docker.network.bridge.inhibit_ipv4"], "true");
    }

    // Reachable only through the relay, published on 127.0.0.1.
    let relay = inspect(&format!("prodbox-{name}-relay"));
    let bindings = relay["HostConfig"]["PortBindings"]["8080/tcp"].as_array().unwrap().clone();
    assert!(bindings.iter().all(|b| b["HostIp"] == "127.0.0.1"), "{bindings:?}");
    let port = report["ports"][0][1].as_u64().unwrap() as u16;
    let body = http_get(port, "/");
    assert!(body.contains("\"version\":\"1.0.0\""), "{body}");
    assert!(body.contains("\"greeting\":\"hi\""), "{body}");

    // The app cannot reach a listener on the host; the relay (on a normal
    // bridge) can, which shows the probe itself works.
    let listener = TcpListener::bind("0.0.0.0:0").unwrap();
    let host_port = listener.local_addr().unwrap().port();
    let ingress_gw = gateway_of(&ingress_of(&name));
    let bridge_gw = gateway_of("bridge");
    let sandbox_gw = gateway_of(&format!("prodbox-{name}"));
    let control = docker(&[
        "exec",
        &format!("prodbox-{name}-relay"),
        "/prodbox-relay",
        "probe",
        &format!("{ingress_gw}:{host_port}"),
    ]);
    assert_eq!(control, "open", "control probe from the relay must reach the host listener");
    for target in [&ingress_gw, &bridge_gw, &sandbox_gw] {
        let answer = http_get(port, &format!("/connect?to={target}:{host_port}"));
        assert_eq!(answer.trim(), "blocked", "the app reached the host at {target}:{host_port}");
    }
    // verify says the same from inside, probing the host on the ports it
    // listens on (the test's listeners among them, IPv4 and IPv6) and a given
    // target; on IPv6 it probes the sandbox bridge's link-local address.
    let listener6 = TcpListener::bind("[::]:0").unwrap();
    let port6 = listener6.local_addr().unwrap().port();
    let probes = project.prodbox(&["verify", &name, "--target", "app:8080", "--json"]).success().json();
    let probes = probes.as_array().unwrap();
    let mine: Vec<&serde_json::Value> =
        probes.iter().filter(|p| p["target"].as_str().unwrap().ends_with(&format!(":{host_port}"))).collect();
    assert!(!mine.is_empty(), "the host's listener was probed: {probes:?}");
    if std::path::Path::new("/proc/net/if_inet6").exists() {
        let link_local = format!("%eth0]:{port6}");
        assert!(
            probes.iter().any(|p| p["target"].as_str().unwrap().starts_with("[fe80:")
                && p["target"].as_str().unwrap().ends_with(&link_local)),
            "the bridge's IPv6 link-local address was probed on the IPv6 listener's port: {probes:?}"
        );
    }
    assert!(!probes.iter().any(|p| p["target"].as_str().unwrap().contains("nil")), "{probes:?}");
    if podman() {
        // Control: on Podman a container on the sandbox network without the
        // sysctls prodbox sets does reach the IPv6 listener (Docker turns
        // IPv6 off itself), so "blocked" above is the sysctls' doing.
        let target = probes
            .iter()
            .filter_map(|p| p["target"].as_str())
            .find(|t| t.starts_with("[fe80:") && t.ends_with(&format!("]:{port6}")))
            .expect("a link-local probe")
            .to_string();
        let control = docker(&[
            "run",
            "--rm",
            "--label",
            &format!("{TEST_LABEL}={}", project.id),
            "--network",
            &format!("prodbox-{name}"),
            "--entrypoint",
            "/prodbox-relay",
            relay["Config"]["Image"].as_str().unwrap(),
            "scan",
            &target,
        ]);
        assert!(control.ends_with(" open"), "control probe without the sysctls: {control}");
    }
    assert!(probes.iter().filter(|p| p["must_block"] == true).all(|p| p["open"] == false), "{probes:?}");
    assert!(probes.iter().any(|p| p["target"] == "app:8080" && p["open"] == true), "{probes:?}");
    drop(listener);
    drop(listener6);

    let listed = project.prodbox(&["ls", "--json"]).success().json();
    let me =
        listed.as_array().unwrap().iter().find(|s| s["name"] == name.as_str()).expect("ls shows the sandbox").clone();
    assert_eq!(me["status"], "running");
    assert_eq!(me["digest"], digest.as_str());

    project.prodbox(&["down", &name]).success();
    assert_eq!(project.leftovers(), Vec::<String>::new());
    assert_eq!(leftovers(&format!("dev.prodbox.sandbox={name}")), Vec::<String>::new());
}

#[test]
fn up_uses_the_image_healthcheck_when_the_profile_has_none() {
    let registry = Registry::start();
    let v1 = registry.push(&fixture_image("1.0.0"), "shop/hc", "1.0.0");
    let project = Project::new();
    let name = unique("hc");
    project.profile("hc", &format!("{}/shop/hc", registry.address), "");
    project.record("hc", &v1, serde_json::Value::Null);
    let report = project.prodbox(&["up", "hc", "-d", "--name", &name, "--json"]).success().json();
    assert!(report["health"]["timeout_secs"].as_u64().is_some(), "{}", report["health"]);
    // Ports default to the image's EXPOSE.
    assert_eq!(report["ports"][0][0], 8080);
    if podman() {
        // Podman runs no HEALTHCHECK without systemd: prodbox runs it through exec.
        // (JSON carries the check as data since issue #9.)
        assert_eq!(report["health"]["kind"], "image-by-exec", "{}", report["health"]);
    } else {
        assert_eq!(report["health"]["kind"], "image", "{}", report["health"]);
        let app = inspect(&format!("prodbox-{name}-app"));
        assert_eq!(app["State"]["Health"]["Status"], "healthy");
    }
    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty());
}

#[test]
fn an_image_index_resolves_to_the_engines_platform() {
    let registry = Registry::start();
    let amd64 = registry.push(&fixture_image("1.0.0"), "shop/multi", "amd64");
    let other = registry.push(&fixture_image("2.0.0"), "shop/multi", "other");
    let manifest = |pinned: &str| {
        let digest = pinned.split('@').nth(1).unwrap().to_string();
        let size = std::fs::metadata(registry.blob_path(&digest)).unwrap().len();
        (digest, size)
    };
    let ((d1, s1), (d2, s2)) = (manifest(&amd64), manifest(&other));
    // The arm64 entry comes first: taking the first entry would be wrong.
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [
            {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": d2, "size": s2,
             "platform": {"architecture": "arm64", "os": "linux"}},
            {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": d1, "size": s1,
             "platform": {"architecture": "amd64", "os": "linux"}}
        ]
    })
    .to_string();
    let status = http_put(
        &registry.address,
        "/v2/shop/multi/manifests/multi",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        index.as_bytes(),
    );
    assert!(status.contains("201"), "{status}");
    let index_digest = sha256(index.as_bytes());
    let pinned = format!("{}/shop/multi@{index_digest}", registry.address);

    let project = Project::new();
    let name = unique("multi");
    project.profile("multi", &format!("{}/shop/multi", registry.address), HEALTHY);
    project.record("multi", &pinned, serde_json::Value::Null);
    let seen = project.prodbox(&["inspect", "multi", "--json"]).success().json();
    assert_eq!(seen["image"]["digest"], index_digest.as_str());
    assert_eq!(seen["image"]["manifest_digest"], d1.as_str());
    assert_eq!(seen["image"]["platform"], "linux/amd64");

    let report = project.prodbox(&["up", "multi", "-d", "--name", &name, "--json"]).success().json();
    assert_eq!(report["version"], "1.0.0");
    assert_eq!(report["digest"], index_digest.as_str());
    let app = inspect(&format!("prodbox-{name}-app"));
    let image = inspect(app["Image"].as_str().unwrap());
    assert!(image["RepoDigests"].to_string().contains(&index_digest), "{}", image["RepoDigests"]);
    project.prodbox(&["down", &name]).success();
    remove_pulled(&pinned);
}

#[test]
fn dependencies_join_the_sandbox_under_their_aliases() {
    let registry = Registry::start();
    let app = registry.push(&fixture_image("1.0.0"), "shop/dep", "1.0.0");
    let stub = registry.push(&fixture_image("2.0.0"), "shop/stub", "2.0.0");
    let project = Project::new();
    let name = unique("dep");
    project.profile(
        "dep",
        &format!("{}/shop/dep", registry.address),
        &format!(
            r#"[sanitize]
prod_hosts = ["*.example.com"]
[sanitize.hosts]
"payments.example.com" = "payments-stub"
{HEALTHY}
[[dependencies]]
name = "payments-stub"
image = "{stub}"
"#
        ),
    );
    project.record("dep", &app, serde_json::json!({"env": {"UPSTREAM_URL": "https://payments.example.com/v1"}}));
    let report = project.prodbox(&["up", "dep", "-d", "--name", &name, "--json"]).success().json();
    let port = report["ports"][0][1].as_u64().unwrap() as u16;
    assert!(http_get(port, "/").contains("https://payments-stub/v1"));
    assert_eq!(http_get(port, "/connect?to=payments-stub:8080").trim(), "open");
    let dep = inspect(&format!("prodbox-{name}-dep-payments-stub"));
    assert_eq!(dep["Config"]["Labels"]["dev.prodbox.role"], "dependency");
    // Hardened like the app (issue #9: dependencies had no cap_drop and no memory limit).
    assert_eq!(dep["HostConfig"]["Privileged"], false);
    assert!(drops_all_capabilities(&dep["HostConfig"]), "{}", dep["HostConfig"]["CapDrop"]);
    assert!(dep["HostConfig"]["SecurityOpt"].to_string().contains("no-new-privileges"), "{}", dep["HostConfig"]);
    assert_eq!(dep["HostConfig"]["Memory"], 1u64 << 30, "{}", dep["HostConfig"]);
    assert_eq!(dep["HostConfig"]["PidsLimit"], 512, "{}", dep["HostConfig"]);
    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty());
}
