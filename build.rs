//! Builds the sandbox relay (`relay/main.rs`, std only) as a static *Linux*
//! binary for each architecture an engine may run (x86-64, arm64) that this
//! machine can build for, and hands their paths to the crate, which embeds
//! them. The relay must run in the engine's Linux, never on this host: a
//! macOS build cannot make one at all, an x86-64 build usually no arm64 one.
//!
//! This never fails the build. An architecture that cannot be built gets an
//! empty file, and prodbox then uses a `relay_image` pinned by digest for an
//! engine of that architecture (see docs/relay.md).
//!
//! `PRODBOX_RELAY_ARCHES` (default `x86_64,aarch64`; `none` for none) picks
//! which to try, e.g. to check a build that embeds no relay.

use std::path::{Path, PathBuf};
use std::process::Command;

const ARCHES: [&str; 2] = ["x86_64", "aarch64"];

fn main() {
    println!("cargo:rerun-if-changed=relay/main.rs");
    println!("cargo:rerun-if-changed=relay/sinkhole.rs");
    println!("cargo:rerun-if-env-changed=PRODBOX_RELAY_ARCHES");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    let wanted = std::env::var("PRODBOX_RELAY_ARCHES").unwrap_or_else(|_| ARCHES.join(","));
    let host = std::env::var("HOST").unwrap_or_default();
    let mut any = false;
    for arch in ARCHES {
        let out = out_dir.join(format!("prodbox-relay-{arch}"));
        let built = wanted.split(',').any(|w| w.trim() == arch) && build(arch, &host, &out);
        if !built {
            // An empty relay: prodbox knows it has none for this architecture.
            let _ = std::fs::write(&out, b"");
        }
        any |= built;
        println!("cargo:rustc-env=PRODBOX_RELAY_{}={}", arch.to_ascii_uppercase(), out.display());
        // The relay image's tag, worked out here once rather than by every
        // `up` (hashing a megabyte and a half is slow in a debug build).
        let bytes = std::fs::read(&out).unwrap_or_default();
        println!("cargo:rustc-env=PRODBOX_RELAY_{}_TAG={:016x}", arch.to_ascii_uppercase(), fnv1a(&bytes));
    }
    if !any {
        println!("cargo:warning=no Linux relay could be built here: prodbox will need relay_image (docs/relay.md)");
    }
}

/// FNV-1a, 64 bits: a fingerprint of the relay binary for its image's tag.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Tries the Linux targets of `arch` this machine may build a static binary
/// for: musl (self-contained, linked by rust-lld, when its std is installed),
/// then glibc when this host is that very Linux target (its own linker).
fn build(arch: &str, host: &str, out: &Path) -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let musl = format!("{arch}-unknown-linux-musl");
    let gnu = format!("{arch}-unknown-linux-gnu");
    let mut attempts: Vec<(String, Vec<&str>)> =
        vec![(musl, vec!["-C", "linker=rust-lld", "-C", "linker-flavor=ld.lld", "-C", "link-self-contained=yes"])];
    if host == gnu {
        attempts.push((gnu, vec![]));
    }
    for (target, extra) in attempts {
        let status = Command::new(&rustc)
            .args(["--edition", "2021", "-O", "-C", "strip=symbols", "-C", "target-feature=+crt-static"])
            .args(["--target", &target])
            .args(extra)
            .arg("relay/main.rs")
            .arg("-o")
            .arg(out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        if matches!(status, Ok(s) if s.success()) {
            return true;
        }
    }
    false
}
