//! sanitize: production's configuration → a safe local one (SPEC §5).
//!
//! Every env var, config file and key inside a config file is decided in one
//! fixed order, first match wins ([`decide`]): `set`, `drop`, marked secret,
//! `keep`, secret-looking name, secret-looking value, `prod_hosts` rewrite,
//! kept. Each decision is recorded with its reason, never with a value. This
//! is the only module that reads a [`Secret`](crate::secret::Secret)'s text.

#[cfg(test)]
mod adversarial;
#[cfg(test)]
mod corpus;
pub mod detect;
pub mod files;
pub mod glob;
pub mod hosts;
pub mod names;
mod pool;
#[cfg(test)]
mod proptests;
pub mod scrub;
pub mod standin;

use std::borrow::Cow;

use serde::Serialize;

use crate::profile::SanitizeSection;
use crate::secret::{ProdConfig, ProdValue};
use names::NameClass;
use scrub::Finder;

/// What a stand-in for a redacted value says when its shape is unknown.
pub const REDACTED: &str = "prodbox-redacted";

/// What happened to one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Kept,
    Replaced,
    Dropped,
    Redacted,
    Rewritten,
}

/// What a decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionKind {
    /// An env var.
    Env,
    /// A config file, as a whole (its row summarizes its keys).
    File,
    /// A key inside a config file, named `path:dotted.key`.
    Key,
}

/// One decision, for the report: names and reasons only.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Decision {
    pub kind: DecisionKind,
    pub name: String,
    pub action: Action,
    pub reason: String,
    /// Whether the profile named it (set, drop or keep); `--strict` wants
    /// every redaction named.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub by_profile: bool,
}

/// The safe configuration and the report of how it was made.
#[derive(Debug, Clone, Default)]
pub struct SanitizedConfig {
    /// Env for the container, in name order.
    pub env: Vec<(String, String)>,
    /// Files to copy into the container before it starts: absolute path, content.
    pub files: Vec<(String, String)>,
    pub decisions: Vec<Decision>,
}

/// The sanitizer could not prove its output safe, so nothing may start.
#[derive(Debug, thiserror::Error)]
pub enum SanitizeError {
    #[error("the sanitizer could not build its check for secrets repeated elsewhere ({0}); nothing was started")]
    Scrub(String),
}

impl SanitizedConfig {
    /// How many env vars and files took each action.
    pub fn summary(&self) -> String {
        let count = |a| self.decisions.iter().filter(|d| d.kind != DecisionKind::Key && d.action == a).count();
        format!(
            "{} kept, {} replaced, {} dropped, {} redacted, {} rewritten",
            count(Action::Kept),
            count(Action::Replaced),
            count(Action::Dropped),
            count(Action::Redacted),
            count(Action::Rewritten)
        )
    }

    /// Redactions the profile did not name (what `--strict` refuses).
    pub fn unnamed_redactions(&self) -> Vec<&Decision> {
        self.decisions.iter().filter(|d| d.action == Action::Redacted && !d.by_profile).collect()
    }
}

/// A value as the decision sees it.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Plain(&'a str),
    /// Marked secret by the source.
    Marked(&'a str),
    /// A secret the source did not read.
    Reference,
}

/// What is being decided: the names rules match (an env var's name; for a
/// key in a file, `path:dotted.key` and the dotted key) and what the name
/// that describes the value says ([`names::classify`]).
pub struct Subject<'a> {
    pub names: &'a [&'a str],
    pub class: NameClass,
    /// Whether the reason will be shown. A file's rows stop at
    /// `MAX_KEY_ROWS`; past them a reason is only a fixed phrase, not
    /// spelled out with rules and hosts (formatting it for every value of a
    /// large file cost more than deciding some of them).
    pub explain: bool,
}

/// The outcome of one decision: the action, its reason, the new value, and
/// whether the profile named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub action: Action,
    pub reason: Cow<'static, str>,
    /// The new value when it changed; None when kept as it is, or dropped.
    pub value: Option<String>,
    pub by_profile: bool,
    /// The secret text this decision took out, so later passes can make
    /// sure it turns up nowhere else.
    pub removed: Vec<String>,
}

impl Outcome {
    fn new(action: Action, reason: impl Into<Cow<'static, str>>, value: Option<String>) -> Outcome {
        Outcome { action, reason: reason.into(), value, by_profile: false, removed: Vec::new() }
    }

    fn removing(mut self, removed: Vec<String>) -> Outcome {
        self.removed = removed;
        self
    }
}

/// Decides one value, in the order of SPEC §5: `set`, `drop`, marked by the
/// source, `keep`, a secret name, a secret value, an opaque value under a
/// name that says nothing, a production host, kept. Whatever stays must not
/// hold a secret redacted elsewhere (`known`).
pub fn decide(subject: &Subject, value: Input, rules: &SanitizeSection, known: Option<&Finder>) -> Outcome {
    let names = subject.names;
    if let Some(local) = names.iter().find_map(|n| rules.set.get(*n)) {
        return Outcome {
            by_profile: true,
            ..Outcome::new(Action::Replaced, "set by the profile", Some(local.clone()))
        };
    }
    if let Some(p) = names.iter().find_map(|n| glob::first_match(&rules.drop, n)) {
        return Outcome { by_profile: true, ..Outcome::new(Action::Dropped, format!("drop {p}"), None) };
    }
    let kept_by = names.iter().find_map(|n| glob::first_match(&rules.keep, n));
    let plain = match value {
        Input::Marked(v) => {
            let reason = "marked secret by the deploy record";
            let (standin, removed) = redact_whole(v, detect::find_all(v), rules);
            let removed = removed.iter().map(|r| scrub::certain(r)).collect();
            return Outcome { by_profile: kept_by.is_some(), ..Outcome::new(Action::Redacted, reason, Some(standin)) }
                .removing(removed);
        }
        Input::Reference => {
            let reason = "a secret reference the source did not read";
            return Outcome {
                by_profile: kept_by.is_some(),
                ..Outcome::new(Action::Redacted, reason, Some(REDACTED.into()))
            };
        }
        Input::Plain(v) => v,
    };
    if let Some(p) = kept_by {
        return scrubbed(
            Outcome { by_profile: true, ..Outcome::new(Action::Kept, format!("keep {p}"), None) },
            plain,
            known,
        );
    }
    let outcome = decide_plain(plain, subject.class, rules, subject.explain);
    scrubbed(outcome, plain, known)
}

/// Steps 4 to 7 for an unmarked value the profile did not name.
fn decide_plain(plain: &str, class: NameClass, rules: &SanitizeSection, explain: bool) -> Outcome {
    if detect::is_reference(plain.trim()) {
        // `${DB_PASSWORD:hunter2}`: the default is a value like any other.
        if let Some(r) = detect::reference_default(plain.trim_start()) {
            let offset = plain.len() - plain.trim_start().len();
            let r = r.start + offset..r.end + offset;
            let inner = decide_plain(&plain[r.clone()], class, rules, explain);
            if let Some(v) = &inner.value {
                let value = format!("{}{v}{}", &plain[..r.start], &plain[r.end..]);
                return Outcome { value: Some(value), ..inner };
            }
            return inner;
        }
        return Outcome::new(Action::Kept, "a reference to a secret kept elsewhere", None);
    }
    if let Some(o) = embedded_json(plain, class, rules) {
        return o;
    }
    if let NameClass::Secret(rule) = class {
        let scan = detect::scan(plain);
        // Public material (certificates, public keys, publishable keys) is long.
        if plain.len() >= 20 && scan.whole_public {
            return Outcome::new(
                Action::Kept,
                "name looks secret, but the value is public (a certificate or public key)",
                None,
            );
        }
        if rule == "AUTH" && plain.len() <= 16 && plain.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Outcome::new(Action::Kept, "an authentication mode, not a credential", None);
        }
        if rule == "SEED" && plain.len() <= 10 && plain.bytes().all(|b| b.is_ascii_digit()) {
            // A secret seed (TOTP, wallet, NKEY) is never a short decimal; a PRNG's is.
            return Outcome::new(Action::Kept, "a random generator's seed number, not a secret seed", None);
        }
        if !detect::value_can_be_secret(plain) {
            return Outcome::new(
                Action::Kept,
                "name looks secret, but the value is empty, a boolean or a reference",
                None,
            );
        }
        if detect::looks_like_path(plain) {
            return Outcome::new(Action::Kept, "name looks secret, but the value is a file path", None);
        }
        if detect::is_qualified_name(plain) || detect::is_duration(plain) {
            return Outcome::new(Action::Kept, "name looks secret, but the value is a label key or a duration", None);
        }
        let (standin, removed) = redact_whole(plain, scan.findings, rules);
        let reason: Cow<'static, str> =
            if explain { format!("name matches {rule}").into() } else { "name matches".into() };
        return Outcome::new(Action::Redacted, reason, Some(standin)).removing(removed);
    }
    let scan = detect::scan(plain);
    let mut findings = scan.findings;
    let whole = |f: &detect::Finding| f.span.len() >= plain.trim().len();
    if matches!(class, NameClass::Identifier | NameClass::Public) {
        // The name vouches for the value's shape: only known formats count.
        findings.retain(|f| f.rule != "high-entropy");
    } else if class == NameClass::Descriptive {
        // A name that says what the value is vouches for a whole random-looking value.
        findings.retain(|f| f.rule != "high-entropy" || !whole(f));
    }
    if !findings.is_empty() {
        let reason: Cow<'static, str> = if explain {
            let mut ids: Vec<&str> = findings.iter().map(|f| f.rule).collect();
            ids.dedup();
            format!("value looks like {}", ids.join(", ")).into()
        } else {
            "value looks like a secret".into()
        };
        let stood_in = standin::replace(plain, &findings);
        let value = hosts::rewrite(&stood_in, &rules.prod_hosts, &rules.hosts).map(|(v, _)| v).unwrap_or(stood_in);
        let removed = findings.iter().map(|f| plain[f.span.clone()].to_string()).collect();
        return Outcome::new(Action::Redacted, reason, Some(value)).removing(removed);
    }
    if class == NameClass::Neutral && detect::opaque_scanned(plain, Some(scan.whole_public)) {
        let reason = "an opaque value under a name that does not say what it is (keep it, or name it *_ID, *_SHA, …)";
        return Outcome::new(Action::Redacted, reason, Some(REDACTED.into())).removing(vec![plain.to_string()]);
    }
    if let Some((rewritten, hosts)) = hosts::rewrite(plain, &rules.prod_hosts, &rules.hosts) {
        let reason: Cow<'static, str> =
            if explain { format!("production host {}", hosts.join(", ")).into() } else { "production host".into() };
        return Outcome::new(Action::Rewritten, reason, Some(rewritten));
    }
    Outcome::new(Action::Kept, "no rule matched", None)
}

/// A JSON object or array inside a value (`VCAP_SERVICES`, a credentials
/// blob, JSON in a JSON string) is sanitized as a JSON document, key by key,
/// under the name that holds it: the result is still JSON.
fn embedded_json(plain: &str, class: NameClass, rules: &SanitizeSection) -> Option<Outcome> {
    let t = plain.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) || plain.len() > 1 << 20 {
        return None;
    }
    let (out, removed, changed) = files::sanitize_embedded_json(plain, class, rules)?;
    if changed == 0 {
        return Some(Outcome::new(Action::Kept, "JSON value, no rule matched", None));
    }
    let o = Outcome::new(Action::Redacted, format!("JSON value: {changed} values redacted or rewritten"), Some(out));
    Some(o.removing(removed))
}

/// A kept or rewritten value that still holds a secret redacted elsewhere
/// becomes a redaction.
fn scrubbed(o: Outcome, plain: &str, known: Option<&Finder>) -> Outcome {
    let Some(finder) = known else { return o };
    if !matches!(o.action, Action::Kept | Action::Rewritten) {
        return o;
    }
    let current = o.value.as_deref().unwrap_or(plain);
    match finder.replace(current) {
        Some(clean) => Outcome::new(Action::Redacted, scrub::REASON, Some(clean)),
        None => o,
    }
}

/// A whole value known to be secret: a stand-in of its shape when it is
/// one known secret (or a URL/connection string whose password is the
/// secret part), else `prodbox-redacted`. Also returns the secret text taken out.
/// `findings` are [`detect::find_all`]'s for `value`.
fn redact_whole(value: &str, findings: Vec<detect::Finding>, rules: &SanitizeSection) -> (String, Vec<String>) {
    let trimmed = value.trim();
    let one_token = findings.len() == 1 && findings[0].span.len() >= trimmed.len();
    let structured = !findings.is_empty()
        && value.contains(['/', ';', '@', '=', ' '])
        && findings.iter().all(|f| f.shape == detect::Shape::Password);
    if one_token || structured {
        let stood_in = standin::replace(value, &findings);
        let removed = findings.iter().map(|f| value[f.span.clone()].to_string()).collect();
        let out = hosts::rewrite(&stood_in, &rules.prod_hosts, &rules.hosts).map(|(v, _)| v).unwrap_or(stood_in);
        return (out, removed);
    }
    (REDACTED.to_string(), vec![value.to_string()])
}

/// Text from production or a remote system that is about to be shown or
/// stored (an error message, a registry's error body, a record's
/// `revision` or `deployed_by`): secret values in it are replaced by
/// stand-ins and URLs lose their userinfo.
pub fn scrub_text(text: &str) -> String {
    let findings = detect::find_all(text);
    let out = if findings.is_empty() { text.to_string() } else { standin::replace(text, &findings) };
    strip_userinfo(&out)
}

/// `scheme://user:password@host` → `scheme://host`.
fn strip_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let authority = tail.find(|c: char| "/?# \"'\n\t,;".contains(c)).unwrap_or(tail.len());
        match tail[..authority].rfind('@') {
            Some(at) => rest = &tail[at + 1..],
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// A plain value's text (for values kept as they are).
fn value_text(value: &ProdValue) -> &str {
    match value {
        ProdValue::Plain(s) | ProdValue::Marked(s) => s.expose(),
        ProdValue::Reference(_) => REDACTED,
    }
}

/// Sanitizes `config` with the profile's rules. Secret text taken out in one
/// place is then hunted in every other value (the scrub): values holding it
/// are decided again, and fail closed.
pub fn sanitize(config: &ProdConfig, rules: &SanitizeSection) -> Result<SanitizedConfig, SanitizeError> {
    let files: Vec<(&String, &ProdValue)> = config.files.iter().collect();
    let env: Vec<(&String, &ProdValue)> = config.env.iter().collect();
    let parallel = file_bytes(config) + config.env.len() * 64 >= PARALLEL_FROM;
    // One pool for everything that does not depend on anything else: pieces
    // of the env and every file, most work first (by format and size:
    // `files::work`), so both cores stay busy to the end. Ordered by bytes
    // alone, two 2.5 MB files of the bench record, YAML and JSON, ended on
    // one core and the other idled for a third of the run.
    let env_pieces = if parallel { env.len().div_ceil(ENV_PIECE).max(1) } else { 1 };
    let works: Vec<usize> = files.iter().map(|(path, value)| files::work(path, value_text(value).len())).collect();
    let file_work = |i: usize| works[i];
    // A file that is more work than a core's share of the whole is read in
    // this pool (a large YAML file's lines in runs, on every core) and
    // walked in pieces in the next: one 10 MB file must not leave a core
    // idle. Other files are decided whole here: walking in pieces waits for
    // every file to be read, which cost more than it won when several files
    // keep the cores busy anyway.
    let total = env_pieces * ENV_PIECE * ENV_VAR_WORK + works.iter().sum::<usize>();
    let dominant = |i: usize| parallel && file_work(i) * pool::cores() > total;
    let pieces = |i: usize| if dominant(i) { FILE_PIECES } else { 1 };
    let runs: Vec<Option<files::YamlRuns>> =
        files.iter().enumerate().map(|(i, (path, value))| files::yaml_runs(path, value, rules, pieces(i))).collect();
    let mut tasks: Vec<Task> = (0..env_pieces).map(Task::Env).collect();
    for (i, r) in runs.iter().enumerate() {
        match r {
            Some(r) => tasks.extend((0..r.count()).map(|k| Task::Run(i, k))),
            None => tasks.push(Task::File(i)),
        }
    }
    let weight = |t: &Task| match *t {
        Task::Env(_) => ENV_PIECE * ENV_VAR_WORK,
        Task::File(i) => file_work(i),
        Task::Run(i, _) => file_work(i) / runs[i].as_ref().map_or(1, |r| r.count()),
    };
    tasks.sort_by_key(|t| std::cmp::Reverse(weight(t)));
    let piece = env.len().div_ceil(env_pieces).max(1);
    // Each task also sorts the secrets it took out, for the scrub's finder.
    let done = pool::map(&tasks, parallel, |t| match *t {
        Task::Env(i) => {
            let mut part = decide_env(env.chunks(piece).nth(i).unwrap_or(&[]), rules, None);
            part.removed = scrub::hunted(std::mem::take(&mut part.removed));
            Done::Env(part)
        }
        Task::File(i) => Done::File(hunted(files::prepare(files[i].0, files[i].1, rules, None, pieces(i)))),
        Task::Run(i, k) => Done::Run(runs[i].as_ref().and_then(|r| r.read(k))),
    });
    let mut env_parts: Vec<(usize, EnvPart)> = Vec::new();
    let mut prepared: Vec<Option<files::Prepared>> = (0..files.len()).map(|_| None).collect();
    let mut read: Vec<Vec<(usize, Option<Vec<files::tree::Entry>>)>> = files.iter().map(|_| Vec::new()).collect();
    for (task, result) in tasks.iter().zip(done) {
        match (task, result) {
            (Task::Env(i), Done::Env(part)) => env_parts.push((*i, part)),
            (Task::File(i), Done::File(p)) => prepared[*i] = Some(p),
            (Task::Run(i, k), Done::Run(entries)) => read[*i].push((*k, entries)),
            _ => unreachable!("each task gives its own kind of result"),
        }
    }
    for (i, parts) in read.into_iter().enumerate() {
        if let Some(r) = &runs[i] {
            let (path, value) = files[i];
            prepared[i] = Some(hunted(from_runs(r, parts, path, value, rules, pieces(i))));
        }
    }
    let prepared: Vec<files::Prepared> = prepared.into_iter().map(|p| p.expect("every file was taken")).collect();
    let mut outcomes = walk_pieces(prepared, rules, parallel);
    env_parts.sort_by_key(|(i, _)| *i);
    // The text taken out everywhere, moved (not copied) out of each part.
    let mut taken: Vec<Vec<String>> = Vec::new();
    let mut out = SanitizedConfig::default();
    for (_, part) in env_parts {
        taken.push(part.removed);
        out.env.extend(part.env);
        out.decisions.extend(part.decisions);
    }
    for o in &mut outcomes {
        taken.push(std::mem::take(&mut o.removed));
    }
    let finder = Finder::merged(&taken).map_err(SanitizeError::Scrub)?;
    if let Some(finder) = &finder {
        // Which values still hold a secret taken out elsewhere: the env as one
        // task, each file in pieces (a few large files must not leave a core idle).
        // (A look is a file's index and a piece of it; index `files.len()` is the env.)
        let mut looks: Vec<(usize, std::ops::Range<usize>)> = vec![(files.len(), 0..0)];
        for (i, o) in outcomes.iter().enumerate() {
            if let Some(c) = &o.content {
                looks.extend(finder.pieces(c).into_iter().map(|r| (i, r)));
            }
        }
        let found = pool::map(&looks, parallel, |(i, r)| match outcomes.get(*i) {
            None => out.env.iter().any(|(_, v)| finder.contains(v)),
            Some(o) => o.content.as_deref().is_some_and(|c| finder.contains(&c[r.clone()])),
        });
        let mut holds = vec![false; files.len() + 1];
        for ((i, _), found) in looks.iter().zip(found) {
            holds[*i] |= found;
        }
        if holds[files.len()] {
            let part = decide_env(&env, rules, Some(finder));
            out = SanitizedConfig { env: part.env, decisions: part.decisions, ..SanitizedConfig::default() };
        }
        for (i, (path, value)) in files.iter().enumerate() {
            if holds[i] {
                outcomes[i] = files::sanitize_file(path, value, rules, Some(finder));
            }
        }
    }
    add_set_entries(config, rules, &mut out);
    out.env.sort();
    for ((path, _), o) in files.iter().zip(outcomes) {
        if let Some(c) = o.content {
            out.files.push(((*path).clone(), c));
        }
        out.decisions.extend(o.decisions);
    }
    Ok(out)
}

/// A large YAML file from its runs' entries, put back together in order;
/// if one run is not in the fast reader's subset, the file read as usual.
fn from_runs<'a>(
    runs: &files::YamlRuns<'a>,
    mut read: Vec<(usize, Option<Vec<files::tree::Entry<'a>>>)>,
    path: &'a str,
    value: &'a ProdValue,
    rules: &SanitizeSection,
    pieces: usize,
) -> files::Prepared<'a> {
    read.sort_by_key(|(k, _)| *k);
    let Some(read) = read.into_iter().map(|(_, e)| e).collect::<Option<Vec<_>>>() else {
        return files::prepare(path, value, rules, None, pieces);
    };
    let mut entries = Vec::with_capacity(read.iter().map(Vec::len).sum());
    read.into_iter().for_each(|mut run| entries.append(&mut run));
    runs.prepare(path, entries, rules, pieces)
}

/// A prepared file whose secrets, if it is decided already, are sorted for
/// the scrub's finder ([`scrub::hunted`]) on the core that decided it.
fn hunted(p: files::Prepared) -> files::Prepared {
    match p {
        files::Prepared::Done(mut o) => {
            o.removed = scrub::hunted(std::mem::take(&mut o.removed));
            files::Prepared::Done(o)
        }
        split => split,
    }
}

/// The files read in the first pool, decided: the large ones walked in
/// pieces on every core, then put together (also in a pool: their new text
/// is megabytes to copy).
fn walk_pieces(prepared: Vec<files::Prepared>, rules: &SanitizeSection, parallel: bool) -> Vec<files::FileOutcome> {
    let mut outcomes: Vec<Option<files::FileOutcome>> = prepared.iter().map(|_| None).collect();
    let mut splits = Vec::new();
    for (i, p) in prepared.into_iter().enumerate() {
        match p {
            files::Prepared::Done(o) => outcomes[i] = Some(o),
            files::Prepared::Split(s) => splits.push((i, s)),
        }
    }
    let pieces: Vec<(usize, usize)> =
        splits.iter().enumerate().flat_map(|(k, (_, s))| (0..s.pieces()).map(move |j| (k, j))).collect();
    let walked = pool::map(&pieces, parallel, |&(k, j)| splits[k].1.walk(j, rules, None));
    let mut parts: Vec<Vec<files::Part>> = splits.iter().map(|_| Vec::new()).collect();
    for ((k, _), part) in pieces.iter().zip(walked) {
        parts[*k].push(part);
    }
    // Each file's tree and walks move to the task that finishes it (freeing
    // a 10 MB file's tree on one core at the end took 7 ms).
    let files: Vec<usize> = splits.iter().map(|(i, _)| *i).collect();
    let jobs: Vec<std::sync::Mutex<Option<Walked>>> =
        splits.into_iter().zip(parts).map(|((_, s), parts)| std::sync::Mutex::new(Some((s, parts)))).collect();
    let finished = pool::map(&jobs, parallel, |job| {
        let (split, parts) = job.lock().expect("one task per file").take().expect("finished once");
        split.finish(parts)
    });
    for (i, o) in files.into_iter().zip(finished) {
        outcomes[i] = Some(o);
    }
    outcomes.into_iter().map(|o| o.expect("every file was decided")).collect()
}

/// A file walked in pieces, its tree and the pieces' walks.
type Walked<'a, 'r> = (files::Split<'a>, Vec<files::Part<'r>>);

/// How many pieces a large file's walk is cut into (when the pool has
/// more than one core): enough for the pool to even out its cores' work.
const FILE_PIECES: usize = 8;

/// Env vars per task of the pool.
const ENV_PIECE: usize = 2048;

/// About how much work one env var is, in the units of [`files::work`]
/// (tenths of a byte of YAML): 2,048 vars take about as long as 80 kB of YAML.
const ENV_VAR_WORK: usize = 400;

/// A unit of the pool's work.
enum Task {
    /// The `n`th piece of the env.
    Env(usize),
    /// The file at this index.
    File(usize),
    /// Run `k` of the lines of a large YAML file ([`files::yaml_runs`]).
    Run(usize, usize),
}

enum Done<'a> {
    Env(EnvPart),
    File(files::Prepared<'a>),
    Run(Option<Vec<files::tree::Entry<'a>>>),
}

/// A table of the bytes that are ASCII letters, digits or one of `extra`:
/// one load a byte for the checks that run on every byte of every value
/// (host names, entropy tokens, plain YAML scalars).
pub(crate) const fn alphanumeric_or(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

/// Whether `b` is one of the bytes of `set`. A loop the compiler unrolls
/// for these short constant sets: `set.contains(&b)` calls memchr for each
/// byte, which cost more than everything else in a value's checks.
#[allow(clippy::manual_contains)] // the point: `contains` is the slow call here
pub(crate) fn one_of(b: u8, set: &[u8]) -> bool {
    set.iter().any(|&c| c == b)
}

/// Whether `bytes` holds `byte`: a loop, which on the short values most
/// config holds costs less than the memchr `contains` sets up.
#[allow(clippy::manual_contains)] // the point, as for `one_of`
pub(crate) fn has_byte(bytes: &[u8], byte: u8) -> bool {
    bytes.iter().any(|&b| b == byte)
}

/// Whether `name` can be an environment variable's name in a container:
/// file keys named in `set` (`db.password`, `/etc/x:key`) are not.
fn env_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

/// Decided env vars, their decisions, and the secret text taken out.
#[derive(Default)]
struct EnvPart {
    env: Vec<(String, String)>,
    decisions: Vec<Decision>,
    removed: Vec<String>,
}

/// Decides `entries` of the env.
fn decide_env(entries: &[(&String, &ProdValue)], rules: &SanitizeSection, known: Option<&Finder>) -> EnvPart {
    let mut out = EnvPart::default();
    // `SERVICE_17_URL`, `SERVICE_18_URL`: one name to the cache.
    let mut classes = names::ClassCache::default();
    for &(name, value) in entries {
        let input = match value {
            ProdValue::Plain(s) => Input::Plain(s.expose()),
            ProdValue::Marked(s) => Input::Marked(s.expose()),
            ProdValue::Reference(_) => Input::Reference,
        };
        let subject = Subject { names: &[name], class: classes.classify(name), explain: true };
        let o = decide(&subject, input, rules, known);
        out.removed.extend(o.removed);
        match (o.action, o.value) {
            (Action::Dropped, _) => {}
            (_, Some(v)) => out.env.push((name.clone(), v)),
            (_, None) => out.env.push((name.clone(), value_text(value).to_string())),
        }
        out.decisions.push(Decision {
            kind: DecisionKind::Env,
            name: name.clone(),
            action: o.action,
            reason: o.reason.into_owned(),
            by_profile: o.by_profile,
        });
    }
    out
}

/// `set` entries for env vars production does not have.
fn add_set_entries(config: &ProdConfig, rules: &SanitizeSection, out: &mut SanitizedConfig) {
    for (name, value) in &rules.set {
        if !config.env.contains_key(name) && env_name(name) {
            out.env.push((name.clone(), value.clone()));
            out.decisions.push(Decision {
                kind: DecisionKind::Env,
                name: name.clone(),
                action: Action::Replaced,
                reason: "set by the profile (not in production)".into(),
                by_profile: true,
            });
        }
    }
}

fn file_bytes(config: &ProdConfig) -> usize {
    config.files.values().map(|v| value_text(v).len()).sum()
}

/// Below this many bytes of files, threads cost more than they save.
const PARALLEL_FROM: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_tables_hold_letters_digits_and_the_extra_bytes() {
        let t = alphanumeric_or(b".-");
        for b in 0..=255u8 {
            assert_eq!(t[usize::from(b)], b.is_ascii_alphanumeric() || b == b'.' || b == b'-', "{b}");
        }
    }

    #[test]
    fn messages_lose_secrets_and_userinfo() {
        let m = "deploy registry https://deploy:hunter2-url@deploy.example.com/v1 answered 401: token ghp_16C7e42F292c6912E7710c838347Ae178B4a";
        let out = scrub_text(m);
        assert!(!out.contains("hunter2-url") && !out.contains("deploy:") && !out.contains("16C7e42F292c"), "{out}");
        assert!(out.contains("https://deploy.example.com/v1"), "{out}");
        // prodbox's own sentences about names pass unchanged.
        let own = "strict: 1 value(s) would be redacted:\n  API_TOKEN (name matches TOKEN)\n";
        assert_eq!(scrub_text(own), own);
    }
    use crate::secret::Secret;
    use std::collections::BTreeMap;

    /// A record whose one large file is most of the work: the pool walks it
    /// in pieces, and the result is the same as each file decided alone.
    #[test]
    fn a_file_walked_in_pieces_gives_what_it_gives_alone() {
        let yaml: String = (0..16_000)
            .map(|i| format!("svc{i}:\n  url: https://svc{i}.example.com/api\n  password: \"s3cr3t-{i}-pw\"\n"))
            .collect();
        assert!(yaml.len() > PARALLEL_FROM);
        let files = BTreeMap::from([
            (
                "/etc/app/a.json".to_string(),
                ProdValue::Plain(Secret::new(r#"{"token":"tok-Zx9Qp2Lm7Vb4"}"#.to_string())),
            ),
            ("/etc/app/big.yaml".to_string(), ProdValue::Plain(Secret::new(yaml))),
        ]);
        let env =
            BTreeMap::from([("DB_PASSWORD".to_string(), ProdValue::Plain(Secret::new("pw-Zx9Qp2Lm".to_string())))]);
        let config = ProdConfig { env, files };
        let rules = SanitizeSection { prod_hosts: vec!["*.example.com".into()], ..Default::default() };
        let big = &config.files["/etc/app/big.yaml"];
        let prepared = files::prepare("/etc/app/big.yaml", big, &rules, None, FILE_PIECES);
        assert!(matches!(prepared, files::Prepared::Split(_)), "the large file is cut into pieces");
        assert!(files::yaml_runs("/etc/app/big.yaml", big, &rules, FILE_PIECES).is_some(), "and read in runs");
        let out = sanitize(&config, &rules).expect("sanitizes");
        let mut decisions: Vec<Decision> =
            decide_env(&[(&"DB_PASSWORD".to_string(), &config.env["DB_PASSWORD"])], &rules, None).decisions;
        for (i, (path, value)) in config.files.iter().enumerate() {
            let alone = files::sanitize_file(path, value, &rules, None);
            assert_eq!(out.files[i], (path.clone(), alone.content.expect("kept")), "{path}");
            decisions.extend(alone.decisions);
        }
        assert_eq!(out.decisions, decisions);
    }

    fn plain(v: &str) -> ProdValue {
        ProdValue::Plain(Secret::new(v))
    }

    fn rules() -> SanitizeSection {
        SanitizeSection {
            keep: vec!["LOG_*".into(), "KEPT_*".into()],
            drop: vec!["NEW_RELIC_*".into()],
            prod_hosts: vec!["*.example.com".into()],
            set: BTreeMap::from([("DATABASE_URL".into(), "postgres://app:app@db/app".into())]),
            hosts: BTreeMap::from([("payments.example.com".into(), "payments-stub".into())]),
            strict: false,
        }
    }

    #[test]
    fn decision_order_and_no_value_in_report() {
        let config = ProdConfig {
            env: BTreeMap::from([
                ("DATABASE_URL".into(), plain("postgres://u:hunter2@db.example.com/app")),
                ("LOG_LEVEL".into(), plain("debug")),
                ("NEW_RELIC_KEY".into(), plain("abc")),
                ("API_TOKEN".into(), plain("t0k3n")),
                ("KEPT_TOKEN".into(), ProdValue::Marked(Secret::new("marked-hunter3"))),
                ("UPSTREAM".into(), plain("AKIAIOSFODNN7EXAMPLE")),
                ("PAYMENTS".into(), plain("https://payments.example.com/v2")),
                ("CACHE".into(), plain("redis://:hunter5@cache.example.com:6379/0")),
                ("PLAIN".into(), plain("hello")),
            ]),
            files: BTreeMap::from([("/etc/app.env".into(), plain("A=1\nDB_PASSWORD=hunter4\n"))]),
        };
        let out = sanitize(&config, &rules()).unwrap();
        let env: BTreeMap<_, _> = out.env.iter().cloned().collect();
        assert_eq!(env["DATABASE_URL"], "postgres://app:app@db/app");
        assert_eq!(env["LOG_LEVEL"], "debug");
        assert!(!env.contains_key("NEW_RELIC_KEY"));
        assert_eq!(env["API_TOKEN"], REDACTED);
        assert_eq!(env["KEPT_TOKEN"], REDACTED, "marked values are redacted even when kept");
        assert_eq!(env["UPSTREAM"], "AKIAPRODBOXREDACTED0", "same prefix, length and alphabet");
        assert_eq!(env["PAYMENTS"], "https://payments-stub/v2");
        assert_eq!(env["CACHE"], "redis://:prodbox@cache.example.com.prodbox.invalid:6379/0");
        assert_eq!(env["PLAIN"], "hello");
        assert_eq!(out.files[0].1, "A=1\nDB_PASSWORD=prodbox-redacted\n");
        let report = serde_json::to_string(&out.decisions).unwrap();
        for secret in ["hunter2", "t0k3n", "marked-hunter3", "AKIAIOSFODNN7EXAMPLE", "hunter4", "hunter5"] {
            assert!(!report.contains(secret), "{secret} in report");
        }
        assert_eq!(out.summary(), "2 kept, 1 replaced, 1 dropped, 5 redacted, 1 rewritten");
        let unnamed: Vec<&str> = out.unnamed_redactions().iter().map(|d| d.name.as_str()).collect();
        assert_eq!(unnamed, vec!["API_TOKEN", "CACHE", "UPSTREAM", "/etc/app.env:DB_PASSWORD"]);
    }
}
