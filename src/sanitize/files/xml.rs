//! XML read into the [`Node`] tree with quick-xml: each element is an entry
//! named by its local name, holding its attributes (`@name`) and its
//! children or text (attributes are named `@name` and do not inherit a
//! secret element name: `<machineKey validation="…">` holds settings).
//! `<add key="DbPassword" value="…"/>` and
//! `<property name="password" value="…"/>` name their value by the
//! sibling attribute, as the walker does for `{name, value}` maps.

use std::borrow::Cow;
use std::ops::Range;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::tree::{Cut, Entry, Kind, Node, Scalar, Style};

/// An open element: its name, its entries so far, its text run so far.
type Open = (String, Vec<Entry<'static>>, Option<Range<usize>>);

/// Parses `text`, or None when it is not well-formed XML.
pub fn parse(text: &str) -> Option<Node<'static>> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    reader.config_mut().check_end_names = true;
    let base = text.as_ptr() as usize;
    let offset = |s: &str| s.as_ptr() as usize - base;
    // Open elements: (name, entries so far, text run so far).
    let mut stack: Vec<Open> = vec![(String::new(), Vec::new(), None)];
    let mut depth_seen = false;
    loop {
        let event = reader.read_event().ok()?;
        match event {
            Event::Start(e) => {
                flush_text(text, &mut stack);
                let attrs = attributes(text, &e, &offset)?;
                stack.push((name_of(&e), attrs, None));
                depth_seen = true;
            }
            Event::Empty(e) => {
                flush_text(text, &mut stack);
                let attrs = attributes(text, &e, &offset)?;
                let top = stack.last_mut()?;
                top.1.push(Entry { key: Cow::Owned(name_of(&e)), node: Node::Map(attrs), cut: Cut::None });
            }
            Event::Text(t) => extend(&mut stack, offset(&t)..offset(&t) + t.len()),
            Event::GeneralRef(r) => extend(&mut stack, offset(&r) - 1..offset(&r) + r.len() + 1),
            Event::CData(c) => {
                flush_text(text, &mut stack);
                let start = offset(&c);
                let raw: &str = &c;
                let top = stack.last_mut()?;
                top.1.push(Entry {
                    key: Cow::Borrowed("#cdata"),
                    node: Node::Scalar(Scalar {
                        text: Cow::Owned(raw.to_string()),
                        kind: Kind::Str,
                        span: start..start + c.len(),
                        style: Style::XmlText,
                        anchor: 0,
                    }),
                    cut: Cut::None,
                });
            }
            Event::End(_) => {
                let (name, mut entries, run) = stack.pop()?;
                let text_node = run.and_then(|r| scalar(text, r));
                let node = match text_node {
                    // An element with text and no child elements is a scalar
                    // (its attributes, if any, stay beside it).
                    Some(s) if entries.is_empty() => Node::Scalar(s),
                    Some(s) => {
                        entries.push(Entry { key: Cow::Borrowed("#text"), node: Node::Scalar(s), cut: Cut::None });
                        Node::Map(entries)
                    }
                    None => Node::Map(entries),
                };
                stack.last_mut()?.1.push(Entry { key: Cow::Owned(name), node, cut: Cut::None });
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => flush_text(text, &mut stack),
        }
    }
    if stack.len() != 1 || !depth_seen {
        return None;
    }
    Some(Node::Map(stack.pop()?.1))
}

fn name_of(e: &BytesStart) -> String {
    e.local_name().as_ref().to_string()
}

fn extend(stack: &mut [Open], r: Range<usize>) {
    if let Some(top) = stack.last_mut() {
        top.2 = Some(match top.2.take() {
            Some(run) => run.start..r.end,
            None => r,
        });
    }
}

/// Text between child elements is not a value: only whitespace is expected.
fn flush_text(text: &str, stack: &mut [Open]) {
    if let Some(top) = stack.last_mut() {
        if let Some(run) = top.2.take() {
            if let Some(s) = scalar(text, run) {
                top.1.push(Entry { key: Cow::Borrowed("#text"), node: Node::Scalar(s), cut: Cut::None });
            }
        }
    }
}

/// A text run as a scalar, None when it is only whitespace.
fn scalar(text: &str, run: Range<usize>) -> Option<Scalar<'static>> {
    let raw = &text[run.clone()];
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return None;
    }
    let start = run.start + (raw.len() - raw.trim_start().len());
    let decoded = quick_xml::escape::unescape(trimmed).ok()?.into_owned();
    Some(Scalar {
        text: Cow::Owned(decoded),
        kind: Kind::Str,
        span: start..start + trimmed.len(),
        style: Style::XmlText,
        anchor: 0,
    })
}

fn attributes(text: &str, e: &BytesStart, offset: &dyn Fn(&str) -> usize) -> Option<Vec<Entry<'static>>> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.ok()?;
        let key = format!("@{}", a.key.local_name().as_ref());
        let raw: &str = &a.value;
        let start = offset(raw);
        if start == 0 || start > text.len() {
            return None; // not borrowed from the text: no position
        }
        let quote = text.as_bytes()[start - 1];
        let decoded = quick_xml::escape::unescape(raw).ok()?.into_owned();
        out.push(Entry {
            key: Cow::Owned(key),
            node: Node::Scalar(Scalar {
                text: Cow::Owned(decoded),
                kind: Kind::Str,
                span: start..start + raw.len(),
                style: Style::XmlAttr { quote },
                anchor: 0,
            }),
            cut: Cut::None,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_attributes_and_entities() {
        let text =
            "<?xml version=\"1.0\"?>\n<c><add key=\"DbPassword\" value=\"a&amp;b\"/><password>x&lt;y</password></c>";
        let Some(Node::Map(root)) = parse(text) else { panic!() };
        let Node::Map(c) = &root[0].node else { panic!() };
        let Node::Map(add) = &c[0].node else { panic!() };
        assert_eq!(add[1].key, "@value");
        let Node::Scalar(v) = &add[1].node else { panic!() };
        assert_eq!((v.text.as_ref(), &text[v.span.clone()]), ("a&b", "a&amp;b"));
        let Node::Scalar(p) = &c[1].node else { panic!() };
        assert_eq!((c[1].key.as_ref(), p.text.as_ref(), &text[p.span.clone()]), ("password", "x<y", "x&lt;y"));
        assert!(parse("<a><b></a>").is_none());
    }
}
