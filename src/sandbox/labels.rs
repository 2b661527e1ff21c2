//! The labels every prodbox resource carries; `ls`, `down` and `gc` find
//! resources by them alone (the engine is prodbox's only state).

/// The sandbox name (`--name`, default the service).
pub const SANDBOX: &str = "dev.prodbox.sandbox";
pub const SERVICE: &str = "dev.prodbox.service";
pub const DIGEST: &str = "dev.prodbox.digest";
/// `app`, `candidate`, `relay` or `dependency`.
pub const ROLE: &str = "dev.prodbox.role";
pub const ENVIRONMENT: &str = "dev.prodbox.environment";
pub const IMAGE: &str = "dev.prodbox.image";
pub const DEPLOYED_AT: &str = "dev.prodbox.deployed-at";
pub const DEPLOYED_BY: &str = "dev.prodbox.deployed-by";
pub const REVISION: &str = "dev.prodbox.revision";
/// The sanitization decisions as JSON: names, actions and reasons, never values.
pub const SANITIZE: &str = "dev.prodbox.sanitize";
/// Container ports the relay publishes, comma-separated.
pub const PORTS: &str = "dev.prodbox.ports";
/// On the relay: its routes as JSON (role, container port, listen port).
pub const ROUTES: &str = "dev.prodbox.routes";

/// Labels prodbox sets itself; `--label` may not override them.
pub const RESERVED: &[&str] =
    &[SANDBOX, SERVICE, DIGEST, ROLE, ENVIRONMENT, IMAGE, DEPLOYED_AT, DEPLOYED_BY, REVISION, SANITIZE, PORTS, ROUTES];

/// Roles.
pub const ROLE_APP: &str = "app";
pub const ROLE_CANDIDATE: &str = "candidate";
pub const ROLE_RELAY: &str = "relay";
pub const ROLE_DEPENDENCY: &str = "dependency";

/// A label filter for the engine's list calls: `key=value` or just `key`.
pub fn filter(pairs: &[(&str, &str)]) -> std::collections::HashMap<String, Vec<String>> {
    let labels = pairs.iter().map(|(k, v)| if v.is_empty() { k.to_string() } else { format!("{k}={v}") }).collect();
    std::collections::HashMap::from([("label".to_string(), labels)])
}
