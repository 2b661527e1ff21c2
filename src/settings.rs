//! Global flags turned into validated settings, before any work starts.

use std::path::PathBuf;

use crate::cli::Global;
use crate::fetch::RegistryOptions;

/// What every command needs to know about how it was called.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where profiles are looked up, in order.
    pub profile_dirs: Vec<PathBuf>,
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
            profile_dirs,
            json: *json,
            verbose: *verbose,
            quiet: *quiet,
            registry: RegistryOptions { insecure: insecure_registries.clone() },
        }
    }
}
