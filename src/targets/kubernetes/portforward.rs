//! Access to a cluster sandbox on 127.0.0.1: a local listener per port,
//! each connection carried to the pod over the API server's port-forward
//! (a WebSocket, kube's `ws` feature). Only the user's machine can reach it;
//! the pod stays unreachable from anywhere else (the NetworkPolicy).

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Listeners bound on 127.0.0.1, forwarding to a pod while [`Forwarding::hold`] runs.
pub struct Forwarding {
    /// (container port, local port).
    pub ports: Vec<(u16, u16)>,
    listeners: Vec<(TcpListener, u16)>,
    pods: Api<Pod>,
    pod: String,
}

/// Binds 127.0.0.1 listeners for `ports` (container port, wanted local
/// port; 0 picks a free one). Nothing is forwarded until [`Forwarding::hold`].
pub async fn bind(pods: Api<Pod>, pod: &str, ports: &[(u16, u16)]) -> anyhow::Result<Forwarding> {
    let mut listeners = Vec::new();
    let mut bound = Vec::new();
    for &(container, local) in ports {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, local))).await.with_context(|| {
            format!("listening on 127.0.0.1:{local} for port {container} (is it taken? pick another with -p)")
        })?;
        let port = listener.local_addr()?.port();
        bound.push((container, port));
        listeners.push((listener, container));
    }
    Ok(Forwarding { ports: bound, listeners, pods, pod: pod.into() })
}

impl Forwarding {
    /// Accepts and forwards connections until the future is dropped (Ctrl-C)
    /// or a listener fails.
    pub async fn hold(self) -> anyhow::Result<()> {
        let mut tasks = JoinSet::new();
        for (listener, container) in self.listeners {
            let pods = self.pods.clone();
            let pod = self.pod.clone();
            tasks.spawn(async move {
                loop {
                    let (socket, _) = listener.accept().await?;
                    let pods = pods.clone();
                    let pod = pod.clone();
                    tokio::spawn(async move {
                        if let Err(e) = carry(pods, &pod, container, socket).await {
                            tracing::warn!("port-forward to {pod}:{container}: {e:#}");
                        }
                    });
                }
                #[allow(unreachable_code)]
                Ok::<(), std::io::Error>(())
            });
        }
        while let Some(done) = tasks.join_next().await {
            done?.context("a port-forward listener stopped")?;
        }
        Ok(())
    }
}

/// One local connection, carried over its own port-forward stream.
async fn carry(pods: Api<Pod>, pod: &str, port: u16, mut socket: TcpStream) -> anyhow::Result<()> {
    let mut forwarder = pods.portforward(pod, &[port]).await.context("opening the API server's port-forward")?;
    let mut upstream = forwarder.take_stream(port).context("the port-forward gave no stream")?;
    tokio::io::copy_bidirectional(&mut socket, &mut upstream).await?;
    drop(upstream);
    forwarder.join().await.context("closing the port-forward")?;
    Ok(())
}
