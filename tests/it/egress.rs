//! Issue #13: the egress sinkhole. The app tries production's systems by
//! name, a name that does not exist and a literal address; `prodbox egress`
//! lists each name with its port and what the first bytes said, says that
//! literal addresses are not observable, nothing reaches the host, and
//! `verify` still finds the sandbox isolated.

use std::net::TcpListener;

use crate::common::*;

#[test]
fn egress_lists_what_the_app_tried_and_nothing_leaves() {
    // A listener on every host address: nothing may ever reach it.
    let listener = TcpListener::bind("0.0.0.0:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let host_port = listener.local_addr().unwrap().port();
    let released = Fixture::new("egress")
        .run(&format!(
            "{HTTP_HEALTH}egress = {{ http_status = 503 }}\n[sanitize]\nprod_hosts = [\"*.corp.example.com\"]\n"
        ))
        .config(serde_json::json!({"env": {
            "DATABASE_URL": "postgres://db.prod.example.com:5432/shop",
            "PARTNER_URL": "https://api.partner.example.net/v1",
            // A port only the config names: the sinkhole listens on it too.
            "LEDGER_URL": format!("http://ledger.prod.example.com:{host_port}/"),
            // Rewritten by prod_hosts to billing.corp.example.com.prodbox.invalid.
            "UPSTREAM_URL": "https://billing.corp.example.com/v1",
        }}))
        .build();
    let project = &released.project;
    let name = unique("egress");
    let report = project.prodbox(&["up", "egress", "-d", "--name", &name, "--json"]).success().json();
    assert!(report["egress"].is_array(), "up reports what was tried so far: {report}");
    let port = report["ports"][0][1].as_u64().unwrap() as u16;

    // The sinkhole runs in the relay (hardened, the sandbox's only door):
    // no container of its own; the app resolves through the relay's address.
    let relay = inspect(&format!("prodbox-{name}-relay"));
    assert_eq!(relay["Config"]["Labels"]["dev.prodbox.role"], "relay");
    assert!(drops_all_capabilities(&relay["HostConfig"]), "{}", relay["HostConfig"]);
    assert_eq!(relay["HostConfig"]["ReadonlyRootfs"], true);
    assert!(relay["HostConfig"]["SecurityOpt"].to_string().contains("no-new-privileges"));
    assert!(relay["Config"]["Cmd"].to_string().contains("--sinkhole"), "{}", relay["Config"]["Cmd"]);
    // It holds nothing of production's config.
    assert!(!relay["Config"]["Env"].to_string().contains("prod.example.com"), "{}", relay["Config"]["Env"]);
    assert!(!relay["Config"]["Cmd"].to_string().contains("prod.example.com"), "{}", relay["Config"]["Cmd"]);
    let containers =
        docker(&["ps", "-a", "--filter", &format!("label=dev.prodbox.sandbox={name}"), "--format", "{{.Names}}"]);
    assert_eq!(containers.lines().count(), 2, "the app and the relay only: {containers}");
    let sinkhole_ip = relay["NetworkSettings"]["Networks"][format!("prodbox-{name}")]["IPAddress"].clone();
    let app = inspect(&format!("prodbox-{name}-app"));
    assert_eq!(app["HostConfig"]["Dns"], serde_json::json!([sinkhole_ip]), "{}", app["HostConfig"]);

    // What the app tries.
    let call = |url: &str| http_get(port, &format!("/call?url={url}")).trim().to_string();
    assert_eq!(call("postgres://db.prod.example.com:5432/shop"), "closed");
    assert_eq!(call("https://api.partner.example.net/v1/x"), "closed");
    assert_eq!(call("http://metadata.internal/latest/meta-data?token=abc"), "HTTP/1.1 503 Service Unavailable");
    assert_eq!(call(&format!("http://ledger.prod.example.com:{host_port}/post")), "HTTP/1.1 503 Service Unavailable");
    // UDP is dropped and counted.
    assert_eq!(call("udp://stats.prod.example.com:8125"), "sent");
    assert_eq!(call("udp://stats.prod.example.com:8125"), "sent");
    let rewritten = http_get(port, "/");
    assert!(rewritten.contains("billing.corp.example.com.prodbox.invalid"), "{rewritten}");
    assert_eq!(call("https://billing.corp.example.com.prodbox.invalid/v1"), "closed");
    let resolved = http_get(port, "/resolve?name=no-such-host.example.invalid");
    assert_eq!(resolved.trim(), sinkhole_ip.as_str().unwrap(), "every other name resolves to the sinkhole");
    // A literal address has no route out: it fails at once, unseen.
    // The host's address on the relay's bridge: the relay reaches the listener there.
    let gateway = gateway_of(&ingress_of(&name));
    assert!(gateway.parse::<std::net::IpAddr>().is_ok(), "{gateway:?}");
    // Control: the relay (on that normal bridge) does reach the listener, so
    // the listener would see a connection that got out; the sinkhole in it
    // never forwards (the listener saw nothing else, below).
    let relay = format!("prodbox-{name}-relay");
    let control = docker(&["exec", &relay, "/prodbox-relay", "probe", &format!("{gateway}:{host_port}")]);
    assert_eq!(control, "open");
    listener.set_nonblocking(false).unwrap();
    drop(listener.accept().unwrap());
    listener.set_nonblocking(true).unwrap();
    assert_eq!(http_get(port, &format!("/connect?to={gateway}:{host_port}")).trim(), "blocked");

    let egress = project.prodbox(&["egress", &name, "--json"]).success().json();
    let destinations = egress["destinations"].as_array().unwrap();
    let find = |name: &str| {
        destinations
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("{name} is listed: {egress:#}"))
            .clone()
    };
    let db = find("db.prod.example.com");
    assert_eq!((db["port"].as_u64(), db["protocol"].as_str()), (Some(5432), Some("postgres")), "{db}");
    assert_eq!(db["from"], serde_json::json!(["app"]));
    let api = find("api.partner.example.net");
    assert_eq!(api["port"], 443);
    assert_eq!(api["protocol"], "tls");
    assert_eq!(api["asked"], serde_json::json!(["SNI api.partner.example.net"]));
    let metadata = find("metadata.internal");
    assert_eq!(metadata["port"], 80);
    // Method, Host and path; never the query string.
    assert_eq!(metadata["asked"], serde_json::json!(["GET metadata.internal/latest/meta-data"]));
    assert_eq!(metadata["answer"], "http 503");
    let ledger = find("ledger.prod.example.com");
    assert_eq!(ledger["port"], host_port);
    let billing = find("billing.corp.example.com.prodbox.invalid");
    assert_eq!(billing["rewritten_from"], "billing.corp.example.com", "{billing}");
    let stats = find("stats.prod.example.com");
    assert_eq!((stats["port"].as_u64(), stats["transport"].as_str()), (Some(8125), Some("udp")), "{stats}");
    assert_eq!(stats["count"], 2, "{stats}");
    let missing = find("no-such-host.example.invalid");
    assert_eq!(missing["port"], serde_json::Value::Null);
    assert_eq!(missing["transport"], "dns");
    assert!(egress["not_observable"].as_str().unwrap().contains("literal IP addresses"), "{egress}");
    assert!(!egress.to_string().contains(&gateway), "a literal address is never a destination: {egress}");

    let table = project.prodbox(&["egress", &name]).success().stdout;
    let line = table.lines().find(|l| l.starts_with("api.partner.example.net")).unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("443") && line.contains("tls") && line.contains("SNI api.partner.example.net"), "{table}");
    assert!(table.contains("not observable: connections to literal IP addresses"), "{table}");

    // --follow prints what was tried so far, then each new attempt.
    let mut follow = project.spawn(&["egress", &name, "--follow"]);
    follow.wait_for("api.partner.example.net:443");
    assert_eq!(call("http://late.example.org/v2/ping"), "HTTP/1.1 503 Service Unavailable");
    follow.wait_for("late.example.org:80");
    drop(follow);

    // Nothing left the machine: the host's listener saw nothing.
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a connection reached the host"
    );
    // verify still finds the sandbox isolated with the sinkhole in place.
    let probes = project.prodbox(&["verify", &name, "--json"]).success().json();
    assert!(!probes.as_array().unwrap().iter().any(|p| p["must_block"] == true && p["open"] == true), "{probes:#}");

    let down = project.prodbox(&["down", &name]).success().stdout;
    assert!(down.contains("tried to reach 7 hosts:"), "{down}");
    assert!(
        down.contains("billing.corp.example.com:443 (rewritten to billing.corp.example.com.prodbox.invalid)"),
        "{down}"
    );
    assert!(down.contains("db.prod.example.com:5432"), "{down}");
    assert!(project.leftovers().is_empty());
}

#[test]
fn diff_compares_where_the_two_builds_reached_out() {
    let released = Fixture::new("egresspair").run(HTTP_HEALTH).build();
    let project = &released.project;
    let name = unique("egresspair");
    project.prodbox(&["up", "egresspair", "-d", "--name", &name, "--candidate", &fixture_image("1.0.0")]).success();
    let request = "GET /call?url=http://partner.example.com/v1/x";
    let d = project.prodbox(&["diff", &name, "--request", request, "--json"]).success().json();
    assert_eq!(d["egress"]["production"], serde_json::json!(["partner.example.com:80"]), "{d:#}");
    assert_eq!(d["egress"]["candidate"], serde_json::json!(["partner.example.com:80"]), "{d:#}");
    assert_eq!(d["egress"]["same"], true);
    let d = project.prodbox(&["diff", &name, "--request", request]).success();
    assert!(d.stdout.contains("egress: the same destinations (partner.example.com:80)"), "{}", d.stdout);
    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty());
}
