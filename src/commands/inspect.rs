//! `prodbox inspect SERVICE|NAME`: what a sandbox runs, or what production
//! runs for a service (resolved and read from the registry, nothing pulled).

use serde::Serialize;

use crate::engine::Engine;
use crate::error::UsageError;
use crate::fetch::{self, auth, ImageFacts};
use crate::pair::images::{self, ImageSide};
use crate::profile::Profile;
use crate::resolve;
use crate::sandbox::{self, SandboxInfo};
use crate::sanitize::{self, Decision};
use crate::settings::Settings;

/// What `inspect` found.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Inspected {
    Sandbox(Box<SandboxView>),
    Service(Box<ServiceView>),
}

/// A sandbox and the image its app runs.
#[derive(Debug, Serialize)]
pub struct SandboxView {
    #[serde(flatten)]
    pub sandbox: SandboxInfo,
    pub app_image: Option<ImageSide>,
}

/// Production's current deploy of a service.
#[derive(Debug, Serialize)]
pub struct ServiceView {
    pub service: String,
    pub environment: String,
    pub deployed_at: Option<String>,
    pub deployed_by: Option<String>,
    pub revision: Option<String>,
    pub image: ImageFacts,
    pub sanitized: String,
    pub decisions: Vec<Decision>,
}

/// A sandbox named `target` if there is one, else the service `target`.
pub async fn run(settings: &Settings, target: &str) -> anyhow::Result<Inspected> {
    let engine = Engine::connect().await?;
    if let Some(info) = sandbox::find(&engine, target).await? {
        let app_image = images::side(&engine, &info.image).await.ok();
        return Ok(Inspected::Sandbox(Box::new(SandboxView { sandbox: info, app_image })));
    }
    let profile = Profile::find(&settings.profile_dirs, target)?;
    let record = resolve::current(&profile).await?;
    let platform = match &profile.image.platform {
        Some(p) => p.clone(),
        None => engine.platform().await?,
    };
    let creds = auth::for_registry(&record.image.registry).map_err(UsageError)?;
    let facts = fetch::inspect_remote(&record.image, &platform, &creds, &settings.registry).await?;
    let clean = sanitize::sanitize(&record.config, &profile.sanitize);
    Ok(Inspected::Service(Box::new(ServiceView {
        service: profile.service,
        environment: profile.environment,
        deployed_at: record.deployed_at,
        deployed_by: record.deployed_by,
        revision: record.revision,
        image: facts,
        sanitized: clean.summary(),
        decisions: clean.decisions,
    })))
}
