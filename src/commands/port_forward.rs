//! `prodbox port-forward NAME [-p HOST:CONTAINER…]`: reach a cluster
//! sandbox's app (or candidate) on 127.0.0.1 through the API server, until
//! Ctrl-C. Engine sandboxes publish on 127.0.0.1 already.

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;

use super::{Ctx, Text};
use crate::cli::PortForwardArgs;
use crate::error::UsageError;
use crate::profile;
use crate::targets::kubernetes::{portforward, role_pod, KubeTarget};
use crate::targets::{Role, TargetKind};

/// Holds the forward until Ctrl-C; prints the local URLs first.
pub async fn run(ctx: &Ctx, args: &PortForwardArgs) -> anyhow::Result<Text> {
    let TargetKind::Kubernetes(cluster) = ctx.target_kind(args.target.target.as_deref())? else {
        return Err(UsageError(
            "port-forward is for sandboxes on a cluster (--target kubernetes); engine sandboxes publish on 127.0.0.1 already: see `prodbox ls`".into(),
        )
        .into());
    };
    let target = KubeTarget::connect(&cluster).await?;
    let ns = target.namespace(&args.name)?;
    let pod = role_pod(if args.candidate { Role::Candidate } else { Role::App });
    let pods: Api<Pod> = Api::namespaced(target.client.clone(), &ns);
    let p = pods.get_opt(pod).await?.with_context(|| {
        format!("no pod {pod} in namespace {ns}; is sandbox {} up? see `prodbox ls --target kubernetes`", args.name)
    })?;
    let mut ports: Vec<(u16, u16)> = container_ports(&p).into_iter().map(|c| (c, 0)).collect();
    for spec in &args.publish {
        let m = profile::parse_port_mapping(spec)
            .ok_or_else(|| UsageError(format!("-p {spec}: want HOST:CONTAINER or CONTAINER")))?;
        ports.retain(|(c, _)| *c != m.container);
        ports.push((m.container, m.host));
    }
    let fwd = portforward::bind(pods, pod, &ports).await?;
    print!("{}", urls_text(&fwd.ports));
    eprintln!("forwarding to {ns}/{pod}; Ctrl-C stops");
    tokio::select! {
        r = fwd.hold() => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(Text { text: String::new(), code: 0 })
}

fn container_ports(p: &Pod) -> Vec<u16> {
    p.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| u16::try_from(p.container_port).ok())
        .collect()
}

/// `http://127.0.0.1:LOCAL -> port CONTAINER`, one per line.
pub fn urls_text(ports: &[(u16, u16)]) -> String {
    ports.iter().map(|(c, l)| format!("http://127.0.0.1:{l} -> port {c}\n")).collect()
}
