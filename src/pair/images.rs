//! The image side of `diff`: digest, revision and version labels,
//! entrypoint/cmd, env defaults, exposed ports, size, layers.

use serde::Serialize;

use crate::engine::{self, Engine, EngineError};

/// What the engine says about one image.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ImageSide {
    pub reference: String,
    pub id: String,
    pub repo_digests: Vec<String>,
    pub revision: Option<String>,
    pub version: Option<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub exposed_ports: Vec<String>,
    pub size: i64,
    pub layers: Vec<String>,
    /// `os/arch`.
    pub platform: String,
    pub created: Option<String>,
    pub source: Option<String>,
}

/// The two images side by side.
#[derive(Debug, Clone, Serialize)]
pub struct ImageDiff {
    pub production: ImageSide,
    pub candidate: ImageSide,
    /// Same image id: the same build.
    pub same: bool,
    /// `field: production → candidate` for each field that differs.
    pub changes: Vec<String>,
    pub layers_added: Vec<String>,
    pub layers_removed: Vec<String>,
}

/// Reads one image from the engine.
pub async fn side(engine: &Engine, reference: &str) -> Result<ImageSide, EngineError> {
    let image =
        engine.docker.inspect_image(reference).await.map_err(|e| engine::api(format!("inspecting {reference}"), e))?;
    let config = image.config.unwrap_or_default();
    let labels = config.labels.unwrap_or_default();
    let mut exposed = config.exposed_ports.unwrap_or_default();
    exposed.sort();
    Ok(ImageSide {
        reference: reference.to_string(),
        id: image.id.unwrap_or_default(),
        repo_digests: image.repo_digests.unwrap_or_default(),
        revision: labels.get("org.opencontainers.image.revision").cloned(),
        version: labels.get("org.opencontainers.image.version").cloned(),
        entrypoint: config.entrypoint.unwrap_or_default(),
        cmd: config.cmd.unwrap_or_default(),
        env: config.env.unwrap_or_default(),
        exposed_ports: exposed,
        size: image.size.unwrap_or_default(),
        layers: image.root_fs.and_then(|r| r.layers).unwrap_or_default(),
        platform: format!("{}/{}", image.os.unwrap_or_default(), image.architecture.unwrap_or_default()),
        created: image.created,
        source: labels.get("org.opencontainers.image.source").cloned(),
    })
}

/// Compares two sides.
pub fn compare(production: ImageSide, candidate: ImageSide) -> ImageDiff {
    let mut changes = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            changes.push(format!("{name}: {a} → {b}"));
        }
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    field("image id", crate::digest::short(&production.id).into(), crate::digest::short(&candidate.id).into());
    field("revision", opt(&production.revision), opt(&candidate.revision));
    field("version", opt(&production.version), opt(&candidate.version));
    field("entrypoint", format!("{:?}", production.entrypoint), format!("{:?}", candidate.entrypoint));
    field("cmd", format!("{:?}", production.cmd), format!("{:?}", candidate.cmd));
    field("exposed ports", production.exposed_ports.join(" "), candidate.exposed_ports.join(" "));
    field(
        "size",
        crate::ui::human_size(production.size.max(0) as u64),
        crate::ui::human_size(candidate.size.max(0) as u64),
    );
    for e in &production.env {
        if !candidate.env.contains(e) {
            let name = e.split('=').next().unwrap_or(e);
            let other = candidate.env.iter().find(|c| c.split('=').next() == Some(name));
            changes.push(match other {
                Some(o) => format!("env default: {e} → {o}"),
                None => format!("env default: {e} → (unset)"),
            });
        }
    }
    for e in &candidate.env {
        let name = e.split('=').next().unwrap_or(e);
        if !production.env.iter().any(|p| p.split('=').next() == Some(name)) {
            changes.push(format!("env default: (unset) → {e}"));
        }
    }
    let layers_added = candidate.layers.iter().filter(|l| !production.layers.contains(l)).cloned().collect();
    let layers_removed = production.layers.iter().filter(|l| !candidate.layers.contains(l)).cloned().collect();
    ImageDiff { same: production.id == candidate.id, production, candidate, changes, layers_added, layers_removed }
}
