//! `prodbox exec NAME -- CMD…`: run a command in the app container —
//! interactive with a TTY when stdin is a terminal, else with its output
//! captured; either way its exit code is passed on.

use super::{Ctx, Text};
use crate::sandbox::{self, labels::Role, SandboxError};

/// Runs the command; returns its output (when not interactive) and its exit code.
pub async fn run(ctx: &Ctx, name: &str, candidate: bool, command: &[String]) -> anyhow::Result<Text> {
    let engine = ctx.engine().await?;
    let info = sandbox::require(engine, name).await?;
    if candidate && info.candidate.is_none() {
        return Err(SandboxError::NoCandidate { name: name.to_string(), service: info.deploy.service }.into());
    }
    let role = if candidate { Role::Candidate } else { Role::App };
    let container = sandbox::container_name(name, role.as_str());
    let (code, text) = if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        (sandbox::exec::interactive(engine, &container, command.to_vec()).await?, String::new())
    } else {
        sandbox::exec::capture(engine, &container, command.to_vec()).await?
    };
    Ok(Text { text, code: exit_code(code) })
}

/// A command's exit code as ours: a code outside 0..=255 is a failure, never success.
pub fn exit_code(code: i64) -> u8 {
    u8::try_from(code).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_outside_a_byte_are_failures() {
        assert_eq!(super::exit_code(0), 0);
        assert_eq!(super::exit_code(7), 7);
        assert_eq!(super::exit_code(-1), 1);
        assert_eq!(super::exit_code(256), 1);
    }
}
