//! Choosing one deploy from history: live at an instant (`--at`), or pinned
//! by revision or digest. Pure: unit-tested at its boundaries.

use super::{DeployRecord, ResolveError};
use crate::timestamp::{human_duration, Timestamp};

/// Which deploy `up` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// What runs now.
    Current,
    /// The deploy live at this instant.
    At(Timestamp),
    /// The newest deploy whose revision starts with this.
    Revision(String),
    /// The newest deploy whose digest is (or starts with) this.
    Digest(String),
}

/// The chosen deploy and a sentence saying why.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub record: DeployRecord,
    pub why: String,
}

/// Picks from `history` (any order).
pub fn choose_from(service: &str, history: &[DeployRecord], pick: &Pick) -> Result<Chosen, ResolveError> {
    let mut timed: Vec<(Timestamp, &DeployRecord)> =
        history.iter().filter_map(|r| Some((Timestamp::parse(r.deployed_at.as_deref()?)?, r))).collect();
    timed.sort_by_key(|(t, _)| *t);
    let next_after = |t: Timestamp| timed.iter().map(|(u, _)| *u).find(|u| *u > t);
    match pick {
        Pick::Current => {
            let (_, r) = timed.last().ok_or_else(|| ResolveError::NoMatch(format!("no deploys of {service} known")))?;
            Ok(Chosen { record: (*r).clone(), why: "what runs now".into() })
        }
        Pick::At(at) => {
            let Some(&(from, record)) = timed.iter().rev().find(|(t, _)| t <= at) else {
                let oldest = timed.first().map(|(t, _)| t.to_string()).unwrap_or_else(|| "none".into());
                return Err(ResolveError::NoMatch(format!(
                    "no deploy of {service} was live at {at}: the oldest known deploy is from {oldest}; see `prodbox history {service}`"
                )));
            };
            let until = next_after(from);
            let why = match until {
                Some(u) => format!("live at {at}: from {from} to {u} ({})", human_duration(u.0 - from.0)),
                None => format!("live at {at}: from {from}, still live"),
            };
            Ok(Chosen { record: record.clone(), why })
        }
        Pick::Revision(rev) => {
            let found = newest(history, |r| {
                r.revision.as_deref().is_some_and(|have| have.to_lowercase().starts_with(&rev.to_lowercase()))
            })
            .ok_or_else(|| {
                ResolveError::NoMatch(format!(
                    "no deploy of {service} has revision {rev}; see `prodbox history {service}`"
                ))
            })?;
            Ok(Chosen { record: found.clone(), why: format!("pinned by --revision {rev}") })
        }
        Pick::Digest(digest) => {
            let want = digest.trim_start_matches("sha256:");
            let found = newest(history, |r| {
                r.image.digest.as_deref().is_some_and(|d| d.trim_start_matches("sha256:").starts_with(want))
            })
            .ok_or_else(|| {
                ResolveError::NoMatch(format!(
                    "no deploy of {service} ran digest {digest}; see `prodbox history {service}`"
                ))
            })?;
            Ok(Chosen { record: found.clone(), why: format!("pinned by digest {digest}") })
        }
    }
}

fn newest(history: &[DeployRecord], want: impl Fn(&DeployRecord) -> bool) -> Option<&DeployRecord> {
    history
        .iter()
        .filter(|r| want(r))
        .max_by_key(|r| r.deployed_at.as_deref().and_then(Timestamp::parse).unwrap_or(Timestamp(i64::MIN)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at: &str, rev: &str, hex: char) -> DeployRecord {
        let json = format!(
            r#"{{"image":"r.example/x@sha256:{}","deployed_at":"{at}","revision":"{rev}"}}"#,
            hex.to_string().repeat(64)
        );
        DeployRecord::from_json("t", &json).unwrap()
    }

    fn history() -> Vec<DeployRecord> {
        vec![
            record("2026-11-20T14:05:00Z", "ccc3333", 'c'),
            record("2026-11-01T09:00:00Z", "aaa1111", 'a'),
            record("2026-11-10T12:00:00Z", "bbb2222", 'b'),
        ]
    }

    fn at(s: &str) -> Pick {
        Pick::At(Timestamp::parse(s).unwrap())
    }

    #[test]
    fn at_picks_the_deploy_live_then_including_its_exact_instant() {
        let h = history();
        let rev = |p: &Pick| choose_from("x", &h, p).unwrap().record.revision.unwrap();
        assert_eq!(rev(&at("2026-11-10T11:59:59Z")), "aaa1111");
        assert_eq!(rev(&at("2026-11-10T12:00:00Z")), "bbb2222", "exactly at a deploy instant: that deploy");
        assert_eq!(rev(&at("2026-11-20 14:05")), "ccc3333");
        assert_eq!(rev(&at("2027-01-01")), "ccc3333");
        let why = choose_from("x", &h, &at("2026-11-15T00:00:00Z")).unwrap().why;
        assert_eq!(why, "live at 2026-11-15T00:00:00Z: from 2026-11-10T12:00:00Z to 2026-11-20T14:05:00Z (10d 2h)");
    }

    #[test]
    fn before_the_first_deploy_is_a_clear_error() {
        let err = choose_from("x", &history(), &at("2026-10-31T23:59:59Z")).unwrap_err().to_string();
        assert!(err.contains("no deploy of x was live at 2026-10-31T23:59:59Z"), "{err}");
        assert!(err.contains("oldest known deploy is from 2026-11-01T09:00:00Z"), "{err}");
    }

    #[test]
    fn revision_and_digest_pins() {
        let h = history();
        assert_eq!(choose_from("x", &h, &Pick::Revision("BBB2".into())).unwrap().record.revision.unwrap(), "bbb2222");
        let d = format!("sha256:{}", "a".repeat(12));
        assert_eq!(choose_from("x", &h, &Pick::Digest(d)).unwrap().record.revision.unwrap(), "aaa1111");
        assert!(choose_from("x", &h, &Pick::Revision("zzz".into())).is_err());
    }
}
