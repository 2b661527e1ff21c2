//! `prodbox sanitize FILE… [--env-file F] [--profile P] [--out DIR]`: the
//! sanitizer alone, on local files. Check a profile's rules before pointing
//! them at production, or audit what the rules do: the decisions are
//! printed (names and reasons, never values), and with `--out` the
//! sanitized copies are written beside each other.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::cli::SanitizeArgs;
use crate::error::UsageError;
use crate::profile::{Profile, SanitizeSection};
use crate::resolve::{ProdConfig, ProdValue};
use crate::sanitize::{self, Decision};
use crate::secret::Secret;
use crate::settings::Settings;

/// What `sanitize` found.
#[derive(Debug, Serialize)]
pub struct SanitizeReport {
    /// Where the rules came from: a profile's path, or "defaults".
    pub rules: String,
    /// How many env vars and files took each action.
    pub summary: super::up::ConfigCounts,
    pub decisions: Vec<Decision>,
    /// The sanitized copies written, with `--out`.
    pub written: Vec<PathBuf>,
    /// Redactions no rule of the profile named (what `--strict` refuses).
    pub unnamed_redactions: usize,
    /// `--strict`: unnamed redactions make the exit code 1.
    #[serde(skip)]
    pub strict: bool,
}

/// Sanitizes `files` (each named by its path as given, which decides its
/// format) and the `KEY=VALUE` lines of `env_file`, with the `[sanitize]`
/// rules of `profile` (a service name or a path to a profile), else the defaults.
pub fn run(settings: &Settings, args: &SanitizeArgs) -> anyhow::Result<SanitizeReport> {
    let SanitizeArgs { files, env_file, profile, out, strict } = args;
    let (env_file, profile, out) = (env_file.as_deref(), profile.as_deref(), out.as_deref());
    if files.is_empty() && env_file.is_none() {
        return Err(UsageError("name at least one FILE or --env-file".into()).into());
    }
    let (rules, origin) = rules(settings, profile)?;
    let mut config = ProdConfig::default();
    for path in files {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
        config.files.insert(path.display().to_string(), ProdValue::Plain(Secret::new(text)));
    }
    if let Some(path) = env_file {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
        config.env = env_lines(&text);
    }
    let clean = sanitize::sanitize(&config, &rules)?;
    let mut written = Vec::new();
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
        for (path, content) in &clean.files {
            let name = Path::new(path).file_name().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("file"));
            let target = unique(dir, &name);
            std::fs::write(&target, content).with_context(|| format!("{}: cannot write", target.display()))?;
            written.push(target);
        }
        if env_file.is_some() {
            let target = unique(dir, Path::new("env"));
            let text: String = clean.env.iter().map(|(k, v)| format!("{k}={}\n", v.replace('\n', "\\n"))).collect();
            std::fs::write(&target, text).with_context(|| format!("{}: cannot write", target.display()))?;
            written.push(target);
        }
    }
    Ok(SanitizeReport {
        rules: origin,
        summary: super::up::ConfigCounts::of(&clean.decisions),
        unnamed_redactions: clean.unnamed_redactions().len(),
        decisions: clean.decisions,
        written,
        strict: *strict,
    })
}

/// The `[sanitize]` section of a profile named by service or path.
fn rules(settings: &Settings, profile: Option<&str>) -> anyhow::Result<(SanitizeSection, String)> {
    let Some(p) = profile else { return Ok((SanitizeSection::default(), "defaults".into())) };
    let loaded = if p.ends_with(".toml") || p.contains('/') {
        Profile::load(Path::new(p))?
    } else {
        Profile::find(&settings.profile_dirs, p)?
    };
    Ok((loaded.sanitize, loaded.path.display().to_string()))
}

/// `KEY=VALUE` lines (an `export ` prefix and surrounding quotes dropped;
/// `#` comments and blank lines skipped).
fn env_lines(text: &str) -> BTreeMap<String, ProdValue> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let line = line.strip_prefix("export ").unwrap_or(line);
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let (k, v) = line.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_string(), ProdValue::Plain(Secret::new(v))))
        })
        .collect()
}

/// `dir/name`, or `dir/name.N` when that is taken (two inputs with one name).
fn unique(dir: &Path, name: &Path) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    (2..).map(|n| dir.join(format!("{}.{n}", name.display()))).find(|p| !p.exists()).expect("a free name")
}
