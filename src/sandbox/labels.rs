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

/// On everything one `up` run makes: a token of that run, so its cleanup
/// after a failure or a signal removes what it made and never what a
/// concurrent `up` of the same name made.
pub const OWNER: &str = "dev.prodbox.owner";
/// On what sandboxes share (the ingress network on Docker): what it is.
/// Never with [`SANDBOX`], so removing a sandbox by label leaves it be.
pub const SHARED: &str = "dev.prodbox.shared";
/// On the app and the candidate, when the profile gives one: the seconds
/// `down` lets it stop on SIGTERM (`run.stop_timeout`); without it, killed at once.
pub const STOP_TIMEOUT: &str = "dev.prodbox.stop-timeout";

/// Labels prodbox sets itself; `--label` may not override them.
pub const RESERVED: &[&str] = &[
    SANDBOX,
    SERVICE,
    DIGEST,
    ROLE,
    ENVIRONMENT,
    IMAGE,
    DEPLOYED_AT,
    DEPLOYED_BY,
    REVISION,
    SANITIZE,
    PORTS,
    ROUTES,
    IMAGE_ID,
    OWNER,
    STOP_TIMEOUT,
    SHARED,
];

/// On the app and the candidate: the engine's image id (the digest label
/// holds the registry digest, which a local candidate may not have).
pub const IMAGE_ID: &str = "dev.prodbox.image-id";

/// What a container is for in its sandbox (the [`ROLE`] label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Production's build.
    App,
    /// The build paired with it (`--candidate`).
    Candidate,
    /// The only door into the sandbox.
    Relay,
    /// A sibling container from the profile's `[[dependencies]]`.
    Dependency,
}

impl Role {
    /// The label value, also the container name's suffix and the network alias.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::App => "app",
            Role::Candidate => "candidate",
            Role::Relay => "relay",
            Role::Dependency => "dependency",
        }
    }

    /// From a label value; `None` for a value prodbox never writes.
    pub fn parse(value: &str) -> Option<Role> {
        [Role::App, Role::Candidate, Role::Relay, Role::Dependency].into_iter().find(|r| r.as_str() == value)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A label filter for the engine's list calls: every `key=value` exactly.
/// An empty value matches only an empty label, never "any value": a missing
/// name (`down ""`) must not become every sandbox. [`has`] asks for presence.
pub fn filter(pairs: &[(&str, &str)]) -> Filter {
    let labels = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    std::collections::HashMap::from([("label".to_string(), labels)])
}

/// A label filter for resources that carry `key`, whatever its value.
pub fn has(key: &str) -> Filter {
    std::collections::HashMap::from([("label".to_string(), vec![key.to_string()])])
}

/// Every sandbox's resources (they carry [`SANDBOX`]) that also carry each
/// of `pairs` exactly: `down --all --label K=V`.
pub fn sandboxes_with(pairs: &[(&str, &str)]) -> Filter {
    let mut f = has(SANDBOX);
    f.entry("label".to_string()).or_default().extend(pairs.iter().map(|(k, v)| format!("{k}={v}")));
    f
}

/// A filter for the engine's list calls.
pub type Filter = std::collections::HashMap<String, Vec<String>>;

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
