//! A small work pool for the sanitizer: independent tasks taken in order by
//! one thread per core, results in the tasks' order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// How many threads a parallel [`map`] runs on. Read once: on Linux the
/// standard library reads the cgroup's CPU quota from files each time.
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `f` over `tasks`, on every core when `parallel`, else on this thread.
/// Tasks are taken in order, so put the biggest first.
pub fn map<T: Sync, R: Send>(tasks: &[T], parallel: bool, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = if parallel { cores().min(tasks.len()) } else { 1 };
    if threads <= 1 {
        return tasks.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..tasks.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(task) = tasks.get(i) else { break };
                let r = f(task);
                results.lock().expect("no thread panics holding it")[i] = Some(r);
            });
        }
    });
    results.into_inner().expect("threads are done").into_iter().map(|r| r.expect("every task was taken")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_tasks_order() {
        let tasks: Vec<u32> = (0..100).collect();
        for parallel in [false, true] {
            assert_eq!(super::map(&tasks, parallel, |t| t * 2), tasks.iter().map(|t| t * 2).collect::<Vec<_>>());
        }
        assert!(super::map(&[] as &[u8], true, |_| 0).is_empty());
    }
}
