//! A fast reader for the YAML most configuration files are: block mappings
//! and sequences of one-line scalars (plain, or quoted without escapes),
//! with comments and blank lines. It reads a line at a time and borrows
//! every text from the file, where saphyr-parser decodes a character at a
//! time and copies each scalar (a third of the time of sanitizing a large
//! YAML file went there).
//!
//! It is a shortcut, never a second opinion: anything outside that subset
//! (block scalars, flow collections, anchors, tags, aliases, escapes,
//! multi-line scalars, several documents, tabs, CR, non-ASCII text, quoted
//! or complex keys, anything it cannot prove it reads as saphyr would)
//! makes it answer `None`, and [`super::yaml`] reads the file with saphyr.
//! A test holds it to saphyr's tree on every file it accepts.

use std::borrow::Cow;

use super::tree::{Cut, Entry, Item, Kind, Node, Scalar, Style};

/// Bytes that cannot start a plain scalar or a plain key here.
const INDICATORS: &[u8] = b"[]{},&*!|>%@`'\"#?:";

/// Whether `b` is one of [`INDICATORS`] (a loop: `contains` calls memchr,
/// whose set-up cost more than the search, for a byte of every line).
fn is_indicator(b: u8) -> bool {
    crate::sanitize::one_of(b, INDICATORS)
}

/// The longest implicit key YAML allows.
const MAX_KEY: usize = 1024;

/// `text` as a tree, when it is all in the subset this reader knows; else
/// None (read it with saphyr).
pub fn parse(text: &str) -> Option<Node<'_>> {
    let lines = lines(text)?;
    let mut r = Reader { text, lines, pos: 0 };
    let first = r.lines.first()?.indent;
    let node = r.node(first)?;
    (r.pos == r.lines.len()).then_some(node)
}

/// A top-level mapping's text, cut into runs that each start at one of its
/// keys, to be read on several cores ([`parse_run`]): each entry's lines
/// are read the same way whatever came before the entry, so the runs'
/// entries, one after the other, are what [`parse`] reads (and if one run
/// is outside the subset, so is the whole text).
pub struct Runs {
    runs: Vec<std::ops::Range<usize>>,
}

impl Runs {
    /// How many runs.
    pub fn count(&self) -> usize {
        self.runs.len()
    }
}

/// `text` in up to `pieces` runs of about the same length, each starting
/// at a line that begins with a key at the first column, when the text's
/// first line with content is such a key; else None (read it whole). Only
/// bytes are looked at: a line at the first column is a top-level key, or
/// the text is outside the subset (and some run says so).
pub fn runs(text: &str, pieces: usize) -> Option<Runs> {
    let b = text.as_bytes();
    let starts_key = |at: usize| b.get(at).is_some_and(|&c| !matches!(c, b' ' | b'-' | b'#' | b'\n' | b'\r' | b'\t'));
    // The first line with content must be a key at the first column.
    let mut at = 0;
    while b.get(at).is_some_and(|&c| c == b'#' || c == b'\n') {
        at = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |n| at + n + 1);
    }
    if !starts_key(at) {
        return None;
    }
    let mut runs = Vec::new();
    let mut from = 0;
    for k in 1..pieces {
        let mut cut = (b.len() * k / pieces).max(from + 1);
        loop {
            let Some(n) = memchr::memchr(b'\n', &b[cut.min(b.len())..]) else {
                cut = b.len();
                break;
            };
            cut += n + 1;
            if starts_key(cut) {
                break;
            }
        }
        if cut >= b.len() {
            break;
        }
        runs.push(from..cut);
        from = cut;
    }
    runs.push(from..b.len());
    (runs.len() > 1).then_some(Runs { runs })
}

/// The entries of run `i`, or None when it is not in the subset (then
/// neither is the whole text).
pub fn parse_run<'a>(text: &'a str, runs: &Runs, i: usize) -> Option<Vec<Entry<'a>>> {
    let mut r = Reader { text, lines: lines_in(text, runs.runs[i].clone())?, pos: 0 };
    let indent = r.lines.first()?.indent;
    match r.mapping(indent)? {
        Node::Map(entries) if r.pos == r.lines.len() => Some(entries),
        _ => None,
    }
}

/// The lines with content, when `text` is in the subset as far as its
/// lines tell (ASCII, no tabs, CRs, directives or document markers).
fn lines(text: &str) -> Option<Vec<Line>> {
    lines_in(text, 0..text.len())
}

/// [`lines`] of the lines in `range` of `text` (a range of whole lines).
fn lines_in(text: &str, range: std::ops::Range<usize>) -> Option<Vec<Line>> {
    let part = &text.as_bytes()[range.clone()];
    if !part.is_ascii() || memchr::memchr2(b'\t', b'\r', part).is_some() {
        return None;
    }
    let bytes = &text.as_bytes()[..range.end];
    let mut lines = Vec::with_capacity(part.len() / 24);
    let mut start = range.start;
    // Line ends by memchr's iterator over the whole range, not a look a
    // byte at a time for each line's end.
    let ends = memchr::memchr_iter(b'\n', part).map(|n| range.start + n).chain(std::iter::once(range.end));
    for end in ends {
        if start >= range.end {
            break;
        }
        let mut indent = start;
        while indent < end && bytes[indent] == b' ' {
            indent += 1;
        }
        let rest = &bytes[indent..end];
        let next = end + 1;
        if rest.is_empty() || rest[0] == b'#' {
            start = next;
            continue;
        }
        // Directives and document markers.
        if indent == start && (rest.starts_with(b"---") || rest.starts_with(b"...") || rest[0] == b'%') {
            return None;
        }
        lines.push(Line { at: indent, indent: indent - start, end });
        start = next;
    }
    Some(lines)
}

/// Whether the line is a sequence item (`- x` or a lone `-`).
fn is_item(text: &str, l: Line) -> bool {
    matches!(&text.as_bytes()[l.at..l.end], [b'-'] | [b'-', b' ', ..])
}

/// A line with content: where the content starts, its column, where it ends
/// (before the newline).
#[derive(Clone, Copy)]
struct Line {
    at: usize,
    indent: usize,
    end: usize,
}

struct Reader<'a> {
    text: &'a str,
    lines: Vec<Line>,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn line(&self) -> Option<Line> {
        self.lines.get(self.pos).copied()
    }

    fn bytes(&self, l: Line) -> &'a [u8] {
        &self.text.as_bytes()[l.at..l.end]
    }

    fn is_item(&self, l: Line) -> bool {
        is_item(self.text, l)
    }

    /// The block node whose first line is the current one, at `indent`.
    fn node(&mut self, indent: usize) -> Option<Node<'a>> {
        let l = self.line()?;
        if l.indent != indent {
            return None;
        }
        if self.is_item(l) {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        }
    }

    fn mapping(&mut self, indent: usize) -> Option<Node<'a>> {
        let mut entries = Vec::new();
        while let Some(l) = self.line().filter(|l| l.indent == indent) {
            if self.is_item(l) {
                return None;
            }
            let b = self.bytes(l);
            let colon = key_end(b)?;
            let key = self.text[l.at..l.at + colon].trim_end_matches(' ');
            // (`key_end` stops at a comment, so the key holds none.)
            if key.is_empty() || key.len() > MAX_KEY || is_indicator(b[0]) {
                return None;
            }
            let value_at = l.at + colon + 1;
            let node = self.value(value_at, l, indent, true)?;
            entries.push(Entry { key: Cow::Borrowed(key), node, cut: Cut::None });
        }
        Some(Node::Map(entries))
    }

    fn sequence(&mut self, indent: usize) -> Option<Node<'a>> {
        let mut items = Vec::new();
        while let Some(l) = self.line().filter(|l| l.indent == indent && self.is_item(*l)) {
            let after = l.at + 1;
            let rest = &self.text[after..l.end];
            let skip = rest.len() - rest.trim_start_matches(' ').len();
            let at = after + skip;
            let here = &self.text.as_bytes()[at..l.end];
            let node = if matches!(here, [b'-'] | [b'-', b' ', ..]) {
                return None;
            } else if key_end(here).is_some() && !matches!(here[0], b'"' | b'\'') {
                // `- key: value`: a mapping whose keys sit at this column.
                let column = indent + 1 + skip;
                self.lines[self.pos] = Line { at, indent: column, end: l.end };
                self.mapping(column)?
            } else {
                self.value(after, l, indent, false)?
            };
            items.push(Item { node, cut: Cut::None });
        }
        Some(Node::Seq(items))
    }

    /// The value after `key:` or `-`, from byte `start` of line `l`, whose
    /// parent sits at `indent`.
    fn value(&mut self, start: usize, l: Line, indent: usize, in_map: bool) -> Option<Node<'a>> {
        let rest = &self.text[start..l.end];
        let skip = rest.len() - rest.trim_start_matches(' ').len();
        let at = start + skip;
        let here = &self.text.as_bytes()[at..l.end];
        if here.is_empty() || (here[0] == b'#' && skip > 0) {
            // saphyr puts an empty value where its indicator (`:`, `-`) is.
            return self.empty_value(start - 1, indent, in_map);
        }
        if skip == 0 {
            return None;
        }
        let scalar = scalar(self.text, at, l.end)?;
        self.pos += 1;
        // A deeper line next would continue the scalar (or be an error).
        if self.line().is_some_and(|n| n.indent > indent) {
            return None;
        }
        Some(Node::Scalar(scalar))
    }

    /// A value left empty on its line: the block below it, or null.
    fn empty_value(&mut self, at: usize, indent: usize, in_map: bool) -> Option<Node<'a>> {
        self.pos += 1;
        match self.line() {
            Some(n) if n.indent > indent => self.node(n.indent),
            // `key:` then `- item` at the key's own column.
            Some(n) if in_map && n.indent == indent && self.is_item(n) => self.sequence(indent),
            // (saphyr places an empty item's null where this reader cannot tell)
            _ if !in_map => None,
            _ => Some(Node::Scalar(Scalar {
                text: Cow::Borrowed(""),
                kind: Kind::Null,
                span: at..at,
                style: Style::YamlPlain { flow: false },
                anchor: 0,
            })),
        }
    }
}

/// Where the `:` ending a plain key is (followed by a space or the line's
/// end), before any comment; None when the line is not `key: …`.
fn key_end(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b':' if i + 1 == b.len() || b[i + 1] == b' ' => return Some(i),
            b'#' if i > 0 && b[i - 1] == b' ' => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The one-line scalar at `text[at..end]` (a comment may follow it).
fn scalar(text: &str, at: usize, end: usize) -> Option<Scalar<'_>> {
    let b = &text.as_bytes()[at..end];
    match b[0] {
        q @ (b'"' | b'\'') => {
            let close = b[1..].iter().position(|&c| c == q)? + 1;
            let inner = &text[at + 1..at + close];
            if (q == b'"' && crate::sanitize::has_byte(inner.as_bytes(), b'\\'))
                || (q == b'\'' && b.get(close + 1) == Some(&b'\''))
            {
                return None;
            }
            let after = &b[close + 1..];
            let trimmed = after.iter().position(|&c| c != b' ').map_or(&[][..], |i| &after[i..]);
            if !(trimmed.is_empty() || (trimmed[0] == b'#' && trimmed.len() < after.len())) {
                return None;
            }
            let style = if q == b'"' { Style::YamlDouble } else { Style::YamlSingle };
            // saphyr's span of a quoted scalar runs to the end of its line
            // (a comment after it included); replacing it drops that comment.
            Some(Scalar { text: Cow::Borrowed(inner), kind: Kind::Str, span: at..end, style, anchor: 0 })
        }
        c if is_indicator(c) => None,
        b'-' if matches!(b.get(1), None | Some(b' ')) => None,
        _ => {
            // One pass: the value ends at a comment; `: ` inside it would be
            // a mapping where none may start.
            let mut len = b.len();
            for i in 1..b.len() {
                match (b[i - 1], b[i]) {
                    (b' ', b'#') => {
                        len = i - 1;
                        break;
                    }
                    (b':', b' ') => return None,
                    _ => {}
                }
            }
            let value = text[at..at + len].trim_end_matches(' ');
            if value.ends_with(':') {
                return None;
            }
            Some(Scalar {
                text: Cow::Borrowed(value),
                kind: super::yaml::plain_kind(value),
                span: at..at + value.len(),
                style: Style::YamlPlain { flow: false },
                anchor: 0,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read in runs (as the sanitizer's pool does with a large file), a
    /// mapping gives the entries it gives read whole; outside the subset,
    /// some run says so.
    #[test]
    fn runs_read_what_the_whole_text_reads() {
        let block = |i: usize| {
            format!(
                "svc{i}:\n  url: http://svc{i}.local\n  args:\n  - --x\n  - y{i}\n  env:\n    - name: A\n      value: b{i}\n\n# note\nlist{i}:\n- a\n- b\nempty{i}:\nflat{i}: \"q{i}\"\n"
            )
        };
        let text: String = (0..40).map(block).collect();
        let whole = format!("{:?}", parse(&text).expect("in the subset"));
        for pieces in [2, 3, 7, 16] {
            let runs = runs(&text, pieces).expect("a mapping with many keys");
            assert!(runs.count() > 1);
            let entries: Vec<Entry> =
                (0..runs.count()).flat_map(|i| parse_run(&text, &runs, i).expect("each run reads")).collect();
            assert_eq!(format!("{:?}", Node::Map(entries)), whole, "{pieces} runs");
        }
        // A line the reader does not know, in one run: that run says None.
        let bad = text.replacen("flat20: \"q20\"", "flat20: \"q20\" trailing", 1);
        assert!(parse(&bad).is_none());
        let runs = runs(&bad, 4).expect("its lines are fine");
        assert!((0..runs.count()).any(|i| parse_run(&bad, &runs, i).is_none()));
        // Top-level sequences and single keys are read whole.
        assert!(runs_of("- a\n- b\n- c\n").is_none());
        assert!(runs_of("only:\n  a: 1\n  b: 2\n").is_none());
    }

    fn runs_of(text: &str) -> Option<Runs> {
        runs(text, 4)
    }

    /// The fast reader's tree, when it takes the text, is saphyr's.
    pub fn same_as_saphyr(text: &str) -> bool {
        let Some(fast) = parse(text) else { return false };
        let slow = super::super::yaml::parse_saphyr(text).map(|n| format!("{n:?}"));
        assert_eq!(Some(format!("{fast:?}")), slow, "the fast reader differs from saphyr on:\n{text}");
        true
    }

    #[test]
    fn reads_what_saphyr_reads() {
        for text in [
            "a: 1\nb: two\n",
            "a:\nb: 1\n",
            "a:\n  b: 1\n  c:\n    - x\n    - \"y\" # c\n  d: 'z'\ne: -1\n",
            "list:\n- a\n-\n  - x\n- b: 1\n  c: 2\n- d\nnext: 3\n",
            "a:   # c\nb:\n",
            "# head\n\nsvc:\n  url: https://svc.prod.example.com/api # the api\n  password: \"s3cr3t\"\n",
            "- a\n- b\n",
            "a: b#c\nurl: http://x:80/y\n",
            "a:    \n  - x\n",
            "  a: 1\n  b: 2\n",
            "k: v\n\n\n",
            "k: \"\"\nj: ''\n",
            "key with spaces: value with spaces   \n",
        ] {
            assert!(same_as_saphyr(text), "the fast reader should take:\n{text}");
        }
    }

    #[test]
    fn leaves_the_rest_to_saphyr() {
        for text in [
            "a: |\n  x\n",
            "a: [1, 2]\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: \"x\\ty\"\n",
            "a: 'it''s'\n",
            "a: b\n  c\n",
            "---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "\"a\": 1\n",
            "? a\n: b\n",
            "a:\tb\n",
            "a: b\r\n",
            "a: \u{e9}\n",
            "a: b: c\n",
            "a: b:\n",
            "a: 1\n b: 2\n",
            "a:\n    b: 1\n  c: 2\n",
            "- - a\n",
            "plain\n",
            "",
            "# only a comment\n",
            "a:b\n",
            "a: \"x\" y\n",
            "a: \"x\"#y\n",
            "- a\nb: 1\n",
            "a: 1\n- b\n",
            "- a\n-\n- b\n",
        ] {
            assert!(parse(text).is_none(), "the fast reader should leave it to saphyr:\n{text}");
        }
    }

    /// Configurations in the subset, as services ship them.
    const SIMPLE: &[&str] = &[
        "service1:\n  url: https://svc1.prod.example.com/api\n  timeout: 30s\n  password: \"s3cr3t-1-pw\"\n  labels:\n    - checkout\n    - tier-1\n",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: checkout\n  labels:\n    app: checkout\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n        - name: app\n          image: registry.example.com/checkout@sha256:0123\n          env:\n            - name: DB_PASSWORD\n              value: \"hunter2-Zx9\"\n            - name: MODE\n              value: prod # the mode\n          ports:\n            - containerPort: 8080\n",
        "# Spring\nspring:\n  datasource:\n    url: jdbc:postgresql://db.prod:5432/shop?sslmode=require\n    username: shop\n    password: 'pw-Zx9Qp2'\n  jpa:\n    open-in-view: false\nserver:\n  port: 8443\nlogging:\n  level:\n    root: INFO\n    com.example: DEBUG\n",
        "version: '3.8'\nservices:\n  web:\n    image: nginx:1.25\n    environment:\n      - API_KEY=sk_live_0123456789abcdef\n      - MODE=prod\n    ports:\n      - \"8080:80\"\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: example-pw-9\n",
    ];

    /// Every YAML file of both corpora, and a few thousand mutations of
    /// them (lines dropped, moved a column, split, commented, quoted): where
    /// the fast reader takes one, its tree is saphyr's, and it never takes
    /// a text saphyr refuses.
    #[test]
    fn matches_saphyr_on_the_corpora_and_their_mutations() {
        let mut texts = Vec::new();
        for corpus in
            [include_str!("../../../tests/corpus/adversarial.json"), include_str!("../../../tests/corpus/redteam.json")]
        {
            let v: serde_json::Value = serde_json::from_str(corpus).expect("parses");
            for f in v["files"].as_array().expect("files") {
                if f["format"] == "yaml" {
                    texts.push(f["content"].as_str().expect("text").to_string());
                }
            }
        }
        texts.extend(SIMPLE.iter().map(|t| t.to_string()));
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        let (mut taken, mut tried) = (0, 0);
        for text in &texts {
            // Mutations of a text the reader takes say the most.
            let rounds = if parse(text).is_some() { 400 } else { 30 };
            for round in 0..rounds {
                let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
                if round > 0 && !lines.is_empty() {
                    for _ in 0..1 + next(3) {
                        let i = next(lines.len());
                        let line = lines[i].clone();
                        let at = next(line.len() + 1);
                        let at = (0..=at).rev().find(|&a| line.is_char_boundary(a)).unwrap_or(0);
                        match next(9) {
                            0 => drop(lines.remove(i)),
                            1 => lines[i] = format!(" {line}"),
                            2 => lines[i] = line.strip_prefix(' ').unwrap_or(&line).to_string(),
                            3 => lines[i] = format!("{}: x{}", &line[..at], &line[at..]),
                            4 => lines[i] = format!("{} #{}", &line[..at], &line[at..]),
                            5 => lines[i] = format!("{}\"{}", &line[..at], &line[at..]),
                            6 => lines.insert(i, format!("{}- y", " ".repeat(next(6)))),
                            7 => lines.insert(i, format!("{}k{i}:", " ".repeat(next(6)))),
                            _ => lines[i] = format!("{}'{}", &line[..at], &line[at..]),
                        }
                        if lines.is_empty() {
                            break;
                        }
                    }
                }
                let mutated = lines.join("\n") + "\n";
                tried += 1;
                taken += usize::from(same_as_saphyr(&mutated));
            }
        }
        eprintln!("the fast reader took {taken} of {tried} texts");
        assert!(taken >= 1000, "too few texts taken ({taken} of {tried}) for the test to mean much");
    }
}
