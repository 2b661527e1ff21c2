//! One place that diagnoses failures: every error type's exit code (SPEC §2)
//! and the hint that tells the user what to do next, in one table
//! ([`Diagnose`] implemented for each stage's error enum below, matched
//! exhaustively so a new variant must be given its code and hint), and the
//! renderer that walks an error's chain once.

use crate::engine::EngineError;
use crate::fetch::FetchError;
use crate::name::InvalidName;
use crate::profile::ProfileError;
use crate::repro::ReproError;
use crate::resolve::record::RecordError;
use crate::resolve::ResolveError;
use crate::sandbox::health::HealthError;
use crate::sandbox::{SandboxError, SpecError};
use crate::sanitize::SanitizeError;
use crate::targets::ClusterUnreachable;

/// Exit code: the job failed (unhealthy app, digest mismatch, …).
pub const JOB_FAILED: u8 = 1;
/// Exit code: bad usage or an invalid profile.
pub const USAGE: u8 = 2;
/// Exit code: the deploy registry, the OCI registry or the engine could not be reached.
pub const UNREACHABLE: u8 = 3;

/// Bad command-line input that clap could not catch.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// `--strict` found redactions the profile does not name.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StrictError(pub String);

/// What an error means for the exit code, and what the user should do.
pub trait Diagnose {
    /// The exit code (SPEC §2).
    fn exit_code(&self) -> u8;
    /// The next step, when there is one to suggest.
    fn hint(&self) -> Option<String> {
        None
    }
}

impl Diagnose for UsageError {
    fn exit_code(&self) -> u8 {
        USAGE
    }
}

impl Diagnose for StrictError {
    fn exit_code(&self) -> u8 {
        JOB_FAILED
    }
}

impl Diagnose for InvalidName {
    fn exit_code(&self) -> u8 {
        USAGE
    }
}

impl Diagnose for ProfileError {
    fn exit_code(&self) -> u8 {
        match self {
            ProfileError::NotFound { .. } | ProfileError::Read { .. } | ProfileError::Invalid { .. } => USAGE,
        }
    }
}

impl Diagnose for ReproError {
    fn exit_code(&self) -> u8 {
        match self {
            ReproError::Read { .. } => USAGE,
            ReproError::Write { .. } => JOB_FAILED,
        }
    }
}

impl Diagnose for RecordError {
    /// A malformed record is bad input, like a malformed profile.
    fn exit_code(&self) -> u8 {
        match self {
            RecordError::Syntax { .. }
            | RecordError::Field { .. }
            | RecordError::NoDigest { .. }
            | RecordError::WrongRepository { .. } => USAGE,
        }
    }
}

impl Diagnose for ResolveError {
    fn exit_code(&self) -> u8 {
        match self {
            ResolveError::Unreachable { .. } => UNREACHABLE,
            ResolveError::Setup { .. } => USAGE,
            ResolveError::Record(e) => e.exit_code(),
            ResolveError::Fetch(e) => e.exit_code(),
            ResolveError::Rejected { .. }
            | ResolveError::NoHistory { .. }
            | ResolveError::BadAnswer { .. }
            | ResolveError::NoMatch(_) => JOB_FAILED,
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            ResolveError::Unreachable { .. } => {
                Some("check the deploy source the profile's [source] names, and your network".into())
            }
            ResolveError::Fetch(e) => e.hint(),
            _ => None,
        }
    }
}

impl Diagnose for FetchError {
    fn exit_code(&self) -> u8 {
        match self {
            FetchError::Unreachable { .. } => UNREACHABLE,
            FetchError::Engine(e) => e.exit_code(),
            FetchError::DigestMismatch { .. }
            | FetchError::Registry { .. }
            | FetchError::Auth { .. }
            | FetchError::Credentials { .. }
            | FetchError::NoPlatform { .. }
            | FetchError::Pull { .. }
            | FetchError::NotPinned { .. } => JOB_FAILED,
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            FetchError::Credentials { .. } => Some(
                "the credential helper named in the docker config (credHelpers or credsStore) failed: run `prodbox doctor`, or `docker login` again".into(),
            ),
            FetchError::Engine(e) => e.hint(),
            FetchError::Unreachable { .. } => {
                Some("check the address, that it is running, and --insecure-registry for plain HTTP".into())
            }
            FetchError::Auth { registry, .. } => {
                Some(format!("run `docker login {registry}` or check ~/.docker/config.json"))
            }
            _ => None,
        }
    }
}

impl Diagnose for EngineError {
    fn exit_code(&self) -> u8 {
        match self {
            EngineError::Unreachable { .. } => UNREACHABLE,
            EngineError::NoRelay { .. } => USAGE,
            EngineError::Api { .. }
            | EngineError::NotIsolated { .. }
            | EngineError::Taken { .. }
            | EngineError::Unfit { .. } => JOB_FAILED,
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            EngineError::Unreachable { .. } => {
                Some("is the engine running and may you use its socket? try `prodbox doctor`".into())
            }
            EngineError::NoRelay { .. } => Some("`prodbox doctor` checks the relay image; see docs/relay.md".into()),
            EngineError::Unfit { network, .. } => Some(format!(
                "remove it with `docker network rm {network}` (once nothing uses it); the next `prodbox up` makes it anew"
            )),
            EngineError::Taken { .. } => Some(
                "wait for it (`prodbox ls`), or start this one under another --name; `prodbox down NAME` removes a stale one".into(),
            ),
            _ => None,
        }
    }
}

impl Diagnose for HealthError {
    fn exit_code(&self) -> u8 {
        match self {
            HealthError::Engine(e) => e.exit_code(),
            HealthError::Timeout { .. } | HealthError::Exited { .. } | HealthError::Unhealthy { .. } => JOB_FAILED,
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            HealthError::Engine(e) => e.hint(),
            _ => None,
        }
    }
}

impl Diagnose for SanitizeError {
    fn exit_code(&self) -> u8 {
        match self {
            SanitizeError::Scrub(_) => JOB_FAILED,
        }
    }
}

impl Diagnose for SandboxError {
    fn exit_code(&self) -> u8 {
        match self {
            SandboxError::NotFound(_) | SandboxError::NoCandidate { .. } | SandboxError::NoContainer { .. } => {
                JOB_FAILED
            }
        }
    }
    fn hint(&self) -> Option<String> {
        Some(match self {
            SandboxError::NotFound(_) | SandboxError::NoContainer { .. } => "see `prodbox ls`".into(),
            SandboxError::NoCandidate { service, .. } => {
                let service = if service.is_empty() { "SERVICE" } else { service };
                format!("start one with `prodbox up {service} --candidate IMAGE`")
            }
        })
    }
}

impl Diagnose for SpecError {
    fn exit_code(&self) -> u8 {
        match self {
            SpecError::FileAtRoot { .. } | SpecError::EnvTooLarge { .. } => USAGE,
        }
    }
    fn hint(&self) -> Option<String> {
        Some(match self {
            SpecError::FileAtRoot { .. } => "set [run] read_only = false in the profile".into(),
            SpecError::EnvTooLarge { .. } => {
                "drop the variables the sandbox does not need ([sanitize] drop in the profile)".into()
            }
        })
    }
}

impl Diagnose for crate::interrupt::Interrupted {
    /// 128 + the signal's number, as a shell reports a killed process.
    fn exit_code(&self) -> u8 {
        self.signal.exit_code()
    }
}

impl Diagnose for ClusterUnreachable {
    fn exit_code(&self) -> u8 {
        UNREACHABLE
    }
}

/// The typed error a cause is, if it is one of prodbox's.
fn typed<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a dyn Diagnose> {
    macro_rules! first_of {
        ($($t:ty),* $(,)?) => {
            $(if let Some(e) = cause.downcast_ref::<$t>() { return Some(e); })*
        };
    }
    first_of!(
        UsageError,
        StrictError,
        InvalidName,
        ProfileError,
        ReproError,
        RecordError,
        ResolveError,
        FetchError,
        EngineError,
        HealthError,
        SanitizeError,
        SandboxError,
        SpecError,
        ClusterUnreachable,
        crate::interrupt::Interrupted,
    );
    None
}

/// An error as the user sees it.
#[derive(Debug)]
pub struct Diagnosis {
    /// `error: …` (and `hint: …`), scrubbed of secret values.
    pub text: String,
    pub code: u8,
}

/// Walks the chain once: the messages (each once), and the exit code and
/// hint of the outermost typed error (an untyped failure is a job failure).
/// Messages can quote remote systems (a registry's error body, a URL with a
/// password): the whole text passes the sanitizer's value scrub.
pub fn diagnose(err: &anyhow::Error) -> Diagnosis {
    let mut out = String::from("error: ");
    // anyhow's chain repeats a transparent source's text; keep each message once.
    let mut seen: Vec<String> = Vec::new();
    let mut found: Option<&dyn Diagnose> = None;
    for cause in err.chain() {
        if found.is_none() {
            found = typed(cause);
        }
        let text = cause.to_string();
        if seen.iter().any(|s| s.contains(text.as_str())) {
            continue;
        }
        if !seen.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
        seen.push(text);
    }
    if let Some(hint) = found.and_then(|d| d.hint()) {
        out.push_str("\nhint: ");
        out.push_str(&hint);
    }
    Diagnosis { text: crate::sanitize::scrub_text(&out), code: found.map_or(JOB_FAILED, |d| d.exit_code()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interrupt::{Interrupted, Signal};

    fn s() -> String {
        "x".into()
    }

    /// Every error variant prodbox has, with its exit code and whether it
    /// carries a hint: the table SPEC §2's exit codes are checked against.
    /// A new variant does not compile until `Diagnose` gives it a code; add
    /// it here too.
    fn table() -> Vec<(anyhow::Error, u8, bool)> {
        let engine_down = || EngineError::Unreachable { address: s(), detail: s() };
        let engine_api = || EngineError::Api { what: s(), detail: s() };
        let record = || RecordError::NoDigest { origin: s(), image: s() };
        vec![
            (UsageError(s()).into(), USAGE, false),
            (StrictError(s()).into(), JOB_FAILED, false),
            (InvalidName(s()).into(), USAGE, false),
            (ProfileError::NotFound { service: s(), dirs: s(), first: s() }.into(), USAGE, false),
            (ProfileError::Read { path: s(), source: std::io::Error::other("x") }.into(), USAGE, false),
            (ProfileError::Invalid { path: s(), line: 1, column: 1, message: s() }.into(), USAGE, false),
            (ReproError::Read { path: s(), detail: s() }.into(), USAGE, false),
            (ReproError::Write { path: s(), detail: s() }.into(), JOB_FAILED, false),
            (RecordError::Syntax { origin: s(), what: "x", line: 1, column: 1 }.into(), USAGE, false),
            (RecordError::Field { origin: s(), field: s(), problem: s() }.into(), USAGE, false),
            (record().into(), USAGE, false),
            (RecordError::WrongRepository { origin: s(), image: s(), expected: s() }.into(), USAGE, false),
            (ResolveError::Unreachable { origin: s(), detail: s() }.into(), UNREACHABLE, true),
            (ResolveError::Rejected { origin: s(), status: 404, hint: s() }.into(), JOB_FAILED, false),
            (ResolveError::Setup { origin: s(), detail: s() }.into(), USAGE, false),
            (ResolveError::NoHistory { origin: s(), service: s(), hint: s() }.into(), JOB_FAILED, false),
            (ResolveError::BadAnswer { origin: s(), detail: s() }.into(), JOB_FAILED, false),
            (ResolveError::NoMatch(s()).into(), JOB_FAILED, false),
            (ResolveError::Record(record()).into(), USAGE, false),
            (ResolveError::Fetch(FetchError::Credentials { registry: s(), detail: s() }).into(), JOB_FAILED, true),
            (FetchError::Unreachable { registry: s(), detail: s() }.into(), UNREACHABLE, true),
            (
                FetchError::DigestMismatch { registry: s(), what: "x", digest: s(), actual: s() }.into(),
                JOB_FAILED,
                false,
            ),
            (FetchError::Registry { registry: s(), reference: s(), detail: s() }.into(), JOB_FAILED, false),
            (FetchError::Auth { registry: s(), detail: s() }.into(), JOB_FAILED, true),
            (FetchError::Credentials { registry: s(), detail: s() }.into(), JOB_FAILED, true),
            (FetchError::NoPlatform { reference: s(), platform: s(), available: s() }.into(), JOB_FAILED, false),
            (FetchError::Pull { reference: s(), detail: s() }.into(), JOB_FAILED, false),
            (FetchError::NotPinned { reference: s(), digest: s(), found: s() }.into(), JOB_FAILED, false),
            (FetchError::Engine(engine_down()).into(), UNREACHABLE, true),
            (engine_down().into(), UNREACHABLE, true),
            (engine_api().into(), JOB_FAILED, false),
            (
                EngineError::NotIsolated {
                    network: s(),
                    engine: crate::engine::EngineKind::Docker,
                    reasons: s(),
                    hint: "x",
                }
                .into(),
                JOB_FAILED,
                false,
            ),
            (EngineError::NoRelay { detail: s() }.into(), USAGE, true),
            (EngineError::Taken { resource: s() }.into(), JOB_FAILED, true),
            (EngineError::Unfit { network: s(), reasons: s() }.into(), JOB_FAILED, true),
            (HealthError::Timeout { check: s(), seconds: 1, logs: s() }.into(), JOB_FAILED, false),
            (HealthError::Exited { code: 1, logs: s() }.into(), JOB_FAILED, false),
            (HealthError::Unhealthy { logs: s() }.into(), JOB_FAILED, false),
            (HealthError::Engine(engine_down()).into(), UNREACHABLE, true),
            (SanitizeError::Scrub(s()).into(), JOB_FAILED, false),
            (SandboxError::NotFound(s()).into(), JOB_FAILED, true),
            (SandboxError::NoCandidate { name: s(), service: s() }.into(), JOB_FAILED, true),
            (SandboxError::NoContainer { name: s(), role: crate::sandbox::labels::Role::App }.into(), JOB_FAILED, true),
            (SpecError::FileAtRoot { file: s() }.into(), USAGE, true),
            (SpecError::EnvTooLarge { detail: s() }.into(), USAGE, true),
            (ClusterUnreachable { doing: s(), detail: s() }.into(), UNREACHABLE, false),
            (Interrupted { signal: Signal::Int, what: s() }.into(), 130, false),
            (Interrupted { signal: Signal::Term, what: s() }.into(), 143, false),
            (Interrupted { signal: Signal::Hup, what: s() }.into(), 129, false),
            (anyhow::anyhow!("untyped"), JOB_FAILED, false),
        ]
    }

    #[test]
    fn every_error_has_its_exit_code_and_hint() {
        for (err, code, has_hint) in table() {
            let d = diagnose(&err);
            assert_eq!(d.code, code, "{err:?}");
            assert_eq!(d.text.contains("\nhint: "), has_hint, "{err:?}: {}", d.text);
            assert!(d.text.starts_with("error: "), "{}", d.text);
        }
    }

    /// Wrapping must not change the verdict: context, or any number of
    /// layers, keep the inner error's code (the old downcast ladder turned an
    /// engine that could not be reached into exit 1 once wrapped).
    #[test]
    fn context_keeps_the_code_and_the_hint() {
        for (err, code, has_hint) in table() {
            let wrapped = err.context("up checkout").context("launching");
            let d = diagnose(&wrapped);
            assert_eq!(d.code, code, "{wrapped:?}");
            assert_eq!(d.text.contains("\nhint: "), has_hint, "{}", d.text);
            assert!(d.text.starts_with("error: launching: up checkout"), "{}", d.text);
        }
    }
}
