//! The normalized deploy record (SPEC §4) and its parsing.
//!
//! Every source produces JSON in one shape; [`DeployRecord::from_json`] checks it
//! and wraps every configuration value in a [`Secret`] before anything else can
//! see it. Parse errors never quote the input: a record is production data.

use serde_json::Value;

use crate::image_ref::ImageRef;
use crate::secret::Secret;
pub use crate::secret::{ProdConfig, ProdValue};

/// A record that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{origin}: not a valid deploy record: {what} at line {line} column {column}")]
    Syntax { origin: String, what: &'static str, line: usize, column: usize },
    #[error("{origin}: deploy record field `{field}` {problem}")]
    Field { origin: String, field: String, problem: String },
    #[error("{origin}: image {image} has no digest; production must be pinned as repository@sha256:<64 hex>, a tag is never what runs")]
    NoDigest { origin: String, image: String },
    #[error("{origin}: image {image} is not in repository {expected} named by the profile's [image].repository; refusing to run it")]
    WrongRepository { origin: String, image: String, expected: String },
}

/// What production runs (or ran) for one service in one environment.
#[derive(Debug, Clone)]
pub struct DeployRecord {
    pub service: String,
    pub environment: String,
    pub image: ImageRef,
    pub deployed_at: Option<String>,
    pub deployed_by: Option<String>,
    pub revision: Option<String>,
    pub config: ProdConfig,
    /// Resource limits production gives it (`limits`), used when the profile sets none.
    pub limits: Limits,
}

/// `limits`: what production allows the app (e.g. a pod's `resources.limits`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    /// Bytes.
    pub memory: Option<i64>,
    pub cpus: Option<f64>,
}

impl DeployRecord {
    /// Parses one record. `origin` names where it came from in errors.
    pub fn from_json(origin: &str, text: &str) -> Result<DeployRecord, RecordError> {
        let value: Value = serde_json::from_str(text).map_err(|e| syntax(origin, &e))?;
        DeployRecord::from_value(origin, &value)
    }

    /// Builds a record from an already-parsed JSON value.
    pub fn from_value(origin: &str, v: &Value) -> Result<DeployRecord, RecordError> {
        let field_err = |field: &str, problem: &str| RecordError::Field {
            origin: origin.into(),
            field: field.into(),
            problem: problem.into(),
        };
        let obj = v.as_object().ok_or_else(|| field_err("(record)", "must be a JSON object"))?;
        let text = |name: &str| -> Result<Option<String>, RecordError> {
            match obj.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(_) => Err(field_err(name, "must be a string")),
            }
        };
        let image_text = match obj.get("image") {
            None | Some(Value::Null) => return Err(field_err("image", "is missing")),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(field_err("image", "must be a string")),
        };
        let image = ImageRef::parse(&image_text).map_err(|e| field_err("image", &e))?;
        if image.digest.is_none() {
            return Err(RecordError::NoDigest { origin: origin.into(), image: image_text });
        }
        let mut config = ProdConfig::default();
        if let Some(c) = obj.get("config").filter(|c| !c.is_null()) {
            let c = c.as_object().ok_or_else(|| field_err("config", "must be an object"))?;
            let secret_names: Vec<&str> = match c.get("secret_env") {
                None | Some(Value::Null) => vec![],
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                Some(_) => return Err(field_err("config.secret_env", "must be a list of names")),
            };
            for (section, target) in [("env", &mut config.env), ("files", &mut config.files)] {
                match c.get(section) {
                    None | Some(Value::Null) => {}
                    Some(Value::Object(m)) => {
                        for (k, v) in m {
                            // A name with `=` would smuggle a value into the container's
                            // env and into every report that names it.
                            if section == "env" && !valid_env_name(k) {
                                return Err(field_err(
                                    "config.env",
                                    "has a name that is empty or holds `=`, a control character or NUL",
                                ));
                            }
                            if section == "files" {
                                if let Err(why) = config_file_path(k) {
                                    return Err(field_err("config.files", &why));
                                }
                            }
                            let value = prod_value(v).ok_or_else(|| {
                                field_err(&format!("config.{section}.{k}"), "must be a string, number, boolean, {\"value\": …, \"secret\": true} or {\"secret_ref\": …}")
                            })?;
                            let value = match value {
                                ProdValue::Plain(s) if section == "env" && secret_names.contains(&k.as_str()) => {
                                    ProdValue::Marked(s)
                                }
                                other => other,
                            };
                            target.insert(k.clone(), value);
                        }
                    }
                    Some(_) => return Err(field_err(&format!("config.{section}"), "must be an object")),
                }
            }
        }
        let mut limits = Limits::default();
        match obj.get("limits") {
            None | Some(Value::Null) => {}
            Some(Value::Object(l)) => {
                let quantity = |name: &str| -> Result<Option<f64>, RecordError> {
                    match l.get(name) {
                        None | Some(Value::Null) => Ok(None),
                        Some(Value::Number(n)) => Ok(n.as_f64()),
                        Some(Value::String(s)) => parse_quantity(s).map(Some).ok_or_else(|| {
                            field_err(
                                &format!("limits.{name}"),
                                "must be a number or a quantity like \"512Mi\" or \"500m\"",
                            )
                        }),
                        Some(_) => Err(field_err(&format!("limits.{name}"), "must be a number or a quantity")),
                    }
                };
                limits.memory = quantity("memory")?.map(|b| b as i64).filter(|b| *b > 0);
                limits.cpus = quantity("cpus")?.filter(|c| *c > 0.0);
            }
            Some(_) => return Err(field_err("limits", "must be an object")),
        }
        let deployed_at = text("deployed_at")?;
        if deployed_at.as_deref().is_some_and(|t| crate::timestamp::Timestamp::parse(t).is_none()) {
            return Err(field_err("deployed_at", "is not a time (RFC 3339, e.g. 2026-11-20T14:05:00Z)"));
        }
        Ok(DeployRecord {
            limits,
            service: text("service")?.unwrap_or_default(),
            environment: text("environment")?.unwrap_or_default(),
            image,
            deployed_at,
            // Shown in reports and stored in labels: scrubbed like any message.
            deployed_by: text("deployed_by")?.map(|t| crate::sanitize::scrub_text(&t)),
            revision: text("revision")?.map(|t| crate::sanitize::scrub_text(&t)),
            config,
        })
    }

    /// Refuses a record whose image is not in the profile's repository.
    pub fn check_repository(&self, origin: &str, expected: &str) -> Result<(), RecordError> {
        let want = ImageRef::parse(expected).map_err(|e| RecordError::Field {
            origin: origin.into(),
            field: "[image].repository (profile)".into(),
            problem: e,
        })?;
        if want.registry != self.image.registry || want.repository != self.image.repository {
            return Err(RecordError::WrongRepository {
                origin: origin.into(),
                image: self.image.to_string(),
                expected: want.name(),
            });
        }
        Ok(())
    }
}

fn prod_value(v: &Value) -> Option<ProdValue> {
    match v {
        Value::String(s) => Some(ProdValue::Plain(Secret::new(s.clone()))),
        Value::Number(n) => Some(ProdValue::Plain(Secret::new(n.to_string()))),
        Value::Bool(b) => Some(ProdValue::Plain(Secret::new(b.to_string()))),
        Value::Object(m) => {
            if let Some(r) = m.get("secret_ref").and_then(Value::as_str) {
                return Some(ProdValue::Reference(r.to_string()));
            }
            let value = match m.get("value")? {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            let marked = m.get("secret").and_then(Value::as_bool).unwrap_or(false);
            Some(if marked { ProdValue::Marked(Secret::new(value)) } else { ProdValue::Plain(Secret::new(value)) })
        }
        _ => None,
    }
}

/// Where a config file may be put in the container: an absolute, normalized
/// path to a file (no `.`/`..` parts, no `//`, not `/` and not ending in `/`),
/// without control characters, and not under the kernel's own trees
/// (`/proc`, `/sys`, `/dev`), which no image can take a file in.
/// The reason is returned; the path itself is production data and is not quoted.
fn config_file_path(path: &str) -> Result<(), String> {
    let why = if path.is_empty() {
        "has an empty path"
    } else if path.chars().any(char::is_control) {
        "has a path with a control character or NUL"
    } else if path.len() > 4096 {
        "has a path longer than 4096 bytes"
    } else if !path.starts_with('/') {
        "has a path that is not absolute (it must start with /)"
    } else if path.ends_with('/') {
        "has a path that names a folder (ends in /), not a file"
    } else if path[1..].split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        "has a path that is not normalized (//, . or ..)"
    } else if ["/proc", "/sys", "/dev"].iter().any(|k| path == *k || path.starts_with(&format!("{k}/"))) {
        "has a path under /proc, /sys or /dev, where no file can be placed"
    } else {
        return Ok(());
    };
    Err(why.into())
}

/// Whether `name` can be an env var's name: not empty, no `=`, no control characters.
fn valid_env_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('=') && !name.chars().any(char::is_control)
}

/// A Kubernetes quantity in base units: `512Mi` → 536870912, `500m` → 0.5,
/// `1G` → 1e9, `2` → 2.
pub fn parse_quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(n * mult).filter(|v| v.is_finite() && *v >= 0.0)
}

/// A JSON syntax error, located but never quoting the text.
pub fn syntax(origin: &str, e: &serde_json::Error) -> RecordError {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "read error",
        Category::Syntax => "JSON syntax error",
        Category::Data => "unexpected data",
        Category::Eof => "unexpected end of input",
    };
    RecordError::Syntax { origin: origin.into(), what, line: e.line(), column: e.column() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn record(image: &str, config: &str) -> String {
        format!(
            r#"{{"service":"checkout","environment":"production","image":"{image}","deployed_at":"2026-11-20T14:05:00Z","config":{config}}}"#
        )
    }

    #[test]
    fn parses_and_marks_secrets() {
        let text = record(
            &format!("registry.example.com/shop/checkout@{DIGEST}"),
            r#"{"env":{"A":"1","B":{"value":"x","secret":true},"C":{"secret_ref":"db/pw"},"D":"y","N":3},"secret_env":["D"]}"#,
        );
        let r = DeployRecord::from_json("t", &text).unwrap();
        assert_eq!(r.image.digest.as_deref(), Some(DIGEST));
        assert!(matches!(r.config.env["A"], ProdValue::Plain(ref s) if s.expose() == "1"));
        assert!(matches!(r.config.env["B"], ProdValue::Marked(_)));
        assert_eq!(r.config.env["C"], ProdValue::Reference("db/pw".into()));
        assert!(matches!(r.config.env["D"], ProdValue::Marked(_)));
        assert!(matches!(r.config.env["N"], ProdValue::Plain(ref s) if s.expose() == "3"));
        r.check_repository("t", "registry.example.com/shop/checkout").unwrap();
    }

    #[test]
    fn limits_and_quantities() {
        let text = format!(r#"{{"image":"r.example/x@{DIGEST}","limits":{{"memory":"512Mi","cpus":"500m"}}}}"#);
        let r = DeployRecord::from_json("t", &text).unwrap();
        assert_eq!(r.limits, Limits { memory: Some(512 << 20), cpus: Some(0.5) });
        assert_eq!(parse_quantity("1G"), Some(1e9));
        assert_eq!(parse_quantity("2"), Some(2.0));
        assert_eq!(parse_quantity("lots"), None);
        let text = format!(r#"{{"image":"r.example/x@{DIGEST}","limits":{{"memory":"lots"}}}}"#);
        assert!(DeployRecord::from_json("t", &text).unwrap_err().to_string().contains("`limits.memory`"));
    }

    #[test]
    fn a_tag_without_digest_is_refused() {
        let err = DeployRecord::from_json("t", &record("registry.example.com/shop/checkout:v1", "null")).unwrap_err();
        assert!(matches!(err, RecordError::NoDigest { .. }), "{err}");
        assert!(err.to_string().contains("has no digest"));
    }

    #[test]
    fn another_repository_is_refused() {
        let r =
            DeployRecord::from_json("t", &record(&format!("registry.example.com/shop/evil@{DIGEST}"), "null")).unwrap();
        let err = r.check_repository("t", "registry.example.com/shop/checkout").unwrap_err();
        assert!(err.to_string().contains("not in repository registry.example.com/shop/checkout"), "{err}");
    }

    #[test]
    fn syntax_errors_never_quote_the_record() {
        let text = r#"{"image": "x", "config": {"env": {"DB": "postgres://u:hunter2@db" , }}}"#;
        let err = DeployRecord::from_json("t", text).unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        let text = r#"{"image": "r/x@sha256:1", "config": {"env": {"DB": ["hunter2"]}}}"#;
        let err = DeployRecord::from_json("t", text).unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn env_names_that_smuggle_values_are_refused() {
        for name in ["HARMLESS=postgres://u:pw@db", "", "A\u{0}B", "A\nB"] {
            let config = format!(r#"{{"env":{{{}:""}}}}"#, serde_json::to_string(name).unwrap());
            let err = DeployRecord::from_json("rec.json", &record(&format!("r/x@{DIGEST}"), &config))
                .unwrap_err()
                .to_string();
            assert!(err.contains("config.env"), "{err}");
            assert!(!err.contains("pw@db"), "the name is not echoed: {err}");
        }
    }
}
