//! From a source's JSON to record-shaped JSON, the same for every source:
//! as it is, through `[source.map]` JSON Pointers, or through a jq `filter`
//! (`history_filter` for history). The caller validates the result as a
//! deploy record, so errors name the missing or mistyped field.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{jq, Answer, Query, RecordError, ResolveError};
use crate::profile::SourceSection;

/// One record's JSON from a `current` answer.
pub fn record(section: &SourceSection, query: &Query, answer: &Answer) -> Result<Value, ResolveError> {
    match &section.filter {
        Some(code) => {
            let mut out = run(code, "filter", query, answer)?;
            match out.len() {
                1 => Ok(out.remove(0)),
                n => Err(ResolveError::BadAnswer {
                    origin: answer.origin.clone(),
                    detail: format!(
                        "[source] filter gave {n} outputs; it must give exactly one deploy record (wrap a stream in `first(…)` or select one)"
                    ),
                }),
            }
        }
        None => Ok(apply_map(&answer.json, &section.map)),
    }
}

/// Every record's JSON from a `history` answer. Without `history_filter` the
/// answer is a list of records, `{"deploys": [...]}` (or where
/// `[source.map].deploys` points), or a record with a `history` list.
pub fn records(section: &SourceSection, query: &Query, answer: &Answer) -> Result<Vec<Value>, ResolveError> {
    if let Some(code) = &section.history_filter {
        let out = run(code, "history_filter", query, answer)?;
        return Ok(match <[Value; 1]>::try_from(out) {
            Ok([Value::Array(list)]) => list,
            Ok([one]) => vec![one],
            Err(many) => many,
        });
    }
    let list_error = |field: &str| RecordError::Field {
        origin: answer.origin.clone(),
        field: field.into(),
        problem: "must be a list of deploy records".into(),
    };
    let doc = &answer.json;
    let list: Vec<Value> = if let Some(pointer) = section.map.get("deploys") {
        doc.pointer(pointer)
            .and_then(Value::as_array)
            .ok_or_else(|| list_error(pointer.trim_start_matches('/')))?
            .clone()
    } else if let Value::Array(list) = doc {
        list.clone()
    } else if let Some(deploys) = doc.get("deploys") {
        deploys.as_array().ok_or_else(|| list_error("deploys"))?.clone()
    } else {
        // One record, with its predecessors in `history` (the `file` format).
        let mut list = vec![doc.clone()];
        match doc.get("history") {
            Some(Value::Array(past)) => list.extend(past.iter().cloned()),
            Some(_) => return Err(list_error("history").into()),
            None => {}
        }
        list
    };
    Ok(list.iter().map(|d| apply_map(d, &section.map)).collect())
}

fn run(code: &str, key: &str, query: &Query, answer: &Answer) -> Result<Vec<Value>, ResolveError> {
    let at = query.at.map(|t| t.to_string()).unwrap_or_default();
    jq::run(code, &answer.json, [&query.service, &query.environment, &at]).map_err(|detail| ResolveError::BadAnswer {
        origin: answer.origin.clone(),
        detail: format!("[source] {key}: {detail}"),
    })
}

/// Reshapes a foreign JSON document into the normalized record shape using
/// `[source.map]` pointers; with no map the body is taken as it is.
pub fn apply_map(body: &Value, map: &BTreeMap<String, String>) -> Value {
    if map.keys().all(|k| k == "deploys") {
        return body.clone();
    }
    let get = |field: &str| map.get(field).and_then(|p| body.pointer(p)).cloned();
    let mut out = Map::new();
    for field in ["service", "environment", "image", "deployed_at", "deployed_by", "revision"] {
        if let Some(v) = get(field).or_else(|| body.get(field).cloned()) {
            out.insert(field.into(), v);
        }
    }
    let mut config = get("config").and_then(|c| c.as_object().cloned()).unwrap_or_default();
    for part in ["env", "files"] {
        if let Some(v) = get(part) {
            config.insert(part.into(), v);
        }
    }
    if !config.is_empty() {
        out.insert("config".into(), Value::Object(config));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Source;
    use serde_json::json;

    fn section(filter: Option<&str>, history_filter: Option<&str>) -> SourceSection {
        SourceSection {
            kind: Source::File { path: "x".into() },
            map: BTreeMap::new(),
            filter: filter.map(str::to_string),
            history_filter: history_filter.map(str::to_string),
        }
    }

    fn query() -> Query {
        Query { service: "checkout".into(), environment: "production".into(), at: None, registry: Default::default() }
    }

    #[test]
    fn map_reshapes_foreign_records() {
        let body: Value = json!({
            "spec": {"template": {"image": "r/x@sha256:ab", "env": {"A": "1"}}},
            "meta": {"at": "2026-11-20T14:05:00Z", "rev": "9f1c2ab"}
        });
        let map = BTreeMap::from([
            ("image".to_string(), "/spec/template/image".to_string()),
            ("env".to_string(), "/spec/template/env".to_string()),
            ("deployed_at".to_string(), "/meta/at".to_string()),
            ("revision".to_string(), "/meta/rev".to_string()),
        ]);
        let out = apply_map(&body, &map);
        assert_eq!(out["image"], "r/x@sha256:ab");
        assert_eq!(out["config"]["env"]["A"], "1");
        assert_eq!(out["revision"], "9f1c2ab");
    }

    #[test]
    fn filter_output_is_validated_naming_the_field() {
        let answer = Answer::new(
            "cmd",
            json!({"containers": [{"name": "checkout", "img": 5, "env": [{"name": "A", "value": "hunter2"}]}]}),
        );
        let s = section(
            Some(
                r#".containers[] | select(.name == $service) | {image: .img, config: {env: (.env | map({(.name): .value}) | add)}}"#,
            ),
            None,
        );
        let value = record(&s, &query(), &answer).unwrap();
        let err = super::super::DeployRecord::from_value("cmd", &value).unwrap_err().to_string();
        assert_eq!(err, "cmd: deploy record field `image` must be a string");
        let s = section(Some(".containers[] | {config: {}}"), None);
        let value = record(&s, &query(), &answer).unwrap();
        let err = super::super::DeployRecord::from_value("cmd", &value).unwrap_err().to_string();
        assert!(err.contains("`image` is missing"), "{err}");
        assert!(!err.contains("hunter2"));
        let s = section(Some(".containers[], .containers[]"), None);
        assert!(record(&s, &query(), &answer).unwrap_err().to_string().contains("gave 2 outputs"));
    }

    #[test]
    fn history_shapes() {
        let a = json!({"image": "a"});
        let b = json!({"image": "b"});
        let plain = section(None, None);
        for doc in [json!([a, b]), json!({"deploys": [a, b]}), json!({"image": "a", "history": [b]})] {
            let out = records(&plain, &query(), &Answer::new("t", doc)).unwrap();
            let images: Vec<&Value> = out.iter().map(|r| &r["image"]).collect();
            assert_eq!(images, vec!["a", "b"]);
        }
        let filtered = section(None, Some(".versions | map({image: .i})"));
        let out =
            records(&filtered, &query(), &Answer::new("t", json!({"versions": [{"i": "a"}, {"i": "b"}]}))).unwrap();
        assert_eq!(out, vec![a.clone(), b.clone()]);
        let streamed = section(None, Some(".versions[] | {image: .i}"));
        let out =
            records(&streamed, &query(), &Answer::new("t", json!({"versions": [{"i": "a"}, {"i": "b"}]}))).unwrap();
        assert_eq!(out, vec![a, b]);
    }
}
