//! JSON read into the [`Node`] tree with the span of every value. The text
//! is checked with serde_json first, so the reader below only has to find
//! positions in text already known to be valid JSON.

use serde::de::IgnoredAny;
use std::borrow::Cow;

use super::tree::{Cut, Entry, Item, Kind, Node, Scalar, Style};

/// Parses `text`, or None when it is not valid JSON.
pub fn parse(text: &str) -> Option<Node<'_>> {
    serde_json::from_str::<IgnoredAny>(text).ok()?;
    let mut r = Reader { text, b: text.as_bytes(), i: 0 };
    r.ws();
    r.value()
}

struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\n' | b'\r' | b'\t') {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Option<Node<'a>> {
        match *self.b.get(self.i)? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => {
                let start = self.i;
                let text = self.string()?;
                Some(Node::Scalar(Scalar { text, kind: Kind::Str, span: start..self.i, style: Style::Json, anchor: 0 }))
            }
            c => {
                let start = self.i;
                let kind = match c {
                    b't' | b'f' => Kind::Bool,
                    b'n' => Kind::Null,
                    _ => Kind::Number,
                };
                while self.i < self.b.len()
                    && !matches!(self.b[self.i], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
                {
                    self.i += 1;
                }
                let text = Cow::Borrowed(&self.text[start..self.i]);
                Some(Node::Scalar(Scalar { text, kind, span: start..self.i, style: Style::Json, anchor: 0 }))
            }
        }
    }

    /// A string at `self.i`, unescaped; moves past it.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.i;
        let mut i = start + 1;
        let mut escaped = false;
        while i < self.b.len() {
            match self.b[i] {
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                b'"' => break,
                _ => i += 1,
            }
        }
        self.i = i + 1;
        let raw = &self.text[start..self.i];
        if escaped {
            serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(&raw[1..raw.len() - 1]))
        }
    }

    fn object(&mut self) -> Option<Node<'a>> {
        let mut entries = Vec::new();
        self.members(b'}', |r| {
            let start = r.i;
            let key = r.string()?;
            r.ws();
            r.i += 1; // ':'
            r.ws();
            let node = r.value()?;
            entries.push(Entry { key, node, cut: Cut::Flow(start..r.i) });
            Some(())
        })?;
        Some(Node::Map(entries))
    }

    fn array(&mut self) -> Option<Node<'a>> {
        let mut items = Vec::new();
        self.members(b']', |r| {
            let start = r.i;
            let node = r.value()?;
            items.push(Item { node, cut: Cut::Flow(start..r.i) });
            Some(())
        })?;
        Some(Node::Seq(items))
    }

    /// Reads the members of a collection opened at `self.i` up to `close`,
    /// calling `member` at the start of each.
    fn members(&mut self, close: u8, mut member: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.i += 1;
        loop {
            self.ws();
            match *self.b.get(self.i)? {
                c if c == close => {
                    self.i += 1;
                    return Some(());
                }
                b',' => self.i += 1,
                _ => member(self)?,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_values() {
        let text = "{\"a\": \"x\\\"y\", \"b\": [1, true, null], \"c\": {\"d\": 2.5e3}}";
        let Some(Node::Map(entries)) = parse(text) else { panic!("a map") };
        let Node::Scalar(a) = &entries[0].node else { panic!() };
        assert_eq!(a.text, "x\"y");
        assert_eq!(&text[a.span.clone()], "\"x\\\"y\"");
        let Node::Seq(items) = &entries[1].node else { panic!() };
        let Node::Scalar(t) = &items[1].node else { panic!() };
        assert_eq!((t.kind, &text[t.span.clone()]), (Kind::Bool, "true"));
        assert!(parse("{\"a\":").is_none());
    }
}
