//! Builds the sandbox relay (`relay/main.rs`, std only) as a static binary and
//! hands its path to the crate, which embeds it. The relay image is then built
//! locally from those bytes on first use: nothing is pulled for it.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=relay/main.rs");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("prodbox-relay");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let target = std::env::var("TARGET").unwrap();
    let status = Command::new(rustc)
        .args(["--edition", "2021", "-O", "-C", "strip=symbols"])
        .args(["-C", "target-feature=+crt-static", "--target", &target])
        .arg("relay/main.rs")
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run rustc for the relay");
    assert!(status.success(), "building the static relay binary failed");
    println!("cargo:rustc-env=PRODBOX_RELAY_BIN={}", out.display());
}
