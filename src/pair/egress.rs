//! What production's build and the candidate tried to reach while they
//! answered `diff`'s requests (the egress sinkhole's records of that time,
//! split by who asked): a destination only one of them tried is a difference.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::sandbox::sinkhole::{self, Record};

/// The two builds' destinations during the requests, compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EgressDiff {
    /// `name:port` (or a name only looked up) production's build tried.
    pub production: Vec<String>,
    pub candidate: Vec<String>,
    /// Tried by the candidate only: new destinations.
    pub only_candidate: Vec<String>,
    /// Tried by production's build only.
    pub only_production: Vec<String>,
    pub same: bool,
}

/// Compares the destinations of `records` (those written while the requests
/// ran) by who tried them (`who`: address → `app`, `candidate`, …).
pub fn compare(records: &[Record], who: &HashMap<String, String>) -> EgressDiff {
    let side = |role: &str| -> BTreeSet<String> {
        let mine: Vec<Record> = records
            .iter()
            .filter(|r| r.client.as_ref().and_then(|c| who.get(c)).map(String::as_str) == Some(role))
            .cloned()
            .collect();
        sinkhole::destinations(&mine, who).iter().map(|d| d.target()).collect()
    };
    let (production, candidate) = (side("app"), side("candidate"));
    let only_candidate: Vec<String> = candidate.difference(&production).cloned().collect();
    let only_production: Vec<String> = production.difference(&candidate).cloned().collect();
    EgressDiff {
        same: only_candidate.is_empty() && only_production.is_empty(),
        production: production.into_iter().collect(),
        candidate: candidate.into_iter().collect(),
        only_candidate,
        only_production,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_only_the_candidate_tried_is_a_difference() {
        let records = sinkhole::parse(concat!(
            r#"{"ts":1,"kind":"tcp","client":"10.0.0.3","name":"api.example.com","port":443,"proto":"tls"}"#,
            "\n",
            r#"{"ts":2,"kind":"tcp","client":"10.0.0.4","name":"api.example.com","port":443,"proto":"tls"}"#,
            "\n",
            r#"{"ts":3,"kind":"tcp","client":"10.0.0.4","name":"new.example.com","port":80,"proto":"http"}"#,
            "\n",
            r#"{"ts":4,"kind":"tcp","client":"10.0.0.10","name":"dep.example.com","port":80,"proto":"http"}"#,
        ));
        let who = HashMap::from([
            ("10.0.0.3".to_string(), "app".to_string()),
            ("10.0.0.4".to_string(), "candidate".to_string()),
            ("10.0.0.10".to_string(), "dependency db".to_string()),
        ]);
        let d = compare(&records, &who);
        assert_eq!(d.production, ["api.example.com:443"]);
        assert_eq!(d.only_candidate, ["new.example.com:80"]);
        assert!(d.only_production.is_empty());
        assert!(!d.same);
        let same = compare(&records[..2], &who);
        assert!(same.same, "{same:?}");
    }
}
