//! Value parsers for command-line arguments that are not names (those are in
//! [`name`](crate::name)): clap refuses a bad value with exit 2 before any
//! work starts, so no command ever sees an empty or unusable one.

/// A value that must not be empty or only blanks (`--revision ""` would match
/// every revision; `--candidate ""` names no image).
pub fn non_empty(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        Err("must not be empty".into())
    } else if value.chars().any(char::is_control) {
        Err(format!("{value:?} holds a control character"))
    } else {
        Ok(value.to_string())
    }
}

/// A probe target for `verify --target`: `HOST:PORT` with a port 1–65535
/// and a host that is an IPv4 address, a bracketed IPv6 address or a DNS
/// name. A target that cannot be probed could never be reported blocked.
pub fn probe_target(value: &str) -> Result<String, String> {
    let bad = |why: &str| Err(format!("{value:?}: {why}; want HOST:PORT, e.g. 10.0.0.5:443 or [fd00::1]:5432"));
    let Some((host, port)) = value.rsplit_once(':') else { return bad("no port") };
    match port.parse::<u16>() {
        Ok(p) if p > 0 => {}
        _ => return bad("the port is not 1-65535"),
    }
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        v6.split('%').next().is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok())
    } else if host.parse::<std::net::Ipv4Addr>().is_ok() {
        true
    } else {
        dns_name(host)
    };
    if host_ok {
        Ok(value.to_string())
    } else {
        bad("the host is not an address or a DNS name")
    }
}

/// A DNS name: dot-separated labels of letters, digits and `-`, none empty,
/// none starting or ending with `-`, at most 253 bytes; not all digits (that
/// would be a malformed IPv4 address).
fn dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && !host.split('.').all(|l| l.bytes().all(|b| b.is_ascii_digit()))
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_targets_must_be_probeable() {
        for good in ["127.0.0.1:80", "db:5432", "[fd00::1]:443", "[fe80::1%eth0]:22", "a.example.com:1"] {
            assert_eq!(probe_target(good).unwrap(), good);
        }
        for bad in [
            "not a target",
            "127.0.0.1",
            "127.0.0.1:0",
            "127.0.0.1:70000",
            ":80",
            "host:",
            "1.2.3:80",
            "999.1.1.1:80",
            "[zz]:80",
            "fd00::1:80",
            "a..b:80",
            "-a:80",
            "a b:80",
            "",
        ] {
            assert!(probe_target(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn empty_values_are_refused() {
        for bad in ["", "  ", "a\nb", "\0"] {
            assert!(non_empty(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(non_empty("9f1c").unwrap(), "9f1c");
    }
}
