//! `prodbox profiles [validate]`.

use std::path::PathBuf;

use serde::Serialize;

use crate::profile::Profile;
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

/// The profiles that parse, and the errors of those that don't.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct ProfileList {
    pub profiles: Vec<ProfileLine>,
    /// One message per profile that does not parse (printed on stderr).
    #[serde(skip)]
    pub errors: Vec<String>,
    /// `profiles validate`: only the verdict is printed.
    #[serde(skip)]
    pub validate: bool,
}

/// The profile JSON Schema (`profiles schema`).
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Schema(pub serde_json::Value);

/// Lists the profiles (`validate`: only checks them).
pub fn run(settings: &Settings, validate: bool) -> Result<ProfileList, crate::error::UsageError> {
    if settings.profiles_given {
        if let Some(dir) = settings.profile_dirs.iter().find(|d| !d.is_dir()) {
            return Err(crate::error::UsageError(format!(
                "--profiles {}: no such directory; pass the folder that holds SERVICE.toml files",
                dir.display()
            )));
        }
    }
    let (profiles, errors) = load(settings);
    Ok(ProfileList { profiles, errors, validate })
}

/// Lists the profiles that parse; returns the errors of those that don't.
pub fn load(settings: &Settings) -> (Vec<ProfileLine>, Vec<String>) {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for path in Profile::list(&settings.profile_dirs) {
        match Profile::load(&path) {
            Ok(p) => ok.push(ProfileLine {
                service: p.service,
                environment: p.environment,
                source: p.source.kind.describe(),
                repository: p.image.repository,
                path,
            }),
            Err(e) => errors.push(e.to_string()),
        }
    }
    (ok, errors)
}
