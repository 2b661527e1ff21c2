//! Progress on stderr: indicatif bars on a terminal, plain lines otherwise.
//! Results (tables, or JSON with --json) are rendered by `render.rs`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::progress::Progress;

/// Progress on stderr.
pub struct Terminal {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    tty: bool,
    quiet: bool,
}

impl Terminal {
    /// Bars only when stderr is a terminal and not `-q`.
    pub fn new(quiet: bool) -> Terminal {
        let tty = std::io::stderr().is_terminal();
        let target = if tty && !quiet { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        Terminal { multi: MultiProgress::with_draw_target(target), bars: Mutex::new(HashMap::new()), tty, quiet }
    }

    fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        if self.tty {
            let _ = self.multi.println(text);
        } else {
            eprintln!("{text}");
        }
    }
}

impl Progress for Terminal {
    fn step(&self, message: &str) {
        self.line(&format!("› {message}"));
    }

    fn done(&self, message: &str, took: std::time::Duration) {
        self.line(&format!("✓ {message} ({:.1}s)", took.as_secs_f64()));
    }

    fn layer(&self, id: &str, status: &str, current: u64, total: u64) {
        if self.quiet {
            return;
        }
        if !self.tty {
            if matches!(status, "Pull complete" | "Already exists") {
                eprintln!("  {id}: {status}");
            }
            return;
        }
        let mut bars = self.bars.lock().unwrap();
        let bar = bars.entry(id.to_string()).or_insert_with(|| {
            let bar = self.multi.add(ProgressBar::new(0));
            bar.set_style(
                ProgressStyle::with_template(
                    "  {prefix} [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} eta {eta:>3} {msg}",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
            bar.set_prefix(id.to_string());
            bar
        });
        if total > 0 && status == "Downloading" {
            bar.set_length(total);
            bar.set_position(current);
        }
        bar.set_message(status.to_string());
        if matches!(status, "Pull complete" | "Already exists") {
            if let Some(len) = bar.length() {
                bar.set_position(len);
            }
            bar.finish();
        }
    }

    fn layers_done(&self) {
        for (_, bar) in self.bars.lock().unwrap().drain() {
            bar.finish_and_clear();
        }
    }

    fn warn(&self, message: &str) {
        self.line(&format!("warning: {message}"));
    }
}

/// Bytes as `1.2 MB`.
pub fn human_size(bytes: u64) -> String {
    indicatif::HumanBytes(bytes).to_string()
}
