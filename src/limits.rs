//! Bounds on what prodbox reads from the outside (records, manifests,
//! configs, command output) and how long it waits for a remote system. A
//! hostile or broken source gets a clear error, never all of the machine's
//! memory or an endless wait.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// The largest deploy record (or history answer) read: records hold config
/// files, but not this many.
pub const MAX_RECORD: u64 = 64 << 20;
/// The largest image manifest or index read (real ones are a few KiB).
pub const MAX_MANIFEST: u64 = 4 << 20;
/// The largest image config blob read.
pub const MAX_CONFIG: u64 = 16 << 20;
/// The largest stdout a `command` source may print.
pub const MAX_COMMAND_OUTPUT: u64 = 64 << 20;
/// The largest repro file read.
pub const MAX_REPRO: u64 = 1 << 20;
/// The most env bytes (`NAME=value` plus a NUL each) a container is created
/// with: Linux's execve refuses more than 32 pages per string and about a
/// quarter of the stack for all of them; 1 MiB stays below both on every
/// engine checked, so the record is refused before anything is made.
pub const MAX_ENV_BYTES: usize = 1 << 20;
/// The longest single env string (`NAME=value`): execve's MAX_ARG_STRLEN.
pub const MAX_ENV_STRING: usize = 32 * 4096 - 1;

/// The overall deadline of one call to a remote system (deploy registry, OCI
/// registry, engine request), unless `PRODBOX_NETWORK_TIMEOUT` sets one
/// (`90s`, `5m`): a server that sends a byte a second is cut off there.
pub fn network_deadline() -> Duration {
    std::env::var("PRODBOX_NETWORK_TIMEOUT")
        .ok()
        .and_then(|v| crate::profile::parse_duration(&v))
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_NETWORK_DEADLINE)
}

/// How long connecting to the engine may take (its `/_ping`, `/version`,
/// `/info`): `PRODBOX_ENGINE_TIMEOUT` when set, else
/// `PRODBOX_NETWORK_TIMEOUT`, else 30 s. An engine that accepts and never
/// answers is reported, not waited on for minutes. The engine is a local
/// system and the registries remote ones, so each can have its own.
pub fn engine_deadline() -> Duration {
    ["PRODBOX_ENGINE_TIMEOUT", "PRODBOX_NETWORK_TIMEOUT"]
        .iter()
        .find_map(|name| {
            std::env::var(name).ok().and_then(|v| crate::profile::parse_duration(&v)).filter(|d| !d.is_zero())
        })
        .unwrap_or(DEFAULT_ENGINE_DEADLINE)
}

/// See [`engine_deadline`].
pub const DEFAULT_ENGINE_DEADLINE: Duration = Duration::from_secs(30);
/// `doctor`'s own, shorter wait for the engine: it is there to say what is wrong, quickly.
pub const DOCTOR_ENGINE_DEADLINE: Duration = Duration::from_secs(5);

/// See [`network_deadline`].
pub const DEFAULT_NETWORK_DEADLINE: Duration = Duration::from_secs(300);

/// What went wrong reading a bounded file.
#[derive(Debug)]
pub enum ReadError {
    /// It could not be opened or read.
    Io(std::io::Error),
    /// It is larger than the limit (bytes).
    TooLarge(u64),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::TooLarge(max) => write!(f, "larger than {} MiB, more than prodbox reads", max >> 20),
        }
    }
}

/// Reads at most `max` bytes of `path`; a longer file is an error (read
/// only up to the limit, whatever its length claims).
pub fn read_file(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut out = Vec::new();
    file.take(max + 1).read_to_end(&mut out).map_err(ReadError::Io)?;
    if out.len() as u64 > max {
        return Err(ReadError::TooLarge(max));
    }
    Ok(out)
}

/// Line and column (1-based) of the first byte that is not UTF-8, for errors
/// that must point at the spot without quoting it.
pub fn first_non_utf8(bytes: &[u8]) -> Option<(usize, usize)> {
    let e = std::str::from_utf8(bytes).err()?;
    let before = &bytes[..e.valid_up_to()];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = before.len() - before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
    Some((line, column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_over_the_limit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        std::fs::write(&path, vec![b'a'; 100]).unwrap();
        assert_eq!(read_file(&path, 100).unwrap().len(), 100);
        assert!(matches!(read_file(&path, 99), Err(ReadError::TooLarge(99))));
        assert!(matches!(read_file(&dir.path().join("none"), 9), Err(ReadError::Io(_))));
    }

    #[test]
    fn the_first_bad_byte_is_located() {
        assert_eq!(first_non_utf8(b"{}\n{\"a\": \"\xff\"}"), Some((2, 8)));
        assert_eq!(first_non_utf8(b"ok"), None);
    }
}
