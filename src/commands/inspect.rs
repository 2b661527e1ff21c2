//! `prodbox inspect SERVICE|NAME`: what a sandbox runs, or what production
//! runs for a service (resolved and read from the registry, nothing pulled).

use serde::Serialize;

use super::Ctx;
use crate::fetch::{self, auth, ImageFacts};
use crate::pair::images::{self, ImageSide};
use crate::profile::Profile;
use crate::resolve;
use crate::sandbox::{self, SandboxInfo};
use crate::sanitize::{self, Decision};

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
    /// What the deploy source remarked (e.g. no deploy-record artifact).
    pub notes: Vec<String>,
    pub image: ImageFacts,
    pub sanitized: super::up::ConfigCounts,
    pub decisions: Vec<Decision>,
}

/// A sandbox named `target` if there is one, else the service `target`.
pub async fn run(ctx: &Ctx, target: &str) -> anyhow::Result<Inspected> {
    let settings = &ctx.settings;
    let engine = ctx.engine().await?;
    if let Some(info) = sandbox::find(engine, target).await? {
        let app_image = images::side(engine, &info.deploy.image).await.ok();
        return Ok(Inspected::Sandbox(Box::new(SandboxView { sandbox: info, app_image })));
    }
    let profile = Profile::find(&settings.profile_dirs, target)?;
    let resolved = resolve::current(&profile, &settings.registry).await?;
    let record = resolved.record;
    let platform = match &profile.image.platform {
        Some(p) => p.clone(),
        None => engine.platform(),
    };
    let creds = auth::for_registry(&record.image.registry)?;
    let facts = fetch::inspect_remote(&record.image, &platform, &creds, &settings.registry).await?;
    let clean = sanitize::sanitize(&record.config, &profile.sanitize)?;
    Ok(Inspected::Service(Box::new(ServiceView {
        service: profile.service,
        environment: profile.environment,
        deployed_at: record.deployed_at,
        deployed_by: record.deployed_by,
        revision: record.revision,
        notes: resolved.notes,
        image: facts,
        sanitized: super::up::ConfigCounts::of(&clean.decisions),
        decisions: clean.decisions,
    })))
}
