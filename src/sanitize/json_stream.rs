//! JSON sanitized in place: one pass over the text, each scalar decided by
//! its dotted key path, changed values spliced into a copy of the original.
//! Layout, key order and number formatting stay exactly as they were, and
//! nothing is parsed into a tree. Used when no `drop` rule could remove a
//! key (removal changes structure; the tree walk in `files.rs` does that).

use serde::de::IgnoredAny;

/// What the caller decides for one scalar: None keeps it, Some(text) is the
/// new JSON for it (already quoted/escaped).
pub type Decide<'a> = dyn FnMut(&str, &str, &str, Scalar) -> Option<String> + 'a;

/// The kind of a scalar, with its text (strings unescaped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar<'t> {
    Str(&'t str),
    Number(&'t str),
    Bool(bool),
}

enum Frame {
    Object { base: usize, expect_key: bool, leaf: String },
    Array { base: usize, index: usize, leaf: String },
}

/// Rewrites `text`; `decide(dotted_key, leaf, raw, scalar)` is called for every
/// string, number and boolean. Returns None when `text` is not valid JSON.
pub fn rewrite(text: &str, decide: &mut Decide) -> Option<String> {
    serde_json::from_str::<IgnoredAny>(text).ok()?;
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut key = String::new();
    let mut leaf = String::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            b'{' | b'[' => {
                enter_value(&mut stack, &mut key, &mut leaf);
                let base = key.len();
                stack.push(if c == b'{' {
                    Frame::Object { base, expect_key: true, leaf: leaf.clone() }
                } else {
                    Frame::Array { base, index: 0, leaf: leaf.clone() }
                });
                i += 1;
            }
            b'}' | b']' => {
                if let Some(Frame::Object { base, leaf: l, .. } | Frame::Array { base, leaf: l, .. }) = stack.pop() {
                    key.truncate(base);
                    leaf = l;
                }
                i += 1;
            }
            b',' => {
                match stack.last_mut() {
                    Some(Frame::Object { expect_key, .. }) => *expect_key = true,
                    Some(Frame::Array { index, .. }) => *index += 1,
                    None => {}
                }
                i += 1;
            }
            b':' => {
                if let Some(Frame::Object { expect_key, .. }) = stack.last_mut() {
                    *expect_key = false;
                }
                i += 1;
            }
            b'"' => {
                let end = string_end(b, i);
                let raw = &text[i..end];
                let unescaped = unescape(raw)?;
                let is_key = matches!(stack.last(), Some(Frame::Object { expect_key: true, .. }));
                if is_key {
                    if let Some(Frame::Object { base, .. }) = stack.last() {
                        key.truncate(*base);
                        if *base > 0 {
                            key.push('.');
                        }
                        key.push_str(&unescaped);
                        leaf = unescaped.into_owned();
                    }
                } else {
                    enter_value(&mut stack, &mut key, &mut leaf);
                    if let Some(new) = decide(&key, &leaf, raw, Scalar::Str(&unescaped)) {
                        splice(&mut out, text, &mut copied, i, end, &new);
                    }
                }
                i = end;
            }
            b't' | b'f' | b'n' => {
                let end = i + if c == b'f' { 5 } else { 4 };
                enter_value(&mut stack, &mut key, &mut leaf);
                if c != b'n' {
                    if let Some(new) = decide(&key, &leaf, &text[i..end], Scalar::Bool(c == b't')) {
                        splice(&mut out, text, &mut copied, i, end, &new);
                    }
                }
                i = end;
            }
            _ => {
                let end = i + b[i..]
                    .iter()
                    .take_while(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .count();
                let end = end.max(i + 1);
                enter_value(&mut stack, &mut key, &mut leaf);
                if let Some(new) = decide(&key, &leaf, &text[i..end], Scalar::Number(&text[i..end])) {
                    splice(&mut out, text, &mut copied, i, end, &new);
                }
                i = end;
            }
        }
    }
    match out {
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Some(o)
        }
        None => Some(text.to_string()),
    }
}

/// A value starts: inside an array its path is the parent's plus `[index]`.
fn enter_value(stack: &mut [Frame], key: &mut String, leaf: &mut String) {
    if let Some(Frame::Array { base, index, leaf: parent_leaf }) = stack.last() {
        key.truncate(*base);
        key.push('[');
        key.push_str(&index.to_string());
        key.push(']');
        leaf.clone_from(parent_leaf);
    }
}

/// The index just past the closing quote of the string starting at `start`.
fn string_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

fn unescape(raw: &str) -> Option<std::borrow::Cow<'_, str>> {
    let inner = &raw[1..raw.len() - 1];
    if inner.contains('\\') {
        serde_json::from_str::<String>(raw).ok().map(std::borrow::Cow::Owned)
    } else {
        Some(std::borrow::Cow::Borrowed(inner))
    }
}

fn splice(out: &mut Option<String>, text: &str, copied: &mut usize, start: usize, end: usize, new: &str) {
    let o = out.get_or_insert_with(|| String::with_capacity(text.len() + 64));
    o.push_str(&text[*copied..start]);
    o.push_str(new);
    *copied = end;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_splices_keep_the_layout() {
        let text = "{\n  \"db\": {\"url\": \"x\", \"pool\": 5},\n  \"list\": [\"a\", {\"k\": true}, 1.5e3],\n  \"esc\\\"key\": \"v\\u0041\"\n}\n";
        let mut seen = Vec::new();
        let out = rewrite(text, &mut |key, leaf, _raw, scalar| {
            seen.push(format!("{key}|{leaf}|{scalar:?}"));
            (key == "db.url").then(|| "\"y\"".to_string())
        })
        .unwrap();
        assert_eq!(out, text.replace("\"x\"", "\"y\""));
        assert_eq!(
            seen,
            vec![
                "db.url|url|Str(\"x\")",
                "db.pool|pool|Number(\"5\")",
                "list[0]|list|Str(\"a\")",
                "list[1].k|k|Bool(true)",
                "list[2]|list|Number(\"1.5e3\")",
                "esc\"key|esc\"key|Str(\"vA\")",
            ]
        );
        assert_eq!(rewrite("{\"a\":", &mut |_, _, _, _| None), None);
    }
}
