//! prodbox: run production's exact build in an isolated local sandbox.
//!
//! The pipeline, one module per stage:
//! [`profile`] → [`resolve`] (deploy record) → [`fetch`] (registry + engine
//! pull by digest) → [`sanitize`] (safe config) → [`sandbox`] (isolated
//! launch) → report. [`commands`] chain the stages; `main.rs` and [`cli`]
//! only parse and print.

pub mod args;
pub mod cli;
pub mod commands;
pub mod digest;
pub mod engine;
pub mod error;
pub mod fetch;
pub mod identity;
pub mod image_ref;
pub mod interrupt;
pub mod jq;
pub mod limits;
pub mod name;
pub mod pair;
pub mod profile;
pub mod progress;
pub mod render;
pub mod repro;
pub mod resolve;
pub mod sandbox;
pub mod sanitize;
pub mod secret;
pub mod settings;
pub mod targets;
pub mod timestamp;
pub mod ui;

/// mimalloc for every binary built on this crate (prodbox, its tests and
/// benches): the sanitizer makes small allocations per value, where glibc's
/// malloc and free cost ~9% of its work (measured with callgrind on
/// `cargo bench --bench sanitize`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(test)]
mod module_graph;
