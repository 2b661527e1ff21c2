//! The Kubernetes target (kube-rs): one namespace per sandbox, isolated
//! before anything runs in it.
//!
//! `up` sends, in this order: the namespace (Pod Security `restricted`,
//! prodbox labels, `expires-at`), the deny-all NetworkPolicy, the
//! ResourceQuota and LimitRange, the ConfigMap of sanitized config, the
//! Services, then the pods. A failure at any step deletes the namespace, so
//! no pod can exist without the policy. `down` deletes the namespace; `ls`
//! and `gc` select namespaces by the prodbox and user labels, and `gc`
//! honours `expires-at`. See `docs/kubernetes.md`.

pub mod objects;
pub mod portforward;
pub mod probe;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use futures_util::future::BoxFuture;
use futures_util::{AsyncBufReadExt as _, StreamExt as _};
use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, Namespace, Pod, ResourceQuota, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::{Gone, KubeTargetSettings, Probe, Removed, Role, SandboxInfo, SandboxTarget, Sink, Started};
use crate::sandbox::{labels, HealthPlan, SandboxSpec};
use crate::timestamp::Timestamp;
use objects::{Plan, APP_POD, CANDIDATE_POD, EXPIRES_AT, MANAGED_BY, USER};

/// How often the namespace and pods are polled.
const POLL: Duration = Duration::from_millis(500);
/// Deleting a namespace takes the cluster a while (its pods stop first).
const NAMESPACE_GONE_TIMEOUT: Duration = Duration::from_secs(180);
/// The node pulls the image before the health check's own timeout starts.
const PULL_ALLOWANCE: Duration = Duration::from_secs(300);

/// A cluster, the namespace prefix and the local user whose sandboxes these are.
#[derive(Clone)]
pub struct KubeTarget {
    pub client: kube::Client,
    pub prefix: String,
    /// The local user as a label value.
    pub user: String,
    /// Where `up` polls (shorter in tests).
    pub poll: Duration,
    /// The relay image `verify`'s probe pod runs (pinned, pullable by the nodes).
    pub relay_image: Option<String>,
}

impl KubeTarget {
    /// A client from the kubeconfig (`$KUBECONFIG`, else `~/.kube/config`) and context.
    pub async fn connect(settings: &KubeTargetSettings) -> anyhow::Result<KubeTarget> {
        let kubeconfig = Kubeconfig::read().map_err(|e| kubeconfig_error(&e))?;
        if let Some(context) = &settings.context {
            if !kubeconfig.contexts.iter().any(|c| &c.name == context) {
                let known: Vec<&str> = kubeconfig.contexts.iter().map(|c| c.name.as_str()).collect();
                return Err(crate::error::UsageError(format!(
                    "the kubeconfig has no context {context:?} (it has: {}); see `kubectl config get-contexts`",
                    known.join(", ")
                ))
                .into());
            }
        }
        let options = KubeConfigOptions { context: settings.context.clone(), ..Default::default() };
        let mut config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &options).await.map_err(|e| kubeconfig_error(&e))?;
        config.connect_timeout = Some(Duration::from_secs(5));
        config.read_timeout = None; // logs -f and port-forward stay open
        let client = kube::Client::try_from(config).context("making a Kubernetes client")?;
        Ok(KubeTarget::new(client, &settings.namespace_prefix, &local_user()))
    }

    /// A target over any client (the tests pass a mock).
    pub fn new(client: kube::Client, prefix: &str, user: &str) -> KubeTarget {
        KubeTarget { client, prefix: prefix.into(), user: objects::user_label(user), poll: POLL, relay_image: None }
    }

    /// The namespace a sandbox of this user lives in.
    pub fn namespace(&self, sandbox: &str) -> anyhow::Result<String> {
        objects::namespace_name(&self.prefix, &self.user, sandbox).map_err(|e| crate::error::UsageError(e).into())
    }

    fn selector(&self) -> String {
        format!("{MANAGED_BY}=prodbox,{USER}={}", self.user)
    }

    /// Creates the sandbox's objects in order; deletes the namespace when a step fails.
    pub async fn create(&self, spec: &SandboxSpec, ttl: Duration) -> anyhow::Result<Started> {
        if let Some(cap) = spec.cap_add.iter().find(|c| !objects::allowed_cap_add(c)) {
            bail!(crate::error::UsageError(format!(
                "cap_add {cap}: the Pod Security level `restricted` allows adding only NET_BIND_SERVICE; remove it from [run].cap_add to run on a cluster"
            )));
        }
        let namespace = self.namespace(&spec.name)?;
        if self.remove_namespace(&namespace, true).await? {
            self.wait_gone(&namespace).await?;
        }
        let plan = Plan {
            spec,
            namespace: namespace.clone(),
            user: self.user.clone(),
            expires_at: Timestamp(Timestamp::now().0 + ttl.as_secs() as i64),
        };
        let pp = PostParams::default();
        Api::<Namespace>::all(self.client.clone())
            .create(&pp, &plan.namespace())
            .await
            .map_err(|e| api_error(e, &format!("creating namespace {namespace}")))?;
        match self.fill(&plan, &pp).await {
            Ok(()) => Ok(Started {
                location: namespace,
                app_ports: spec.ports.iter().map(|p| p.container).collect(),
                candidate_ports: if spec.candidate.is_some() {
                    spec.ports.iter().map(|p| p.container).collect()
                } else {
                    Vec::new()
                },
            }),
            Err(e) => {
                let cleanup = match self.remove_namespace(&namespace, false).await {
                    Ok(_) => format!("deleted namespace {namespace}"),
                    Err(d) => format!("could not delete namespace {namespace} ({d}); run `prodbox down {}`", spec.name),
                };
                Err(e.context(format!("up {} on the cluster: {cleanup}", spec.name)))
            }
        }
    }

    /// Everything inside the namespace, isolation first: no pod request is
    /// sent unless the deny policy was created.
    async fn fill(&self, plan: &Plan<'_>, pp: &PostParams) -> anyhow::Result<()> {
        let ns = plan.namespace.as_str();
        let c = || self.client.clone();
        Api::<NetworkPolicy>::namespaced(c(), ns)
            .create(pp, &plan.network_policy())
            .await
            .map_err(|e| api_error(e, "creating the deny-all NetworkPolicy (prodbox runs nothing without it)"))?;
        Api::<ResourceQuota>::namespaced(c(), ns)
            .create(pp, &plan.resource_quota())
            .await
            .map_err(|e| api_error(e, "creating the ResourceQuota"))?;
        Api::<LimitRange>::namespaced(c(), ns)
            .create(pp, &plan.limit_range())
            .await
            .map_err(|e| api_error(e, "creating the LimitRange"))?;
        Api::<ConfigMap>::namespaced(c(), ns)
            .create(pp, &plan.config_map())
            .await
            .map_err(|e| api_error(e, "creating the ConfigMap of sanitized config"))?;
        let services = Api::<Service>::namespaced(c(), ns);
        for s in plan.services() {
            let name = s.metadata.name.clone().unwrap_or_default();
            services.create(pp, &s).await.map_err(|e| api_error(e, &format!("creating service {name}")))?;
        }
        let pods = Api::<Pod>::namespaced(c(), ns);
        for p in plan.pods() {
            let name = p.metadata.name.clone().unwrap_or_default();
            pods.create(pp, &p).await.map_err(|e| api_error(e, &format!("creating pod {name}")))?;
        }
        Ok(())
    }

    /// Deletes a sandbox namespace; `false` when there was none. With
    /// `check_owner`, refuses one that is not this user's prodbox namespace.
    async fn remove_namespace(&self, namespace: &str, check_owner: bool) -> anyhow::Result<bool> {
        let api = Api::<Namespace>::all(self.client.clone());
        if check_owner {
            let Some(ns) =
                api.get_opt(namespace).await.map_err(|e| api_error(e, &format!("reading namespace {namespace}")))?
            else {
                return Ok(false);
            };
            let l = ns.metadata.labels.unwrap_or_default();
            if l.get(MANAGED_BY).map(String::as_str) != Some("prodbox") || l.get(USER) != Some(&self.user) {
                bail!(crate::error::UsageError(format!(
                    "namespace {namespace} exists and is not a prodbox sandbox of {}; choose another --name",
                    self.user
                )));
            }
        }
        match api.delete(namespace, &DeleteParams::background()).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(e) => Err(api_error(e, &format!("deleting namespace {namespace}"))),
        }
    }

    async fn wait_gone(&self, namespace: &str) -> anyhow::Result<()> {
        let api = Api::<Namespace>::all(self.client.clone());
        let start = Instant::now();
        while api.get_opt(namespace).await.map_err(|e| api_error(e, "waiting for the old namespace"))?.is_some() {
            if start.elapsed() > NAMESPACE_GONE_TIMEOUT {
                bail!("namespace {namespace} is still terminating after {NAMESPACE_GONE_TIMEOUT:?}; try again later");
            }
            tokio::time::sleep(self.poll).await;
        }
        Ok(())
    }

    /// Waits until `pod` is Ready; fails at once on a state that will not heal.
    pub async fn wait_ready(&self, namespace: &str, pod: &str, plan: &HealthPlan) -> anyhow::Result<()> {
        let api = Api::<Pod>::namespaced(self.client.clone(), namespace);
        let limit = health_timeout(plan) + PULL_ALLOWANCE;
        let start = Instant::now();
        loop {
            let p = api.get(pod).await.map_err(|e| api_error(e, &format!("reading pod {pod}")))?;
            match pod_state(&p) {
                PodState::Ready => return Ok(()),
                PodState::Broken(why) => bail!("pod {pod} in namespace {namespace} cannot start: {why}"),
                PodState::Waiting(_) if start.elapsed() > limit => {
                    bail!(
                        "pod {pod} in namespace {namespace} was not ready after {}s ({})",
                        limit.as_secs(),
                        plan.describe()
                    )
                }
                PodState::Waiting(_) => tokio::time::sleep(self.poll).await,
            }
        }
    }

    /// This user's sandboxes on the cluster.
    pub async fn sandboxes(&self) -> anyhow::Result<Vec<SandboxInfo>> {
        let namespaces = Api::<Namespace>::all(self.client.clone())
            .list(&ListParams::default().labels(&self.selector()))
            .await
            .map_err(|e| api_error(e, "listing prodbox namespaces"))?;
        let mut out = Vec::new();
        for ns in namespaces {
            let name = ns.metadata.name.clone().unwrap_or_default();
            let l = ns.metadata.labels.clone().unwrap_or_default();
            let a = ns.metadata.annotations.clone().unwrap_or_default();
            let status = if ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating") {
                "terminating".to_string()
            } else {
                match Api::<Pod>::namespaced(self.client.clone(), &name).get_opt(APP_POD).await {
                    Ok(Some(p)) => pod_status(&p),
                    Ok(None) => "missing".into(),
                    Err(e) => return Err(api_error(e, &format!("reading the app pod in {name}"))),
                }
            };
            out.push(SandboxInfo {
                name: l.get(labels::SANDBOX).cloned().unwrap_or_default(),
                deploy: crate::identity::Identity {
                    service: l.get(labels::SERVICE).cloned().unwrap_or_default(),
                    digest: a.get(labels::DIGEST).cloned().unwrap_or_default(),
                    deployed_at: a.get(labels::DEPLOYED_AT).cloned(),
                    ..Default::default()
                },
                status,
                location: Some(format!("namespace/{name}")),
                expires_at: a.get(EXPIRES_AT).and_then(|t| Timestamp::parse(t)).map(|t| t.0),
                ..Default::default()
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Deletes every sandbox of this user whose `expires-at` passed.
    pub async fn collect(&self, now: i64) -> anyhow::Result<Vec<(String, Removed)>> {
        let mut out = Vec::new();
        for s in self.sandboxes().await? {
            if s.expired(now) && s.status != "terminating" {
                let ns = self.namespace(&s.name)?;
                if self.remove_namespace(&ns, false).await? {
                    out.push((s.name, Removed::namespace()));
                }
            }
        }
        Ok(out)
    }

    /// Deletes every sandbox namespace of this user labelled with all of `only`.
    pub async fn remove_all(&self, only: &[(&str, &str)]) -> anyhow::Result<Vec<(String, Removed)>> {
        let mut selector = self.selector();
        for (k, v) in only {
            selector.push_str(&format!(",{k}={}", objects::label_value(v)));
        }
        let namespaces = Api::<Namespace>::all(self.client.clone())
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| api_error(e, "listing prodbox namespaces"))?;
        let mut out = Vec::new();
        for ns in namespaces {
            let name = ns.metadata.name.clone().unwrap_or_default();
            let sandbox = ns.metadata.labels.unwrap_or_default().get(labels::SANDBOX).cloned().unwrap_or_default();
            if self.remove_namespace(&name, false).await? {
                out.push((sandbox, Removed::namespace()));
            }
        }
        Ok(out)
    }
}

impl SandboxTarget for KubeTarget {
    fn up<'a>(&'a self, spec: &'a SandboxSpec, ttl: Duration) -> BoxFuture<'a, anyhow::Result<Started>> {
        Box::pin(self.create(spec, ttl))
    }

    fn wait_healthy<'a>(&'a self, spec: &'a SandboxSpec) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let ns = self.namespace(&spec.name)?;
            let app = self.wait_ready(&ns, APP_POD, &spec.health);
            let candidate = async {
                match &spec.candidate {
                    Some(_) => self.wait_ready(&ns, CANDIDATE_POD, &spec.health).await.context("the candidate"),
                    None => Ok(()),
                }
            };
            let (a, c) = tokio::join!(app, candidate);
            a.and(c)
        })
    }

    fn down<'a>(&'a self, name: &'a str) -> BoxFuture<'a, anyhow::Result<Gone>> {
        Box::pin(async move {
            let ns = self.namespace(name)?;
            let removed =
                if self.remove_namespace(&ns, true).await? { Removed::namespace() } else { Removed::default() };
            Ok(Gone { removed, tried: None })
        })
    }

    fn down_all<'a>(&'a self, only: &'a [(&'a str, &'a str)]) -> BoxFuture<'a, anyhow::Result<Vec<(String, Gone)>>> {
        Box::pin(async move {
            let removed = self.remove_all(only).await?;
            Ok(removed.into_iter().map(|(name, removed)| (name, Gone { removed, tried: None })).collect())
        })
    }

    fn list(&self) -> BoxFuture<'_, anyhow::Result<Vec<SandboxInfo>>> {
        Box::pin(self.sandboxes())
    }

    fn gc(&self, now: i64) -> BoxFuture<'_, anyhow::Result<Vec<(String, Removed)>>> {
        Box::pin(self.collect(now))
    }

    fn logs<'a>(
        &'a self,
        name: &'a str,
        role: Role,
        follow: bool,
        tail: Option<usize>,
        sink: Sink,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let ns = self.namespace(name)?;
            let pod = role_pod(role);
            let api = Api::<Pod>::namespaced(self.client.clone(), &ns);
            let params = LogParams { follow, tail_lines: tail.map(|t| t as i64), ..Default::default() };
            let doing = || format!("reading the logs of pod {pod} in {ns}");
            if !follow {
                let text = api.logs(pod, &params).await.map_err(|e| api_error(e, &doing()))?;
                sink.out(text.as_bytes());
                return Ok(());
            }
            let mut lines = api.log_stream(pod, &params).await.map_err(|e| api_error(e, &doing()))?.lines();
            while let Some(line) = lines.next().await {
                sink.out(format!("{}\n", line?).as_bytes());
            }
            Ok(())
        })
    }

    /// Output is always captured: the API's exec carries no TTY here.
    fn exec<'a>(
        &'a self,
        name: &'a str,
        role: Role,
        command: &'a [String],
        _interactive: bool,
    ) -> BoxFuture<'a, anyhow::Result<(i64, String)>> {
        Box::pin(KubeTarget::exec(self, name, role_pod(role), command))
    }

    fn verify<'a>(&'a self, name: &'a str, extra: &'a [String]) -> BoxFuture<'a, anyhow::Result<Vec<Probe>>> {
        Box::pin(async move {
            let image = match &self.relay_image {
                Some(image) => image.clone(),
                None => crate::settings::relay_image().map_err(crate::error::UsageError)?.map(|(image, _)| image).ok_or_else(|| {
                    crate::error::UsageError(
                        "verify on a cluster runs its probe from the relay image, which the nodes must pull: set relay_image (pinned by digest) in the settings file; see docs/relay.md".into(),
                    )
                })?,
            };
            self.probe(name, &image, extra).await
        })
    }

    fn ls_hint(&self) -> &'static str {
        "prodbox ls --target kubernetes"
    }
}

/// kube's kubeconfig errors as usage errors, without quoting the file (it holds tokens).
fn kubeconfig_error(e: &kube::config::KubeconfigError) -> anyhow::Error {
    use kube::config::KubeconfigError;
    let detail = match e {
        KubeconfigError::Parse(_) => "the kubeconfig is not valid YAML".to_string(),
        KubeconfigError::FindPath => "no kubeconfig found: set $KUBECONFIG or create ~/.kube/config".to_string(),
        other => other.to_string(),
    };
    crate::error::UsageError(format!("--target kubernetes: {detail}")).into()
}

/// The pod that plays a role.
pub fn role_pod(role: Role) -> &'static str {
    match role {
        Role::Candidate => CANDIDATE_POD,
        _ => APP_POD,
    }
}

/// The local user: `$USER`, else `$USERNAME`, else `unknown`.
pub fn local_user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into())
}

fn health_timeout(plan: &HealthPlan) -> Duration {
    match plan {
        HealthPlan::Http { timeout, .. }
        | HealthPlan::Tcp { timeout, .. }
        | HealthPlan::Image { timeout }
        | HealthPlan::ImageByExec { timeout, .. } => *timeout,
        HealthPlan::Running => Duration::from_secs(60),
    }
}

enum PodState {
    Ready,
    Waiting(String),
    Broken(String),
}

/// Reasons a container will not get past by waiting.
const BROKEN: &[&str] =
    &["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CrashLoopBackOff"];

fn pod_state(p: &Pod) -> PodState {
    let Some(status) = &p.status else { return PodState::Waiting("no status yet".into()) };
    if status.phase.as_deref() == Some("Failed") {
        return PodState::Broken(status.message.clone().unwrap_or_else(|| "the pod failed".into()));
    }
    for c in status.container_statuses.iter().flatten() {
        if let Some(w) = c.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            let reason = w.reason.clone().unwrap_or_default();
            if BROKEN.contains(&reason.as_str()) {
                // The kubelet's message names the image and the cause, never config values.
                return PodState::Broken(format!("{reason}: {}", w.message.clone().unwrap_or_default()));
            }
        }
    }
    let ready = status.conditions.iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True");
    if ready {
        PodState::Ready
    } else {
        PodState::Waiting(status.phase.clone().unwrap_or_default())
    }
}

/// `running` once Ready, else the phase in lower case (`pending`, `failed`).
fn pod_status(p: &Pod) -> String {
    match pod_state(p) {
        PodState::Ready => "running".into(),
        PodState::Broken(_) => "failed".into(),
        PodState::Waiting(phase) if phase.is_empty() => "pending".into(),
        PodState::Waiting(phase) => phase.to_lowercase(),
    }
}

/// A kube error with what was being done and, for the usual refusals, what to do.
pub(super) fn api_error(e: kube::Error, doing: &str) -> anyhow::Error {
    match e {
        kube::Error::Api(s) => {
            let hint = match s.code {
                401 => "; the kubeconfig's credentials were refused: log in again",
                403 => {
                    "; the cluster refused it: apply deploy/kubernetes/rbac.yaml for this user (see docs/kubernetes.md)"
                }
                404 => "; the cluster does not serve this kind (is the networking.k8s.io API enabled?)",
                _ => "",
            };
            anyhow!("{doing}: the cluster answered {} {}: {}{hint}", s.code, s.reason, s.message)
        }
        other => {
            let mut detail = other.to_string();
            let mut source = std::error::Error::source(&other);
            while let Some(s) = source {
                detail = format!("{detail}: {s}");
                source = s.source();
            }
            super::ClusterUnreachable { doing: doing.into(), detail }.into()
        }
    }
}
