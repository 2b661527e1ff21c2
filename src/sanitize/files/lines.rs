//! The line formats, read into the [`Node`] tree: INI (`[section]` and
//! `key = value`, continuation lines), Java `.properties` (logical lines
//! joined by `\`, `=`, `:` or blank separators, escapes) and `.env`
//! (`export`, quotes, multi-line double-quoted values). Lines that are not
//! `key = value` are kept as scalars too, so value rules still read them.

use std::borrow::Cow;
use std::ops::Range;

use super::tree::{line_end, Cut, Entry, Kind, Node, Scalar, Style};

/// A line that no key names: read for secret values only.
pub const UNNAMED: &str = "";

fn scalar(text: String, span: Range<usize>, style: Style) -> Node<'static> {
    Node::Scalar(Scalar { text: Cow::Owned(text), kind: Kind::Str, span, style, anchor: 0 })
}

fn entry(key: &str, node: Node<'static>, lines: Option<Range<usize>>) -> Entry<'static> {
    Entry { key: Cow::Owned(key.to_string()), node, cut: lines.map_or(Cut::None, Cut::Lines) }
}

/// [`entry`] and [`scalar`] borrowing from the text where they can.
fn borrowed<'a>(key: Cow<'a, str>, text: Cow<'a, str>, span: Range<usize>, lines: Range<usize>) -> Entry<'a> {
    let node = Node::Scalar(Scalar { text, kind: Kind::Str, span, style: Style::Properties, anchor: 0 });
    Entry { key, node, cut: Cut::Lines(lines) }
}

/// Lines with their byte offsets and without their line ending.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n').map(move |raw| {
        let start = at;
        at += raw.len();
        (start, raw.trim_end_matches(['\n', '\r']))
    })
}

/// INI: sections become maps; keys before any section sit at the top.
pub fn parse_ini(text: &str) -> Node<'static> {
    let mut root: Vec<Entry<'static>> = Vec::new();
    let mut section: Option<(String, Vec<Entry<'static>>)> = None;
    let mut last_key: Option<String> = None;
    for (at, line) in lines(text) {
        let trimmed = line.trim();
        let target = match &mut section {
            Some((_, entries)) => entries,
            None => &mut root,
        };
        if trimmed.is_empty() || trimmed.starts_with([';', '#']) {
            last_key = None;
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent > 0 {
            if let Some(key) = &last_key {
                // A continuation line belongs to the key above it.
                let span = at + indent..at + line.trim_end().len();
                target.push(entry(key, scalar(trimmed.to_string(), span, Style::IniValue), None));
                continue;
            }
        }
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            if let Some((name, entries)) = section.take() {
                root.push(entry(&name, Node::Map(entries), None));
            }
            section = Some((trimmed[1..trimmed.len() - 1].trim().to_string(), Vec::new()));
            last_key = None;
            continue;
        }
        match line.find(['=', ':']) {
            Some(sep) if !line[..sep].trim().is_empty() => {
                let key = line[..sep].trim().to_string();
                let after = &line[sep + 1..];
                let value = after.trim();
                let start = at + sep + 1 + (after.len() - after.trim_start().len());
                let span = start..start + value.len();
                let remove = Some(at..line_end(text, at));
                target.push(entry(&key, scalar(value.to_string(), span, Style::IniValue), remove));
                last_key = Some(key);
            }
            _ => {
                let span = at + indent..at + line.trim_end().len();
                target.push(entry(UNNAMED, scalar(trimmed.to_string(), span, Style::IniValue), None));
                last_key = None;
            }
        }
    }
    if let Some((name, entries)) = section.take() {
        root.push(entry(&name, Node::Map(entries), None));
    }
    Node::Map(root)
}

/// Java `.properties` (the `java.util.Properties.load` rules).
pub fn parse_properties(text: &str) -> Node<'_> {
    let mut entries = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let line_start = i;
        // Skip leading blanks.
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\x0c') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        if matches!(b[i], b'\n' | b'\r') {
            i += 1;
            continue;
        }
        if matches!(b[i], b'#' | b'!') {
            i = line_end(text, i);
            continue;
        }
        // The logical line: natural lines joined while one ends in an odd run
        // of `\`. `next`: past the newline that ends it (one search per line:
        // lines are short, and each search has a set-up cost).
        let start = i;
        let mut end = i;
        let next = loop {
            let e = newline(b, end);
            let mut body_end = e;
            while body_end > end && b[body_end - 1] == b'\r' {
                body_end -= 1;
            }
            let slashes = b[end..body_end].iter().rev().take_while(|&&c| c == b'\\').count();
            if slashes % 2 == 1 && e < b.len() {
                end = e + 1;
                continue;
            }
            end = body_end;
            break (e + 1).min(b.len());
        };
        let logical = &text[start..end];
        let key_end = key_end(logical);
        let key = unescape(&logical[..key_end]);
        let mut v = key_end;
        let lb = logical.as_bytes();
        while v < lb.len() && matches!(lb[v], b' ' | b'\t' | b'\x0c') {
            v += 1;
        }
        if v < lb.len() && matches!(lb[v], b'=' | b':') {
            v += 1;
            while v < lb.len() && matches!(lb[v], b' ' | b'\t' | b'\x0c') {
                v += 1;
            }
        }
        let value = unescape(&logical[v..]);
        entries.push(borrowed(key, value, start + v..end, line_start..next));
        i = next;
    }
    Node::Map(entries)
}

/// Where the line holding `from` ends: its `\n`, or the end of `b`. A loop:
/// a `.properties` line is a few dozen bytes, shorter than memchr's set-up pays for.
fn newline(b: &[u8], from: usize) -> usize {
    b[from..].iter().position(|&c| c == b'\n').map_or(b.len(), |j| from + j)
}

/// Where a `.properties` key ends: the first unescaped `=`, `:` or blank.
fn key_end(logical: &str) -> usize {
    let b = logical.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' | b'\x0c' => return i,
            _ => i += 1,
        }
    }
    b.len()
}

/// `.properties` escapes and line continuations undone.
fn unescape(s: &str) -> Cow<'_, str> {
    if !crate::sanitize::has_byte(s.as_bytes(), b'\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(c) => out.push(c),
                    None => out.push_str(&hex),
                }
            }
            Some('\r') | Some('\n') => {
                while chars.peek().is_some_and(|c| matches!(c, '\n' | ' ' | '\t' | '\x0c')) {
                    chars.next();
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Cow::Owned(out)
}

/// `.env`: `[export ]KEY=value`, with '…', "…" (multi-line, escapes) or bare values.
pub fn parse_env(text: &str) -> Node<'static> {
    let mut entries = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let end = line_end(text, at);
        let line = text[at..end].trim_end_matches(['\n', '\r']);
        let body = line.trim_start();
        let lead = line.len() - body.len();
        if body.is_empty() || body.starts_with('#') {
            at = end;
            continue;
        }
        let (body, lead) = match body.strip_prefix("export ") {
            Some(rest) => (rest.trim_start(), lead + (body.len() - rest.trim_start().len())),
            None => (body, lead),
        };
        let Some(eq) = body.find('=').filter(|&eq| eq > 0 && !body[..eq].contains(char::is_whitespace)) else {
            let span = at + lead..at + line.trim_end().len();
            entries.push(entry(UNNAMED, scalar(line.trim().to_string(), span, Style::IniValue), None));
            at = end;
            continue;
        };
        let key = &body[..eq];
        let vstart = at + lead + eq + 1;
        let rest = &text[vstart..];
        let (value, span, quote, next) = match rest.as_bytes().first() {
            Some(&q @ (b'"' | b'\'')) => match closing(rest, q) {
                Some(close) => {
                    let raw = &rest[1..close];
                    let value = if q == b'"' { env_unescape(raw) } else { raw.to_string() };
                    (value, vstart..vstart + close + 1, Some(q), line_end(text, vstart + close))
                }
                None => {
                    let v = line[lead + eq + 1..].to_string();
                    (v.clone(), vstart..vstart + v.len(), None, end)
                }
            },
            _ => {
                let raw = &line[lead + eq + 1..];
                let raw = raw.find(" #").map_or(raw, |i| &raw[..i]).trim_end();
                (raw.to_string(), vstart..vstart + raw.len(), None, end)
            }
        };
        entries.push(entry(key, scalar(value, span, Style::Env { quote }), Some(at..next)));
        at = next;
    }
    Node::Map(entries)
}

fn closing(s: &str, q: u8) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        if b[i] == b'\\' && q == b'"' {
            i += 2;
            continue;
        }
        if b[i] == q {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn env_unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(n: &Node, text: &str) -> Vec<(String, String, String)> {
        let Node::Map(e) = n else { panic!() };
        e.iter()
            .filter_map(|e| match &e.node {
                Node::Scalar(s) => Some((e.key.to_string(), s.text.to_string(), text[s.span.clone()].to_string())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn properties_logical_lines() {
        let text = "# c\na.b = x\nc:y\nd z\\\n   w\nmail.smtp.pass\\u0020 = p\\=q\n";
        let got = flat(&parse_properties(text), text);
        assert_eq!(got[0], ("a.b".into(), "x".into(), "x".into()));
        assert_eq!(got[1], ("c".into(), "y".into(), "y".into()));
        assert_eq!(got[2], ("d".into(), "zw".into(), "z\\\n   w".into()));
        assert_eq!(got[3], ("mail.smtp.pass ".into(), "p=q".into(), "p\\=q".into()));
    }

    #[test]
    fn env_quotes() {
        let text = "export A=1\nB=\"x\ny\" # c\nC='z' \nD=bare # c\n";
        let got = flat(&parse_env(text), text);
        assert_eq!(got[0], ("A".into(), "1".into(), "1".into()));
        assert_eq!(got[1], ("B".into(), "x\ny".into(), "\"x\ny\"".into()));
        assert_eq!(got[2], ("C".into(), "z".into(), "'z'".into()));
        assert_eq!(got[3], ("D".into(), "bare".into(), "bare".into()));
    }

    #[test]
    fn ini_sections() {
        let text = "[default]\naws_secret_access_key = abc\n; c\n[pypi]\npassword: p\n";
        let Node::Map(root) = parse_ini(text) else { panic!() };
        assert_eq!(root[0].key, "default");
        assert_eq!(flat(&root[1].node, text)[0], ("password".into(), "p".into(), "p".into()));
    }
}
