//! The `kubernetes` source (kube-rs): a Deployment or StatefulSet in a
//! context and namespace. The digest is what the ready pods of the current
//! revision report (`status.containerStatuses[].imageID`); env comes from
//! literals and ConfigMaps; Secret references stay references (prodbox never
//! reads a Secret: it needs get/list on deployments, statefulsets,
//! replicasets, pods and configmaps only); ConfigMap volumes become files;
//! `resources.limits` become the record's `limits`. History: the
//! Deployment's ReplicaSets by `deployment.kubernetes.io/revision`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use futures_util::future::BoxFuture;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use serde_json::{json, Map, Value};

use super::{Answer, DeploySource, Query, ResolveError};
use crate::image_ref::ImageRef;
use crate::profile::Workload;

/// A JSON object: the record's `env` or `files`.
type JsonMap = Map<String, Value>;

const REVISION: &str = "deployment.kubernetes.io/revision";
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// A workload in a cluster.
pub struct KubeSource {
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub workload: Workload,
    pub container: Option<String>,
    pub kubeconfig: Option<PathBuf>,
}

impl DeploySource for KubeSource {
    fn current<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, ResolveError>> {
        Box::pin(async move {
            let cluster = self.connect(query).await?;
            let (json, notes) = match &self.workload {
                Workload::Deployment(name) => cluster.deployment_current(&query.expand(name)).await?,
                Workload::StatefulSet(name) => cluster.statefulset_current(&query.expand(name)).await?,
            };
            Ok(Answer { origin: cluster.origin, json, notes })
        })
    }

    fn history<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, ResolveError>> {
        Box::pin(async move {
            let cluster = self.connect(query).await?;
            match &self.workload {
                Workload::Deployment(name) => {
                    let json = cluster.deployment_history(&query.expand(name)).await?;
                    Ok(Answer::new(cluster.origin, json))
                }
                Workload::StatefulSet(_) => Err(ResolveError::NoHistory {
                    origin: cluster.origin,
                    service: query.service.clone(),
                    hint: "a StatefulSet keeps its history in ControllerRevisions, which prodbox does not read yet"
                        .into(),
                }),
            }
        })
    }
}

/// A connected client, the namespace, and what to ask about.
struct Cluster {
    client: kube::Client,
    namespace: String,
    origin: String,
    container: Option<String>,
    service: String,
}

impl KubeSource {
    async fn connect(&self, query: &Query) -> Result<Cluster, ResolveError> {
        let setup = |detail: String| ResolveError::Setup { origin: "kubeconfig".into(), detail };
        let kubeconfig = match &self.kubeconfig {
            Some(path) => Kubeconfig::read_from(path),
            None => Kubeconfig::read(),
        }
        .map_err(|e| setup(kubeconfig_error(&e)))?;
        if let Some(context) = &self.context {
            if !kubeconfig.contexts.iter().any(|c| &c.name == context) {
                let known: Vec<&str> = kubeconfig.contexts.iter().map(|c| c.name.as_str()).collect();
                return Err(setup(format!(
                    "has no context {context:?} (it has: {}); fix [source].context or `kubectl config get-contexts`",
                    known.join(", ")
                )));
            }
        }
        let options = KubeConfigOptions { context: self.context.clone(), ..Default::default() };
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| setup(kubeconfig_error(&e)))?;
        config.connect_timeout = Some(Duration::from_secs(5));
        config.read_timeout = Some(Duration::from_secs(15));
        let namespace = self.namespace.as_deref().map(|n| query.expand(n)).unwrap_or(config.default_namespace.clone());
        let origin = format!("kubernetes {} {namespace}/{}", config.cluster_url, self.workload);
        let client = kube::Client::try_from(config).map_err(|e| setup(format!("cannot make a client: {e}")))?;
        Ok(Cluster { client, namespace, origin, container: self.container.clone(), service: query.service.clone() })
    }
}

/// kube's kubeconfig errors, without quoting the file (it holds tokens).
fn kubeconfig_error(e: &KubeconfigError) -> String {
    match e {
        KubeconfigError::Parse(_) => "the kubeconfig is not valid YAML".into(),
        KubeconfigError::FindPath => "no kubeconfig found: set $KUBECONFIG or [source].kubeconfig".into(),
        other => format!("{other}"),
    }
}

impl Cluster {
    fn api_error(&self, what: &str, e: kube::Error) -> ResolveError {
        match e {
            kube::Error::Api(s) if s.code == 404 => ResolveError::Setup {
                origin: self.origin.clone(),
                detail: format!(
                    "{what} does not exist in namespace {}; check [source].workload, namespace and context",
                    self.namespace
                ),
            },
            kube::Error::Api(s) => ResolveError::Rejected {
                origin: self.origin.clone(),
                status: s.code,
                hint: match s.code {
                    401 => "; the kubeconfig's credentials were refused: log in again".into(),
                    403 => format!(
                        " reading {what}; prodbox needs get/list on deployments, statefulsets, replicasets, pods and configmaps in {}",
                        self.namespace
                    ),
                    _ => format!(" reading {what}"),
                },
            },
            other => {
                let mut detail = other.to_string();
                let mut source = std::error::Error::source(&other);
                while let Some(s) = source {
                    detail = format!("{detail}: {s}");
                    source = s.source();
                }
                ResolveError::Unreachable { origin: self.origin.clone(), detail }
            }
        }
    }

    fn bad(&self, detail: String) -> ResolveError {
        ResolveError::BadAnswer { origin: self.origin.clone(), detail }
    }

    async fn deployment_current(&self, name: &str) -> Result<(Value, Vec<String>), ResolveError> {
        let d: Deployment = Api::namespaced(self.client.clone(), &self.namespace)
            .get(name)
            .await
            .map_err(|e| self.api_error(&format!("deployment/{name}"), e))?;
        let (sets, pods) = self.sets_and_pods(&d, name).await?;
        let revision = annotation(&d.metadata, REVISION);
        let current = sets
            .iter()
            .find(|rs| revision.is_some() && annotation(&rs.metadata, REVISION) == revision)
            .or_else(|| sets.iter().max_by_key(|rs| rs_revision(rs)))
            .ok_or_else(|| self.bad(format!("deployment/{name} has no ReplicaSet yet")))?;
        let template = current.spec.as_ref().and_then(|s| s.template.as_ref()).or(d.spec.as_ref().map(|s| &s.template));
        let template = template.ok_or_else(|| self.bad(format!("deployment/{name} has no pod template")))?;
        let mut notes = Vec::new();
        let older_ready: i32 = sets
            .iter()
            .filter(|rs| rs.metadata.uid != current.metadata.uid)
            .filter_map(|rs| rs.status.as_ref().and_then(|s| s.ready_replicas))
            .sum();
        if older_ready > 0 {
            notes.push(format!("rollout in progress: {older_ready} ready pod(s) of older revisions still run"));
        }
        let own: Vec<&Pod> = pods.iter().filter(|p| owned_by(&p.metadata, &current.metadata)).collect();
        let record = self.record(template, &own, true, &mut notes, &current.metadata).await?;
        Ok((record, notes))
    }

    async fn statefulset_current(&self, name: &str) -> Result<(Value, Vec<String>), ResolveError> {
        let s: StatefulSet = Api::namespaced(self.client.clone(), &self.namespace)
            .get(name)
            .await
            .map_err(|e| self.api_error(&format!("statefulset/{name}"), e))?;
        let spec = s.spec.as_ref().ok_or_else(|| self.bad(format!("statefulset/{name} has no spec")))?;
        let pods = self.pods(&spec.selector).await?;
        let status = s.status.as_ref();
        let revision = status.and_then(|st| st.update_revision.clone().or(st.current_revision.clone()));
        let own: Vec<&Pod> = pods
            .iter()
            .filter(|p| owned_by(&p.metadata, &s.metadata))
            .filter(|p| revision.is_none() || label(&p.metadata, "controller-revision-hash") == revision.as_deref())
            .collect();
        // When this revision's pods started stands for when it was deployed.
        let meta = ObjectMeta {
            creation_timestamp: own.iter().filter_map(|p| p.metadata.creation_timestamp.clone()).min(),
            annotations: revision.map(|r| BTreeMap::from([(REVISION.to_string(), r)])),
            ..s.metadata.clone()
        };
        let mut notes = Vec::new();
        let record = self.record(&spec.template, &own, true, &mut notes, &meta).await?;
        Ok((record, notes))
    }

    async fn deployment_history(&self, name: &str) -> Result<Value, ResolveError> {
        let d: Deployment = Api::namespaced(self.client.clone(), &self.namespace)
            .get(name)
            .await
            .map_err(|e| self.api_error(&format!("deployment/{name}"), e))?;
        let (sets, pods) = self.sets_and_pods(&d, name).await?;
        let mut deploys = Vec::new();
        for rs in &sets {
            let Some(template) = rs.spec.as_ref().and_then(|s| s.template.as_ref()) else { continue };
            let own: Vec<&Pod> = pods.iter().filter(|p| owned_by(&p.metadata, &rs.metadata)).collect();
            let mut notes = Vec::new();
            // Old revisions' pods are mostly gone or not ready: any that reports a digest counts.
            let record = self.record(template, &own, false, &mut notes, &rs.metadata).await;
            match record {
                Ok(r) => deploys.push(r),
                // No pod left and a tag in the template: listed, digest unknown.
                Err(ResolveError::NoMatch(_)) => {
                    let container = self.container(template)?;
                    deploys.push(json!({
                        "image": container.image.clone().unwrap_or_default(),
                        "deployed_at": rs.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
                        "revision": annotation(&rs.metadata, REVISION),
                    }));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(json!({ "deploys": deploys }))
    }

    /// The Deployment's own ReplicaSets, and the pods its selector matches.
    async fn sets_and_pods(&self, d: &Deployment, name: &str) -> Result<(Vec<ReplicaSet>, Vec<Pod>), ResolveError> {
        let selector =
            d.spec.as_ref().map(|s| &s.selector).ok_or_else(|| self.bad(format!("deployment/{name} has no spec")))?;
        let sets = Api::<ReplicaSet>::namespaced(self.client.clone(), &self.namespace)
            .list(&ListParams::default().labels(&selector_text(selector)))
            .await
            .map_err(|e| self.api_error("replicasets", e))?
            .items
            .into_iter()
            .filter(|rs| owned_by(&rs.metadata, &d.metadata))
            .collect();
        Ok((sets, self.pods(selector).await?))
    }

    async fn pods(&self, selector: &LabelSelector) -> Result<Vec<Pod>, ResolveError> {
        Ok(Api::<Pod>::namespaced(self.client.clone(), &self.namespace)
            .list(&ListParams::default().labels(&selector_text(selector)))
            .await
            .map_err(|e| self.api_error("pods", e))?
            .items)
    }

    fn container<'t>(&self, template: &'t PodTemplateSpec) -> Result<&'t Container, ResolveError> {
        let containers: &[Container] = template.spec.as_ref().map(|s| s.containers.as_slice()).unwrap_or(&[]);
        let names = || containers.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
        match &self.container {
            Some(want) => containers.iter().find(|c| &c.name == want).ok_or_else(|| ResolveError::Setup {
                origin: self.origin.clone(),
                detail: format!("has no container {want:?} (it has: {}); fix [source].container", names()),
            }),
            None => match containers {
                [one] => Ok(one),
                _ => Err(ResolveError::Setup {
                    origin: self.origin.clone(),
                    detail: format!("has containers {}; choose one with [source].container", names()),
                }),
            },
        }
    }

    /// One revision's record: digest from its pods, config from its template,
    /// time, revision and change-cause from `revision_meta` (its ReplicaSet).
    async fn record(
        &self,
        template: &PodTemplateSpec,
        pods: &[&Pod],
        ready_only: bool,
        notes: &mut Vec<String>,
        revision_meta: &ObjectMeta,
    ) -> Result<Value, ResolveError> {
        let container = self.container(template)?;
        let image = self.digest(container, pods, ready_only, notes)?;
        let maps = self.config_maps(template, container).await?;
        let (env, files) = self.config(template, container, &maps, notes)?;
        let limits = container.resources.as_ref().and_then(|r| r.limits.as_ref());
        let mut record = json!({
            "image": image,
            "deployed_at": revision_meta.creation_timestamp.as_ref().map(|t| t.0.to_string()),
            "revision": annotation(revision_meta, REVISION),
            "config": {"env": env, "files": files},
        });
        if let Some(cause) = annotation(revision_meta, CHANGE_CAUSE) {
            record["deployed_by"] = Value::String(cause);
        }
        if let Some(l) = limits {
            record["limits"] = json!({
                "memory": l.get("memory").map(|q| q.0.clone()),
                "cpus": l.get("cpu").map(|q| q.0.clone()),
            });
        }
        Ok(record)
    }

    /// The digest the ready pods report for `container`; NoMatch when none does.
    fn digest(
        &self,
        container: &Container,
        pods: &[&Pod],
        ready_only: bool,
        notes: &mut Vec<String>,
    ) -> Result<String, ResolveError> {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for pod in pods.iter().filter(|p| !ready_only || is_ready(p)) {
            let statuses = pod.status.as_ref().and_then(|s| s.container_statuses.as_ref());
            let Some(status) = statuses.and_then(|s| s.iter().find(|c| c.name == container.name)) else { continue };
            if status.image_id.is_empty() {
                continue; // not pulled yet
            }
            let pod_name = pod.metadata.name.as_deref().unwrap_or("?");
            let id = normalize_image_id(&status.image_id).ok_or_else(|| {
                self.bad(format!(
                    "pod {pod_name} reports image id {:?} for container {}, which is not a repository digest; prodbox runs only images pinned by digest",
                    status.image_id, container.name
                ))
            })?;
            *seen.entry(id).or_default() += 1;
        }
        if seen.len() > 1 {
            let list: Vec<String> = seen.iter().map(|(d, n)| format!("{n} run {}", short_ref(d))).collect();
            notes.push(format!("ready pods disagree ({}); using the most common", list.join(", ")));
        }
        if let Some((digest, _)) = seen.iter().max_by_key(|(_, n)| **n) {
            return Ok(digest.clone());
        }
        match container.image.as_deref().map(ImageRef::parse) {
            Some(Ok(r)) if r.digest.is_some() => {
                notes.push("no ready pod reports a digest; the pod template pins one".into());
                Ok(r.pinned())
            }
            _ => Err(ResolveError::NoMatch(format!(
                "{}: no ready pod reports an image digest for container {} and its template names a tag only; wait for the rollout, or pin the image by digest",
                self.origin, container.name
            ))),
        }
    }

    /// Every ConfigMap the container's env, envFrom and mounts name (None: missing).
    async fn config_maps(
        &self,
        template: &PodTemplateSpec,
        container: &Container,
    ) -> Result<HashMap<String, Option<ConfigMap>>, ResolveError> {
        let mut names = BTreeSet::new();
        for e in container.env.iter().flatten() {
            if let Some(r) = e.value_from.as_ref().and_then(|v| v.config_map_key_ref.as_ref()) {
                names.insert(r.name.clone());
            }
        }
        for e in container.env_from.iter().flatten() {
            if let Some(r) = &e.config_map_ref {
                names.insert(r.name.clone());
            }
        }
        let volumes = template.spec.as_ref().and_then(|s| s.volumes.as_ref());
        for m in container.volume_mounts.iter().flatten() {
            if let Some(cm) =
                volumes.and_then(|v| v.iter().find(|v| v.name == m.name)).and_then(|v| v.config_map.as_ref())
            {
                names.insert(cm.name.clone());
            }
        }
        let api = Api::<ConfigMap>::namespaced(self.client.clone(), &self.namespace);
        let mut maps = HashMap::new();
        for name in names {
            let cm = api.get_opt(&name).await.map_err(|e| self.api_error(&format!("configmap/{name}"), e))?;
            maps.insert(name, cm);
        }
        Ok(maps)
    }

    /// The container's env and files in the record's shape.
    fn config(
        &self,
        template: &PodTemplateSpec,
        container: &Container,
        maps: &HashMap<String, Option<ConfigMap>>,
        notes: &mut Vec<String>,
    ) -> Result<(JsonMap, JsonMap), ResolveError> {
        let data = |name: &str, optional: Option<bool>| -> Result<Option<&BTreeMap<String, String>>, ResolveError> {
            match maps.get(name).and_then(Option::as_ref) {
                Some(cm) => Ok(cm.data.as_ref()),
                None if optional == Some(true) => Ok(None),
                None => Err(self.bad(format!("configmap/{name} does not exist, and the pod needs it"))),
            }
        };
        let mut env = Map::new();
        for from in container.env_from.iter().flatten() {
            let prefix = from.prefix.as_deref().unwrap_or("");
            if let Some(r) = &from.config_map_ref {
                for (k, v) in data(&r.name, r.optional)?.into_iter().flatten() {
                    env.insert(format!("{prefix}{k}"), Value::String(v.clone()));
                }
            }
            if let Some(r) = &from.secret_ref {
                notes.push(format!(
                    "envFrom secret/{}: its variable names are unknown without reading the Secret (prodbox never does); give the ones the app needs in [sanitize.set]",
                    r.name
                ));
            }
        }
        let mut computed = Vec::new();
        for e in container.env.iter().flatten() {
            let value = match (&e.value, &e.value_from) {
                (Some(v), _) => Value::String(v.clone()),
                (None, None) => Value::String(String::new()),
                (None, Some(from)) => {
                    if let Some(r) = &from.config_map_key_ref {
                        match data(&r.name, r.optional)?.and_then(|d| d.get(&r.key)) {
                            Some(v) => Value::String(v.clone()),
                            None if r.optional == Some(true) => continue,
                            None => {
                                return Err(self
                                    .bad(format!("configmap/{} has no key {}, and the pod needs it", r.name, r.key)))
                            }
                        }
                    } else if let Some(r) = &from.secret_key_ref {
                        json!({"secret_ref": format!("{}/{}", r.name, r.key)})
                    } else if let Some(r) = &from.field_ref {
                        match r.field_path.as_str() {
                            "metadata.namespace" => Value::String(self.namespace.clone()),
                            "metadata.name" => Value::String(self.service.clone()),
                            path => {
                                computed.push(e.name.clone());
                                json!({"secret_ref": format!("fieldRef/{path}")})
                            }
                        }
                    } else {
                        computed.push(e.name.clone());
                        json!({"secret_ref": "resourceFieldRef/limits"})
                    }
                }
            };
            env.insert(e.name.clone(), value);
        }
        if !computed.is_empty() {
            notes.push(format!(
                "set per pod by Kubernetes, left as references: {} (give local values in [sanitize.set])",
                computed.join(", ")
            ));
        }

        let mut files = Map::new();
        let volumes = template.spec.as_ref().and_then(|s| s.volumes.as_ref());
        for mount in container.volume_mounts.iter().flatten() {
            let Some(volume) = volumes.and_then(|v| v.iter().find(|v| v.name == mount.name)) else { continue };
            // (path inside the volume, content)
            let entries: Vec<(String, Value)> = if let Some(cm) = &volume.config_map {
                let data = data(&cm.name, cm.optional)?.cloned().unwrap_or_default();
                match &cm.items {
                    Some(items) => items
                        .iter()
                        .filter_map(|i| data.get(&i.key).map(|v| (i.path.clone(), Value::String(v.clone()))))
                        .collect(),
                    None => data.into_iter().map(|(k, v)| (k, Value::String(v))).collect(),
                }
            } else if let Some(secret) = &volume.secret {
                let name = secret.secret_name.clone().unwrap_or_default();
                match &secret.items {
                    Some(items) => items
                        .iter()
                        .map(|i| (i.path.clone(), json!({"secret_ref": format!("{name}/{}", i.key)})))
                        .collect(),
                    None => {
                        notes.push(format!(
                            "secret/{name} is mounted at {}: its files are unknown without reading the Secret",
                            mount.mount_path
                        ));
                        continue;
                    }
                }
            } else {
                continue;
            };
            let base = mount.mount_path.trim_end_matches('/');
            match mount.sub_path.as_deref().filter(|s| !s.is_empty()) {
                Some(sub) => {
                    if let Some((_, v)) = entries.into_iter().find(|(p, _)| p == sub) {
                        files.insert(base.to_string(), v);
                    }
                }
                None => {
                    for (path, v) in entries {
                        files.insert(format!("{base}/{path}"), v);
                    }
                }
            }
        }
        Ok((env, files))
    }
}

/// `matchLabels` (and `In` expressions) as a label selector string.
fn selector_text(s: &LabelSelector) -> String {
    let mut parts: Vec<String> = s.match_labels.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
    for e in s.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            _ => format!("!{}", e.key),
        });
    }
    parts.join(",")
}

fn annotation(meta: &ObjectMeta, key: &str) -> Option<String> {
    meta.annotations.as_ref().and_then(|a| a.get(key)).cloned()
}

fn label<'m>(meta: &'m ObjectMeta, key: &str) -> Option<&'m str> {
    meta.labels.as_ref().and_then(|l| l.get(key)).map(String::as_str)
}

fn rs_revision(rs: &ReplicaSet) -> i64 {
    annotation(&rs.metadata, REVISION).and_then(|r| r.parse().ok()).unwrap_or(0)
}

fn owned_by(child: &ObjectMeta, owner: &ObjectMeta) -> bool {
    let Some(uid) = &owner.uid else { return false };
    child.owner_references.iter().flatten().any(|o| &o.uid == uid)
}

fn is_ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// `docker-pullable://r/x@sha256:…` (and other runtime prefixes) → `r/x@sha256:…`;
/// None for ids that are not a repository digest (`docker://sha256:…`).
pub fn normalize_image_id(id: &str) -> Option<String> {
    let bare = id.split_once("://").map(|(_, rest)| rest).unwrap_or(id);
    if bare.starts_with("sha256:") {
        return None;
    }
    let r = ImageRef::parse(bare).ok()?;
    r.digest.is_some().then(|| r.pinned())
}

fn short_ref(pinned: &str) -> String {
    match pinned.rsplit_once('@') {
        Some((_, d)) => crate::digest::short(d).to_string(),
        None => pinned.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_ids_are_normalized_or_refused() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            normalize_image_id(&format!("docker-pullable://registry.example.com/shop/x@{d}")).as_deref(),
            Some(format!("registry.example.com/shop/x@{d}").as_str())
        );
        assert_eq!(
            normalize_image_id(&format!("nginx@{d}")).as_deref(),
            Some(format!("docker.io/library/nginx@{d}").as_str())
        );
        assert_eq!(normalize_image_id(&format!("docker://{d}")), None);
        assert_eq!(normalize_image_id(&d), None);
        assert_eq!(normalize_image_id("registry.example.com/shop/x:1.0"), None);
    }
}
