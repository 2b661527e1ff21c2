//! jq programs (`[source] filter`, `history_filter`), compiled and run with
//! the `jaq` crates.
//!
//! Compile errors say where in the program they are; they can name only the
//! program's own text. Runtime errors never carry jaq's message, which may
//! quote the production JSON the program was reading.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{data, unwrap_valr, Compiler, Ctx, Vars};
use jaq_json::Val;
use serde_json::Value;

/// Variables every program may read.
pub const GLOBALS: &[&str] = &["$service", "$environment", "$at"];

/// Checks that `code` compiles; the error says where and what was expected.
pub fn check(code: &str) -> Result<(), String> {
    compiled(code, |_| ())
}

/// Runs `code` on `input` with `$service`, `$environment` and `$at` set;
/// returns every output. Errors never quote the input.
pub fn run(code: &str, input: &Value, globals: [&str; 3]) -> Result<Vec<Value>, String> {
    let text =
        serde_json::to_vec(input).map_err(|_| "the source's JSON could not be handed to the filter".to_string())?;
    let input = jaq_json::read::parse_single(&text)
        .map_err(|_| "the source's JSON could not be handed to the filter".to_string())?;
    compiled(code, |filter| {
        let vars = Vars::new(globals.map(|g| Val::from(g.to_string())));
        let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, vars);
        let mut out = Vec::new();
        for (i, v) in filter.id.run((ctx, input)).map(unwrap_valr).enumerate() {
            let v = v.map_err(|_| {
                format!("the filter raised an error at output #{i} (jq's message is not shown: it may quote production values); run the program with jq on a saved answer to see it")
            })?;
            let v: Value = serde_json::from_str(&v.to_string())
                .map_err(|_| format!("the filter's output #{i} is not JSON (a byte string or NaN?)"))?;
            out.push(v);
        }
        Ok(out)
    })?
}

/// Loads and compiles `code`, then hands the filter to `then`.
fn compiled<T>(code: &str, then: impl FnOnce(&jaq_core::Filter<data::JustLut<Val>>) -> T) -> Result<T, String> {
    let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs());
    let std_funs = jaq_std::funs().filter(|(name, ..)| !QUIET.contains(name));
    let funs = jaq_core::funs().chain(std_funs).chain(jaq_json::funs()).chain(quiet_funs());
    let arena = Arena::default();
    let modules = Loader::new(defs).load(&arena, File { code, path: () }).map_err(|errs| load_error(code, errs))?;
    let filter =
        Compiler::default().with_funs(funs).with_global_vars(GLOBALS.iter().copied()).compile(modules).map_err(
            |errs| {
                let Some((name, undefined)) = errs.into_iter().flat_map(|(_, e)| e).next() else {
                    return "does not compile".to_string();
                };
                format!("{} {name} is not defined, at {}", undefined.as_str(), position(code, name))
            },
        )?;
    Ok(then(&filter))
}

/// The natives behind `debug` and `stderr`, which would print production values.
const QUIET: &[&str] = &["debug_empty", "stderr_empty"];

/// `debug` and `stderr` print nothing here.
fn quiet_funs() -> impl Iterator<Item = jaq_core::native::Fun<data::JustLut<Val>>> {
    use jaq_core::native::Fun;
    use jaq_core::Native;
    let funs: [Fun<data::JustLut<Val>>; 2] = [
        ("debug_empty", Box::new([]), Native::new(|_| Box::new(core::iter::empty()))),
        ("stderr_empty", Box::new([]), Native::new(|_| Box::new(core::iter::empty()))),
    ];
    funs.into_iter()
}

fn load_error(code: &str, errs: jaq_core::load::Errors<&str, ()>) -> String {
    use jaq_core::load::Error;
    for (_, e) in errs {
        match e {
            Error::Lex(v) => {
                if let Some((expect, at)) = v.first() {
                    return format!("expected {} at {}", expect.as_str(), position(code, at));
                }
            }
            Error::Parse(v) => {
                if let Some((expect, at)) = v.first() {
                    return format!("expected {} at {}", expect.as_str(), position(code, at));
                }
            }
            Error::Io(v) => {
                if let Some((path, _)) = v.first() {
                    return format!("cannot import {path:?}: filters cannot read modules");
                }
            }
        }
    }
    "does not compile".into()
}

/// "line L column C" of a slice of `code` (or its end, for a missing token).
fn position(code: &str, part: &str) -> String {
    let start = (part.as_ptr() as usize).checked_sub(code.as_ptr() as usize).filter(|s| *s <= code.len());
    let offset = start.unwrap_or(code.len());
    let before = &code[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    format!("line {line} column {column}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn runs_with_globals() {
        let out = run(
            ".items[] | select(.name == $service) | .v",
            &json!({"items": [{"name": "a", "v": 1}, {"name": "b", "v": 2}]}),
            ["b", "production", ""],
        )
        .unwrap();
        assert_eq!(out, vec![json!(2)]);
        let env = run(
            r#"[.env[] | {key: .name, value: .value}] | from_entries"#,
            &json!({"env": [{"name": "A", "value": "1"}]}),
            ["", "", ""],
        )
        .unwrap();
        assert_eq!(env, vec![json!({"A": "1"})]);
    }

    #[test]
    fn compile_errors_say_where() {
        let e = check(".a |\n  .b | ]").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        let e = check(".a | nosuchfn").unwrap_err();
        assert_eq!(e, "filter nosuchfn is not defined, at line 1 column 6");
        let e = check(".a | $nope").unwrap_err();
        assert!(e.contains("variable $nope is not defined"), "{e}");
        check(".a | debug | stderr | $service").unwrap();
    }

    #[test]
    fn runtime_errors_never_quote_the_input() {
        let e = run(".secret | .x", &json!({"secret": "hunter2-value"}), ["", "", ""]).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        let e = run(r#"error(.secret)"#, &json!({"secret": "hunter2-value"}), ["", "", ""]).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
