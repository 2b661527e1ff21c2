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

/// Labels are not for megabytes: the decisions as JSON, cut to fit
/// [`LABEL_LIMIT`] with a last row saying how many were left out.
pub fn decisions_json(decisions: &[crate::sanitize::Decision]) -> String {
    let full = serde_json::to_string(decisions).unwrap_or_default();
    if full.len() <= LABEL_LIMIT {
        return full;
    }
    let mut kept: Vec<&crate::sanitize::Decision> = Vec::new();
    let mut size = 2;
    for d in decisions {
        let row = serde_json::to_string(d).unwrap_or_default().len() + 1;
        if size + row > LABEL_LIMIT - 256 {
            break;
        }
        size += row;
        kept.push(d);
    }
    let mut rows: Vec<serde_json::Value> = kept.iter().filter_map(|d| serde_json::to_value(d).ok()).collect();
    rows.push(serde_json::json!({
        "kind": "note",
        "name": "(more)",
        "action": "kept",
        "reason": format!("{} more decisions not stored in the label; `prodbox inspect SERVICE` lists them all", decisions.len() - kept.len()),
    }));
    serde_json::to_string(&rows).unwrap_or_default()
}

/// The most decision JSON a container label carries.
const LABEL_LIMIT: usize = 64 * 1024;
