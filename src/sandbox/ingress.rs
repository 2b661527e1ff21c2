//! The normal bridge a sandbox's relay publishes its ports from (on
//! 127.0.0.1 only): [`ensure`] answers which one, made if needed.
//!
//! On Docker every sandbox shares one, [`SHARED`], made on first need with
//! inter-container traffic off (`enable_icc=false`: the relays of different
//! sandboxes cannot reach each other on it) and host bindings on 127.0.0.1.
//! It carries a label of its own ([`labels::SHARED`]), never a sandbox's, so
//! removing a sandbox by label never touches it; `gc` removes it once no
//! container is attached ([`collect`]). Creating and removing a bridge per
//! sandbox took about a third of a warm `up` + `down`.
//!
//! Concurrent `up`s may all find it missing and all create it. Docker 25 and
//! later refuse a second network of one name ("already exists"); Docker
//! 20.10's API makes a second one (bollard cannot send `CheckDuplicate`, and
//! that check was racy anyway) and then answers a lookup by that name as
//! "ambiguous". So the network is chosen from a list by name, the oldest of
//! the ones with that exact name (then by id, so every run agrees), and used
//! by its id; a run that made a duplicate that lost removes it again.
//!
//! Podman's bridge takes no `enable_icc` switch, so there every sandbox
//! keeps a bridge of its own, `prodbox-NAME-ingress`, removed with it.

use std::collections::HashMap;

use bollard::models::{Network, NetworkCreateRequest};
use bollard::query_parameters::ListNetworksOptionsBuilder;

use super::labels;
use crate::engine::{self, Engine, EngineError, IsolationMethod};

/// The shared ingress network's name (Docker).
pub const SHARED: &str = "prodbox-ingress";

/// Bridge options the shared network is made with and checked for.
const ICC: &str = "com.docker.network.bridge.enable_icc";
const HOST_BINDING: &str = "com.docker.network.bridge.host_binding_ipv4";
const SHARED_OPTIONS: [(&str, &str); 2] = [(ICC, "false"), (HOST_BINDING, "127.0.0.1")];

/// The ingress network a sandbox's relay is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingress {
    /// What the relay joins it by: the shared network's id (a name may be
    /// ambiguous on Docker 20.10), a sandbox's own network's name.
    pub network: String,
    /// Its name, for messages.
    pub name: String,
    /// Whether sandboxes share it (Docker) or it is the sandbox's own (Podman).
    pub shared: bool,
}

/// The name of the ingress network sandbox `sandbox` uses on an engine of `kind`.
pub fn name_for(kind: engine::EngineKind, sandbox: &str) -> String {
    match kind.isolation() {
        IsolationMethod::InhibitedBridge => SHARED.to_string(),
        IsolationMethod::LibpodInternal => super::ingress_network_name(sandbox),
    }
}

/// Which ingress network sandbox `sandbox` uses, made if needed: on Docker
/// the shared one (read with one list call; made when missing), on Podman
/// the sandbox's own, made with the sandbox's `labels`.
pub async fn ensure(engine: &Engine, sandbox: &str, labels: &HashMap<String, String>) -> Result<Ingress, EngineError> {
    match engine.kind.isolation() {
        IsolationMethod::InhibitedBridge => shared(engine).await,
        IsolationMethod::LibpodInternal => {
            let name = super::ingress_network_name(sandbox);
            own(engine, &name, labels).await?;
            Ok(Ingress { network: name.clone(), name, shared: false })
        }
    }
}

/// Test hook (never set it otherwise): when `1`, [`ensure`]'s first answer
/// on Docker names a shared network that is gone, as when `gc` removed it
/// right after `up` chose it; the relay's creation must then make it again.
pub const FORCE_GONE_ENV: &str = "PRODBOX_TEST_INGRESS_GONE";

/// [`ensure`]'s answer as `up` first uses it: under [`FORCE_GONE_ENV`], a
/// shared network that no longer exists.
pub fn first_use(ingress: Ingress) -> Ingress {
    if ingress.shared && std::env::var(FORCE_GONE_ENV).as_deref() == Ok("1") {
        return Ingress { network: format!("{:064x}", 0x9a0e_u32), ..ingress };
    }
    ingress
}

/// Whether `e`, from creating or starting the relay, says that `ingress`
/// is gone (`gc` removed the shared network after [`ensure`] chose it).
/// The engine names it by the id the relay was made with, or (Docker 20.10,
/// starting a relay made while the network was there) by its name.
pub fn gone(e: &EngineError, ingress: &Ingress) -> bool {
    match e {
        EngineError::Api { detail, .. } => {
            ingress.shared
                && detail.contains("404")
                && [&ingress.network, &ingress.name].iter().any(|n| detail.contains(&format!("network {n} not found")))
        }
        _ => false,
    }
}

/// The shared network: the one there (checked), else one made now.
async fn shared(engine: &Engine) -> Result<Ingress, EngineError> {
    if let Some(found) = chosen(engine).await? {
        return fit(found);
    }
    let request = NetworkCreateRequest {
        name: SHARED.to_string(),
        driver: Some("bridge".into()),
        internal: Some(false),
        options: Some(SHARED_OPTIONS.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
        labels: Some(HashMap::from([(labels::SHARED.to_string(), SHARED_VALUE.to_string())])),
        ..Default::default()
    };
    let docker = engine.docker.clone();
    // Not tracked as in flight: no sandbox's cleanup removes it.
    let made = match docker.create_network(request).await {
        Ok(made) => Some(made.id),
        // Another `up` made it first (Docker 25+ refuses a second of one name).
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => None,
        Err(e) => return Err(engine::api(format!("creating network {SHARED}"), e)),
    };
    let Some(found) = chosen(engine).await? else {
        return Err(EngineError::Api {
            what: format!("creating network {SHARED}"),
            detail: "the engine made it but does not list it".into(),
        });
    };
    if let Some(ours) = made.filter(|id| Some(id) != found.id.as_ref()) {
        // Docker 20.10 made a second one beside an older one: ours goes
        // again (nothing uses it yet; should anything, it stays for `gc`).
        tracing::debug!(network = SHARED, id = %ours, "a duplicate lost to an older one; removing it");
        let _ = engine.docker.remove_network(&ours).await;
    }
    fit(found)
}

/// The shared network every run picks: of those with exactly that name,
/// the oldest, then the lowest id.
async fn chosen(engine: &Engine) -> Result<Option<Network>, EngineError> {
    let filters = HashMap::from([("name".to_string(), vec![SHARED.to_string()])]);
    let options = ListNetworksOptionsBuilder::default().filters(&filters).build();
    let found = engine.docker.list_networks(Some(options)).await.map_err(|e| engine::api("listing networks", e))?;
    // The name filter matches parts of names too: keep the exact ones.
    let mut same: Vec<Network> = found.into_iter().filter(|n| n.name.as_deref() == Some(SHARED)).collect();
    same.sort_by(|a, b| {
        let key = |n: &Network| (n.created.clone().unwrap_or_default(), n.id.clone().unwrap_or_default());
        super::lock::older(&key(a), &key(b))
    });
    Ok(same.into_iter().next())
}

/// The shared network's id if it is made as prodbox makes it; else an
/// error naming what differs and how to have it made anew.
fn fit(n: Network) -> Result<Ingress, EngineError> {
    let reasons = unfit(&n);
    if !reasons.is_empty() {
        return Err(EngineError::Unfit { network: SHARED.to_string(), reasons: reasons.join("; ") });
    }
    let id = n.id.unwrap_or_default();
    Ok(Ingress { network: id, name: SHARED.to_string(), shared: true })
}

/// How a network named [`SHARED`] differs from what prodbox makes.
fn unfit(n: &Network) -> Vec<String> {
    let mut reasons = Vec::new();
    let options = n.options.clone().unwrap_or_default();
    for (k, v) in SHARED_OPTIONS {
        match options.get(k) {
            Some(got) if got == v => {}
            Some(got) => reasons.push(format!("option {k} is {got:?}, not {v:?}")),
            None => reasons.push(format!("option {k}={v} is not set")),
        }
    }
    if n.driver.as_deref() != Some("bridge") {
        reasons.push(format!("its driver is {:?}, not \"bridge\"", n.driver.as_deref().unwrap_or_default()));
    }
    if n.internal == Some(true) {
        reasons.push("it is internal, so nothing could be published from it".into());
    }
    if n.labels.as_ref().and_then(|l| l.get(labels::SHARED)).map(String::as_str) != Some(SHARED_VALUE) {
        reasons.push(format!("it lacks the label {}={SHARED_VALUE}, so prodbox did not make it", labels::SHARED));
    }
    reasons
}

/// The [`labels::SHARED`] value on the shared ingress network.
const SHARED_VALUE: &str = "ingress";

/// A sandbox's own ingress bridge (Podman), with the sandbox's labels.
async fn own(engine: &Engine, name: &str, base: &HashMap<String, String>) -> Result<(), EngineError> {
    // Ports are bound to 127.0.0.1 one by one too; the option is a second
    // guard where the engine takes it (Podman would only warn about it).
    let options = engine
        .kind
        .takes_docker_bridge_options()
        .then(|| HashMap::from([(HOST_BINDING.to_string(), "127.0.0.1".to_string())]));
    let request = NetworkCreateRequest {
        name: name.to_string(),
        driver: Some("bridge".into()),
        internal: Some(false),
        options,
        labels: Some(base.clone()),
        ..Default::default()
    };
    let docker = engine.docker.clone();
    super::inflight::track(async move { docker.create_network(request).await })
        .await
        .map_err(|e| engine::api(format!("creating network {name}"), e))?;
    Ok(())
}

/// `gc`: removes every shared ingress network no container is attached to;
/// how many went. One in use (the engine refuses: it has endpoints) stays.
pub async fn collect(engine: &Engine) -> Result<usize, EngineError> {
    let filter = labels::filter(&[(labels::SHARED, SHARED_VALUE)]);
    let options = ListNetworksOptionsBuilder::default().filters(&filter).build();
    let found = engine.docker.list_networks(Some(options)).await.map_err(|e| engine::api("listing networks", e))?;
    let mut removed = 0;
    for id in found.into_iter().filter_map(|n| n.id) {
        match engine.docker.remove_network(&id).await {
            Ok(()) => removed += 1,
            Err(e) if engine::is_not_found(&e) => {}
            Err(e) if in_use(&e) => tracing::debug!(network = SHARED, id = %id, "in use; kept"),
            Err(e) => return Err(engine::api(format!("removing network {SHARED}"), e)),
        }
    }
    Ok(removed)
}

/// Whether a network removal was refused because containers are attached
/// (Docker: 403 "has active endpoints"; Podman: 500 "containers …").
fn in_use(e: &bollard::errors::Error) -> bool {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code, message } => {
            let m = message.to_ascii_lowercase();
            *status_code == 403 || *status_code == 409 || m.contains("active endpoints") || m.contains("in use")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(options: &[(&str, &str)], label: bool) -> Network {
        Network {
            name: Some(SHARED.into()),
            id: Some("abc".into()),
            driver: Some("bridge".into()),
            internal: Some(false),
            options: Some(options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            labels: Some(if label {
                HashMap::from([(labels::SHARED.to_string(), SHARED_VALUE.to_string())])
            } else {
                HashMap::new()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_shared_network_is_used_only_as_prodbox_makes_it() {
        let good = network(&SHARED_OPTIONS, true);
        assert_eq!(fit(good).unwrap(), Ingress { network: "abc".into(), name: SHARED.into(), shared: true });
        let icc_on = unfit(&network(&[(ICC, "true"), (HOST_BINDING, "127.0.0.1")], true));
        assert_eq!(icc_on, [format!("option {ICC} is \"true\", not \"false\"")]);
        let bare = unfit(&network(&[], false));
        assert_eq!(bare.len(), 3, "{bare:?}");
        let e = fit(network(&[], true)).unwrap_err().to_string();
        assert!(e.contains(SHARED) && e.contains(ICC), "{e}");
    }

    #[test]
    fn a_relay_failure_names_the_network_gone() {
        let ingress = Ingress { network: "0123abcd".into(), name: SHARED.into(), shared: true };
        let gone_err = EngineError::Api {
            what: "starting container prodbox-x-relay".into(),
            detail: "Docker responded with status code 404: network 0123abcd not found".into(),
        };
        assert!(gone(&gone_err, &ingress));
        // Docker 20.10 names it when starting a relay made while it was there.
        let by_name = EngineError::Api {
            what: "starting container prodbox-x-relay".into(),
            detail: "Docker responded with status code 404: network prodbox-ingress not found".into(),
        };
        assert!(gone(&by_name, &ingress));
        let sandbox_named_like_it = EngineError::Api {
            what: "starting container prodbox-x-relay".into(),
            detail: "Docker responded with status code 404: network prodbox-ingress2 not found".into(),
        };
        assert!(!gone(&sandbox_named_like_it, &ingress));
        let other = EngineError::Api {
            what: "starting container prodbox-x-relay".into(),
            detail: "Docker responded with status code 404: network prodbox-x not found".into(),
        };
        assert!(!gone(&other, &ingress));
        assert!(!gone(&gone_err, &Ingress { shared: false, ..ingress }));
    }

    #[test]
    fn names_by_engine() {
        assert_eq!(name_for(engine::EngineKind::Docker, "co"), SHARED);
        assert_eq!(name_for(engine::EngineKind::Podman, "co"), "prodbox-co-ingress");
    }
}
