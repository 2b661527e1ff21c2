//! Integration tests: the real binary against the real engine and registry.
//! One module per area; the harness is in `common`.

mod auth;
mod common;
mod errors;
mod history;
mod http_source;
mod lifecycle;
mod pair;
mod secrets;
mod up;
