//! `prodbox exec NAME -- CMD…`: run a command in the app container —
//! interactive with a TTY when stdin is a terminal (on the engine), else with
//! its output captured; either way its exit code is passed on.

use super::Text;
use crate::targets::{Role, SandboxTarget};

/// Runs the command; returns its output (when not interactive) and its exit code.
pub async fn run(target: &dyn SandboxTarget, name: &str, candidate: bool, command: &[String]) -> anyhow::Result<Text> {
    let role = if candidate { Role::Candidate } else { Role::App };
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    let (code, text) = target.exec(name, role, command, interactive).await?;
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
