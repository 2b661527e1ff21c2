//! `exec` and `verify` on a cluster. `exec` runs a command in the app (or
//! candidate) pod over the API server's exec WebSocket. `verify` proves the
//! isolation from inside, as on the engine: a short-lived probe pod (the
//! relay image from the settings, pinned by digest: the cluster cannot pull
//! the locally built one) runs in the sandbox namespace, under its
//! NetworkPolicy, and tries the API server, the node the app runs on (the
//! kubelet, SSH), any target given, and, as a control that must be open,
//! the app's Service.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use k8s_openapi::api::core::v1::{Container, Pod, PodSecurityContext, PodSpec, SeccompProfile};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, AttachParams, DeleteParams, LogParams, PostParams};
use tokio::io::AsyncReadExt as _;

use super::objects::{APP_POD, MANAGED_BY, USER};
use super::{api_error, KubeTarget};
use crate::sandbox::labels;
use crate::targets::Probe;

/// The probe pod's name.
pub const PROBE_POD: &str = "prodbox-verify";
/// How long the probe pod may take to be scheduled, pulled and done.
const PROBE_TIMEOUT: Duration = Duration::from_secs(180);

impl KubeTarget {
    /// Runs `command` in `pod` of sandbox `name`; its exit code and output (stdout, then stderr).
    pub async fn exec(&self, name: &str, pod: &str, command: &[String]) -> anyhow::Result<(i64, String)> {
        let ns = self.namespace(name)?;
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let params = AttachParams::default().stdin(false).stdout(true).stderr(true);
        let mut process = pods
            .exec(pod, command.to_vec(), &params)
            .await
            .map_err(|e| api_error(e, &format!("exec in {ns}/{pod}")))?;
        let mut out = String::new();
        if let Some(mut s) = process.stdout() {
            s.read_to_string(&mut out).await?;
        }
        if let Some(mut s) = process.stderr() {
            s.read_to_string(&mut out).await?;
        }
        let status = match process.take_status() {
            Some(s) => s.await,
            None => None,
        };
        process.join().await.context("closing the exec stream")?;
        Ok((exit_code(status.as_ref()), out))
    }

    /// Probes from inside sandbox `name`'s namespace with `image` (the relay image, pinned).
    pub async fn probe(&self, name: &str, image: &str, extra: &[String]) -> anyhow::Result<Vec<Probe>> {
        let ns = self.namespace(name)?;
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let app = pods
            .get_opt(APP_POD)
            .await
            .map_err(|e| api_error(e, &format!("reading pod app in {ns}")))?
            .with_context(|| format!("no app pod in namespace {ns}; is sandbox {name} up?"))?;
        let targets = plan(&app, extra);
        let _ = pods.delete(PROBE_POD, &DeleteParams::default()).await;
        let args: Vec<String> =
            std::iter::once("scan".to_string()).chain(targets.iter().map(|t| t.target.clone())).collect();
        pods.create(&PostParams::default(), &probe_pod(&self.user, name, image, args))
            .await
            .map_err(|e| api_error(e, "creating the probe pod"))?;
        let result = self.read_probe(&pods, &ns).await;
        let _ = pods.delete(PROBE_POD, &DeleteParams::background()).await;
        let log = result?;
        Ok(targets
            .into_iter()
            .map(|mut t| {
                t.open = log.lines().any(|l| l == format!("{} open", t.target));
                t
            })
            .collect())
    }

    async fn read_probe(&self, pods: &Api<Pod>, ns: &str) -> anyhow::Result<String> {
        let start = Instant::now();
        loop {
            let p = pods.get(PROBE_POD).await.map_err(|e| api_error(e, "reading the probe pod"))?;
            match p.status.as_ref().and_then(|s| s.phase.as_deref()) {
                Some("Succeeded") => break,
                Some("Failed") => bail!("the probe pod in {ns} failed; `kubectl -n {ns} describe pod {PROBE_POD}`"),
                _ if start.elapsed() > PROBE_TIMEOUT => {
                    bail!(
                        "the probe pod in {ns} did not finish in {}s (can the nodes pull the relay image?)",
                        PROBE_TIMEOUT.as_secs()
                    )
                }
                _ => tokio::time::sleep(self.poll).await,
            }
        }
        pods.logs(PROBE_POD, &LogParams::default()).await.map_err(|e| api_error(e, "reading the probe's output"))
    }
}

/// What to probe: the control (the app's Service, must be open), the API
/// server, the node under the app, and the given targets.
pub fn plan(app: &Pod, extra: &[String]) -> Vec<Probe> {
    let probe =
        |target: String, what: &str, must_block: bool| Probe { target, what: what.into(), open: false, must_block };
    let mut out = Vec::new();
    let first_port = app
        .spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
        .map(|p| p.container_port)
        .next();
    if let Some(port) = first_port {
        out.push(probe(format!("app:{port}"), "the app's Service, in the namespace (control: must be open)", false));
    }
    out.push(probe("kubernetes.default.svc:443".into(), "the API server, by its Service", true));
    if let Some(host) = app.status.as_ref().and_then(|s| s.host_ip.clone()) {
        out.push(probe(format!("{host}:10250"), "the node's kubelet", true));
        out.push(probe(format!("{host}:22"), "the node's SSH", true));
    }
    for t in extra {
        out.push(probe(t.clone(), "given", true));
    }
    out
}

fn probe_pod(user: &str, sandbox: &str, image: &str, args: Vec<String>) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(PROBE_POD.into()),
            labels: Some(
                [
                    (MANAGED_BY.to_string(), "prodbox".to_string()),
                    (USER.to_string(), user.to_string()),
                    (labels::SANDBOX.to_string(), sandbox.to_string()),
                    (labels::ROLE.to_string(), "probe".to_string()),
                ]
                .into(),
            ),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "probe".into(),
                image: Some(image.into()),
                args: Some(args),
                security_context: Some(super::objects::restricted(true, &[])),
                ..Default::default()
            }],
            restart_policy: Some("Never".into()),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The exit code in an exec's final Status: 0 on Success, else the
/// `ExitCode` cause, else 1.
fn exit_code(status: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>) -> i64 {
    let Some(s) = status else { return 1 };
    if s.status.as_deref() == Some("Success") {
        return 0;
    }
    s.details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .and_then(|c| c.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
        .and_then(|c| c.message.as_deref())
        .and_then(|m| m.parse().ok())
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Status, StatusCause, StatusDetails};

    #[test]
    fn exec_exit_codes_come_from_the_status() {
        assert_eq!(exit_code(Some(&Status { status: Some("Success".into()), ..Default::default() })), 0);
        let failed = Status {
            status: Some("Failure".into()),
            details: Some(StatusDetails {
                causes: Some(vec![StatusCause {
                    reason: Some("ExitCode".into()),
                    message: Some("3".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(exit_code(Some(&failed)), 3);
        assert_eq!(exit_code(None), 1);
    }

    #[test]
    fn verify_probes_the_api_server_the_node_and_a_control() {
        let app: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "app"},
            "spec": {"containers": [{"name": "app", "ports": [{"containerPort": 8080}]}]},
            "status": {"hostIP": "10.0.0.7"}
        }))
        .unwrap();
        let p = plan(&app, &["db.prod.example.com:5432".into()]);
        let targets: Vec<(&str, bool)> = p.iter().map(|p| (p.target.as_str(), p.must_block)).collect();
        assert_eq!(
            targets,
            [
                ("app:8080", false),
                ("kubernetes.default.svc:443", true),
                ("10.0.0.7:10250", true),
                ("10.0.0.7:22", true),
                ("db.prod.example.com:5432", true)
            ]
        );
        let pod = probe_pod("alice", "demo", "r/relay@sha256:00", vec!["scan".into()]);
        let spec = pod.spec.unwrap();
        assert_eq!(spec.automount_service_account_token, Some(false));
        assert_eq!(spec.containers[0].security_context.as_ref().unwrap().allow_privilege_escalation, Some(false));
    }
}
