//! One `up` per sandbox name at a time, with the engine holding the lock.
//!
//! While an `up` makes a sandbox it holds a volume named
//! `prodbox-NAME-lock`, labelled with its owner token: creating a volume by
//! a name that exists hands back the existing one (Docker and Podman 4's
//! compatible API, with the first creator's labels) or is refused (then it
//! is read back), so exactly one run finds its own token on it. The other stops at once, before it removes or makes
//! anything. A lock whose owner process is gone (same host, no such pid) is
//! stale and taken over. As a second guard, the sandbox network is claimed
//! by its exact name ([`claim`]): of two networks of one name the older wins.

use bollard::models::VolumeCreateRequest;
use bollard::query_parameters::ListNetworksOptionsBuilder;

use super::labels;
use crate::engine::{self, Engine, EngineError};

/// The lock volume's name for sandbox `sandbox` (a sandbox's own volumes
/// are `prodbox-NAME-ROLE-config-N`, never ending in `-lock`).
pub fn volume_name(sandbox: &str) -> String {
    format!("prodbox-{sandbox}-lock")
}

/// Takes the lock of sandbox `sandbox` for `owner`, or fails with
/// [`EngineError::Taken`] when another live run holds it. `extra` labels
/// (the user's `--label`s) go on the lock too.
pub async fn acquire(
    engine: &Engine,
    sandbox: &str,
    owner: &str,
    extra: &[(String, String)],
) -> Result<(), EngineError> {
    for _ in 0..2 {
        match holder(engine, sandbox, owner, extra).await? {
            None => return Ok(()),
            Some(other) if stale(&other) => {
                tracing::debug!(owner = %other, "taking over a stale lock");
                release_any(engine, sandbox).await?;
            }
            Some(_) => break,
        }
    }
    Err(EngineError::Taken { resource: volume_name(sandbox) })
}

/// Creates the lock volume; `None` when it is ours, else the holder's token.
async fn holder(
    engine: &Engine,
    sandbox: &str,
    owner: &str,
    extra: &[(String, String)],
) -> Result<Option<String>, EngineError> {
    let name = volume_name(sandbox);
    let mut l: std::collections::HashMap<String, String> = extra.iter().cloned().collect();
    l.insert(labels::OWNER.to_string(), owner.to_string());
    l.insert(LOCK.to_string(), sandbox.to_string());
    let request = VolumeCreateRequest { name: Some(name.clone()), labels: Some(l), ..Default::default() };
    let docker = engine.docker.clone();
    match super::inflight::track(async move { docker.create_volume(request).await }).await {
        // The engine answers a create by an existing name with that volume,
        // its first creator's labels and all: no second call to read them.
        Ok(v) => {
            let held_by = v.labels.get(labels::OWNER).cloned().unwrap_or_default();
            return Ok((held_by != owner).then_some(held_by));
        }
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => {}
        Err(e) => return Err(engine::api(format!("creating volume {name}"), e)),
    }
    match engine.docker.inspect_volume(&name).await {
        Ok(v) => {
            let held_by = v.labels.get(labels::OWNER).cloned().unwrap_or_default();
            Ok((held_by != owner).then_some(held_by))
        }
        // Released between the two calls: someone else's turn just ended; no retry loop.
        Err(e) if engine::is_not_found(&e) => Ok(Some(String::new())),
        Err(e) => Err(engine::api(format!("reading volume {name}"), e)),
    }
}

/// Releases the lock if `owner` holds it.
pub async fn release(engine: &Engine, sandbox: &str, owner: &str) {
    let name = volume_name(sandbox);
    if let Ok(v) = engine.docker.inspect_volume(&name).await {
        if v.labels.get(labels::OWNER).map(String::as_str) == Some(owner) {
            let _ = engine.docker.remove_volume(&name, None::<bollard::query_parameters::RemoveVolumeOptions>).await;
        }
    }
}

/// Removes the lock whoever holds it (`down NAME`, or a stale one).
pub async fn release_any(engine: &Engine, sandbox: &str) -> Result<bool, EngineError> {
    let name = volume_name(sandbox);
    match engine.docker.remove_volume(&name, None::<bollard::query_parameters::RemoveVolumeOptions>).await {
        Ok(()) => Ok(true),
        Err(e) if engine::is_not_found(&e) => Ok(false),
        Err(e) => Err(engine::api(format!("removing volume {name}"), e)),
    }
}

/// On the lock volume: the sandbox it locks.
const LOCK: &str = "dev.prodbox.lock";

/// This process's owner token: `HOST:PID:NANOS`, unique to the run and
/// enough to tell whether a lock's holder still lives on this host.
pub fn owner_token() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{}.{}.{nanos}", this_host(), std::process::id())
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect())
        .unwrap_or_default()
}

/// Whether the holder `token` is a process of this host that is gone.
fn stale(token: &str) -> bool {
    let mut parts = token.rsplitn(3, '.');
    let (_, pid, host) = (parts.next(), parts.next(), parts.next());
    match (host, pid.and_then(|p| p.parse::<u32>().ok())) {
        (Some(host), Some(pid)) => {
            host == this_host() && pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => false,
    }
}

/// Fails with [`EngineError::Taken`] when another network named `name`
/// exists that was made before ours (`own_id`); ours is then left for the
/// caller's cleanup.
pub async fn claim(engine: &Engine, name: &str, own_id: &str) -> Result<(), EngineError> {
    let filters = std::collections::HashMap::from([("name".to_string(), vec![name.to_string()])]);
    let options = ListNetworksOptionsBuilder::default().filters(&filters).build();
    let found = engine.docker.list_networks(Some(options)).await.map_err(|e| engine::api("listing networks", e))?;
    // The name filter matches parts of names too: keep the exact ones.
    let mut same: Vec<(String, String)> = found
        .into_iter()
        .filter(|n| n.name.as_deref() == Some(name))
        .map(|n| (n.created.unwrap_or_default(), n.id.unwrap_or_default()))
        .collect();
    if same.len() <= 1 {
        return Ok(());
    }
    same.sort_by(older);
    if same[0].1 == own_id {
        Ok(())
    } else {
        Err(EngineError::Taken { resource: name.to_string() })
    }
}

/// Orders by creation time (RFC 3339 with the engine's own precision, read
/// as instants), then by id so every run agrees on one winner.
pub(super) fn older(a: &(String, String), b: &(String, String)) -> std::cmp::Ordering {
    let at = |t: &str| t.parse::<jiff::Timestamp>().ok();
    at(&a.0).cmp(&at(&b.0)).then_with(|| a.1.cmp(&b.1))
}

/// Whether an engine's answer to a network create says the name is taken
/// (Podman: "network name … already used").
pub fn name_in_use(e: &EngineError) -> bool {
    match e {
        EngineError::Api { detail, .. } => {
            let d = detail.to_ascii_lowercase();
            d.contains("already used") || d.contains("already exists")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_stale_only_when_its_process_is_gone_here() {
        let me = owner_token();
        assert!(!stale(&me), "{me}");
        assert!(stale(&format!("{}.{}.1", this_host(), u32::MAX - 1)));
        assert!(!stale(&format!("elsewhere-host.{}.1", u32::MAX - 1)), "another host's process is not judged");
        assert!(!stale(""));
    }

    #[test]
    fn the_older_network_wins_whatever_the_order() {
        let a = ("2026-11-23T14:00:00.100000001Z".to_string(), "bbb".to_string());
        let b = ("2026-11-23T14:00:00.2Z".to_string(), "aaa".to_string());
        assert_eq!(older(&a, &b), std::cmp::Ordering::Less);
        assert_eq!(older(&b, &a), std::cmp::Ordering::Greater);
        let c = ("2026-11-23T14:00:00.100000001Z".to_string(), "aaa".to_string());
        assert_eq!(older(&c, &a), std::cmp::Ordering::Less, "a tie goes by id");
    }
}
