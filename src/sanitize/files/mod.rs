//! Config files, sanitized by content. JSON, YAML, TOML, XML, INI,
//! `.properties` and `.env` are read with parsers that report where each
//! value is ([`tree`]); every value is decided by its key path with the
//! same rules as env vars, and only changed values are spliced back into
//! the original text, written in the value's own style, so comments and
//! layout survive and the file still parses. A structured file that does
//! not parse, and any other text, is scanned whole for secret values and
//! `key = value` pairs with secret-looking keys. Keys are named
//! `path:dotted.key` in the report.

mod json;
mod lines;
mod toml;
pub mod tree;
mod xml;
mod yaml;
mod yaml_block;

use std::collections::HashMap;
use std::ops::Range;

use tree::{encode, flow_cuts, Cut, Entry, Kind, Node, Style};

use super::names::{self, NameClass};
use super::scrub::Finder;
use super::{decide, detect, glob, hosts, standin, Action, Decision, DecisionKind, Input, Outcome, Subject};
use crate::profile::SanitizeSection;
use crate::secret::ProdValue;

/// How a file's content is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    Toml,
    Xml,
    Ini,
    Env,
    Properties,
    Text,
}

impl Format {
    /// By name and extension, else by a look at the content.
    pub fn of(path: &str, content: &str) -> Format {
        if let Some(f) = Format::by_extension(path) {
            return f;
        }
        let lower = path.to_ascii_lowercase();
        let name = lower.rsplit('/').next().unwrap_or(&lower);
        if matches!(
            name,
            ".pypirc"
                | "credentials"
                | "config"
                | ".gitconfig"
                | ".npmrc"
                | ".yarnrc"
                | ".my.cnf"
                | "my.cnf"
                | ".s3cfg"
                | ".boto"
        ) {
            return if content.trim_start().starts_with('{') { Format::Json } else { Format::Ini };
        }
        let head = content.trim_start_matches('\u{feff}').trim_start();
        if head.starts_with(['{', '[']) && serde_json::from_str::<serde::de::IgnoredAny>(head).is_ok() {
            return Format::Json;
        }
        if head.starts_with("<?xml") {
            return Format::Xml;
        }
        Format::Text
    }

    /// By the file's extension (or `.env` name) alone, when that tells.
    fn by_extension(path: &str) -> Option<Format> {
        let lower = path.to_ascii_lowercase();
        let name = lower.rsplit('/').next().unwrap_or(&lower);
        let ext = name.rsplit_once('.').map(|(_, e)| e);
        Some(match ext {
            Some("json" | "json5" | "jsonc") => Format::Json,
            Some("yaml" | "yml") => Format::Yaml,
            Some("toml") => Format::Toml,
            Some("xml" | "config" | "xsd" | "xaml" | "csproj" | "props" | "plist") => Format::Xml,
            Some("ini" | "cfg" | "cnf") => Format::Ini,
            Some("env") => Format::Env,
            Some("properties") => Format::Properties,
            _ if name == ".env" || name.starts_with(".env.") => Format::Env,
            _ => return None,
        })
    }

    /// The format's name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
            Format::Toml => "TOML",
            Format::Xml => "XML",
            Format::Ini => "INI",
            Format::Env => ".env",
            Format::Properties => ".properties",
            Format::Text => "text",
        }
    }

    /// Reads `text` into a tree, or None when it is not valid in this format.
    pub fn parse(self, text: &str) -> Option<Node<'_>> {
        match self {
            Format::Json => json::parse(text),
            Format::Yaml => yaml::parse(text),
            Format::Toml => toml::parse(text),
            Format::Xml => xml::parse(text),
            Format::Ini => Some(lines::parse_ini(text)),
            Format::Env => Some(lines::parse_env(text)),
            Format::Properties => Some(lines::parse_properties(text)),
            Format::Text => None,
        }
    }
}

/// About how much work sanitizing a file of `bytes` bytes at `path` is, in
/// tenths of the work of a byte of YAML: the sanitizer's pool takes the
/// most work first, so two costly files must not end on one core. Per byte,
/// YAML costs about three times plain text, JSON 0.8 of YAML, the line
/// formats 0.6 (measured on the bench record, `BREAKDOWN=1 cargo bench
/// --bench sanitize`); a name that does not tell counts as in between.
pub fn work(path: &str, bytes: usize) -> usize {
    let per_byte = match Format::by_extension(path) {
        Some(Format::Yaml) => 10,
        Some(Format::Json) => 8,
        Some(Format::Toml | Format::Xml | Format::Ini | Format::Env | Format::Properties) => 6,
        Some(Format::Text) | None => 4,
    };
    bytes * per_byte
}

/// What sanitizing one file gives.
#[derive(Debug, Clone, Default)]
pub struct FileOutcome {
    /// The new content; None: the file is left out.
    pub content: Option<String>,
    /// The file's row, then a row per changed key.
    pub decisions: Vec<Decision>,
    /// The secret text taken out of it, for the scrub pass.
    pub removed: Vec<String>,
}

/// Rows per file in the report: a 10 MB file has more keys than anyone reads,
/// and the report travels in a container label.
pub const MAX_KEY_ROWS: usize = 200;

/// Sanitizes one file. `known` holds secrets redacted elsewhere, which no
/// value of this file may keep.
pub fn sanitize_file(path: &str, value: &ProdValue, rules: &SanitizeSection, known: Option<&Finder>) -> FileOutcome {
    match prepare(path, value, rules, known, 1) {
        Prepared::Done(outcome) => outcome,
        Prepared::Split(split) => {
            let parts = (0..split.pieces()).map(|i| split.walk(i, rules, known)).collect();
            split.finish(parts)
        }
    }
}

/// A file read for sanitizing: decided already, or a large file whose walk
/// is cut into pieces for the sanitizer's pool.
pub enum Prepared<'a> {
    Done(FileOutcome),
    Split(Split<'a>),
}

/// Reads one file and decides it, unless it is a large structured file and
/// `pieces` allows more than one: then its tree is returned, cut into up
/// to `pieces` parts to walk ([`Split::walk`]) and put together
/// ([`Split::finish`]). Either way the outcome is the same.
pub fn prepare<'a>(
    path: &'a str,
    value: &'a ProdValue,
    rules: &SanitizeSection,
    known: Option<&Finder>,
    pieces: usize,
) -> Prepared<'a> {
    let file_row = |action, reason: String, by_profile| Decision {
        kind: DecisionKind::File,
        name: path.to_string(),
        action,
        reason,
        by_profile,
    };
    // Whole-file rules first: set, drop, keep, and files the source marked secret.
    if let Some(local) = rules.set.get(path) {
        return Prepared::Done(FileOutcome {
            content: Some(local.clone()),
            decisions: vec![file_row(Action::Replaced, "set by the profile".into(), true)],
            removed: vec![],
        });
    }
    if let Some(p) = glob::first_match(&rules.drop, path) {
        return Prepared::Done(FileOutcome {
            content: None,
            decisions: vec![file_row(Action::Dropped, format!("drop {p}"), true)],
            removed: vec![],
        });
    }
    let text = match value {
        ProdValue::Plain(s) => s.expose(),
        ProdValue::Marked(s) => {
            let reason = "the deploy record marks the whole file secret".into();
            return Prepared::Done(FileOutcome {
                content: None,
                decisions: vec![file_row(Action::Dropped, reason, false)],
                removed: vec![super::scrub::certain(s.expose())],
            });
        }
        ProdValue::Reference(_) => {
            let reason = "a secret file the source did not read".into();
            return Prepared::Done(FileOutcome {
                content: None,
                decisions: vec![file_row(Action::Dropped, reason, false)],
                removed: vec![],
            });
        }
    };
    if let Some(p) = glob::first_match(&rules.keep, path) {
        return Prepared::Done(FileOutcome {
            content: Some(text.to_string()),
            decisions: vec![file_row(Action::Kept, format!("keep {p}"), true)],
            removed: vec![],
        });
    }
    let format = Format::of(path, text);
    // A byte-order mark is not part of the document.
    let bom = text.starts_with('\u{feff}');
    let body = if bom { &text['\u{feff}'.len_utf8()..] } else { text };
    // Cuts (how to remove an entry) are only needed by drop rules.
    let parsed = match format {
        Format::Yaml if rules.drop.is_empty() => yaml::parse_without_cuts(body),
        _ => format.parse(body),
    };
    let Some(root) = parsed else {
        let mut walk = Walk::new(path, rules, known, None);
        let content = walk.text(body);
        let note = (format != Format::Text).then(|| format!("not valid {}: scanned as text", format.name()));
        let content = if bom { format!("\u{feff}{content}") } else { content };
        return Prepared::Done(walk.finish(format, Some(content), note));
    };
    from_tree(Split { path, format, body, bom, root, pieces: Vec::new() }, rules, known, pieces)
}

/// A large YAML file's lines, cut into runs the pool reads on several
/// cores ([`yaml_runs`]); its tree is then the runs' entries, in order.
pub struct YamlRuns<'a> {
    text: &'a str,
    runs: yaml_block::Runs,
}

/// When `value` is a large YAML file that [`prepare`] would read with the
/// fast block reader: its lines in up to `pieces` runs. None otherwise
/// (a profile rule names the whole file, a drop rule, a byte-order mark,
/// YAML outside the block reader's subset, a top-level sequence).
pub fn yaml_runs<'a>(path: &str, value: &'a ProdValue, rules: &SanitizeSection, pieces: usize) -> Option<YamlRuns<'a>> {
    let ProdValue::Plain(s) = value else { return None };
    let text = s.expose();
    let named = rules.set.contains_key(path) || glob::first_match(&rules.keep, path).is_some();
    if pieces < 2 || text.len() < SPLIT_FROM || named || !rules.drop.is_empty() || text.starts_with('\u{feff}') {
        return None;
    }
    if Format::of(path, text) != Format::Yaml {
        return None;
    }
    Some(YamlRuns { text, runs: yaml_block::runs(text, pieces)? })
}

impl<'a> YamlRuns<'a> {
    /// How many runs.
    pub fn count(&self) -> usize {
        self.runs.count()
    }

    /// The entries of run `i`; None when the file is not in the block
    /// reader's subset after all (then read it with [`prepare`]).
    pub fn read(&self, i: usize) -> Option<Vec<Entry<'a>>> {
        yaml_block::parse_run(self.text, &self.runs, i)
    }

    /// What [`prepare`] gives for the file, from its runs' entries.
    pub fn prepare(
        &self,
        path: &'a str,
        entries: Vec<Entry<'a>>,
        rules: &SanitizeSection,
        pieces: usize,
    ) -> Prepared<'a> {
        let split = Split {
            path,
            format: Format::Yaml,
            body: self.text,
            bom: false,
            root: Node::Map(entries),
            pieces: Vec::new(),
        };
        from_tree(split, rules, None, pieces)
    }
}

/// A parsed file (its tree in `split`, no pieces yet): cut into up to
/// `pieces` pieces, or decided whole.
fn from_tree<'a>(split: Split<'a>, rules: &SanitizeSection, known: Option<&Finder>, pieces: usize) -> Prepared<'a> {
    let (path, body) = (split.path, split.body);
    // Drop rules cut entries with the commas beside them, which two pieces
    // could both take (and `plan` cuts no tree with a YAML alias).
    if pieces > 1 && body.len() >= SPLIT_FROM && rules.drop.is_empty() {
        let pieces = plan(&split.root, pieces);
        if pieces.len() > 1 {
            return Prepared::Split(Split { pieces, ..split });
        }
    }
    let mut walk = Walk::new(path, rules, known, None);
    walk.node(&split.root, &mut String::new(), "", Ctx::default());
    Prepared::Done(split.done(walk))
}

/// Files smaller than this are always walked whole (in tests the bar is
/// low, so that small files can be cut into pieces).
const SPLIT_FROM: usize = if cfg!(test) { 2 << 10 } else { 256 << 10 };

/// A parsed file whose walk is cut into pieces.
pub struct Split<'a> {
    path: &'a str,
    format: Format,
    /// The text after any byte-order mark.
    body: &'a str,
    bom: bool,
    root: Node<'a>,
    pieces: Vec<Piece>,
}

/// One walk over part of a large file ([`Split::walk`]).
pub struct Part<'r>(Walk<'r>);

impl<'a> Split<'a> {
    pub fn pieces(&self) -> usize {
        self.pieces.len()
    }

    /// Walks piece `i`. Its secrets come back sorted for the scrub ([`super::scrub::hunted`]).
    pub fn walk<'r>(&self, i: usize, rules: &'r SanitizeSection, known: Option<&'r Finder<'r>>) -> Part<'r>
    where
        'a: 'r,
    {
        let mut walk = Walk::new(self.path, rules, known, Some(self.pieces[i].clone()));
        walk.node(&self.root, &mut String::new(), "", Ctx::default());
        walk.removed = super::scrub::hunted(std::mem::take(&mut walk.removed));
        Part(walk)
    }

    /// The file's outcome from its pieces' walks, in the pieces' order.
    /// Takes the tree, so that it is freed on the core that finishes it.
    pub fn finish(self, parts: Vec<Part>) -> FileOutcome {
        let mut parts = parts.into_iter().map(|p| p.0);
        let Some(mut walk) = parts.next() else { return FileOutcome::default() };
        walk.piece = None;
        for part in parts {
            walk.absorb(part);
        }
        let hunted = walk.removed.len();
        let mut outcome = self.done(walk);
        // The comments' secrets, sorted like the pieces' own.
        let comments = outcome.removed.split_off(hunted);
        outcome.removed.extend(super::scrub::hunted(comments));
        outcome
    }

    /// The outcome once the whole tree is walked: comments, the new text,
    /// and proof that it still parses.
    fn done(&self, mut walk: Walk) -> FileOutcome {
        let (body, format) = (self.body, self.format);
        walk.comments(body, format);
        let out = walk.apply(body);
        // Fail closed on our own mistakes: a file that no longer parses is left out.
        let (content, note) = if out.len() < VERIFY_UP_TO && format != Format::Json && format.parse(&out).is_none() {
            (None, Some("could not be rewritten and stay valid: left out".to_string()))
        } else {
            (Some(out), None)
        };
        let content = content.map(|c| if self.bom { format!("\u{feff}{c}") } else { c });
        walk.finish(format, content, note)
    }
}

/// The part of a large file's tree one walk takes: the entries `range` of
/// the collection reached from the root by the child indices `spine`. The
/// first piece also takes everything before that collection, the last
/// everything after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    spine: Vec<usize>,
    range: Range<usize>,
    first: bool,
    last: bool,
}

/// Cuts `root`'s walk into up to `pieces` parts of about the same number of
/// nodes: down from the root while one child holds most of the tree (`{"services":
/// [...]}`), then the entries of that collection in runs. None for a tree
/// with a YAML alias: its anchor must be walked before it, by one walk.
fn plan(root: &Node, pieces: usize) -> Vec<Piece> {
    let mut spine = Vec::new();
    let mut node = root;
    loop {
        // The first level's sizes look at every node, aliases too.
        let Some(sizes) = children(node).map(size).collect::<Option<Vec<usize>>>() else { return Vec::new() };
        let total: usize = sizes.iter().sum();
        let Some((most, &largest)) = sizes.iter().enumerate().max_by_key(|(_, s)| **s) else { return Vec::new() };
        let inner = children(node).nth(most).expect("a child per size");
        if largest * 2 > total && matches!(inner, Node::Map(_) | Node::Seq(_)) && spine.len() < 16 {
            spine.push(most);
            node = inner;
            continue;
        }
        let mut out: Vec<Piece> = Vec::new();
        let (mut start, mut walked) = (0, 0);
        for (i, s) in sizes.iter().enumerate() {
            walked += s;
            if walked * pieces >= total * (out.len() + 1) || i + 1 == sizes.len() {
                let first = out.is_empty();
                out.push(Piece { spine: spine.clone(), range: start..i + 1, first, last: i + 1 == sizes.len() });
                start = i + 1;
            }
        }
        return out;
    }
}

/// A collection's children.
fn children<'n, 'a>(node: &'n Node<'a>) -> impl Iterator<Item = &'n Node<'a>> {
    let (entries, items): (&[Entry], &[tree::Item]) = match node {
        Node::Map(e) => (e, &[]),
        Node::Seq(i) => (&[], i),
        _ => (&[], &[]),
    };
    entries.iter().map(|e| &e.node).chain(items.iter().map(|i| &i.node))
}

/// How many nodes `node` is; None when a YAML alias is among them.
fn size(node: &Node) -> Option<usize> {
    match node {
        Node::Map(entries) => entries.iter().try_fold(1, |n, e| Some(n + size(&e.node)?)),
        Node::Seq(items) => items.iter().try_fold(1, |n, i| Some(n + size(&i.node)?)),
        Node::Alias(_) => None,
        _ => Some(1),
    }
}

/// A JSON document inside a value, sanitized under the class of the name
/// that holds it: the new text, the secret text taken out, and how many
/// values changed; None when it is not JSON.
pub fn sanitize_embedded_json(
    text: &str,
    class: NameClass,
    rules: &SanitizeSection,
) -> Option<(String, Vec<String>, usize)> {
    let root = json::parse(text)?;
    let mut walk = Walk::new("", rules, None, None);
    walk.file_rules = false;
    let ctx = match class {
        NameClass::Secret(rule) => Ctx { secret_parent: Some(rule), ..Ctx::default() },
        NameClass::Public => Ctx { public_parent: true, ..Ctx::default() },
        _ => Ctx::default(),
    };
    walk.node(&root, &mut String::new(), "", ctx);
    walk.settle();
    let changed = walk.edits.len();
    Some((walk.apply(text), walk.removed, changed))
}

/// Files up to this size are parsed again after sanitizing, to prove they
/// still parse (the property tests prove it for larger ones).
const VERIFY_UP_TO: usize = 1 << 20;

/// What the walk knows at a node: whether a parent is a reference context
/// (`secretKeyRef`) or a secret-named key (`credentials: {…}`).
#[derive(Clone, Copy, Default)]
struct Ctx {
    reference: bool,
    secret_parent: Option<&'static str>,
    /// Under a name that says public (`JWKS_PUBLIC`): values are public unless named secret.
    public_parent: bool,
    /// The class of the name that describes the next scalar, when the
    /// caller worked it out already.
    leaf_class: Option<NameClass>,
    /// Inside a Kubernetes `Secret`'s `data`/`stringData`: every value is
    /// secret, whatever its key says (`url`, `config.json`).
    sealed: bool,
}

/// Keys whose value names the entry's `value` sibling (Kubernetes and ECS
/// `env`, .NET `appSettings`, Spring `<property>`, CloudFormation).
const NAME_KEYS: &[&str] =
    &["name", "Name", "key", "Key", "ParameterKey", "ParameterName", "OptionName", "@key", "@name"];
const VALUE_KEYS: &[&str] = &["value", "Value", "ParameterValue", "#text", "@value"];

/// Which entries of a collection a drop rule removes with a flow cut; no
/// allocation until one is.
#[derive(Default)]
struct Dropped(Option<Vec<bool>>);

impl Dropped {
    fn mark(&mut self, i: usize, len: usize) {
        self.0.get_or_insert_with(|| vec![false; len])[i] = true;
    }
}

/// Every key counted; rows for the first [`MAX_KEY_ROWS`].
#[derive(Default)]
struct Tally {
    redacted: usize,
    rewritten: usize,
    dropped: usize,
    replaced: usize,
    /// Redactions the profile did not name that did not get a row.
    unlisted_unnamed: usize,
}

/// One walk over a file: decisions, and the edits they make to its text.
struct Walk<'r> {
    path: &'r str,
    rules: &'r SanitizeSection,
    known: Option<&'r Finder<'r>>,
    /// Whether some `set`/`drop`/`keep` entry names a key in a file (`path:key`).
    file_rules: bool,
    keys: Vec<Decision>,
    removed: Vec<String>,
    tally: Tally,
    /// Edits as they were made: (start, end, new text). Of two that start
    /// at the same byte the later wins ([`Walk::settle`]).
    edits: Vec<(usize, usize, String)>,
    /// YAML anchors seen so far: id → (span, style, kind, text).
    anchors: HashMap<usize, (Range<usize>, Style, Kind, String)>,
    /// Keys repeat: their classes are worked out once.
    classes: names::ClassCache,
    /// When this walk is one piece of a large file: the part it takes.
    piece: Option<Piece>,
    /// How deep the collection being walked is on the piece's spine; None
    /// off it (or when the walk takes the whole file).
    spine_depth: Option<usize>,
}

impl<'r> Walk<'r> {
    fn new(path: &'r str, rules: &'r SanitizeSection, known: Option<&'r Finder<'r>>, piece: Option<Piece>) -> Walk<'r> {
        let file_rules = rules.set.keys().chain(&rules.drop).chain(&rules.keep).any(|r| r.contains(':'));
        Walk {
            path,
            rules,
            known,
            file_rules,
            keys: Vec::new(),
            removed: Vec::new(),
            tally: Tally::default(),
            edits: Vec::new(),
            anchors: HashMap::new(),
            classes: names::ClassCache::default(),
            spine_depth: piece.as_ref().map(|_| 0),
            piece,
        }
    }

    /// Takes in the walk of the next piece of the same file: its rows after
    /// this walk's (up to [`MAX_KEY_ROWS`], as one walk would have kept
    /// them), its edits, its secrets and its counts.
    fn absorb(&mut self, next: Walk) {
        let Walk { keys, mut removed, tally, mut edits, .. } = next;
        for row in keys {
            if self.keys.len() < MAX_KEY_ROWS {
                self.keys.push(row);
            } else if row.action == Action::Redacted && !row.by_profile {
                self.tally.unlisted_unnamed += 1;
            }
        }
        self.removed.append(&mut removed);
        self.edits.append(&mut edits);
        let t = &mut self.tally;
        t.redacted += tally.redacted;
        t.rewritten += tally.rewritten;
        t.dropped += tally.dropped;
        t.replaced += tally.replaced;
        t.unlisted_unnamed += tally.unlisted_unnamed;
    }

    /// Whether this walk takes child `i` of the collection being walked; if
    /// so, moves to it on the spine and returns where it was, to go back to
    /// after the child.
    fn enter(&mut self, i: usize) -> Option<Option<usize>> {
        let outer = self.spine_depth;
        let (Some(piece), Some(depth)) = (&self.piece, outer) else { return Some(outer) };
        self.spine_depth = match piece.spine.get(depth) {
            // The collection cut into pieces: this piece's entries only.
            None if piece.range.contains(&i) => None,
            None => return None,
            // On the way to it: every piece follows the spine; the first
            // also takes what is before it, the last what is after it (so
            // that the pieces' rows, one after the other, are in the order
            // of one walk).
            Some(&on) if on == i => Some(depth + 1),
            Some(&on) if (i < on && piece.first) || (i > on && piece.last) => None,
            Some(_) => return None,
        };
        Some(outer)
    }

    /// Decides `node`, reached by the dotted `key`; `leaf` is the name that
    /// describes it.
    fn node(&mut self, node: &Node, key: &mut String, leaf: &str, ctx: Ctx) {
        match node {
            Node::Map(entries) => self.map(entries, key, ctx),
            Node::Seq(items) if key_bytes(items) => {
                let reason = "64 numbers of 0-255: a private key's bytes (a Solana keypair)";
                let text: Vec<&str> = items
                    .iter()
                    .filter_map(|i| if let Node::Scalar(s) = &i.node { Some(&*s.text) } else { None })
                    .collect();
                let mut o = Outcome::new(Action::Redacted, reason, None).removing(vec![text.join(",")]);
                self.record(key, &mut o);
                for item in items {
                    if let Node::Scalar(s) = &item.node {
                        self.edits.push((s.span.start, s.span.end, encode(s.style, s.kind, "0")));
                    }
                }
            }
            Node::Seq(items) => {
                let mut dropped = Dropped::default();
                let mut flag: Option<&'static str> = None;
                for (i, item) in items.iter().enumerate() {
                    // `["--db-password", "x"]`: the item after a secret flag
                    // is secret (also when another piece walks the flag).
                    let after_flag = std::mem::replace(&mut flag, secret_flag(&item.node));
                    let Some(outer) = self.enter(i) else { continue };
                    let len = key.len();
                    key.push('[');
                    key.push_str(itoa(i, &mut [0u8; 20]));
                    key.push(']');
                    let item_ctx = match after_flag {
                        Some(rule) => Ctx { leaf_class: Some(NameClass::Secret(rule)), ..ctx },
                        None => ctx,
                    };
                    if self.child(&item.node, key, leaf, item_ctx, &item.cut) {
                        dropped.mark(i, items.len());
                    }
                    key.truncate(len);
                    self.spine_depth = outer;
                }
                if let Some(d) = dropped.0 {
                    self.cut_flow(items.iter().map(|i| &i.cut), &d);
                }
            }
            Node::Scalar(s) => {
                let class = ctx.leaf_class.unwrap_or_else(|| self.class(leaf, ctx));
                if s.anchor != 0 {
                    self.anchors.insert(s.anchor, (s.span.clone(), s.style, s.kind, s.text.to_string()));
                }
                let mut o = self.decide(key, class, &s.text);
                self.record(key, &mut o);
                if let Some(new) = o.value {
                    self.edits.push((s.span.start, s.span.end, encode(s.style, s.kind, &new)));
                }
            }
            Node::Alias(id) => {
                // An alias under a secret name makes its anchor's value secret.
                let class = ctx.leaf_class.unwrap_or_else(|| self.class(leaf, ctx));
                if let (NameClass::Secret(_), Some((span, style, kind, text))) = (class, self.anchors.get(id).cloned())
                {
                    let mut o = self.decide(key, class, &text);
                    self.record(key, &mut o);
                    if let Some(new) = o.value {
                        self.edits.push((span.start, span.end, encode(style, kind, &new)));
                    }
                }
            }
            Node::Other => {}
        }
    }

    fn map(&mut self, entries: &[Entry], key: &mut String, ctx: Ctx) {
        // One look at the keys: `{name: DB_PASSWORD, value: …}` names its value
        // by a sibling; a map that holds a reference (`remoteRef`, `valueFrom`)
        // names things; a JSON Web Key's private members are secret.
        let (mut has_value, mut named, mut reference, mut jwk) = (false, None, ctx.reference, false);
        let mut k8s_secret = false;
        for e in entries {
            let k = e.key.as_ref();
            if let (Node::Scalar(s), "kind") = (&e.node, k) {
                k8s_secret |= s.text == "Secret";
            }
            has_value |= VALUE_KEYS.contains(&k);
            jwk |= k == "kty";
            // A reference beside the values (`valueFrom`, `remoteRef: {…}`)
            // makes its siblings names; a scalar one (`existingSecret: ""`
            // beside `password:` in a Helm chart) is only a name itself.
            reference |= !matches!(e.node, Node::Scalar(_) | Node::Alias(_)) && names::is_reference_context(k);
            if let (Node::Scalar(s), None) = (&e.node, named) {
                if NAME_KEYS.contains(&k) && !s.text.is_empty() {
                    named = Some(s.text.as_ref());
                }
            }
        }
        let named = named.filter(|_| has_value);
        let ctx = Ctx { reference, ..ctx };
        let mut dropped = Dropped::default();
        for (i, e) in entries.iter().enumerate() {
            let Some(outer) = self.enter(i) else { continue };
            let len = key.len();
            if len > 0 {
                key.push('.');
            }
            key.push_str(&e.key);
            let mut child = ctx;
            // The name half of a name/value pair is a name, not a secret.
            let is_name = named.is_some() && NAME_KEYS.contains(&e.key.as_ref());
            child.reference |= is_name || names::is_reference_context(&e.key);
            child.sealed |= k8s_secret && matches!(e.key.as_ref(), "data" | "stringData");
            let leaf = match named {
                Some(n) if VALUE_KEYS.contains(&e.key.as_ref()) => n,
                _ => e.key.as_ref(),
            };
            let class = self.class(leaf, child);
            match class {
                NameClass::Secret(rule) => child.secret_parent = Some(rule),
                NameClass::Public => child.public_parent = true,
                _ => {}
            }
            let scalar = matches!(e.node, Node::Scalar(_) | Node::Alias(_));
            let mut ctx = if scalar {
                Ctx { reference: child.reference, leaf_class: Some(class), ..ctx }
            } else {
                Ctx { leaf_class: None, ..child }
            };
            if jwk {
                let private = matches!(e.key.as_ref(), "d" | "p" | "q" | "dp" | "dq" | "qi" | "k" | "oth");
                ctx = if private {
                    Ctx { secret_parent: Some("JWK private member"), leaf_class: None, ..ctx }
                } else {
                    Ctx { public_parent: true, leaf_class: None, ..ctx }
                };
            }
            if self.child(&e.node, key, leaf, ctx, &e.cut) {
                dropped.mark(i, entries.len());
            }
            key.truncate(len);
            self.spine_depth = outer;
        }
        if let Some(d) = dropped.0 {
            self.cut_flow(entries.iter().map(|e| &e.cut), &d);
        }
    }

    /// Decides a child; returns whether a flow cut must remove it (line
    /// cuts and emptied values are made here).
    fn child(&mut self, node: &Node, key: &mut String, leaf: &str, ctx: Ctx, cut: &Cut) -> bool {
        if let Some(rule) = self.drop_rule(key) {
            let mut o = Outcome { by_profile: true, ..Outcome::new(Action::Dropped, format!("drop {rule}"), None) };
            self.record(key, &mut o);
            match (cut, node) {
                (Cut::Lines(r), _) => {
                    self.edits.push((r.start, r.end, String::new()));
                }
                (Cut::Flow(_), _) => return true,
                (Cut::None, Node::Scalar(s)) => {
                    self.edits.push((s.span.start, s.span.end, encode(s.style, s.kind, "")));
                }
                (Cut::None, _) => {}
            }
            return false;
        }
        self.node(node, key, leaf, ctx);
        false
    }

    fn cut_flow<'c>(&mut self, cuts: impl Iterator<Item = &'c Cut>, dropped: &[bool]) {
        let spans: Vec<Range<usize>> = cuts
            .map(|c| match c {
                Cut::Flow(r) => r.clone(),
                _ => 0..0,
            })
            .collect();
        for r in flow_cuts(&spans, dropped) {
            // Edits inside the cut go with it.
            self.edits.retain(|(start, _, _)| !r.contains(start));
            self.edits.push((r.start, r.end, String::new()));
        }
    }

    /// A drop rule naming this key (or any key above it), if any.
    fn drop_rule(&self, key: &str) -> Option<String> {
        if self.rules.drop.is_empty() {
            return None;
        }
        let full = format!("{}:{key}", self.path);
        [full.as_str(), key].iter().find_map(|n| glob::first_match(&self.rules.drop, n)).map(str::to_string)
    }

    fn class(&mut self, leaf: &str, ctx: Ctx) -> NameClass {
        if ctx.sealed {
            return NameClass::Secret("a Kubernetes Secret's data");
        }
        if ctx.reference {
            return NameClass::Descriptive;
        }
        if let (Some(rule), true) = (ctx.secret_parent, leaf.len() <= 3) {
            // Short keys under a secret parent (`d`, `p` of a JWK) are its parts.
            if rule == "JWK private member" {
                return NameClass::Secret(rule);
            }
        }
        // A key that is a URL (`<add key="https://feed/index.json" value=…>`
        // under `apikeys`) names a place, not its value.
        let class = if has_scheme_separator(leaf) { NameClass::Neutral } else { self.classes.classify(leaf) };
        match (class, ctx.secret_parent) {
            // XML attributes are an element's settings, not its content.
            (NameClass::Neutral, Some(rule)) if !leaf.starts_with('@') => NameClass::Secret(rule),
            (NameClass::Neutral | NameClass::Descriptive | NameClass::Identifier, _) if ctx.public_parent => {
                NameClass::Public
            }
            (class, _) => class,
        }
    }

    fn decide(&mut self, key: &str, class: NameClass, value: &str) -> Outcome {
        // `path:key` is only worth building when some rule names a file's key.
        // Past the last row, the reason is not shown (see `record`).
        let explain = self.keys.len() < MAX_KEY_ROWS;
        if self.file_rules {
            let full = format!("{}:{key}", self.path);
            decide(&Subject { names: &[&full, key], class, explain }, Input::Plain(value), self.rules, self.known)
        } else {
            decide(&Subject { names: &[key], class, explain }, Input::Plain(value), self.rules, self.known)
        }
    }

    /// Records a key's decision unless it was an unremarkable keep.
    fn record(&mut self, key: &str, o: &mut Outcome) {
        self.removed.append(&mut o.removed);
        match o.action {
            Action::Kept if !o.by_profile => return,
            Action::Kept => {}
            Action::Redacted => self.tally.redacted += 1,
            Action::Rewritten => self.tally.rewritten += 1,
            Action::Dropped => self.tally.dropped += 1,
            Action::Replaced => self.tally.replaced += 1,
        }
        if self.keys.len() >= MAX_KEY_ROWS {
            if o.action == Action::Redacted && !o.by_profile {
                self.tally.unlisted_unnamed += 1;
            }
            return;
        }
        self.keys.push(Decision {
            kind: DecisionKind::Key,
            name: format!("{}:{key}", self.path),
            action: o.action,
            reason: o.reason.to_string(),
            by_profile: o.by_profile,
        });
    }

    /// Comments are not values, but commented-out credentials are secrets
    /// all the same: each comment is scanned as text.
    fn comments(&mut self, text: &str, format: Format) {
        let mut spans: Vec<Range<usize>> = Vec::new();
        if format == Format::Xml {
            let mut from = 0;
            while let Some(i) = text[from..].find("<!--") {
                let start = from + i + 4;
                let end = text[start..].find("-->").map_or(text.len(), |j| start + j);
                spans.push(start..end);
                from = end;
            }
        } else if format != Format::Json {
            let markers: &[char] = match format {
                Format::Ini => &['#', ';'],
                Format::Properties => &['#', '!'],
                _ => &['#'],
            };
            // Most files have no comment at all: one fast search for each
            // marker instead of a look at every line (memchr's: `str::contains`
            // with a char reads a byte at a time).
            if !markers.iter().any(|&m| memchr::memchr(m as u8, text.as_bytes()).is_some()) {
                return;
            }
            let mut at = 0;
            for line in text.split_inclusive('\n') {
                let body = line.trim_end_matches(['\n', '\r']);
                let lead = body.len() - body.trim_start().len();
                if body[lead..].starts_with(markers) {
                    spans.push(at + lead..at + body.len());
                }
                at += line.len();
            }
        }
        let mut count = 0;
        self.settle();
        let mut changed = Vec::new();
        for span in spans {
            let before = self.edits.partition_point(|(start, _, _)| *start < span.end);
            if before > 0 && self.edits[before - 1].1 > span.start {
                continue; // inside a value already changed
            }
            let comment = &text[span.clone()];
            let findings = detect::find_all(comment);
            let mut new = if findings.is_empty() { None } else { Some(standin::replace(comment, &findings)) };
            self.removed.extend(findings.iter().map(|f| comment[f.span.clone()].to_string()));
            if let Some(clean) = self.known.and_then(|k| k.replace(new.as_deref().unwrap_or(comment))) {
                new = Some(clean);
            }
            if let Some(new) = new {
                count += 1;
                changed.push((span.start, span.end, new.replace(['\n', '\r'], " ")));
            }
        }
        self.edits.append(&mut changed);
        if count > 0 {
            self.tally.redacted += count;
            self.keys.push(Decision {
                kind: DecisionKind::Key,
                name: format!("{}:(comments)", self.path),
                action: Action::Redacted,
                reason: format!("{count} comments hold secret values"),
                by_profile: false,
            });
        }
    }

    /// Puts the edits in the order of where they start; of two that start
    /// at the same byte, only the later stays. Walks make their edits in
    /// about that order already, so this costs one pass.
    fn settle(&mut self) {
        self.edits.sort_by_key(|(start, _, _)| *start);
        // `dedup_by` keeps the earlier of two: swapped, it keeps the later's edit.
        self.edits.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
    }

    /// The text with every edit spliced in.
    fn apply(&mut self, text: &str) -> String {
        self.settle();
        let mut out = String::with_capacity(text.len() + 64);
        let mut copied = 0;
        for (start, end, new) in &self.edits {
            let start = *start;
            if start < copied {
                continue; // inside an earlier cut
            }
            out.push_str(&text[copied..start]);
            out.push_str(new);
            copied = *end;
        }
        out.push_str(&text[copied.min(text.len())..]);
        out
    }

    /// Plain text: secret values found anywhere (a PEM block spans lines,
    /// `password = x` pairs, tokens) are replaced, production hosts rewritten.
    fn text(&mut self, text: &str) -> String {
        if let Some(out) = self.single_value(text) {
            return out;
        }
        let findings = detect::find_all(text);
        self.removed.extend(findings.iter().map(|f| text[f.span.clone()].to_string()));
        let replaced = if findings.is_empty() { text.to_string() } else { standin::replace(text, &findings) };
        let (mut out, hosts) = match hosts::rewrite(&replaced, &self.rules.prod_hosts, &self.rules.hosts) {
            Some((v, h)) => (v, h),
            None => (replaced, vec![]),
        };
        let mut scrubbed = false;
        if let Some(clean) = self.known.and_then(|k| k.replace(&out)) {
            out = clean;
            scrubbed = true;
        }
        let row = |action, reason| Decision {
            kind: DecisionKind::Key,
            name: format!("{}:(text)", self.path),
            action,
            reason,
            by_profile: false,
        };
        if !findings.is_empty() {
            let mut ids: Vec<&str> = findings.iter().map(|f| f.rule).collect();
            ids.sort_unstable();
            ids.dedup();
            self.tally.redacted += findings.len();
            self.keys.push(row(Action::Redacted, format!("{} values look like {}", findings.len(), ids.join(", "))));
        } else if !hosts.is_empty() {
            self.tally.rewritten += hosts.len();
            self.keys.push(row(Action::Rewritten, format!("production host {}", hosts.join(", "))));
        }
        if scrubbed {
            self.tally.redacted += 1;
            self.keys.push(row(Action::Redacted, super::scrub::REASON.into()));
        }
        out
    }

    /// A file that holds one value and is named for a secret
    /// (`/run/secrets/db_password`, `config/master.key`, `.vault-token`):
    /// the file's name is the value's name. None when it is not such a file
    /// or the value stays (then the text rules still look at it).
    fn single_value(&mut self, text: &str) -> Option<String> {
        let value = text.trim();
        if value.is_empty() || value.len() > 4096 || value.contains('\n') {
            return None;
        }
        let base = self.path.rsplit('/').next().unwrap_or(self.path);
        let class = names::classify(base);
        if !matches!(class, NameClass::Secret(_)) {
            return None;
        }
        let mut o = self.decide("(content)", class, value);
        self.record("(content)", &mut o);
        let new = o.value?;
        let start = text.len() - text.trim_start().len();
        Some(format!("{}{new}{}", &text[..start], &text[start + value.len()..]))
    }

    /// The file's row (a summary; the key rows carry the decisions) and the outcome.
    fn finish(self, format: Format, content: Option<String>, note: Option<String>) -> FileOutcome {
        let Tally { redacted, rewritten, dropped, replaced, unlisted_unnamed } = self.tally;
        let action = if content.is_none() {
            Action::Dropped
        } else if redacted > 0 || note.is_some() {
            Action::Redacted
        } else if rewritten > 0 {
            Action::Rewritten
        } else if dropped > 0 || replaced > 0 {
            Action::Replaced
        } else {
            Action::Kept
        };
        let mut reason = if self.keys.is_empty() {
            format!("{} file, no rule matched", format.name())
        } else {
            format!("{} file: {redacted} redacted, {rewritten} rewritten, {dropped} dropped", format.name())
        };
        if let Some(n) = &note {
            reason = format!("{reason}; {n}");
        }
        let listed = self.keys.len();
        let total = redacted + rewritten + dropped + replaced;
        if total > listed {
            reason.push_str(&format!(" ({} keys not listed)", total - listed));
        }
        // Redactions beyond the listed rows that the profile did not name, and
        // a file read only as text, make the file row count for --strict.
        let summary = Decision {
            kind: DecisionKind::File,
            name: self.path.to_string(),
            action,
            reason,
            by_profile: unlisted_unnamed == 0 && note.is_none(),
        };
        let mut decisions = vec![summary];
        decisions.extend(self.keys);
        FileOutcome { content, decisions, removed: self.removed }
    }
}

/// Whether `s` holds `://` (a byte scan: keys are short, and a substring
/// search's set-up cost more than the scan on every key of a file).
fn has_scheme_separator(s: &str) -> bool {
    s.as_bytes().windows(3).any(|w| w == b"://")
}

/// Whether `items` are the 64 bytes of a private key written as numbers
/// (`solana-keygen`'s `id.json`: the secret and public halves of an
/// ed25519 keypair), which no rule on a single number could see.
fn key_bytes(items: &[tree::Item]) -> bool {
    items.len() == 64
        && items
            .iter()
            .all(|i| matches!(&i.node, Node::Scalar(s) if s.kind == Kind::Number && s.text.parse::<u8>().is_ok()))
}

/// The secret name a sequence item spells as a flag (`--db-password`), whose
/// next item is then its value.
fn secret_flag(node: &Node) -> Option<&'static str> {
    let Node::Scalar(s) = node else { return None };
    if !s.text.starts_with('-') || s.text.contains('=') {
        return None;
    }
    match names::classify(s.text.trim_start_matches('-')) {
        NameClass::Secret(rule) => Some(rule),
        _ => None,
    }
}

/// `n` in decimal, without allocating.
fn itoa(mut n: usize, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).expect("digits")
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
