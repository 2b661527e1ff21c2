//! One `up` per sandbox name at a time, with the engine as the lock: the
//! sandbox network is created by its exact name, and when two runs made one
//! each, the older network wins and the other run gives up (removing only
//! what it made itself, by its owner label). Podman refuses a second network
//! of one name itself; Docker 20.10 makes both, so they are counted here.

use bollard::query_parameters::ListNetworksOptionsBuilder;

use crate::engine::{self, Engine, EngineError};

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
        Err(EngineError::Taken { network: name.to_string() })
    }
}

/// Orders by creation time (RFC 3339 with the engine's own precision, read
/// as instants), then by id so every run agrees on one winner.
fn older(a: &(String, String), b: &(String, String)) -> std::cmp::Ordering {
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
    fn the_older_network_wins_whatever_the_order() {
        let a = ("2026-11-23T14:00:00.100000001Z".to_string(), "bbb".to_string());
        let b = ("2026-11-23T14:00:00.2Z".to_string(), "aaa".to_string());
        assert_eq!(older(&a, &b), std::cmp::Ordering::Less);
        assert_eq!(older(&b, &a), std::cmp::Ordering::Greater);
        let c = ("2026-11-23T14:00:00.100000001Z".to_string(), "aaa".to_string());
        assert_eq!(older(&c, &a), std::cmp::Ordering::Less, "a tie goes by id");
    }
}
