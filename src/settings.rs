//! Global flags turned into validated settings, before any work starts.

use std::path::PathBuf;

use crate::cli::Global;
use crate::fetch::RegistryOptions;

/// What every command needs to know about how it was called.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where profiles are looked up, in order.
    pub profile_dirs: Vec<PathBuf>,
    /// Whether `--profiles DIR` (or `PRODBOX_PROFILES`) named the directory:
    /// then a missing one is an error, not an empty list.
    pub profiles_given: bool,
    pub json: bool,
    pub verbose: u8,
    pub quiet: bool,
    pub registry: RegistryOptions,
}

impl Settings {
    /// From the parsed global flags and the environment.
    pub fn new(global: &Global) -> Settings {
        let Global { profiles, json, verbose, quiet, insecure_registries } = global;
        let profile_dirs = match profiles {
            Some(dir) => vec![dir.clone()],
            None => {
                let mut dirs = vec![PathBuf::from("profiles")];
                let config = std::env::var_os("XDG_CONFIG_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
                if let Some(c) = config {
                    dirs.push(c.join("prodbox").join("profiles"));
                }
                dirs
            }
        };
        Settings {
            profiles_given: profiles.is_some(),
            profile_dirs,
            json: *json,
            verbose: *verbose,
            quiet: *quiet,
            registry: RegistryOptions { insecure: insecure_registries.clone() },
        }
    }
}

/// The settings file: `$XDG_CONFIG_HOME/prodbox/settings.toml` (else
/// `~/.config/prodbox/settings.toml`). It holds machine-wide settings that
/// are not a service's profile: `relay_image` and `target`.
pub fn settings_file() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|c| c.join("prodbox").join("settings.toml"))
}

/// What the settings file may hold.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    /// The relay image for engines this build embeds no relay for, pinned by digest.
    relay_image: Option<String>,
    /// Where sandboxes run when `--target` is not given.
    target: Option<TargetSetting>,
}

/// The settings file's `target`, if it sets one.
pub fn target_setting() -> Result<Option<TargetSetting>, String> {
    let Some(path) = settings_file().filter(|p| p.is_file()) else { return Ok(None) };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: SettingsFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(file.target)
}

/// The relay image to use when no embedded relay fits the engine, and where
/// it was set: `PRODBOX_RELAY_IMAGE`, else `relay_image` in the settings
/// file. It must be pinned by digest (`…@sha256:<64 hex>`).
pub fn relay_image() -> Result<Option<(String, String)>, String> {
    let (image, from) = match std::env::var("PRODBOX_RELAY_IMAGE").ok().filter(|v| !v.is_empty()) {
        Some(image) => (image, "PRODBOX_RELAY_IMAGE".to_string()),
        None => {
            let Some(path) = settings_file().filter(|p| p.is_file()) else { return Ok(None) };
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let file: SettingsFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            match file.relay_image {
                Some(image) => (image, path.display().to_string()),
                None => return Ok(None),
            }
        }
    };
    let pinned = image
        .rsplit_once("@sha256:")
        .is_some_and(|(_, hex)| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if !pinned {
        return Err(format!(
            "relay image {image} (from {from}) must be pinned by digest: REGISTRY/prodbox-relay@sha256:<64 hex>"
        ));
    }
    Ok(Some((image, from)))
}

/// `target = { kind = "kubernetes", context = "…", namespace_prefix = "…" }`
/// in the settings file.
#[derive(Debug, Clone, serde::Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TargetSetting {
    /// `engine` (alias `docker`) or `kubernetes`.
    pub kind: String,
    pub context: Option<String>,
    pub namespace_prefix: Option<String>,
}
