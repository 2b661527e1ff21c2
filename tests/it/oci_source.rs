//! The `oci` source against the real test registry (docker-registry 2.8, which
//! has no referrers API: the referrers-tag fallback is what runs here), with
//! deploy-record artifacts pushed by `prodbox record`.

use crate::common::*;

fn record(image: &str, at: &str, rev: &str, greeting: &str) -> String {
    serde_json::json!({
        "service": "oci", "environment": "production", "image": image,
        "deployed_at": at, "deployed_by": "pipeline", "revision": rev,
        "config": {"env": {"GREETING": greeting}}
    })
    .to_string()
}

fn profile(repository: &str, tag: &str) -> String {
    format!(
        "[source]\nkind = \"oci\"\ntag = \"{tag}\"\nhistory_tags = \"prod-*\"\n[image]\nrepository = \"{repository}\"\n[sanitize]\nkeep = [\"GREETING\"]\n{HTTP_HEALTH}"
    )
}

#[test]
fn oci_source_up_history_at_with_pushed_records() {
    let registry = Registry::start();
    let v1 = registry.push(&fixture_image("1.0.0"), "shop/oci", "prod-1");
    let v2 = registry.push(&fixture_image("2.0.0"), "shop/oci", "prod-2");
    assert_eq!(registry.push(&fixture_image("2.0.0"), "shop/oci", "prod"), v2);
    let project = Project::new();
    project.write("deploys/v1.json", &record(&v1, "2026-11-01T09:00:00Z", "aaa1111", "from-oci-1"));
    project.write("deploys/v2-old.json", &record(&v2, "2026-11-19T10:00:00Z", "bbb2222", "stale"));
    project.write("deploys/v2.json", &record(&v2, "2026-11-20T14:05:00Z", "bbb2222", "from-oci-2"));
    for file in ["deploys/v1.json", "deploys/v2-old.json", "deploys/v2.json"] {
        let pushed = project.prodbox(&["record", file, "--json"]).success().json();
        assert!(pushed["artifact"].as_str().unwrap().starts_with("sha256:"));
    }
    // The fallback index lives under the subject's digest as a tag.
    let port: u16 = registry.address.rsplit(':').next().unwrap().parse().unwrap();
    let tags = http_get(port, "/v2/shop/oci/tags/list");
    let hex = v2.rsplit("sha256:").next().unwrap();
    assert!(tags.contains(&format!("sha256-{hex}")), "{tags}");

    project.write("profiles/oci.toml", &profile(&format!("{}/shop/oci", registry.address), "prod"));
    let name = unique("oci");
    let report = project.prodbox(&["up", "oci", "-d", "--name", &name, "--json"]).success().json();
    assert_eq!(report["revision"], "bbb2222");
    assert_eq!(report["deployed_at"], "2026-11-20T14:05:00Z", "the newest artifact wins");
    let web = report["ports"][0][1].as_u64().unwrap() as u16;
    assert!(http_get(web, "/").contains("from-oci-2"));
    project.prodbox(&["down", &name]).success();

    let h = project.prodbox(&["history", "oci", "--json"]).success().json();
    let revisions: Vec<&str> = h.as_array().unwrap().iter().map(|d| d["revision"].as_str().unwrap()).collect();
    assert_eq!(revisions, ["bbb2222", "aaa1111"]);
    let r = project.prodbox(&["up", "oci", "-d", "--name", &name, "--json", "--at", "2026-11-05"]).success().json();
    assert_eq!(r["revision"], "aaa1111");
    let web = r["ports"][0][1].as_u64().unwrap() as u16;
    assert!(http_get(web, "/").contains("from-oci-1"));
    project.prodbox(&["down", &name]).success();
    let i = project.prodbox(&["inspect", "oci", "--json"]).success().json();
    assert_eq!(i["revision"], "bbb2222");

    // A tag without any artifact: it runs, without config, and says so.
    registry.push(&fixture_image("1.0.0"), "shop/bare", "live");
    project.write("profiles/bare.toml", &profile(&format!("{}/shop/bare", registry.address), "live"));
    let r = project.prodbox(&["up", "bare", "-d", "--name", &name, "--json"]).success().json();
    assert!(r["chosen"].as_str().unwrap().contains("no deploy-record artifact"), "{r}");
    project.prodbox(&["down", &name]).success();
    project.prodbox(&["history", "bare"]).success();

    // Bad inputs: a tag that is not there (1), a registry that is not there (3).
    project.write("profiles/bare.toml", &profile(&format!("{}/shop/bare", registry.address), "nope"));
    project.prodbox(&["up", "bare", "-d", "--name", &name]).code(1).stderr_has("has no tag nope");
    project.write("profiles/bare.toml", &profile("127.0.0.1:9/shop/bare", "live"));
    project.prodbox(&["up", "bare", "-d", "--name", &name]).code(3).stderr_has("cannot be reached");
    project.write(
        "deploys/far.json",
        &record(&v1.replace(&registry.address, "127.0.0.1:9"), "2026-11-01T09:00:00Z", "a", "x"),
    );
    project.prodbox(&["record", "deploys/far.json"]).code(3);
    assert!(project.leftovers().is_empty());
}
