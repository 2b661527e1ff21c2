//! Integration tests: the real binary against the real engine and registry.
//! One module per area; the harness is in `common`.

mod auth;
mod command_source;
mod common;
mod egress;
mod engine_target;
mod errors;
mod examples;
mod history;
mod http_source;
mod ingress;
mod isolation;
mod issue_10;
mod kubernetes_source;
mod kubernetes_target;
mod lifecycle;
mod oci_source;
mod pair;
mod pipeline;
mod regressions;
mod relay;
mod sanitize;
mod secrets;
mod snapshots;
mod up;
