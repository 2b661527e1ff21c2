//! Rewriting production hosts inside values: `prod_hosts` patterns (exact
//! hosts, `*.domain`, IPv4 CIDR) found anywhere in a value are replaced by
//! their `[sanitize.hosts]` alias or by an unresolvable `<host>.prodbox.invalid`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Rewrites every production host in `value`; returns the new value and the
/// hosts it replaced, or `None` when nothing matched. Allocates only on a match.
pub fn rewrite<'v>(
    value: &'v str,
    prod_hosts: &[String],
    aliases: &BTreeMap<String, String>,
) -> Option<(String, Vec<&'v str>)> {
    if prod_hosts.is_empty() {
        return None;
    }
    let bytes = value.as_bytes();
    let is_host = |b: u8| HOST_BYTES[usize::from(b)];
    // Names with a dot (and addresses) are what the patterns match, unless
    // one of them is a bare name (`db-prod`).
    let dotless_patterns = prod_hosts.iter().any(|p| !super::has_byte(p.as_bytes(), b'.'));
    // A loop, not `contains`: most values are short, and memchr's set-up
    // cost more than the search.
    if !dotless_patterns && !super::has_byte(bytes, b'.') {
        return None;
    }
    let mut out: Option<String> = None;
    let mut replaced = Vec::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !is_host(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut dot = false;
        while i < bytes.len() && is_host(bytes[i]) {
            dot |= bytes[i] == b'.';
            i += 1;
        }
        // A name without a dot matches no pattern with one (a trailing dot
        // is trimmed below; such a name fails every dotted pattern anyway).
        if !(dotless_patterns || dot) {
            continue;
        }
        let token = value[start..i].trim_end_matches('.');
        if prod_hosts.iter().any(|p| host_matches(p, token)) {
            let o = out.get_or_insert_with(|| String::with_capacity(value.len() + 32));
            o.push_str(&value[copied..start]);
            match aliases.iter().find(|(k, _)| k.eq_ignore_ascii_case(token)) {
                Some((_, alias)) => o.push_str(alias),
                None => {
                    o.push_str(token);
                    o.push_str(".prodbox.invalid");
                }
            }
            copied = start + token.len();
            replaced.push(token);
        }
    }
    let mut o = out?;
    o.push_str(&value[copied..]);
    Some((o, replaced))
}

/// Letters, digits, `.` and `-`: the bytes of a host name or address.
static HOST_BYTES: [bool; 256] = super::alphanumeric_or(b".-");

/// Whether `host` is covered by `pattern` (`api.example.com`, `*.example.com`, `10.20.0.0/16`).
pub fn host_matches(pattern: &str, host: &str) -> bool {
    if let Some(domain) = pattern.strip_prefix("*.") {
        return host.len() > domain.len() + 1
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
            && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain);
    }
    if super::has_byte(pattern.as_bytes(), b'/') {
        let Some((net, bits)) = pattern.split_once('/') else { return false };
        if !host.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            return false;
        }
        let (Ok(net), Ok(bits), Ok(ip)) = (net.parse::<Ipv4Addr>(), bits.parse::<u32>(), host.parse::<Ipv4Addr>())
        else {
            return false;
        };
        let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits.min(32)) };
        return u32::from(net) & mask == u32::from(ip) & mask;
    }
    pattern.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_hosts_in_urls_lists_and_addresses() {
        let prod = vec!["*.example.com".to_string(), "10.20.0.0/16".to_string()];
        let aliases = BTreeMap::from([("payments.example.com".to_string(), "payments-stub".to_string())]);
        let (v, hosts) = rewrite("https://payments.example.com/v1", &prod, &aliases).unwrap();
        assert_eq!(v, "https://payments-stub/v1");
        assert_eq!(hosts, vec!["payments.example.com"]);
        let (v, _) = rewrite("a.example.com:9092,10.20.3.4:9092", &prod, &aliases).unwrap();
        assert_eq!(v, "a.example.com.prodbox.invalid:9092,10.20.3.4.prodbox.invalid:9092");
        assert!(rewrite("https://example.org/x 10.21.0.1", &prod, &aliases).is_none());
    }
}
