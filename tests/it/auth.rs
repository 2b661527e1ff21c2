//! A registry that wants credentials: prodbox reads them from the docker
//! config (for its manifest reads and for the engine's pull) and says what
//! to do when they are missing.

use crate::common::*;

#[test]
fn credentials_come_from_the_docker_config() {
    let registry = Registry::start_with_auth("qa", "s3cret-pw");
    let pinned = registry.push(&fixture_image("1.0.0"), "shop/auth", "1.0.0");
    let config = registry.docker_config.clone().unwrap();
    let project = Project::new();
    let name = unique("auth");
    project.profile("auth", &format!("{}/shop/auth", registry.address), HTTP_HEALTH);
    project.record("auth", &pinned, serde_json::Value::Null);

    // Without credentials: a clear error that says how to log in; nothing left.
    let empty = tempfile::tempdir().unwrap();
    let run = project
        .prodbox_env(&["up", "auth", "-d", "--name", &name], &[("DOCKER_CONFIG", empty.path().to_str().unwrap())]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("docker login"), "{}", run.stderr);
    assert!(project.leftovers().is_empty());

    // With the docker config's auths: manifest read and engine pull both work.
    let run = project
        .prodbox_env(&["up", "auth", "-d", "--name", &name, "-vv"], &[("DOCKER_CONFIG", config.to_str().unwrap())])
        .success();
    // Neither the password nor its base64 form (in auth headers) shows, even at -vv.
    let encoded = sh(std::process::Command::new("sh").args(["-c", "printf %s 'qa:s3cret-pw' | base64 -w0"]));
    assert!(!run.stderr.contains("s3cret-pw"), "the password leaked:\n{}", run.stderr);
    assert!(!run.stderr.contains(&encoded), "the encoded login leaked:\n{}", run.stderr);
    assert!(run.stderr.contains("DEBUG"), "-vv shows debug logs");
    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty());
}

#[test]
fn credentials_come_from_a_credential_helper() {
    let registry = Registry::start_with_auth("helper-user", "h3lper-pw");
    let pinned = registry.push(&fixture_image("1.0.0"), "shop/helper", "1.0.0");
    let project = Project::new();
    let name = unique("helper");
    project.profile("helper", &format!("{}/shop/helper", registry.address), HTTP_HEALTH);
    project.record("helper", &pinned, serde_json::Value::Null);

    // A docker config that names a credential helper for this registry, and the helper:
    // `docker-credential-prodboxtest get` reads the server on stdin, prints JSON.
    let bin = project.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-prodboxtest");
    std::fs::write(
        &helper,
        "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"helper-user\",\"Secret\":\"h3lper-pw\"}' \"$server\"\n",
    )
    .unwrap();
    sh(std::process::Command::new("chmod").args(["+x", helper.to_str().unwrap()]));
    let config = project.dir.path().join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.json"),
        format!("{{\"credHelpers\": {{\"{}\": \"prodboxtest\"}}}}", registry.address),
    )
    .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let run = project
        .prodbox_env(
            &["up", "helper", "-d", "--name", &name, "-vv"],
            &[("DOCKER_CONFIG", config.to_str().unwrap()), ("PATH", &path)],
        )
        .success();
    assert!(!run.stderr.contains("h3lper-pw"), "the helper's secret leaked:\n{}", run.stderr);
    project.prodbox(&["down", &name]).success();
    assert!(project.leftovers().is_empty());
}
