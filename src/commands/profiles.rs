//! `prodbox profiles [validate]`.

use std::path::PathBuf;

use serde::Serialize;

use crate::profile::{Profile, Source};
use crate::settings::Settings;

/// One profile, as listed.
#[derive(Debug, Serialize)]
pub struct ProfileLine {
    pub service: String,
    pub environment: String,
    pub source: String,
    pub repository: String,
    pub path: PathBuf,
}

/// Lists the profiles that parse; returns the errors of those that don't.
pub fn run(settings: &Settings) -> (Vec<ProfileLine>, Vec<String>) {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for path in Profile::list(&settings.profile_dirs) {
        match Profile::load(&path) {
            Ok(p) => ok.push(ProfileLine {
                service: p.service,
                environment: p.environment,
                source: match p.source {
                    Source::File { path } => format!("file {}", path.display()),
                    Source::Http { url, .. } => format!("http {url}"),
                },
                repository: p.image.repository,
                path,
            }),
            Err(e) => errors.push(e.to_string()),
        }
    }
    (ok, errors)
}
