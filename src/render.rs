//! Human and JSON renderings of command results, for stdout.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::commands::diff::DiffReport;
use crate::commands::doctor::{Check, Checks};
use crate::commands::down::Removals;
use crate::commands::history::History;
use crate::commands::inspect::Inspected;
use crate::commands::ls::Sandboxes;
use crate::commands::profiles::{ProfileList, Schema};
use crate::commands::sanitize::SanitizeReport;
use crate::commands::up::UpReport;
use crate::commands::verify::Probes;
use crate::commands::{Rendered, Report};
use crate::digest::short;
use crate::resolve::oci::Pushed;
use crate::sandbox::{teardown::Removed, SandboxInfo};
use crate::sanitize::Action;
use crate::ui::human_size;

/// Pretty JSON with a trailing newline.
pub fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("serializable") + "\n"
}

/// Prints a command's result: its stderr lines, then JSON (`--json`, when
/// it has a JSON form) or its human form on stdout.
pub fn emit(as_json: bool, report: &dyn Report) {
    for line in report.stderr() {
        eprintln!("error: {line}");
    }
    let text = match report.json().filter(|_| as_json) {
        Some(value) => json(&value),
        None => report.human(),
    };
    let mut out = std::io::stdout();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

impl Rendered for UpReport {
    fn human(&self) -> String {
        up_report(self, self.detached)
    }
    fn attach(&self) -> Option<String> {
        (!self.detached).then(|| self.name.clone())
    }
}

impl Rendered for Sandboxes {
    fn human(&self) -> String {
        sandboxes(&self.0)
    }
}

impl Rendered for Removals {
    fn human(&self) -> String {
        let mut s = removed(&self.list, self.verb);
        for (name, line) in &self.tried {
            let _ = writeln!(s, "{name}: {line} during its life (none was reached)");
        }
        s
    }
}

impl Rendered for Inspected {
    fn human(&self) -> String {
        inspected(self)
    }
}

impl Rendered for Checks {
    fn human(&self) -> String {
        checks(&self.0)
    }
    fn exit_code(&self) -> u8 {
        if self.0.iter().all(|c| c.ok) {
            0
        } else {
            1
        }
    }
}

impl Rendered for History {
    fn human(&self) -> String {
        history(&self.0)
    }
}

impl Rendered for DiffReport {
    fn human(&self) -> String {
        diff(self)
    }
    fn exit_code(&self) -> u8 {
        if self.same {
            0
        } else {
            1
        }
    }
}

impl Rendered for Probes {
    fn human(&self) -> String {
        probes(&self.0)
    }
    fn exit_code(&self) -> u8 {
        if self.0.iter().any(|p| p.must_block && p.open) {
            1
        } else {
            0
        }
    }
}

impl Rendered for SanitizeReport {
    fn human(&self) -> String {
        sanitized(self)
    }
    fn exit_code(&self) -> u8 {
        if self.strict && self.unnamed_redactions > 0 {
            1
        } else {
            0
        }
    }
}

impl Rendered for Pushed {
    fn human(&self) -> String {
        format!("pushed deploy record {} for {}\n", self.artifact, self.subject)
    }
}

impl Rendered for ProfileList {
    fn human(&self) -> String {
        if self.validate {
            return if self.errors.is_empty() {
                format!("{} profiles valid\n", self.profiles.len())
            } else {
                String::new()
            };
        }
        self.profiles
            .iter()
            .map(|p| format!("{:<16} {:<12} {:<40} {}\n", p.service, p.environment, p.repository, p.source))
            .collect()
    }
    fn exit_code(&self) -> u8 {
        if self.errors.is_empty() {
            0
        } else {
            crate::error::USAGE
        }
    }
    fn stderr(&self) -> Vec<String> {
        self.errors.clone()
    }
    fn has_json(&self) -> bool {
        // `validate` reports through its exit code and stderr alone.
        !self.validate
    }
}

impl Rendered for Schema {
    fn human(&self) -> String {
        json(&self.0)
    }
}

/// The one-screen report after `up`.
pub fn up_report(r: &UpReport, detach: bool) -> String {
    let mut s = String::new();
    let _ =
        writeln!(s, "sandbox {} is up: {} ({}) in {:.1}s", r.name, r.deploy.service, r.deploy.environment, r.seconds);
    let _ = writeln!(s, "  image       {}", r.deploy.image);
    let _ = writeln!(
        s,
        "  platform    {}, {} compressed{}",
        r.platform,
        human_size(r.size),
        if r.downloaded { ", pulled now" } else { ", already present" }
    );
    let _ = writeln!(
        s,
        "  deployed    {} by {}",
        r.deploy.deployed_at.as_deref().unwrap_or("(unknown time)"),
        r.deploy.deployed_by.as_deref().unwrap_or("(unknown)")
    );
    let _ = writeln!(
        s,
        "  revision    {}{}",
        r.deploy.revision.as_deref().unwrap_or("(unknown)"),
        r.version.as_deref().map(|v| format!(" (version {v})")).unwrap_or_default()
    );
    if let Some(src) = &r.source {
        let _ = writeln!(s, "  source      {src}");
    }
    let _ = writeln!(s, "  chosen      {}", r.chosen);
    let _ = writeln!(s, "  config      {}; `prodbox inspect {}` lists each", r.sanitized, r.name);
    for (label, action) in [
        ("redacted", Action::Redacted),
        ("rewritten", Action::Rewritten),
        ("replaced", Action::Replaced),
        ("dropped", Action::Dropped),
    ] {
        let names: Vec<&str> = r
            .decisions
            .iter()
            .filter(|d| d.action == action && d.kind != crate::sanitize::DecisionKind::File)
            .map(|d| d.name.as_str())
            .collect();
        if !names.is_empty() {
            let _ = writeln!(s, "    {label:<10}{}", names_line(&names, 6));
        }
    }
    let _ = writeln!(s, "  health      {}", r.health.describe());
    // Only when it tried something: a quiet app's report stays as it was.
    if let Some(egress) = r.egress.as_ref().filter(|e| !e.is_empty()) {
        let _ =
            writeln!(s, "  egress      {} (`prodbox egress {}`)", crate::sandbox::sinkhole::tried_line(egress), r.name);
    }
    for ((container, _), url) in r.ports.iter().zip(&r.urls) {
        let _ = writeln!(s, "  url         {url}  (container port {container})");
    }
    if let Some(c) = &r.candidate {
        let _ = writeln!(s, "  candidate   {} ({})", c.image, short(&c.id));
        for ((container, _), url) in c.ports.iter().zip(&c.urls) {
            let _ = writeln!(s, "  url         {url}  (candidate, container port {container})");
        }
        let _ = writeln!(s, "compare them: prodbox diff {} --request 'GET /'", r.name);
    }
    if let Some(path) = &r.saved {
        let _ =
            writeln!(s, "repro file written: {} (run it again: prodbox up --from {})", path.display(), path.display());
    }
    if detach {
        let _ = writeln!(s, "stop it with: {}", r.stop);
    } else {
        let _ = writeln!(s, "streaming the app's logs; Ctrl-C stops and removes the sandbox");
    }
    s
}

/// Up to `max` names, then how many more.
fn names_line(names: &[&str], max: usize) -> String {
    let mut line = names.iter().take(max).copied().collect::<Vec<_>>().join(", ");
    if names.len() > max {
        line.push_str(&format!(" (+{} more)", names.len() - max));
    }
    line
}

/// `ls` as a table (a candidate shows on its own line under its sandbox).
pub fn sandboxes(list: &[SandboxInfo]) -> String {
    if list.is_empty() {
        return "no sandboxes; start one with `prodbox up SERVICE`\n".into();
    }
    if list.iter().any(|i| i.location.is_some()) {
        return crate::targets::table(list, crate::timestamp::Timestamp::now().0);
    }
    let mut s = format!("{:<20} {:<16} {:<12} {:<22} {:<10} URLS\n", "NAME", "SERVICE", "DIGEST", "DEPLOYED", "STATUS");
    for i in list {
        let _ = writeln!(
            s,
            "{:<20} {:<16} {:<12} {:<22} {:<10} {}",
            i.name,
            i.deploy.service,
            short(&i.deploy.digest),
            i.deploy.deployed_at.as_deref().unwrap_or("-"),
            i.status,
            i.urls.join(" ")
        );
        if let Some(c) = &i.candidate {
            let _ = writeln!(
                s,
                "{:<20} {:<16} {:<12} {:<22} {:<10} {}",
                "  candidate",
                c.image,
                short(&c.id),
                "-",
                c.status,
                c.urls.join(" ")
            );
        }
    }
    s
}

/// What `down`/`gc` removed.
pub fn removed(list: &[(String, Removed)], verb: &str) -> String {
    if list.is_empty() {
        return format!("nothing to {verb}\n");
    }
    list.iter()
        .map(|(name, r)| {
            if r.namespaces > 0 && r.containers + r.networks + r.volumes == 0 {
                return format!("{name}: deleted its namespace on the cluster\n");
            }
            format!("{name}: removed {} containers, {} networks, {} volumes\n", r.containers, r.networks, r.volumes)
        })
        .collect()
}

/// `inspect`.
pub fn inspected(i: &Inspected) -> String {
    let mut s = String::new();
    let decisions = match i {
        Inspected::Sandbox(view) => {
            let info = &view.sandbox;
            let _ = writeln!(s, "sandbox {} ({})", info.name, info.status);
            let _ = writeln!(s, "  service     {} ({})", info.deploy.service, info.deploy.environment);
            let _ = writeln!(s, "  image       {}", info.deploy.image);
            let _ = writeln!(
                s,
                "  deployed    {} by {}",
                info.deploy.deployed_at.as_deref().unwrap_or("-"),
                info.deploy.deployed_by.as_deref().unwrap_or("-")
            );
            let _ = writeln!(s, "  revision    {}", info.deploy.revision.as_deref().unwrap_or("-"));
            if let Some(img) = &view.app_image {
                let _ = writeln!(s, "  platform    {}, {} unpacked", img.platform, human_size(img.size.max(0) as u64));
                let _ = writeln!(s, "  created     {}", img.created.as_deref().unwrap_or("-"));
                if let Some(src) = &img.source {
                    let _ = writeln!(s, "  source      {src}");
                }
                if let Some(v) = &img.version {
                    let _ = writeln!(s, "  version     {v}");
                }
            }
            for url in &info.urls {
                let _ = writeln!(s, "  url         {url}");
            }
            if let Some(c) = &info.candidate {
                let _ = writeln!(s, "  candidate   {} ({}) {}", c.image, short(&c.id), c.urls.join(" "));
            }
            serde_json::from_value::<Vec<serde_json::Value>>(info.sanitize.clone()).unwrap_or_default()
        }
        Inspected::Service(v) => {
            let _ = writeln!(s, "{} in {}", v.service, v.environment);
            let _ = writeln!(s, "  image       {}", v.image.reference);
            if v.image.manifest_digest != v.image.digest {
                let _ = writeln!(s, "  manifest    {} (from the index)", v.image.manifest_digest);
            }
            let _ = writeln!(
                s,
                "  platform    {}, {} compressed in {} layers",
                v.image.platform,
                human_size(v.image.size),
                v.image.layers.len()
            );
            let _ = writeln!(
                s,
                "  deployed    {} by {}",
                v.deployed_at.as_deref().unwrap_or("-"),
                v.deployed_by.as_deref().unwrap_or("-")
            );
            let _ = writeln!(s, "  revision    {}", v.revision.as_deref().unwrap_or("-"));
            let _ = writeln!(s, "  created     {}", v.image.created.as_deref().unwrap_or("-"));
            for (k, val) in &v.image.labels {
                let _ = writeln!(s, "  label       {k}={val}");
            }
            let _ = writeln!(s, "  config      {}", v.sanitized);
            v.decisions.iter().filter_map(|d| serde_json::to_value(d).ok()).collect()
        }
    };
    if !decisions.is_empty() {
        let _ = writeln!(s, "\n{:<6} {:<32} {:<10} REASON", "KIND", "NAME", "ACTION");
        for d in decisions {
            let field = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let _ =
                writeln!(s, "{:<6} {:<32} {:<10} {}", field("kind"), field("name"), field("action"), field("reason"));
        }
    }
    s
}

/// `sanitize`: the decisions table, then what was written.
pub fn sanitized(r: &crate::commands::sanitize::SanitizeReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "rules: {}", r.rules);
    let _ = writeln!(s, "{}", r.summary);
    let _ = writeln!(s, "\n{:<4} {:<48} {:<10} REASON", "KIND", "NAME", "ACTION");
    for d in &r.decisions {
        let kind = match d.kind {
            crate::sanitize::DecisionKind::Env => "env",
            crate::sanitize::DecisionKind::File => "file",
            crate::sanitize::DecisionKind::Key => "key",
        };
        let action =
            serde_json::to_value(d.action).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let _ = writeln!(s, "{kind:<4} {:<48} {action:<10} {}", d.name, d.reason);
    }
    if r.unnamed_redactions > 0 {
        let _ = writeln!(
            s,
            "\n{} redactions no rule of the profile names (add keep, drop or set to name them)",
            r.unnamed_redactions
        );
    }
    for w in &r.written {
        let _ = writeln!(s, "wrote {}", w.display());
    }
    s
}

/// `doctor`.
pub fn checks(checks: &[Check]) -> String {
    let mut s = String::new();
    for c in checks {
        let _ = writeln!(s, "{} {:<22} {}", if c.ok { "ok  " } else { "FAIL" }, c.name, c.detail);
        if let Some(fix) = &c.fix {
            let _ = writeln!(s, "     {:<22} fix: {fix}", "");
        }
    }
    s
}

/// `history`.
pub fn history(deploys: &[crate::commands::history::Deploy]) -> String {
    if deploys.is_empty() {
        return "no deploys known\n".into();
    }
    let mut s = format!("{:<22} {:<10} {:<18} {:<10} {:<12}\n", "DEPLOYED", "LIVE FOR", "BY", "REVISION", "DIGEST");
    for d in deploys {
        let _ = writeln!(
            s,
            "{:<22} {:<10} {:<18} {:<10} {:<12}{}",
            d.deployed_at.as_deref().unwrap_or("-"),
            d.live_for.as_deref().unwrap_or("-"),
            d.deployed_by.as_deref().unwrap_or("-"),
            d.revision.as_deref().unwrap_or("-"),
            short(&d.digest),
            match (&d.unusable, d.current) {
                (Some(why), _) => format!("  (cannot be run: {why})"),
                (None, true) => "  (live now)".into(),
                (None, false) => String::new(),
            }
        );
    }
    s
}

/// `diff`.
pub fn diff(r: &crate::commands::diff::DiffReport) -> String {
    let mut s = String::new();
    let i = &r.images;
    let _ = writeln!(s, "production  {}", i.production.reference);
    let _ = writeln!(s, "candidate   {}", i.candidate.reference);
    if i.same {
        let _ = writeln!(s, "images: the same build ({})", short(&i.production.id));
    } else {
        let _ = writeln!(s, "images differ:");
        for c in &i.changes {
            let _ = writeln!(s, "  {c}");
        }
        let _ = writeln!(s, "  layers: {} added, {} removed", i.layers_added.len(), i.layers_removed.len());
    }
    for a in &r.answers {
        let status = |x: Option<u16>| x.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
        let verdict = if a.same { "same" } else { "DIFFERENT" };
        let _ = writeln!(
            s,
            "\n{}: {verdict} (production {}, candidate {})",
            a.request,
            status(a.production_status),
            status(a.candidate_status)
        );
        if let Some(e) = &a.error {
            let _ = writeln!(s, "  error: {e}");
        }
        for (name, x, y) in &a.headers {
            let _ = writeln!(s, "  header {name}: {x} → {y}");
        }
        if !a.body_diff.is_empty() {
            for line in a.body_diff.lines() {
                let _ = writeln!(s, "  {line}");
            }
        }
    }
    // Shown when either build reached out while answering.
    if let Some(e) = r.egress.as_ref().filter(|e| !(e.production.is_empty() && e.candidate.is_empty())) {
        let list = |l: &[String]| if l.is_empty() { "none".to_string() } else { l.join(", ") };
        if e.same {
            let _ = writeln!(s, "\negress: the same destinations ({})", list(&e.production));
        } else {
            let _ = writeln!(s, "\negress: DIFFERENT");
            for d in &e.only_candidate {
                let _ = writeln!(s, "  + {d} (the candidate only)");
            }
            for d in &e.only_production {
                let _ = writeln!(s, "  - {d} (production's build only)");
            }
        }
    }
    s
}

/// `verify`.
pub fn probes(probes: &[crate::sandbox::verify::Probe]) -> String {
    // IPv6 link-local targets are long: the column fits the longest.
    let width = probes.iter().map(|p| p.target.len()).max().unwrap_or(0).max(24);
    let mut s = format!("{:<width$} {:<8} {}\n", "TARGET", "RESULT", "WHAT");
    for p in probes {
        let verdict = match (p.open, p.must_block) {
            (true, true) => "OPEN (!)",
            (true, false) => "open",
            (false, _) => "blocked",
        };
        let _ = writeln!(s, "{:<width$} {:<8} {}", p.target, verdict, p.what);
    }
    let leaks = probes.iter().filter(|p| p.must_block && p.open).count();
    let _ = writeln!(
        s,
        "{}",
        if leaks == 0 {
            "isolated: nothing on the host answered".to_string()
        } else {
            format!("NOT isolated: {leaks} host address(es) answered")
        }
    );
    s
}
