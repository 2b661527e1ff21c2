//! Instants for deploy history: parsing what people type (`2026-11-20 14:05`,
//! RFC 3339, a date, `2h ago`) and what records hold, to UTC seconds.
//! Hand-written: the few formats prodbox needs do not warrant a date crate.

use std::fmt;

/// Seconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current time.
    pub fn now() -> Timestamp {
        let secs =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        Timestamp(secs)
    }

    /// RFC 3339 and the forms people write: `2026-11-20T14:05:00Z`,
    /// `2026-11-20T14:05Z`, `2026-11-20 14:05` (UTC unless an offset is
    /// given), `2026-11-20` (midnight UTC), `+02:00` offsets, fractions.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let s = s.trim();
        let (date, rest) = match s.find(['T', 't', ' ']) {
            Some(i) => (&s[..i], s[i + 1..].trim()),
            None => (s, ""),
        };
        let mut d = date.split('-');
        let (y, m, day) =
            (d.next()?.parse::<i64>().ok()?, d.next()?.parse::<u32>().ok()?, d.next()?.parse::<u32>().ok()?);
        if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) || date.len() != 10 {
            return None;
        }
        let mut secs = days_from_civil(y, m, day) * 86_400;
        if rest.is_empty() {
            return Some(Timestamp(secs));
        }
        // Split off the zone: Z, z, or ±HH:MM / ±HHMM.
        let (clock, offset) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
            (c.trim(), 0)
        } else if let Some(i) = rest.rfind(['+', '-']).filter(|&i| i >= 5) {
            let zone = rest[i + 1..].replace(':', "");
            if zone.len() != 4 {
                return None;
            }
            let minutes = zone[..2].parse::<i64>().ok()? * 60 + zone[2..].parse::<i64>().ok()?;
            let sign = if rest.as_bytes()[i] == b'+' { 1 } else { -1 };
            (rest[..i].trim(), sign * minutes * 60)
        } else if rest.eq_ignore_ascii_case("utc") {
            ("00:00", 0)
        } else {
            (rest.trim_end_matches(" UTC").trim(), 0)
        };
        let mut parts = clock.split(':');
        let h = parts.next()?.parse::<i64>().ok()?;
        let min = parts.next()?.parse::<i64>().ok()?;
        let sec = match parts.next() {
            Some(s) => s.split('.').next()?.parse::<i64>().ok()?,
            None => 0,
        };
        if parts.next().is_some() || h > 23 || min > 59 || sec > 60 {
            return None;
        }
        secs += h * 3600 + min * 60 + sec - offset;
        Some(Timestamp(secs))
    }

    /// Also relative times: `2h ago`, `30m ago`, `3d ago`, `1w ago`, `now`.
    pub fn parse_relative(s: &str, now: Timestamp) -> Option<Timestamp> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("now") {
            return Some(now);
        }
        if let Some(amount) = t.strip_suffix("ago") {
            let amount = amount.trim().replace(' ', "");
            let split = amount.find(|c: char| !c.is_ascii_digit())?;
            let n: i64 = amount[..split].parse().ok()?;
            let unit = match &amount[split..] {
                "s" | "sec" | "secs" | "second" | "seconds" => 1,
                "m" | "min" | "mins" | "minute" | "minutes" => 60,
                "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
                "d" | "day" | "days" => 86_400,
                "w" | "week" | "weeks" => 604_800,
                _ => return None,
            };
            return Some(Timestamp(now.0 - n * unit));
        }
        Timestamp::parse(t)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, seconds precision.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
    }
}

/// `3d 4h`, `2h 5m`, `45s`: the largest two units.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m, s) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_people_type() {
        let t = Timestamp::parse("2026-11-20T14:05:00Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-20T14:05:00Z");
        for same in [
            "2026-11-20T14:05Z",
            "2026-11-20 14:05",
            "2026-11-20 14:05:00 UTC",
            "2026-11-20T16:05:00+02:00",
            "2026-11-20T14:05:00.123Z",
        ] {
            assert_eq!(Timestamp::parse(same), Some(t), "{same}");
        }
        assert_eq!(Timestamp::parse("2026-11-20").unwrap().to_string(), "2026-11-20T00:00:00Z");
        assert_eq!(Timestamp::parse("1970-01-01T00:00:00Z"), Some(Timestamp(0)));
        assert_eq!(Timestamp::parse("2024-02-29T12:00:00Z").unwrap().to_string(), "2024-02-29T12:00:00Z");
        for bad in ["", "yesterday", "2026-13-01", "2026-11-20T25:00Z", "20261120"] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn relative_times() {
        let now = Timestamp::parse("2026-11-23T12:00:00Z").unwrap();
        assert_eq!(Timestamp::parse_relative("2h ago", now).unwrap().to_string(), "2026-11-23T10:00:00Z");
        assert_eq!(Timestamp::parse_relative("3 days ago", now).unwrap().to_string(), "2026-11-20T12:00:00Z");
        assert_eq!(Timestamp::parse_relative("now", now), Some(now));
        assert_eq!(human_duration(3 * 86_400 + 4 * 3600 + 5), "3d 4h");
        assert_eq!(human_duration(125), "2m 5s");
    }
}
