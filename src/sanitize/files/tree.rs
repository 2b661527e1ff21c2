//! The shape every structured format is read into: maps, sequences and
//! scalars, each scalar with the byte span of its text in the original
//! file and how that text is written ([`Style`]), each entry with the span
//! that removes it. Decisions are made on this tree once for all formats
//! ([`super::walk`]); changes are spliced into the original text, so
//! comments, order and layout survive and only changed values move.

use std::borrow::Cow;
use std::ops::Range;

use crate::sanitize::one_of;

/// A node of a parsed config file.
#[derive(Debug)]
pub enum Node<'a> {
    Map(Vec<Entry<'a>>),
    Seq(Vec<Item<'a>>),
    Scalar(Scalar<'a>),
    /// A YAML alias (`*name`) to the scalar anchored with this id.
    Alias(usize),
    /// Something no rule reads (a YAML complex key, an empty document).
    Other,
}

/// One `key: value` of a map.
#[derive(Debug)]
pub struct Entry<'a> {
    pub key: Cow<'a, str>,
    pub node: Node<'a>,
    pub cut: Cut,
}

/// One item of a sequence.
#[derive(Debug)]
pub struct Item<'a> {
    pub node: Node<'a>,
    pub cut: Cut,
}

/// How an entry or item is removed from the text when a rule drops it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cut {
    /// These whole lines go.
    Lines(Range<usize>),
    /// An entry of a flow collection (`{…}`, `[…]`, JSON) spanning this
    /// (key to value): it goes with one comma beside it ([`flow_cuts`]).
    Flow(Range<usize>),
    /// It cannot be cut cleanly: a drop empties the value instead.
    None,
}

/// A scalar: its decoded text, its type, where its text is, how it is written.
#[derive(Debug)]
pub struct Scalar<'a> {
    pub text: Cow<'a, str>,
    pub kind: Kind,
    /// The bytes to replace to change the value (quotes included, anchors
    /// and tags excluded).
    pub span: Range<usize>,
    pub style: Style,
    /// The YAML anchor id on it, 0 for none.
    pub anchor: usize,
}

/// A scalar's type, kept when its value is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Number,
    Bool,
    Null,
}

/// How a scalar is written, so a new value can be written the same way and
/// the file stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A JSON string (quoted) or a bare JSON number/boolean.
    Json,
    /// A YAML plain scalar; `flow` inside `{…}` or `[…]`.
    YamlPlain {
        flow: bool,
    },
    YamlSingle,
    YamlDouble,
    /// A YAML `|` or `>` block: the span covers the content lines, each
    /// indented by `indent` columns.
    YamlBlock {
        indent: usize,
    },
    /// A TOML value of any string flavour, or a bare number/boolean/date.
    Toml,
    /// XML character data, or an attribute quoted with this byte.
    XmlText,
    XmlAttr {
        quote: u8,
    },
    /// The rest of an INI or `.properties` line, or a `.env` value.
    IniValue,
    Properties,
    Env {
        quote: Option<u8>,
    },
}

/// What to cut to remove the `dropped` entries of one flow collection whose
/// entries span `spans`: each run of dropped entries goes with the comma
/// before it (after it for a run at the start), so the rest stays valid.
pub fn flow_cuts(spans: &[Range<usize>], dropped: &[bool]) -> Vec<Range<usize>> {
    let mut cuts = Vec::new();
    let mut i = 0;
    while i < spans.len() {
        if !dropped[i] {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < spans.len() && dropped[j + 1] {
            j += 1;
        }
        cuts.push(match (i.checked_sub(1), spans.get(j + 1)) {
            (Some(prev), _) => spans[prev].end..spans[j].end,
            (None, Some(next)) => spans[i].start..next.start,
            (None, None) => spans[i].start..spans[j].end,
        });
        i = j + 1;
    }
    cuts
}

/// The start of the line holding `at`.
pub fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Just past the newline ending the line holding `at` (or the end of text).
pub fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

/// Writes `new` in `style`, for a scalar that was of `kind`: the text to
/// splice over its span. Numbers and booleans keep their type.
pub fn encode(style: Style, kind: Kind, new: &str) -> String {
    let number = || if new.parse::<f64>().is_ok() { new.to_string() } else { "0".to_string() };
    match style {
        Style::Json => match kind {
            Kind::Number => number(),
            Kind::Bool if new == "true" || new == "false" => new.to_string(),
            Kind::Bool => "false".into(),
            // serde_json escapes only these; most stand-ins hold none of them.
            _ if !new.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) => {
                let mut out = String::with_capacity(new.len() + 2);
                out.push('"');
                out.push_str(new);
                out.push('"');
                out
            }
            _ => serde_json::to_string(new).unwrap_or_else(|_| "\"\"".into()),
        },
        Style::YamlPlain { flow } => match kind {
            Kind::Number => number(),
            _ if yaml_plain_safe(new, flow) => new.to_string(),
            _ => yaml_double(new),
        },
        Style::YamlSingle if !new.contains('\n') => format!("'{}'", new.replace('\'', "''")),
        Style::YamlSingle | Style::YamlDouble => yaml_double(new),
        Style::YamlBlock { indent } => {
            let pad = " ".repeat(indent);
            let body: Vec<String> =
                new.lines().map(|l| if l.is_empty() { String::new() } else { format!("{pad}{l}") }).collect();
            // The span starts after the first line's indentation.
            body.join("\n").trim_start_matches(' ').to_string() + "\n"
        }
        Style::Toml => match kind {
            Kind::Number => number(),
            Kind::Bool if new == "true" || new == "false" => new.to_string(),
            Kind::Bool => "false".into(),
            _ => toml_basic(new),
        },
        Style::XmlText => xml_escape(new, None),
        Style::XmlAttr { quote } => xml_escape(new, Some(quote)),
        Style::IniValue => new.replace(['\n', '\r'], " "),
        Style::Properties => properties_escape(new),
        Style::Env { quote: Some(b'\'') } if !new.contains('\'') => format!("'{new}'"),
        Style::Env { quote: None } if new.bytes().all(|b| b.is_ascii_graphic() && !one_of(b, b"\"'#$\\`")) => {
            new.to_string()
        }
        Style::Env { .. } => {
            let escaped = new.replace('\\', "\\\\").replace('"', "\\\"").replace('$', "\\$").replace('`', "\\`");
            format!("\"{}\"", escaped.replace('\n', "\\n"))
        }
    }
}

/// Whether `s` can stand as a YAML plain string scalar as it is: it reads
/// back as the same string (not a number, boolean or null) and holds no
/// indicator that would change the document's structure.
fn yaml_plain_safe(s: &str, flow: bool) -> bool {
    let reserved = ["", "true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"]
        .iter()
        .any(|w| w.eq_ignore_ascii_case(s));
    !reserved
        && s.parse::<f64>().is_err()
        && s.bytes().all(|b| YAML_PLAIN_BYTES[usize::from(b)] || (b == b':' && !flow))
        && !s.contains(": ")
        && !s.ends_with(':')
        && s.as_bytes()[0].is_ascii_alphanumeric()
}

/// Letters, digits and `_ . / @ + = -`: what a plain YAML scalar we write
/// may hold (`:` too, outside a flow collection). A table: this runs for
/// every byte of every rewritten YAML value.
static YAML_PLAIN_BYTES: [bool; 256] = crate::sanitize::alphanumeric_or(b"_./@+=-");

fn yaml_double(s: &str) -> String {
    // JSON's escapes are a subset of YAML's double-quoted escapes.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn toml_basic(s: &str) -> String {
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20 || b == 0x7f) {
        return format!("\"{s}\"");
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn xml_escape(s: &str, quote: Option<u8>) -> String {
    if !s.bytes().any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | b'\n')) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quote == Some(b'"') => out.push_str("&quot;"),
            '\'' if quote == Some(b'\'') => out.push_str("&apos;"),
            '\n' if quote.is_some() => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

fn properties_escape(s: &str) -> String {
    if !s.bytes().any(|b| matches!(b, b'\\' | b'\n' | b'\r' | b'\t')) && !s.starts_with(' ') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' ' if i == 0 => out.push_str("\\ "),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_cuts_keep_commas_right() {
        // `{"a":1,"b":2,"c":3}`: entries at 1..6, 7..12, 13..18.
        let spans = [1..6, 7..12, 13..18];
        assert_eq!(flow_cuts(&spans, &[true, false, false]), vec![1..7]);
        assert_eq!(flow_cuts(&spans, &[false, true, true]), vec![6..18]);
        assert_eq!(flow_cuts(&spans, &[true, true, false]), vec![1..13]);
        assert_eq!(flow_cuts(&spans, &[true, true, true]), vec![1..18]);
    }

    #[test]
    fn encodings_keep_values_valid() {
        assert_eq!(encode(Style::Json, Kind::Str, "a\"b"), "\"a\\\"b\"");
        assert_eq!(encode(Style::Json, Kind::Number, "prodbox-redacted"), "0");
        assert_eq!(encode(Style::YamlPlain { flow: false }, Kind::Str, "prodbox-redacted"), "prodbox-redacted");
        assert_eq!(encode(Style::YamlPlain { flow: true }, Kind::Str, "a: b"), "\"a: b\"");
        assert_eq!(encode(Style::YamlPlain { flow: false }, Kind::Str, "true"), "\"true\"");
        assert_eq!(encode(Style::YamlBlock { indent: 4 }, Kind::Str, "l1\nl2"), "l1\n    l2\n");
        assert_eq!(encode(Style::Toml, Kind::Str, "a\"\n"), "\"a\\\"\\n\"");
        assert_eq!(encode(Style::XmlAttr { quote: b'"' }, Kind::Str, "a\"<"), "a&quot;&lt;");
        assert_eq!(encode(Style::Env { quote: None }, Kind::Str, "a b"), "\"a b\"");
        assert_eq!(encode(Style::Properties, Kind::Str, " x\ny"), "\\ x\\ny");
    }
}
