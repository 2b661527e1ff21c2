//! TOML read into the [`Node`] tree with toml_edit, whose parsed document
//! keeps the span of every key and value (inline tables, arrays, dotted
//! keys and multi-line strings included).

use std::borrow::Cow;

use toml_edit::{Document, Item as TomlItem, Table, Value};

use super::tree::{line_end, line_start, Cut, Entry, Item, Kind, Node, Scalar, Style};

/// Parses `text`, or None when it is not valid TOML.
pub fn parse(text: &str) -> Option<Node<'static>> {
    let doc = Document::parse(text).ok()?;
    Some(table(text, doc.as_table()))
}

fn table(text: &str, t: &Table) -> Node<'static> {
    let mut entries = Vec::new();
    for (k, item) in t.iter() {
        let key_span = t.key(k).and_then(|k| k.span());
        let node = match item {
            TomlItem::Value(v) => value(v),
            TomlItem::Table(inner) => table(text, inner),
            TomlItem::ArrayOfTables(a) => {
                Node::Seq(a.iter().map(|t| Item { node: table(text, t), cut: Cut::None }).collect())
            }
            TomlItem::None => Node::Other,
        };
        // A `key = value` line can go whole; tables and dotted parents cannot.
        let cut = match (item, key_span) {
            (TomlItem::Value(v), Some(ks)) => v.span().map_or(Cut::None, |vs| {
                let start = line_start(text, ks.start);
                if text[start..ks.start].trim().is_empty() {
                    Cut::Lines(start..line_end(text, vs.end.saturating_sub(1).max(vs.start)))
                } else {
                    Cut::None
                }
            }),
            _ => Cut::None,
        };
        entries.push(Entry { key: Cow::Owned(k.to_string()), node, cut });
    }
    Node::Map(entries)
}

fn value(v: &Value) -> Node<'static> {
    let span = v.span().unwrap_or(0..0);
    let scalar = |s: String, kind| {
        Node::Scalar(Scalar { text: Cow::Owned(s), kind, span: span.clone(), style: Style::Toml, anchor: 0 })
    };
    match v {
        Value::String(s) => scalar(s.value().clone(), Kind::Str),
        Value::Integer(i) => scalar(i.value().to_string(), Kind::Number),
        Value::Float(f) => scalar(f.value().to_string(), Kind::Number),
        Value::Boolean(b) => scalar(b.value().to_string(), Kind::Bool),
        // Dates are not secrets and cannot be rewritten as strings.
        Value::Datetime(_) => Node::Other,
        Value::Array(a) => {
            Node::Seq(a.iter().map(|v| Item { node: value(v), cut: v.span().map_or(Cut::None, Cut::Flow) }).collect())
        }
        Value::InlineTable(t) => {
            let mut entries = Vec::new();
            for (k, v) in t.iter() {
                let cut = match (t.key(k).and_then(|k| k.span()), v.span()) {
                    (Some(ks), Some(vs)) => Cut::Flow(ks.start..vs.end),
                    _ => Cut::None,
                };
                entries.push(Entry { key: Cow::Owned(k.to_string()), node: value(v), cut });
            }
            Node::Map(entries)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_values_in_tables_and_inline_tables() {
        let text = "[db]\npassword = 'x' # c\nopts = { user = \"u\", pw = \"\"\"p\"\"\" }\n";
        let Some(Node::Map(root)) = parse(text) else { panic!() };
        let Node::Map(db) = &root[0].node else { panic!() };
        let Node::Scalar(pw) = &db[0].node else { panic!() };
        assert_eq!(&text[pw.span.clone()], "'x'");
        assert_eq!(db[0].cut, Cut::Lines(5..24));
        let Node::Map(opts) = &db[1].node else { panic!() };
        let Node::Scalar(p) = &opts[1].node else { panic!() };
        assert_eq!((p.text.as_ref(), &text[p.span.clone()]), ("p", "\"\"\"p\"\"\""));
    }
}
