//! The objects a cluster sandbox is made of, built from a [`SandboxSpec`]
//! without touching a cluster: the namespace (Pod Security `restricted`,
//! labels, the `expires-at` annotation), the deny-all NetworkPolicy, the
//! ResourceQuota and LimitRange, the ConfigMap with the sanitized env and
//! files, a Service per name, and the pods. Values of the config go only
//! into the ConfigMap's data, never into labels or annotations.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapKeySelector, ConfigMapVolumeSource, Container, ContainerPort,
    EmptyDirVolumeSource, EnvVar, EnvVarSource, HTTPGetAction, LimitRange, LimitRangeItem, LimitRangeSpec, Namespace,
    Pod, PodSecurityContext, PodSpec, Probe, ResourceQuota, ResourceQuotaSpec, ResourceRequirements, SeccompProfile,
    SecurityContext, Service, ServicePort, ServiceSpec, TCPSocketAction, Volume, VolumeMount,
};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::sandbox::{labels, HealthPlan, SandboxSpec, DEFAULT_MEMORY};
use crate::timestamp::Timestamp;

/// Marks every namespace prodbox makes; RBAC's admission policy and `ls` select on it.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// The local user who made the sandbox: `ls` and `gc` see only their own.
pub const USER: &str = "dev.prodbox.user";
/// When `gc` may delete the namespace (RFC 3339, UTC).
pub const EXPIRES_AT: &str = "dev.prodbox.expires-at";
/// The Pod Security admission level enforced in the namespace.
pub const PSA_ENFORCE: &str = "pod-security.kubernetes.io/enforce";
/// The ConfigMap holding the sanitized env and files.
pub const CONFIG_MAP: &str = "prodbox-config";
/// The deny-all NetworkPolicy.
pub const DENY_POLICY: &str = "prodbox-isolate";
/// Pod name of the app and the candidate.
pub const APP_POD: &str = "app";
pub const CANDIDATE_POD: &str = "candidate";

/// A sandbox laid out for a cluster.
pub struct Plan<'a> {
    pub spec: &'a SandboxSpec,
    pub namespace: String,
    /// The local user, as a label value.
    pub user: String,
    pub expires_at: Timestamp,
}

/// The namespace for a sandbox: `PREFIX` + user + `-` + name, as a DNS label.
pub fn namespace_name(prefix: &str, user: &str, sandbox: &str) -> Result<String, String> {
    let clean = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
    };
    let name = format!("{prefix}{}-{}", clean(user), clean(sandbox));
    let name = name.trim_end_matches('-').to_string();
    if name.len() > 63 {
        return Err(format!(
            "namespace {name} is longer than Kubernetes allows (63); choose a shorter --name or namespace_prefix"
        ));
    }
    Ok(name)
}

/// The user as a label value (`[A-Za-z0-9_.-]`, at most 63, alphanumeric at both ends).
pub fn user_label(user: &str) -> String {
    let v: String = user
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '-' })
        .take(63)
        .collect();
    let v = v.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_string();
    if v.is_empty() {
        "unknown".into()
    } else {
        v
    }
}

/// A label value from free text (`--label` values, service names).
pub(crate) fn label_value(v: &str) -> String {
    user_label(v)
}

fn meta(name: &str, namespace: &str, labels: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(namespace.into()),
        labels: Some(labels),
        ..Default::default()
    }
}

/// A container name from a role or dependency name (DNS label).
fn dns_label(s: &str) -> String {
    let v: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).take(63).collect();
    v.trim_matches('-').to_string()
}

impl Plan<'_> {
    /// Labels every object of the sandbox carries (names and ids, never config values).
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut l = BTreeMap::new();
        for (k, v) in &self.spec.extra_labels {
            l.insert(k.clone(), label_value(v));
        }
        l.insert(MANAGED_BY.into(), "prodbox".into());
        l.insert(labels::SANDBOX.into(), self.spec.name.to_string());
        l.insert(labels::SERVICE.into(), label_value(&self.spec.deploy.service));
        l.insert(USER.into(), self.user.clone());
        l
    }

    fn role_labels(&self, role: &str, pod: &str) -> BTreeMap<String, String> {
        let mut l = self.labels();
        l.insert(labels::ROLE.into(), role.into());
        l.insert("dev.prodbox.pod".into(), pod.into());
        l
    }

    /// The namespace: labels, Pod Security `restricted`, and the facts `ls`
    /// shows as annotations (a digest does not fit a label value).
    pub fn namespace(&self) -> Namespace {
        let s = self.spec;
        let mut labels = self.labels();
        labels.insert(PSA_ENFORCE.into(), "restricted".into());
        labels.insert("pod-security.kubernetes.io/enforce-version".into(), "latest".into());
        let mut notes = BTreeMap::new();
        notes.insert(EXPIRES_AT.into(), self.expires_at.to_string());
        notes.insert(labels::DIGEST.into(), s.deploy.digest.clone());
        notes.insert(labels::IMAGE.into(), s.deploy.image.clone());
        notes.insert(labels::ENVIRONMENT.into(), s.deploy.environment.clone());
        for (key, value) in [
            (labels::DEPLOYED_AT, &s.deploy.deployed_at),
            (labels::DEPLOYED_BY, &s.deploy.deployed_by),
            (labels::REVISION, &s.deploy.revision),
        ] {
            if let Some(v) = value {
                notes.insert(key.into(), v.clone());
            }
        }
        notes.insert(labels::SANITIZE.into(), s.sanitize_json.clone());
        Namespace {
            metadata: ObjectMeta {
                name: Some(self.namespace.clone()),
                labels: Some(labels),
                annotations: Some(notes),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// Deny all ingress and egress except to pods of this namespace and DNS
    /// to the cluster's resolver (kube-dns in kube-system).
    pub fn network_policy(&self) -> NetworkPolicy {
        let same_namespace = NetworkPolicyPeer { pod_selector: Some(LabelSelector::default()), ..Default::default() };
        let kube_dns = NetworkPolicyPeer {
            namespace_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([(
                    "kubernetes.io/metadata.name".to_string(),
                    "kube-system".to_string(),
                )])),
                ..Default::default()
            }),
            pod_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([("k8s-app".to_string(), "kube-dns".to_string())])),
                ..Default::default()
            }),
            ..Default::default()
        };
        let dns_port = |protocol: &str| NetworkPolicyPort {
            port: Some(IntOrString::Int(53)),
            protocol: Some(protocol.into()),
            ..Default::default()
        };
        NetworkPolicy {
            metadata: meta(DENY_POLICY, &self.namespace, self.labels()),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(LabelSelector::default()),
                policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
                ingress: Some(vec![NetworkPolicyIngressRule {
                    from: Some(vec![same_namespace.clone()]),
                    ..Default::default()
                }]),
                egress: Some(vec![
                    NetworkPolicyEgressRule { to: Some(vec![same_namespace]), ..Default::default() },
                    NetworkPolicyEgressRule {
                        to: Some(vec![kube_dns]),
                        ports: Some(vec![dns_port("UDP"), dns_port("TCP")]),
                    },
                ]),
            }),
        }
    }

    /// Memory per pod (the profile's, else 1 GiB) and CPUs (the profile's, else none).
    fn pod_limits(&self) -> BTreeMap<String, Quantity> {
        let mut l = BTreeMap::new();
        l.insert("memory".to_string(), Quantity(self.spec.memory.unwrap_or(DEFAULT_MEMORY).to_string()));
        if let Some(cpus) = self.spec.cpus {
            l.insert("cpu".to_string(), Quantity(format!("{}m", (cpus * 1000.0).round() as i64)));
        }
        l
    }

    /// The sandbox's pods, plus one for `verify`'s probe.
    fn pod_count(&self) -> usize {
        1 + usize::from(self.spec.candidate.is_some()) + self.spec.dependencies.len() + 1
    }

    /// The namespace's budget: this many pods with these limits, and nothing more.
    pub fn resource_quota(&self) -> ResourceQuota {
        let n = self.pod_count() as i64;
        let mut hard = BTreeMap::new();
        hard.insert("pods".to_string(), Quantity(n.to_string()));
        hard.insert(
            "limits.memory".to_string(),
            Quantity((self.spec.memory.unwrap_or(DEFAULT_MEMORY) * n).to_string()),
        );
        if let Some(cpus) = self.spec.cpus {
            hard.insert("limits.cpu".to_string(), Quantity(format!("{}m", (cpus * 1000.0).round() as i64 * n)));
        }
        for k in ["services.loadbalancers", "services.nodeports", "persistentvolumeclaims"] {
            hard.insert(k.to_string(), Quantity("0".into()));
        }
        ResourceQuota {
            metadata: meta("prodbox-quota", &self.namespace, self.labels()),
            spec: Some(ResourceQuotaSpec { hard: Some(hard), ..Default::default() }),
            ..Default::default()
        }
    }

    /// Default and maximum limits for every container (dependencies get the app's).
    pub fn limit_range(&self) -> LimitRange {
        let limits = self.pod_limits();
        LimitRange {
            metadata: meta("prodbox-limits", &self.namespace, self.labels()),
            spec: Some(LimitRangeSpec {
                limits: vec![LimitRangeItem {
                    type_: "Container".into(),
                    default: Some(limits.clone()),
                    default_request: Some(limits.clone()),
                    max: Some(limits),
                    ..Default::default()
                }],
            }),
        }
    }

    /// The sanitized env (`env.N`) and files (`file.N`) as data. Indexed keys:
    /// env names and paths need not be valid ConfigMap keys.
    pub fn config_map(&self) -> ConfigMap {
        let mut data = BTreeMap::new();
        for (i, (_, value)) in self.spec.env.iter().enumerate() {
            data.insert(format!("env.{i}"), value.clone());
        }
        for (i, (_, content)) in self.spec.files.iter().enumerate() {
            data.insert(format!("file.{i}"), content.clone());
        }
        ConfigMap { metadata: meta(CONFIG_MAP, &self.namespace, self.labels()), data: Some(data), ..Default::default() }
    }

    /// One Service per name the app or its peers are reached by: `app`,
    /// `candidate`, each dependency and its aliases.
    pub fn services(&self) -> Vec<Service> {
        let ports: Vec<u16> = self.spec.ports.iter().map(|p| p.container).collect();
        let mut out = vec![self.service(APP_POD, APP_POD, &ports)];
        if self.spec.candidate.is_some() {
            out.push(self.service(CANDIDATE_POD, CANDIDATE_POD, &ports));
        }
        for dep in &self.spec.dependencies {
            let pod = dep_pod(&dep.name);
            // A dependency's ports are not in the profile: the usual ones of
            // what it stands for are not known either, so its Service is
            // headless and resolves to the pod, every port open in the namespace.
            for name in std::iter::once(&dep.name).chain(&dep.aliases) {
                out.push(self.service(&dns_label(name), &pod, &[]));
            }
        }
        out
    }

    fn service(&self, name: &str, pod: &str, ports: &[u16]) -> Service {
        let selector = BTreeMap::from([("dev.prodbox.pod".to_string(), pod.to_string())]);
        let headless = ports.is_empty();
        Service {
            metadata: meta(name, &self.namespace, self.labels()),
            spec: Some(ServiceSpec {
                type_: Some("ClusterIP".into()),
                cluster_ip: headless.then(|| "None".to_string()),
                selector: Some(selector),
                ports: (!headless).then(|| {
                    ports
                        .iter()
                        .map(|&p| ServicePort {
                            name: Some(format!("p{p}")),
                            port: p.into(),
                            target_port: Some(IntOrString::Int(p.into())),
                            protocol: Some("TCP".into()),
                            ..Default::default()
                        })
                        .collect()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The pods in the order they are created: dependencies, app, candidate.
    pub fn pods(&self) -> Vec<Pod> {
        let s = self.spec;
        let mut out = Vec::new();
        for dep in &s.dependencies {
            let env =
                dep.env.iter().map(|(k, v)| EnvVar { name: k.clone(), value: Some(v.clone()), ..Default::default() });
            let container = Container {
                name: dns_label(&dep.name),
                image: Some(dep.image.clone()),
                env: Some(env.collect()),
                security_context: Some(restricted(false, &[])),
                ..Default::default()
            };
            out.push(self.pod(&dep_pod(&dep.name), labels::Role::Dependency.as_str(), container, false));
        }
        out.push(self.pod(
            APP_POD,
            labels::Role::App.as_str(),
            self.app_container(APP_POD, &s.deploy.image),
            s.read_only,
        ));
        if let Some(c) = &s.candidate {
            out.push(self.pod(
                CANDIDATE_POD,
                labels::Role::Candidate.as_str(),
                self.app_container(CANDIDATE_POD, &c.image),
                s.read_only,
            ));
        }
        out
    }

    fn app_container(&self, name: &str, image: &str) -> Container {
        let s = self.spec;
        let env = s.env.iter().enumerate().map(|(i, (k, _))| EnvVar {
            name: k.clone(),
            value_from: Some(EnvVarSource {
                config_map_key_ref: Some(ConfigMapKeySelector {
                    name: CONFIG_MAP.into(),
                    key: format!("env.{i}"),
                    optional: Some(false),
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
        let mut mounts: Vec<VolumeMount> = s
            .files
            .iter()
            .enumerate()
            .map(|(i, (path, _))| VolumeMount {
                name: "config".into(),
                mount_path: path.clone(),
                sub_path: Some(format!("file.{i}")),
                read_only: Some(true),
                ..Default::default()
            })
            .collect();
        if s.read_only {
            mounts.push(VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..Default::default() });
        }
        Container {
            name: name.into(),
            image: Some(image.into()),
            image_pull_policy: Some("IfNotPresent".into()),
            env: Some(env.collect()),
            ports: Some(
                s.ports
                    .iter()
                    .map(|p| ContainerPort {
                        container_port: p.container.into(),
                        protocol: Some("TCP".into()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            volume_mounts: Some(mounts),
            readiness_probe: readiness(&s.health),
            resources: Some(ResourceRequirements {
                limits: Some(self.pod_limits()),
                requests: Some(self.pod_limits()),
                ..Default::default()
            }),
            security_context: Some(restricted(s.read_only, &s.cap_add)),
            ..Default::default()
        }
    }

    fn pod(&self, name: &str, role: &str, container: Container, read_only: bool) -> Pod {
        let mut volumes = Vec::new();
        if !self.spec.files.is_empty() && role != labels::Role::Dependency.as_str() {
            volumes.push(Volume {
                name: "config".into(),
                config_map: Some(ConfigMapVolumeSource { name: CONFIG_MAP.into(), ..Default::default() }),
                ..Default::default()
            });
        }
        if read_only {
            volumes.push(Volume {
                name: "tmp".into(),
                empty_dir: Some(EmptyDirVolumeSource {
                    size_limit: Some(Quantity("64Mi".into())),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        Pod {
            metadata: meta(name, &self.namespace, self.role_labels(role, name)),
            spec: Some(PodSpec {
                containers: vec![container],
                automount_service_account_token: Some(false),
                enable_service_links: Some(false),
                restart_policy: Some("Always".into()),
                host_network: Some(false),
                host_pid: Some(false),
                host_ipc: Some(false),
                security_context: Some(PodSecurityContext {
                    run_as_non_root: Some(true),
                    seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..Default::default() }),
                    ..Default::default()
                }),
                volumes: (!volumes.is_empty()).then_some(volumes),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// A dependency's pod name.
pub fn dep_pod(name: &str) -> String {
    format!("dep-{}", dns_label(name))
}

/// The restricted profile's container settings: no escalation, every
/// capability dropped (the profile's `cap_add` is checked against what
/// `restricted` allows before this), RuntimeDefault seccomp.
pub(super) fn restricted(read_only: bool, cap_add: &[String]) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        run_as_non_root: Some(true),
        read_only_root_filesystem: Some(read_only),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: (!cap_add.is_empty()).then(|| cap_add.to_vec()),
        }),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..Default::default() }),
        ..Default::default()
    }
}

/// Capabilities the Pod Security `restricted` level lets a container add.
pub fn allowed_cap_add(cap: &str) -> bool {
    matches!(cap.trim_start_matches("CAP_"), "NET_BIND_SERVICE")
}

/// The health plan as a readiness probe; the kubelet runs it, `up` waits for `Ready`.
fn readiness(plan: &HealthPlan) -> Option<Probe> {
    let base =
        Probe { period_seconds: Some(1), failure_threshold: Some(3), timeout_seconds: Some(2), ..Default::default() };
    match plan {
        HealthPlan::Http { path, port, .. } => Some(Probe {
            http_get: Some(HTTPGetAction {
                path: Some(path.clone()),
                port: IntOrString::Int((*port).into()),
                ..Default::default()
            }),
            ..base
        }),
        HealthPlan::Tcp { port, .. } | HealthPlan::ImageByExec { fallback_port: Some(port), .. } => Some(Probe {
            tcp_socket: Some(TCPSocketAction { port: IntOrString::Int((*port).into()), ..Default::default() }),
            ..base
        }),
        // The image's HEALTHCHECK is Docker's: Kubernetes ignores it, so with
        // no port to probe, running is all a cluster can tell.
        HealthPlan::Image { .. } | HealthPlan::ImageByExec { fallback_port: None, .. } | HealthPlan::Running => None,
    }
}
