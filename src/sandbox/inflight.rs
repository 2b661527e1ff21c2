//! Creates that must not be lost. A create request dropped half-way (the
//! `up` future is dropped on a signal, or a sibling step failed) may still be
//! carried out by the engine after the caller swept the sandbox by label,
//! leaving a Created container or a network behind. Each create therefore
//! runs as a task of its own that finishes whatever happens to its caller,
//! and cleanup first waits for every one of them ([`settle`]), then sweeps.

use std::future::Future;
use std::sync::OnceLock;

use tokio::sync::watch;

/// How many tracked requests are running now.
fn counter() -> &'static watch::Sender<usize> {
    static COUNT: OnceLock<watch::Sender<usize>> = OnceLock::new();
    COUNT.get_or_init(|| watch::channel(0).0)
}

/// Runs `request` to its end even when the caller is dropped, counted until
/// then; returns its result to the caller (when there still is one).
pub async fn track<T: Send + 'static>(request: impl Future<Output = T> + Send + 'static) -> T {
    counter().send_modify(|n| *n += 1);
    let task = tokio::spawn(async move {
        let out = request.await;
        counter().send_modify(|n| *n -= 1);
        out
    });
    match task.await {
        Ok(out) => out,
        // Only a panic in the request itself lands here: pass it on.
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Waits until no tracked request is running.
pub async fn settle() {
    let mut rx = counter().subscribe();
    let _ = rx.wait_for(|n| *n == 0).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_dropped_caller_does_not_cut_the_request_short() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        let caller = tokio::spawn(track(async move {
            let _ = rx.await;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }));
        tokio::task::yield_now().await;
        caller.abort();
        let _ = caller.await;
        assert!(!done.load(std::sync::atomic::Ordering::SeqCst));
        tx.send(()).unwrap();
        settle().await;
        assert!(done.load(std::sync::atomic::Ordering::SeqCst), "settle waited for the request");
    }
}
