//! `doctor`'s proof that this engine can make a sandbox: a sandbox network
//! made and checked exactly as `up` makes it (never silently open), and two
//! containers on it that reach each other by name. Everything it makes
//! carries a `dev.prodbox.sandbox` label of its own and is removed after.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{CreateContainerOptionsBuilder, StartContainerOptions, WaitContainerOptions};
use futures_util::StreamExt;

use super::network::{self, slot, SandboxNetwork};
use super::{labels, relay};
use crate::engine::{self, Engine, EngineError};

/// What the self-test found.
#[derive(Debug)]
pub enum SelfTest {
    /// Isolated, and its containers reach each other.
    Passed,
    /// The network would not be isolated (the `up` check failed).
    NotIsolated(String),
    /// Isolated, but containers on it could not reach each other.
    Unreachable(String),
}

/// Runs the self-test with the relay image `image` (it both listens and probes).
pub async fn run(engine: &Engine, image: &str) -> Result<SelfTest, EngineError> {
    let name = format!("prodbox-doctor-{}", std::process::id());
    let base = HashMap::from([(labels::SANDBOX.to_string(), name.clone())]);
    let result = async {
        let names =
            BTreeMap::from([("doctor-a".to_string(), slot::DOCTOR_A), ("doctor-b".to_string(), slot::DOCTOR_B)]);
        let net = match network::create(engine, &name, names, &base).await {
            Ok(net) => net,
            Err(e @ EngineError::NotIsolated { .. }) => return Ok(SelfTest::NotIsolated(e.to_string())),
            Err(e) => return Err(e),
        };
        let listener = format!("{name}-a");
        let serve = ["forward", "7000=127.0.0.1:9"];
        container(engine, &net, (&listener, "doctor-a", slot::DOCTOR_A), image, &serve, &base).await?;
        start(engine, &listener).await?;
        let prober = format!("{name}-b");
        let probe = ["probe", "doctor-a:7000"];
        container(engine, &net, (&prober, "doctor-b", slot::DOCTOR_B), image, &probe, &base).await?;
        // The listener may need a moment: a few tries.
        for _ in 0..5 {
            start(engine, &prober).await?;
            let mut wait = engine.docker.wait_container(&prober, None::<WaitContainerOptions>);
            let mut code = 0;
            while let Some(next) = wait.next().await {
                match next {
                    Ok(r) => code = r.status_code,
                    Err(bollard::errors::Error::DockerContainerWaitError { code: c, .. }) => code = c,
                    Err(e) => return Err(engine::api(format!("waiting for {prober}"), e)),
                }
            }
            if code == 0 {
                return Ok(SelfTest::Passed);
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        Ok(SelfTest::Unreachable(format!(
            "a container on {name} could not reach another on it by name (doctor-a:7000)"
        )))
    }
    .await;
    let _ = super::remove(engine, &name).await;
    result
}

async fn container(
    engine: &Engine,
    net: &SandboxNetwork,
    (name, alias, at): (&str, &str, u8),
    image: &str,
    cmd: &[&str],
    base: &HashMap<String, String>,
) -> Result<(), EngineError> {
    let host = network::probe_host(net);
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        entrypoint: Some(vec![relay::PATH.to_string()]),
        cmd: Some(cmd.iter().map(|c| c.to_string()).collect()),
        labels: Some(base.clone()),
        host_config: Some(host),
        networking_config: Some(net.networking(at, vec![alias.to_string()])),
        ..Default::default()
    };
    engine
        .docker
        .create_container(Some(CreateContainerOptionsBuilder::default().name(name).build()), body)
        .await
        .map_err(|e| engine::api(format!("creating {name}"), e))?;
    Ok(())
}

async fn start(engine: &Engine, name: &str) -> Result<(), EngineError> {
    engine
        .docker
        .start_container(name, None::<StartContainerOptions>)
        .await
        .map_err(|e| engine::api(format!("starting {name}"), e))
}
