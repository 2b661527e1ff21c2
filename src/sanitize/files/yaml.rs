//! YAML read into the [`Node`] tree from saphyr-parser's events, which
//! carry the position of every scalar (block scalars, flow collections,
//! anchors and tags included). Several documents (`---`) become a sequence.

use std::borrow::Cow;
use std::iter::Peekable;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::tree::{line_end, line_start, Cut, Entry, Item, Kind, Node, Scalar, Style};

/// Parses `text`, or None when it is not valid YAML.
pub fn parse(text: &str) -> Option<Node<'_>> {
    parse_range(text, 0..text.len(), true)
}

/// [`parse`] without the cuts that remove entries (only `drop` rules need
/// them, and working them out is a tenth of the reading). Plain block YAML
/// is read by [`super::yaml_block`], the rest by saphyr.
pub fn parse_without_cuts(text: &str) -> Option<Node<'_>> {
    super::yaml_block::parse(text).or_else(|| parse_saphyr(text))
}

/// [`parse_without_cuts`] by saphyr alone.
pub fn parse_saphyr(text: &str) -> Option<Node<'_>> {
    parse_range(text, 0..text.len(), false)
}

/// Parses `text[range]`; spans are offsets into all of `text`.
fn parse_range(text: &str, range: std::ops::Range<usize>, want_cuts: bool) -> Option<Node<'_>> {
    let base = range.start;
    let part = &text[range];
    let offsets = (!part.is_ascii()).then(|| {
        let mut v: Vec<usize> = part.char_indices().map(|(i, _)| i).collect();
        v.push(part.len());
        v
    });
    // Events are read as they come; a scan error ends the stream and fails the parse.
    let failed = std::cell::Cell::new(false);
    let events = Parser::new_from_str(part).map_while(|e| match e {
        Ok(e) => Some(e),
        Err(_) => {
            failed.set(true);
            None
        }
    });
    let mut r = Reader { text, base, offsets, events: events.peekable(), flow: 0, want_cuts };
    let mut docs = Vec::new();
    while let Some((e, _)) = r.events.next() {
        if matches!(e, Event::DocumentStart(_)) {
            let node = r.node()?;
            docs.push(Item { node, cut: Cut::None });
        }
    }
    if failed.get() {
        return None;
    }
    Some(match docs.len() {
        0 => Node::Other,
        1 => docs.pop().expect("one").node,
        _ => Node::Seq(docs),
    })
}

struct Reader<'a, I: Iterator<Item = (Event<'a>, Span)>> {
    text: &'a str,
    /// Where the part being read starts in `text`.
    base: usize,
    /// Byte offset of each character, when the text is not ASCII.
    offsets: Option<Vec<usize>>,
    events: Peekable<I>,
    /// How deep inside flow collections the reader is.
    flow: usize,
    /// Whether entries need their cuts.
    want_cuts: bool,
}

impl<'a, I: Iterator<Item = (Event<'a>, Span)>> Reader<'a, I> {
    fn byte(&self, char_index: usize) -> usize {
        self.base
            + match &self.offsets {
                Some(v) => v[char_index.min(v.len() - 1)],
                None => char_index,
            }
    }

    fn span(&self, s: &Span) -> Range<usize> {
        self.byte(s.start.index())..self.byte(s.end.index())
    }

    /// The next node, with the byte offset where it ends.
    fn node(&mut self) -> Option<Node<'a>> {
        let (event, span) = self.events.next()?;
        let raw = self.span(&span);
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                Some(Node::Scalar(self.scalar(value, style, anchor, tag.is_some(), raw, &span)))
            }
            Event::Alias(id) => Some(Node::Alias(id)),
            Event::MappingStart(..) => self.mapping(!raw.is_empty()),
            Event::SequenceStart(..) => self.sequence(!raw.is_empty()),
            Event::DocumentEnd | Event::StreamEnd => Some(Node::Other),
            _ => Some(Node::Other),
        }
    }

    fn scalar(
        &self,
        value: Cow<'a, str>,
        style: ScalarStyle,
        anchor: usize,
        tagged: bool,
        raw: Range<usize>,
        span: &Span,
    ) -> Scalar<'a> {
        let t = &self.text[raw.clone()];
        let (style, span) = match style {
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                let q = if style == ScalarStyle::SingleQuoted { '\'' } else { '"' };
                let at = t.find(q).unwrap_or(0);
                let s = if q == '\'' { Style::YamlSingle } else { Style::YamlDouble };
                (s, raw.start + at..raw.end)
            }
            ScalarStyle::Literal | ScalarStyle::Folded => {
                let content = t.trim_end_matches([' ', '\n', '\r', '\t']);
                let end = raw.start + content.len();
                let end = if self.text[end..].starts_with('\n') { end + 1 } else { end };
                (Style::YamlBlock { indent: span.start.col() }, raw.start..end)
            }
            _ => {
                let mut at = 0;
                while t[at..].starts_with(['&', '!']) {
                    at += t[at..].find(char::is_whitespace).unwrap_or(t.len() - at);
                    at += t[at..].len() - t[at..].trim_start().len();
                }
                (Style::YamlPlain { flow: self.flow > 0 }, raw.start + at..raw.end)
            }
        };
        let kind =
            if style == (Style::YamlPlain { flow: self.flow > 0 }) && !tagged { plain_kind(&value) } else { Kind::Str };
        Scalar { text: value, kind, span, style, anchor }
    }

    fn mapping(&mut self, flow: bool) -> Option<Node<'a>> {
        self.flow += usize::from(flow);
        let mut entries = Vec::new();
        let mut spans = Vec::new();
        loop {
            if matches!(self.events.peek(), Some((Event::MappingEnd, _)) | None) {
                self.events.next();
                break;
            }
            let key_start = self.events.peek().map(|(_, s)| s.start.index())?;
            let key_start = self.byte(key_start);
            // A scalar key needs only its text.
            let key = if matches!(self.events.peek(), Some((Event::Scalar(..), _))) {
                match self.events.next() {
                    Some((Event::Scalar(text, ..), _)) => text,
                    _ => Cow::Borrowed("?"),
                }
            } else {
                self.node()?;
                Cow::Borrowed("?")
            };
            let node = self.node()?;
            if self.want_cuts {
                let end = self.end_of(&node).max(key_start);
                spans.push(key_start..end);
            }
            entries.push(Entry { key, node, cut: Cut::None });
        }
        self.flow -= usize::from(flow);
        if self.want_cuts {
            for (e, c) in entries.iter_mut().zip(self.cuts(flow, &spans)) {
                e.cut = c;
            }
        }
        Some(Node::Map(entries))
    }

    fn sequence(&mut self, flow: bool) -> Option<Node<'a>> {
        self.flow += usize::from(flow);
        let mut items = Vec::new();
        let mut spans = Vec::new();
        loop {
            if matches!(self.events.peek(), Some((Event::SequenceEnd, _)) | None) {
                self.events.next();
                break;
            }
            let start = self.events.peek().map(|(_, s)| s.start.index())?;
            let start = self.byte(start);
            let node = self.node()?;
            if self.want_cuts {
                let end = self.end_of(&node).max(start);
                spans.push(start..end);
            }
            items.push(Item { node, cut: Cut::None });
        }
        self.flow -= usize::from(flow);
        if self.want_cuts {
            for (e, c) in items.iter_mut().zip(self.cuts(flow, &spans)) {
                e.cut = c;
            }
        }
        Some(Node::Seq(items))
    }

    /// Where the last scalar of `node` ends.
    fn end_of(&self, node: &Node) -> usize {
        match node {
            Node::Scalar(s) => s.span.end,
            Node::Map(e) => e.last().map_or(0, |e| self.end_of(&e.node)),
            Node::Seq(i) => i.last().map_or(0, |i| self.end_of(&i.node)),
            _ => 0,
        }
    }

    /// Flow entries cut with a comma; block entries as whole lines when
    /// they start their line (after `- ` for sequence items), else not at
    /// all (a first key sharing its line with `- `).
    fn cuts(&self, flow: bool, spans: &[Range<usize>]) -> Vec<Cut> {
        (0..spans.len())
            .map(|i| {
                if flow {
                    return Cut::Flow(spans[i].clone());
                }
                let start = line_start(self.text, spans[i].start);
                let lead = self.text[start..spans[i].start].trim();
                if !(lead.is_empty() || lead == "-") {
                    return Cut::None;
                }
                let end = match spans.get(i + 1) {
                    Some(next) => line_start(self.text, next.start),
                    None => line_end(self.text, spans[i].end.saturating_sub(1).max(spans[i].start)),
                };
                if end > start {
                    Cut::Lines(start..end)
                } else {
                    Cut::None
                }
            })
            .collect()
    }
}

/// The core-schema type of a plain scalar.
pub(super) fn plain_kind(v: &str) -> Kind {
    match v {
        "true" | "false" | "True" | "False" | "TRUE" | "FALSE" => Kind::Bool,
        "" | "~" | "null" | "Null" | "NULL" => Kind::Null,
        _ if v.starts_with(|c: char| c.is_ascii_digit() || c == '-')
            && v.parse::<f64>().is_ok()
            && !v.contains(['_']) =>
        {
            Kind::Number
        }
        _ => Kind::Str,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_every_style() {
        let text = "a: &x plain # c\nb: \"dq\"\nc: |\n  l1\n  l2\n\nd: {e: 1, f: two}\ng: *x\n";
        let Some(Node::Map(e)) = parse(text) else { panic!("a map") };
        let span = |n: &Node| match n {
            Node::Scalar(s) => text[s.span.clone()].to_string(),
            _ => String::new(),
        };
        assert_eq!(span(&e[0].node), "plain");
        assert_eq!(span(&e[1].node), "\"dq\"");
        assert_eq!(span(&e[2].node), "l1\n  l2\n");
        let Node::Map(inner) = &e[3].node else { panic!() };
        assert_eq!(span(&inner[1].node), "two");
        assert!(matches!(e[4].node, Node::Alias(_)));
        assert_eq!(e[1].cut, Cut::Lines(16..24));
        assert!(parse("a: [b").is_none());
    }
}
