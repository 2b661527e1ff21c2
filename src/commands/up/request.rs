//! `up`'s flags, validated into an [`UpRequest`] before any work starts.

use std::path::PathBuf;

use crate::error::UsageError;
use crate::name::SandboxName;
use crate::profile::{self, PortSpec};
use crate::repro::Repro;
use crate::resolve::Pick;
use crate::sandbox::labels;
use crate::timestamp::Timestamp;

/// 2000-01-01T00:00:00Z: the earliest `--at` taken.
const EARLIEST_AT: i64 = 946_684_800;

/// What the user asked `up` for, validated.
#[derive(Debug, Clone)]
pub struct UpRequest {
    pub service: String,
    pub environment: Option<String>,
    pub name: SandboxName,
    pub publish: Vec<PortSpec>,
    pub labels: Vec<(String, String)>,
    pub pick: Pick,
    pub candidate: Option<String>,
    pub save: Option<PathBuf>,
    /// The zone `--at` was read in (`--tz`, else `TZ`, else the system's).
    pub zone: jiff::tz::TimeZone,
    /// The repro file `--from` named, already read.
    pub from: Option<Repro>,
    /// `--strict`: refuse unnamed redactions (`up` also honours the
    /// profile's `[sanitize] strict`, which is not read here).
    pub strict: bool,
    /// This run's token, on everything it makes ([`labels::OWNER`]).
    pub owner: String,
}

impl UpRequest {
    /// From the CLI's raw strings; errors are usage errors.
    pub fn new(args: &crate::cli::UpArgs) -> anyhow::Result<UpRequest> {
        let publish = args
            .publish
            .iter()
            .map(|p| {
                profile::parse_port_mapping(p)
                    .ok_or_else(|| UsageError(format!("-p {p}: want HOST:CONTAINER or CONTAINER, e.g. -p 18080:8080")))
            })
            .collect::<Result<_, _>>()?;
        let labels = args
            .labels
            .iter()
            .map(|l| match l.split_once('=') {
                Some((k, v)) if !k.is_empty() && !labels::RESERVED.contains(&k) && !l.chars().any(char::is_control) => {
                    Ok((k.to_string(), v.to_string()))
                }
                _ => Err(UsageError(format!("--label {l}: want KEY=VALUE with a key prodbox does not set itself"))),
            })
            .collect::<Result<_, _>>()?;
        let from = match &args.from {
            Some(path) => Some(Repro::read(path)?),
            None => None,
        };
        let service = match (&args.service, &from) {
            (Some(s), _) => s.clone(),
            (None, Some(r)) => r.service.clone(),
            (None, None) => return Err(UsageError("name a SERVICE or pass --from FILE".into()).into()),
        };
        let zone = crate::timestamp::user_zone(args.tz.as_deref()).map_err(UsageError)?;
        let pick = if let Some(r) = &from {
            Pick::Digest(r.digest.clone())
        } else if let Some(at) = &args.at {
            let now = Timestamp::now();
            let when = Timestamp::parse_relative(at, now, &zone).ok_or_else(|| {
                UsageError(format!(
                    "--at {at:?}: not a time; use RFC 3339 (2026-11-20T14:05:00Z), \"2026-11-20 14:05\" (in --tz, else TZ), \"2026-11-20 14:05 Europe/Berlin\", \"2h ago\" or \"yesterday 14:05\""
                ))
            })?;
            // No deploy happened before containers existed or after tomorrow.
            if when.0 < EARLIEST_AT || when.0 > now.0 + 86_400 {
                return Err(UsageError(format!(
                    "--at {at:?}: {when} is not a plausible deploy time (between 2000-01-01 and tomorrow)"
                ))
                .into());
            }
            Pick::At(when)
        } else if let Some(rev) = &args.revision {
            Pick::Revision(rev.clone())
        } else if let Some(d) = &args.digest {
            let hex = d.trim_start_matches("sha256:");
            if hex.len() < 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(UsageError(format!("--digest {d}: want sha256:<hex>, at least 12 hex digits")).into());
            }
            Pick::Digest(d.clone())
        } else {
            Pick::Current
        };
        let name = args.name.clone().unwrap_or_else(|| service.clone());
        let name = SandboxName::parse(&name).map_err(|_| {
            UsageError(match crate::name::reserved(&name) {
                Some(why) => format!("{why} (--name)"),
                None => format!(
                    "sandbox name {name:?}: use letters, digits, '-', '_' or '.', at most 48, starting with a letter or digit (--name)"
                ),
            })
        })?;
        Ok(UpRequest {
            service,
            environment: args.env.clone().or_else(|| from.as_ref().map(|r| r.environment.clone())),
            name,
            publish,
            labels,
            pick,
            candidate: args.candidate.clone(),
            save: args.save.clone(),
            from,
            strict: args.strict,
            zone,
            owner: crate::sandbox::lock::owner_token(),
        })
    }

    /// The sandbox name.
    pub fn sandbox_name(&self) -> SandboxName {
        self.name.clone()
    }

    /// The labels that pick out what this run made: its sandbox and its token.
    pub fn own_resources(&self) -> [(&'static str, &str); 2] {
        [(labels::SANDBOX, self.name.as_str()), (labels::OWNER, self.owner.as_str())]
    }
}
