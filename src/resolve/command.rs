//! The `command` source: an external program (aws, gcloud, argocd, nomad,
//! kubectl, a script) whose stdout is JSON. It runs without a shell, in the
//! profile's folder, with the user's environment (the cloud CLIs keep their
//! credentials there; prodbox never logs it), stdin closed, a timeout, and
//! stdout capped. On failure its last stderr lines are shown after the
//! sanitizer's value scrub.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::{record, Answer, DeploySource, Query, ResolveError};

/// The most stdout a command may print: 64 MiB.
pub const MAX_STDOUT: u64 = 64 << 20;
/// How many stderr lines a failure shows.
const STDERR_LINES: usize = 10;
/// Longest stderr line shown, in characters.
const STDERR_LINE_CHARS: usize = 300;

/// A command printing the record (and optionally one printing history).
pub struct CommandSource {
    pub command: Vec<String>,
    pub history_command: Option<Vec<String>>,
    pub timeout: Duration,
    /// The profile's folder: the command's working directory.
    pub dir: PathBuf,
}

impl DeploySource for CommandSource {
    fn current<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, ResolveError>> {
        Box::pin(run(&self.command, query, self.timeout, &self.dir))
    }

    fn history<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, ResolveError>> {
        Box::pin(async move {
            match &self.history_command {
                Some(argv) => run(argv, query, self.timeout, &self.dir).await,
                None => Err(ResolveError::NoHistory {
                    origin: format!("command {}", self.command[0]),
                    service: query.service.clone(),
                    hint: "set [source].history_command to a command printing past deploys".into(),
                }),
            }
        })
    }

    fn answers_at(&self) -> bool {
        self.command.iter().any(|a| a.contains("{at}"))
    }
}

/// Runs `argv` (placeholders filled) and parses its stdout as JSON.
pub async fn run(
    argv: &[String],
    query: &Query,
    timeout: Duration,
    dir: &std::path::Path,
) -> Result<Answer, ResolveError> {
    let argv: Vec<String> = argv.iter().map(|a| query.expand(a)).collect();
    let program = &argv[0];
    let origin = format!("command {program}");
    tracing::debug!(program = %program, args = argv.len() - 1, "running the source command");
    let mut child = tokio::process::Command::new(program)
        .args(&argv[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ResolveError::Setup {
            origin: origin.clone(),
            detail: match e.kind() {
                std::io::ErrorKind::NotFound => {
                    format!("{program} was not found; install it, put it on PATH, or fix [source].command")
                }
                std::io::ErrorKind::PermissionDenied => format!("{program} is not executable; fix [source].command"),
                _ => format!("cannot start {program}: {e}"),
            },
        })?;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let work = async {
        let (out, err) = tokio::join!(read_capped(stdout, MAX_STDOUT), read_capped(stderr, 1 << 20));
        let status = child.wait().await;
        (out, err, status)
    };
    let (out, err, status) = match tokio::time::timeout(timeout, work).await {
        Ok(done) => done,
        Err(_) => {
            return Err(ResolveError::Unreachable {
                origin,
                detail: format!(
                    "gave no answer within {}s and was stopped; raise [source].timeout if it is just slow",
                    timeout.as_secs_f64()
                ),
            })
        }
    };
    let status = status.map_err(|e| ResolveError::Unreachable { origin: origin.clone(), detail: e.to_string() })?;
    let (out, overflow) =
        out.map_err(|e| ResolveError::Unreachable { origin: origin.clone(), detail: e.to_string() })?;
    if !status.success() {
        let (err, _) = err.unwrap_or_default();
        let code = status.code().map(|c| format!("exit status {c}")).unwrap_or_else(|| "a signal".into());
        let tail = last_lines(&String::from_utf8_lossy(&err));
        let detail = if tail.is_empty() {
            format!("failed with {code} and printed nothing on stderr")
        } else {
            format!("failed with {code}; its last stderr lines (secrets replaced):\n{tail}")
        };
        return Err(ResolveError::Unreachable { origin, detail });
    }
    if overflow {
        return Err(ResolveError::BadAnswer {
            origin,
            detail: format!("printed more than {} MiB on stdout; make it print one deploy's JSON", MAX_STDOUT >> 20),
        });
    }
    let json: Value =
        serde_json::from_slice(&out).map_err(|e| record::syntax(&format!("{origin} (its stdout)"), &e))?;
    Ok(Answer::new(origin, json))
}

/// Reads at most `cap` bytes; says whether there was more (the rest is drained).
async fn read_capped(mut r: impl AsyncRead + Unpin, cap: u64) -> std::io::Result<(Vec<u8>, bool)> {
    let mut buf = Vec::new();
    (&mut r).take(cap).read_to_end(&mut buf).await?;
    let more = tokio::io::copy(&mut r, &mut tokio::io::sink()).await? > 0;
    Ok((buf, more))
}

/// The last stderr lines, indented, each passed through the sanitizer's value scrub.
fn last_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(STDERR_LINES);
    lines[start..]
        .iter()
        .map(|line| {
            let clean = crate::sanitize::standin::replace(line, &crate::sanitize::detect::find_all(line));
            let mut short: String = clean.chars().take(STDERR_LINE_CHARS).collect();
            if short.len() < clean.len() {
                short.push('…');
            }
            format!("  | {short}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query() -> Query {
        Query { service: "checkout".into(), environment: "production".into(), at: None, registry: Default::default() }
    }

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn runs_without_a_shell_with_placeholders() {
        let a = run(
            &argv(&["echo", "{\"s\": \"{service}\", \"e\": \"{environment}\", \"x\": \"$HOME;\"}"]),
            &query(),
            Duration::from_secs(5),
            std::path::Path::new("."),
        )
        .await
        .unwrap();
        assert_eq!(a.json["s"], "checkout");
        assert_eq!(a.json["e"], "production");
        assert_eq!(a.json["x"], "$HOME;", "no shell expands it");
    }

    #[tokio::test]
    async fn failures_are_classified_and_scrubbed() {
        let dir = std::path::Path::new(".");
        let e = run(&argv(&["prodbox-no-such-program"]), &query(), Duration::from_secs(5), dir).await.unwrap_err();
        assert!(matches!(e, ResolveError::Setup { .. }), "{e}");
        let token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        let script = format!("echo one >&2; echo token={token} >&2; exit 4");
        let e =
            run(&argv(&["sh", "-c", &script]), &query(), Duration::from_secs(5), dir).await.unwrap_err().to_string();
        assert!(e.contains("exit status 4") && e.contains("| one"), "{e}");
        assert!(!e.contains(token), "{e}");
        let e = run(&argv(&["sleep", "5"]), &query(), Duration::from_millis(200), dir).await.unwrap_err();
        assert!(matches!(e, ResolveError::Unreachable { .. }) && e.to_string().contains("within 0.2s"), "{e}");
        let e = run(&argv(&["echo", "password=hunter2 not json"]), &query(), Duration::from_secs(5), dir)
            .await
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
