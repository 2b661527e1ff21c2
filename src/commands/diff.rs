//! `prodbox diff NAME`: production's build against the candidate — images,
//! and answers to the same requests. Exit 0 when the answers are the same
//! (or, with no requests, the images are), 1 when they differ.

use serde::Serialize;

use super::Ctx;
use crate::error::UsageError;
use crate::pair::answers::{self, Compared, Request};
use crate::pair::images::{self, ImageDiff};
use crate::sandbox::{self, SandboxError};

/// What `diff` found.
#[derive(Debug, Serialize)]
pub struct DiffReport {
    pub name: String,
    pub images: ImageDiff,
    pub answers: Vec<Compared>,
    /// What each build tried to reach while answering (with requests, and a sinkhole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress: Option<crate::pair::egress::EgressDiff>,
    /// The verdict the exit code reports.
    pub same: bool,
}

/// Compares the sandbox's app and candidate.
pub async fn run(
    ctx: &Ctx,
    name: &str,
    requests: Vec<String>,
    requests_file: Option<&std::path::Path>,
    port: Option<u16>,
) -> anyhow::Result<DiffReport> {
    let mut lines = requests;
    if let Some(path) = requests_file {
        let text =
            std::fs::read_to_string(path).map_err(|e| UsageError(format!("--requests {}: {e}", path.display())))?;
        lines.extend(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from));
    }
    let requests = lines.iter().map(|l| Request::parse(l).map_err(UsageError)).collect::<Result<Vec<_>, _>>()?;

    let engine = ctx.engine().await?;
    let info = sandbox::require(engine, name).await?;
    let Some(candidate) = &info.candidate else {
        return Err(SandboxError::NoCandidate { name: name.to_string(), service: info.deploy.service.clone() }.into());
    };
    let production = images::side(engine, &info.deploy.image).await?;
    let mut candidate_side = images::side(engine, &candidate.id).await?;
    candidate_side.reference = candidate.image.clone();
    let images = images::compare(production, candidate_side);

    let mut compared = Vec::new();
    let mut egress = None;
    if !requests.is_empty() {
        // The sinkhole's records so far: what comes after is the requests' doing.
        let before = sandbox::sinkhole::settled_records(engine, name).await?.map(|r| r.len());
        let port = port
            .or(info.ports.first().map(|p| p.0))
            .ok_or_else(|| UsageError(format!("sandbox {name} publishes no port")))?;
        let host =
            |ports: &[(u16, u16)]| ports.iter().find(|(c, _)| *c == port).map(|(_, h)| format!("http://127.0.0.1:{h}"));
        let (Some(prod_url), Some(cand_url)) = (host(&info.ports), host(&candidate.ports)) else {
            return Err(
                UsageError(format!("sandbox {name} does not publish container port {port} for both builds")).into()
            );
        };
        let client = reqwest::Client::builder().build()?;
        for req in &requests {
            let (a, b) = tokio::join!(answers::send(&client, &prod_url, req), answers::send(&client, &cand_url, req));
            compared.push(answers::compare(req, a, b));
        }
        if let (Some(before), Some(records)) = (before, sandbox::sinkhole::settled_records(engine, name).await?) {
            let who = sandbox::sinkhole::who(engine, name).await?;
            egress = Some(crate::pair::egress::compare(records.get(before..).unwrap_or_default(), &who));
        }
    }
    let same = if compared.is_empty() {
        images.same
    } else {
        compared.iter().all(|c| c.same) && egress.as_ref().is_none_or(|e| e.same)
    };
    Ok(DiffReport { name: name.to_string(), images, answers: compared, egress, same })
}
