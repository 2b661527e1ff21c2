//! One place that maps failures to exit codes (SPEC §2) and adds the hint
//! that tells the user what to do next.

use crate::engine::EngineError;
use crate::fetch::FetchError;
use crate::profile::ProfileError;
use crate::resolve::ResolveError;
use crate::sandbox::health::HealthError;

/// Exit code: the job failed (unhealthy app, digest mismatch, …).
pub const JOB_FAILED: i32 = 1;
/// Exit code: bad usage or an invalid profile.
pub const USAGE: i32 = 2;
/// Exit code: the deploy registry, the OCI registry or the engine could not be reached.
pub const UNREACHABLE: i32 = 3;

/// Bad command-line input that clap could not catch.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit code for an error, from the first typed error in its chain.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if cause.is::<UsageError>() || cause.is::<ProfileError>() {
            return USAGE;
        }
        if let Some(crate::repro::ReproError::Read { .. }) = cause.downcast_ref::<crate::repro::ReproError>() {
            return USAGE;
        }
        if let Some(e) = cause.downcast_ref::<ResolveError>() {
            return match e {
                ResolveError::Unreachable { .. } => UNREACHABLE,
                ResolveError::Setup { .. } => USAGE,
                _ => JOB_FAILED,
            };
        }
        if let Some(e) = cause.downcast_ref::<FetchError>() {
            return match e {
                FetchError::Unreachable { .. } | FetchError::Engine(EngineError::Unreachable { .. }) => UNREACHABLE,
                _ => JOB_FAILED,
            };
        }
        if let Some(EngineError::Unreachable { .. }) = cause.downcast_ref::<EngineError>() {
            return UNREACHABLE;
        }
        if let Some(HealthError::Engine(EngineError::Unreachable { .. })) = cause.downcast_ref::<HealthError>() {
            return UNREACHABLE;
        }
    }
    JOB_FAILED
}

/// Renders an error: its chain on one line, then any multi-line detail.
pub fn render(err: &anyhow::Error) -> String {
    let parts: Vec<String> = err.chain().map(|c| c.to_string()).collect();
    let mut out = String::from("error: ");
    // anyhow's chain repeats a transparent source's text; keep each message once.
    let mut seen: Vec<&str> = Vec::new();
    for p in &parts {
        if seen.iter().any(|s| s.contains(p.as_str())) {
            continue;
        }
        if !seen.is_empty() {
            out.push_str(": ");
        }
        out.push_str(p);
        seen.push(p);
    }
    out
}
