//! `prodbox history SERVICE`: past deploys, newest first, with how long each was live.

use serde::Serialize;

use super::Ctx;
use crate::profile::Profile;
use crate::resolve;
use crate::timestamp::{human_duration, Timestamp};

/// One past deploy.
#[derive(Debug, Serialize)]
pub struct Deploy {
    pub deployed_at: Option<String>,
    pub deployed_by: Option<String>,
    pub revision: Option<String>,
    pub image: String,
    pub digest: String,
    /// How long it was live (until the next deploy), or how long it has been.
    pub live_for: Option<String>,
    /// Whether it is the one live now.
    pub current: bool,
    /// Why it cannot be run (another repository, a malformed record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unusable: Option<String>,
}

/// Past deploys, newest first.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct History(pub Vec<Deploy>);

/// History of `service` in its profile's environment (or `environment`).
pub async fn run(ctx: &Ctx, service: &str, environment: Option<&str>) -> anyhow::Result<History> {
    let settings = &ctx.settings;
    let mut profile = Profile::find(&settings.profile_dirs, service)?;
    if let Some(env) = environment {
        profile.environment = env.to_string();
    }
    let (records, unpinned) = resolve::history_listing(&profile, &settings.registry).await?;
    let now = Timestamp::now();
    let times: Vec<Option<Timestamp>> =
        records.iter().map(|r| r.deployed_at.as_deref().and_then(Timestamp::parse)).collect();
    let mut deploys: Vec<Deploy> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            // Newest first: the one before this in the list replaced it.
            let until = if i == 0 { Some(now) } else { times[i - 1] };
            let live_for = match (times[i], until) {
                (Some(from), Some(to)) => Some(human_duration(to.0 - from.0)),
                _ => None,
            };
            Deploy {
                deployed_at: r.deployed_at.clone(),
                deployed_by: r.deployed_by.clone(),
                revision: r.revision.clone(),
                image: r.image.pinned(),
                digest: r.image.digest.clone().unwrap_or_default(),
                live_for,
                current: i == 0,
                unusable: None,
            }
        })
        .collect();
    // Known only by a tag: listed where they fall, "digest unknown", never chosen.
    for u in unpinned {
        let at = u.deployed_at.as_deref().and_then(Timestamp::parse);
        let pos = deploys.iter().position(|d| d.deployed_at.as_deref().and_then(Timestamp::parse) < at);
        let deploy = Deploy {
            deployed_at: u.deployed_at,
            deployed_by: None,
            revision: u.revision,
            image: u.image,
            digest: if u.unusable.is_some() { "unusable".into() } else { "unknown".into() },
            live_for: None,
            current: false,
            unusable: u.unusable,
        };
        deploys.insert(pos.unwrap_or(deploys.len()), deploy);
    }
    Ok(History(deploys))
}
