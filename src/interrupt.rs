//! The signals that end a run: SIGINT (Ctrl-C), SIGTERM (a cancelled CI job,
//! `kill`) and SIGHUP (a closed terminal). `up` and the foreground stream
//! catch all three, remove what they made, and exit 128 + the signal's
//! number (130, 143, 129), as a shell reports a process the signal killed.

use tokio::signal::unix::{signal, SignalKind};

/// A signal prodbox stops for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
    Hup,
}

impl Signal {
    /// Its number.
    pub fn number(self) -> u8 {
        match self {
            Signal::Int => 2,
            Signal::Term => 15,
            Signal::Hup => 1,
        }
    }

    /// The exit code of a run it stopped: 128 + its number.
    pub fn exit_code(self) -> u8 {
        128 + self.number()
    }

    /// `SIGINT`, `SIGTERM`, `SIGHUP`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
            Signal::Hup => "SIGHUP",
        }
    }
}

/// Handlers for the three signals, installed when made: from then on they
/// no longer kill the process, and [`Signals::recv`] reports them. Make one
/// before anything is created, so no signal can slip between.
pub struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers (inside a tokio runtime).
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// The next of the three signals to arrive.
    pub async fn recv(&mut self) -> Signal {
        tokio::select! {
            _ = self.int.recv() => Signal::Int,
            _ = self.term.recv() => Signal::Term,
            _ = self.hup.recv() => Signal::Hup,
        }
    }
}

/// A run stopped by a signal, after removing what it made (`what` says how
/// that went).
#[derive(Debug, thiserror::Error)]
#[error("{}: {what}", signal.name())]
pub struct Interrupted {
    pub signal: Signal,
    pub what: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_128_plus_the_signal() {
        assert_eq!(Signal::Int.exit_code(), 130);
        assert_eq!(Signal::Term.exit_code(), 143);
        assert_eq!(Signal::Hup.exit_code(), 129);
    }
}
