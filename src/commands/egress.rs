//! `prodbox egress NAME [--follow]`: what the sandbox tried to reach, as the
//! egress sinkhole recorded it (name, port, protocol, count, first and last
//! seen, what was asked), newest activity last. Nothing it shows was ever
//! delivered anywhere.

use std::fmt::Write as _;
use std::io::Write as _;

use futures_util::StreamExt;
use serde::Serialize;

use super::{Ctx, Rendered, Text};
use crate::sandbox::{self, sinkhole};

/// What a sandbox tried to reach.
#[derive(Debug, Serialize)]
pub struct EgressReport {
    pub sandbox: String,
    /// Oldest activity first.
    pub destinations: Vec<sinkhole::Destination>,
    /// What cannot be seen: attempts on literal addresses outside the sandbox.
    pub not_observable: String,
}

/// The table so far.
pub async fn run(ctx: &Ctx, name: &str) -> anyhow::Result<EgressReport> {
    let engine = ctx.engine().await?;
    sandbox::require(engine, name).await?;
    let destinations = sinkhole::summary(engine, name).await?.ok_or_else(|| no_sinkhole(name))?;
    Ok(EgressReport { sandbox: name.to_string(), destinations, not_observable: sinkhole::LITERAL_IPS.to_string() })
}

/// `--follow`: every attempt so far, then each as it comes, one line (or
/// one JSON object) each, until interrupted or the sandbox goes away.
pub async fn follow(ctx: &Ctx, name: &str) -> anyhow::Result<Text> {
    let engine = ctx.engine().await?;
    sandbox::require(engine, name).await?;
    let who = sinkhole::who(engine, name).await?;
    let mut stream = Box::pin(sinkhole::follow(engine, name));
    let mut out = std::io::stdout();
    if !ctx.settings.json {
        let _ = writeln!(out, "# {}", sinkhole::LITERAL_IPS);
    }
    while let Some(record) = stream.next().await {
        let record = record?;
        // One destination per attempt: the same scrub and naming as the table.
        let Some(d) = sinkhole::destinations(std::slice::from_ref(&record), &who).pop() else { continue };
        if d.transport == "dns" && record.qtype.as_deref() != Some("A") {
            continue;
        }
        let line = if ctx.settings.json { serde_json::to_string(&d).unwrap_or_default() } else { attempt_line(&d) };
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    Ok(Text { text: String::new(), code: 0 })
}

fn no_sinkhole(name: &str) -> anyhow::Error {
    crate::error::UsageError(format!(
        "sandbox {name} has no egress sinkhole (it was started by an older prodbox): `prodbox up` it again"
    ))
    .into()
}

/// `14:40:01.123  app  db.prod.example.com:5432  postgres  (closed)`.
fn attempt_line(d: &sinkhole::Destination) -> String {
    let mut s = format!("{}  {}  {}  {}", d.last_seen, d.from.join(","), d.target(), d.protocol);
    if !d.asked.is_empty() {
        let _ = write!(s, "  {}", d.asked.join("; "));
    }
    if let Some(a) = &d.answer {
        let _ = write!(s, "  ({a})");
    }
    s
}

/// The table.
pub fn table(destinations: &[sinkhole::Destination]) -> String {
    let mut s = String::new();
    if destinations.is_empty() {
        s.push_str("no outbound attempts recorded\n");
        return s;
    }
    let rows: Vec<[String; 7]> = destinations
        .iter()
        .map(|d| {
            let mut name = d.shown_name();
            if d.rewritten_from.is_some() {
                name.push_str(&format!(" (rewritten to {})", d.name));
            }
            [
                name,
                d.port.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                d.protocol.clone(),
                d.count.to_string(),
                d.first_seen.clone(),
                d.last_seen.clone(),
                if d.asked.is_empty() { "-".into() } else { d.asked.join("; ") },
            ]
        })
        .collect();
    let head = ["NAME", "PORT", "PROTOCOL", "COUNT", "FIRST SEEN", "LAST SEEN", "ASKED"];
    let mut widths = head.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                let _ = write!(l, "{cell:<w$}  ", w = widths[i]);
            }
        }
        l.trim_end().to_string() + "\n"
    };
    s.push_str(&line(&head));
    for row in &rows {
        s.push_str(&line(&row.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    s
}

impl Rendered for EgressReport {
    fn human(&self) -> String {
        let mut s = table(&self.destinations);
        let hosts = self.destinations.len();
        let _ = writeln!(
            s,
            "{hosts} destination(s) tried from sandbox {}; none was reached (the sinkhole answers, it never forwards)",
            self.sandbox
        );
        let _ = writeln!(s, "not observable: {}", self.not_observable);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_table_lists_name_port_protocol_and_what_was_asked() {
        let records = sinkhole::parse(concat!(
            r#"{"ts":1795444358357,"kind":"tcp","client":"c","name":"db.prod.example.com","port":5432,"proto":"postgres"}"#,
            "\n",
            r#"{"ts":1795444359246,"kind":"tcp","client":"c","name":"metadata.internal","port":80,"proto":"http","method":"GET","host":"metadata.internal","path":"/latest"}"#,
        ));
        let d = sinkhole::destinations(&records, &HashMap::new());
        let t = table(&d);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("NAME"), "{t}");
        assert!(lines[1].starts_with("db.prod.example.com") && lines[1].contains("5432"), "{t}");
        assert!(lines[2].contains("GET metadata.internal/latest"), "{t}");
        assert!(lines[1].contains("2026-11-23T"), "{t}");
    }
}
