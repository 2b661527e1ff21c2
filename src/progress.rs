//! How stages report progress without printing: they call a [`Progress`],
//! which the CLI renders (indicatif bars on a terminal, plain lines otherwise)
//! and tests can ignore.

/// Receives progress from the stages.
pub trait Progress: Send + Sync {
    /// A step begins ("pulling …", "waiting for health").
    fn step(&self, message: &str);
    /// A step ended after `took`: with steps overlapping, a line per step
    /// as it ends is what stays true ("network prodbox-x made (0.1s)").
    fn done(&self, message: &str, took: std::time::Duration) {
        self.step(&format!("{message} ({:.1}s)", took.as_secs_f64()));
    }
    /// One layer of a pull moved: `id` is the short layer digest.
    fn layer(&self, id: &str, status: &str, current: u64, total: u64);
    /// The pull is over: finish and clear layer bars.
    fn layers_done(&self) {}
    /// Something the user should know but that does not stop the job.
    fn warn(&self, message: &str);
}

/// A [`Progress`] that drops everything: for work whose progress is not the
/// user's business (pulling the relay image).
pub struct Silent;

impl Progress for Silent {
    fn step(&self, _: &str) {}
    fn layer(&self, _: &str, _: &str, _: u64, _: u64) {}
    fn warn(&self, _: &str) {}
}
