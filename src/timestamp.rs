//! Instants for deploy history: what records hold (RFC 3339, UTC unless
//! they say otherwise) and what people type for `--at`, in their own zone
//! (`2026-11-20 14:05 Europe/Berlin`, `+01:00`, `--tz`, the `TZ` of the
//! user), or relative (`2h ago`, `yesterday 14:05`). Dates, zones and the
//! tz database are `jiff`'s (its bundled database, so the answer does not
//! depend on the machine's tzdata).

use std::fmt;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};

/// Seconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current time.
    pub fn now() -> Timestamp {
        Timestamp(jiff::Timestamp::now().as_second())
    }

    /// A time as records hold it: RFC 3339 (`2026-11-20T14:05:00Z`,
    /// `+02:00` offsets, fractions), or a civil time or date taken as UTC
    /// (`2026-11-20 14:05`, `2026-11-20`).
    pub fn parse(s: &str) -> Option<Timestamp> {
        Timestamp::parse_in(s, &TimeZone::UTC)
    }

    /// A time as a person writes it: like [`Timestamp::parse`], with a
    /// trailing zone name (`2026-11-20 14:05 Europe/Berlin`) or offset
    /// (`+01:00`), and civil times without one taken in `zone`.
    pub fn parse_in(s: &str, zone: &TimeZone) -> Option<Timestamp> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        if let Ok(t) = s.parse::<jiff::Timestamp>() {
            return Some(Timestamp(t.as_second()));
        }
        if let Ok(z) = s.parse::<jiff::Zoned>() {
            return Some(Timestamp(z.timestamp().as_second()));
        }
        // `… UTC`, `… Europe/Berlin`, `… +01:00`: a zone as the last word.
        if let Some((civil, last)) = s.rsplit_once(char::is_whitespace) {
            if let Some(named) = zone_named(last) {
                return civil_in(civil.trim(), &named);
            }
        }
        civil_in(s, zone)
    }

    /// [`Timestamp::parse_in`], plus `now`, `2h ago` (s, m, h, d, w),
    /// `today`, `yesterday` and either with a time (`yesterday 14:05`),
    /// counted in `zone`.
    pub fn parse_relative(s: &str, now: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
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
            return Some(Timestamp(now.0 - n.checked_mul(unit)?));
        }
        let (word, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        let back = match word.to_ascii_lowercase().as_str() {
            "today" => 0,
            "yesterday" => 1,
            _ => return Timestamp::parse_in(t, zone),
        };
        let today = jiff::Timestamp::from_second(now.0).ok()?.to_zoned(zone.clone()).date();
        let day = today.checked_sub(jiff::Span::new().days(back)).ok()?;
        let time = if rest.trim().is_empty() { Time::midnight() } else { parse_time(rest.trim())? };
        let z = day.to_datetime(time).to_zoned(zone.clone()).ok()?;
        Some(Timestamp(z.timestamp().as_second()))
    }

    /// This instant in `zone`, as `2026-11-20 15:05:00 CET (+01:00)`.
    pub fn in_zone(&self, zone: &TimeZone) -> String {
        match jiff::Timestamp::from_second(self.0) {
            Ok(t) => t.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M:%S %Z (%:z)").to_string(),
            Err(_) => self.to_string(),
        }
    }
}

/// The zone `--at` times are read in: `--tz`, else the user's `TZ`, else
/// the system's, else UTC. An unknown `--tz` is an error naming it.
pub fn user_zone(tz: Option<&str>) -> Result<TimeZone, String> {
    if let Some(name) = tz {
        return zone_named(name).ok_or_else(|| {
            format!("--tz {name:?}: not a time zone; use an IANA name (Europe/Berlin), UTC, or an offset (+01:00)")
        });
    }
    if let Some(name) = std::env::var("TZ").ok().filter(|t| !t.is_empty()) {
        if let Some(zone) = zone_named(name.trim_start_matches(':')) {
            return Ok(zone);
        }
    }
    Ok(TimeZone::try_system().unwrap_or(TimeZone::UTC))
}

/// A zone by IANA name (bundled database), `UTC`/`Z`, or an offset (`+01:00`, `-0530`).
fn zone_named(name: &str) -> Option<TimeZone> {
    if name.eq_ignore_ascii_case("utc") || name == "Z" || name.eq_ignore_ascii_case("gmt") {
        return Some(TimeZone::UTC);
    }
    if let Some(sign) = name.strip_prefix('+').map(|r| (1, r)).or_else(|| name.strip_prefix('-').map(|r| (-1, r))) {
        let (sign, rest) = sign;
        let digits = rest.replace(':', "");
        if !(digits.len() == 2 || digits.len() == 4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let hours: i32 = digits[..2].parse().ok()?;
        let minutes: i32 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0 };
        let offset = Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()?;
        return Some(TimeZone::fixed(offset));
    }
    if !name.contains('/') {
        return None;
    }
    jiff::tz::db().get(name).ok()
}

/// `2026-11-20 14:05[:00]`, `2026-11-20T14:05`, or `2026-11-20` (midnight), in `zone`.
fn civil_in(s: &str, zone: &TimeZone) -> Option<Timestamp> {
    // ISO 8601's basic form (20261120) reads too much like a revision or a number.
    if s.as_bytes().get(4) != Some(&b'-') {
        return None;
    }
    let dt = match s.parse::<DateTime>() {
        Ok(dt) => dt,
        Err(_) => s.parse::<Date>().ok()?.to_datetime(Time::midnight()),
    };
    // A time the zone skips or repeats (a DST change) resolves as jiff's
    // "compatible" rule does, like most tools.
    let z = dt.to_zoned(zone.clone()).ok()?;
    Some(Timestamp(z.timestamp().as_second()))
}

/// `14:05` or `14:05:30`.
fn parse_time(s: &str) -> Option<Time> {
    s.parse::<Time>().ok()
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, seconds precision.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match jiff::Timestamp::from_second(self.0) {
            Ok(t) => write!(f, "{}", t.strftime("%Y-%m-%dT%H:%M:%SZ")),
            Err(_) => write!(f, "@{}", self.0),
        }
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
    fn zones_by_name_offset_and_default() {
        let utc = Timestamp::parse("2026-11-20T13:05:00Z").unwrap();
        let berlin = jiff::tz::db().get("Europe/Berlin").unwrap();
        assert_eq!(Timestamp::parse_in("2026-11-20 14:05 Europe/Berlin", &TimeZone::UTC), Some(utc));
        assert_eq!(Timestamp::parse_in("2026-11-20 14:05 +01:00", &TimeZone::UTC), Some(utc));
        assert_eq!(Timestamp::parse_in("2026-11-20T14:05+01:00", &TimeZone::UTC), Some(utc));
        // A civil time is read in the zone asked for (--tz, TZ).
        assert_eq!(Timestamp::parse_in("2026-11-20 14:05", &berlin), Some(utc));
        // Summer time: +02:00 in July.
        assert_eq!(
            Timestamp::parse_in("2026-07-01 14:05 Europe/Berlin", &TimeZone::UTC).unwrap().to_string(),
            "2026-07-01T12:05:00Z"
        );
        assert_eq!(utc.in_zone(&berlin), "2026-11-20 14:05:00 CET (+01:00)");
        assert!(user_zone(Some("Mars/Olympus")).is_err());
        assert_eq!(user_zone(Some("+05:30")).unwrap().to_offset(jiff::Timestamp::UNIX_EPOCH).seconds(), 19_800);
    }

    #[test]
    fn relative_times() {
        let now = Timestamp::parse("2026-11-23T12:00:00Z").unwrap();
        let utc = &TimeZone::UTC;
        assert_eq!(Timestamp::parse_relative("2h ago", now, utc).unwrap().to_string(), "2026-11-23T10:00:00Z");
        assert_eq!(Timestamp::parse_relative("3 days ago", now, utc).unwrap().to_string(), "2026-11-20T12:00:00Z");
        assert_eq!(Timestamp::parse_relative("now", now, utc), Some(now));
        assert_eq!(Timestamp::parse_relative("yesterday 14:05", now, utc).unwrap().to_string(), "2026-11-22T14:05:00Z");
        let berlin = jiff::tz::db().get("Europe/Berlin").unwrap();
        assert_eq!(
            Timestamp::parse_relative("yesterday 14:05", now, &berlin).unwrap().to_string(),
            "2026-11-22T13:05:00Z"
        );
        assert_eq!(Timestamp::parse_relative("today", now, utc).unwrap().to_string(), "2026-11-23T00:00:00Z");
        assert_eq!(Timestamp::parse_relative("last tuesday", now, utc), None);
        assert_eq!(human_duration(3 * 86_400 + 4 * 3600 + 5), "3d 4h");
        assert_eq!(human_duration(125), "2m 5s");
    }
}
