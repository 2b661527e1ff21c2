//! JSON read into the [`Node`] tree with the span of every value, in one
//! pass that also checks the text is JSON (RFC 8259, as serde_json reads
//! it): anything else is None, and the file is scanned as text instead. A
//! test holds it to serde_json's verdict on thousands of broken documents.

use std::borrow::Cow;

use super::tree::{Cut, Entry, Item, Kind, Node, Scalar, Style};

/// How deep collections may nest (serde_json's limit): deeper is None, not
/// a stack overflow.
const MAX_DEPTH: usize = 128;

/// Parses `text`, or None when it is not valid JSON.
pub fn parse(text: &str) -> Option<Node<'_>> {
    let mut r = Reader { text, b: text.as_bytes(), i: 0, depth: 0 };
    r.ws();
    let node = r.value()?;
    r.ws();
    (r.i == r.b.len()).then_some(node)
}

struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\n' | b'\r' | b'\t') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn value(&mut self) -> Option<Node<'a>> {
        let start = self.i;
        let kind = match self.peek()? {
            b'{' => return self.object(),
            b'[' => return self.array(),
            b'"' => {
                let text = self.string()?;
                return Some(Node::Scalar(Scalar {
                    text,
                    kind: Kind::Str,
                    span: start..self.i,
                    style: Style::Json,
                    anchor: 0,
                }));
            }
            b't' => self.literal(b"true", Kind::Bool)?,
            b'f' => self.literal(b"false", Kind::Bool)?,
            b'n' => self.literal(b"null", Kind::Null)?,
            _ => self.number()?,
        };
        let text = Cow::Borrowed(&self.text[start..self.i]);
        Some(Node::Scalar(Scalar { text, kind, span: start..self.i, style: Style::Json, anchor: 0 }))
    }

    fn literal(&mut self, word: &[u8], kind: Kind) -> Option<Kind> {
        self.b[self.i..].starts_with(word).then(|| {
            self.i += word.len();
            kind
        })
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<Kind> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Some(Kind::Number)
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let from = self.i;
        self.digits();
        (self.i > from).then_some(())
    }

    /// A string at `self.i`, unescaped; moves past it. None for a control
    /// character, a bad escape or no closing quote.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.i;
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            match *self.b.get(i)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    match *self.b.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                        b'u' if self.b.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => i += 6,
                        _ => return None,
                    }
                }
                0..0x20 => return None,
                _ => i += 1,
            }
        }
        self.i = i + 1;
        let raw = &self.text[start..self.i];
        if escaped {
            // Escapes decoded by serde_json (surrogate pairs included).
            serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(&raw[1..raw.len() - 1]))
        }
    }

    fn object(&mut self) -> Option<Node<'a>> {
        let mut entries = Vec::new();
        self.members(b'}', |r| {
            let start = r.i;
            if r.peek()? != b'"' {
                return None;
            }
            let key = r.string()?;
            r.ws();
            if r.peek()? != b':' {
                return None;
            }
            r.i += 1;
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

    /// Reads the members of a collection opened at `self.i` up to `close`:
    /// `member` reads one, and commas must stand between them.
    fn members(&mut self, close: u8, mut member: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        self.ws();
        if self.peek()? == close {
            self.i += 1;
            self.depth -= 1;
            return Some(());
        }
        loop {
            member(self)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                c if c == close => {
                    self.i += 1;
                    self.depth -= 1;
                    return Some(());
                }
                _ => return None,
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

    /// Whether serde_json reads `text` as JSON, every string decoded (a
    /// lone surrogate escape is no text).
    fn serde_says(text: &str) -> bool {
        serde_json::from_str::<serde_json::Value>(text).is_ok()
    }

    #[test]
    fn reads_as_json_exactly_what_serde_json_does() {
        let docs = [
            r#"{"a": "x\"y\u00e9\n", "b": [1, -0.5e+3, true, false, null, {}], "c": {"d": [[]], "e": "\ud83d\ude00"}}"#,
            r#"[0, 10, -1, 1.25, 2E5, "", " \/ ", {"k": [null]}]"#,
            " \n\t{ \"k\" : \"v\" } \r\n",
            "\"just a string\"",
            "12",
        ];
        let edits: &[&str] =
            &["", ",", "]", "}", "[", "{", "\"", ":", "\\", "0", "-", " ", "e", ".", "\n", "\u{1}", "t", "x", "+", "u"];
        let mut checked = 0;
        for doc in docs {
            assert!(serde_says(doc) && parse(doc).is_some(), "{doc}");
            for at in (0..=doc.len()).filter(|&i| doc.is_char_boundary(i)) {
                for edit in edits {
                    // Insert the edit at `at`, and replace the char at `at` by it.
                    let mut variants = vec![format!("{}{edit}{}", &doc[..at], &doc[at..])];
                    if let Some(c) = doc[at..].chars().next() {
                        variants.push(format!("{}{edit}{}", &doc[..at], &doc[at + c.len_utf8()..]));
                    }
                    for v in variants {
                        assert_eq!(parse(&v).is_some(), serde_says(&v), "{v:?}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 5000);
        for deep in ["[".repeat(100) + &"]".repeat(100), "[".repeat(5000) + &"]".repeat(5000)] {
            assert_eq!(parse(&deep).is_some(), serde_says(&deep), "depth {}", deep.len() / 2);
        }
    }
}
