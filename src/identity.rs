//! [`Identity`]: the seven fields that say which deploy runs — repeated
//! before in the sandbox spec, the `up` report and the sandbox listing, now
//! one struct flattened into each (the JSON is unchanged).

use serde::Serialize;

/// Which deploy of which service runs, and where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub service: String,
    pub environment: String,
    /// `repository@digest` as pulled.
    pub image: String,
    pub digest: String,
    pub deployed_at: Option<String>,
    pub deployed_by: Option<String>,
    pub revision: Option<String>,
}
