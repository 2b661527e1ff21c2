//! Rewriting production hosts inside values: `prod_hosts` patterns (exact
//! hosts, `*.domain`, IPv4 CIDR) found anywhere in a value are replaced by
//! their `[sanitize.hosts]` alias or by an unresolvable `<host>.prodbox.invalid`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Rewrites every production host in `value`; returns the new value and the
/// hosts it replaced, or `None` when nothing matched.
pub fn rewrite(
    value: &str,
    prod_hosts: &[String],
    aliases: &BTreeMap<String, String>,
) -> Option<(String, Vec<String>)> {
    if prod_hosts.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    let mut replaced = Vec::new();
    let mut token_start = None;
    let is_host_char = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    let chars: Vec<(usize, char)> = value.char_indices().collect();
    for (i, &(at, c)) in chars.iter().enumerate() {
        if is_host_char(c) {
            token_start.get_or_insert(at);
        }
        let end_here = !is_host_char(c) || i == chars.len() - 1;
        if end_here {
            if let Some(start) = token_start.take() {
                let end = if is_host_char(c) { at + c.len_utf8() } else { at };
                let token = value[start..end].trim_end_matches('.');
                let tail = &value[start + token.len()..end];
                if prod_hosts.iter().any(|p| host_matches(p, token)) {
                    let alias = aliases.get(token).cloned().unwrap_or_else(|| format!("{token}.prodbox.invalid"));
                    replaced.push(token.to_string());
                    out.push_str(&alias);
                } else {
                    out.push_str(token);
                }
                out.push_str(tail);
            }
            if !is_host_char(c) {
                out.push(c);
            }
        }
    }
    if replaced.is_empty() {
        None
    } else {
        Some((out, replaced))
    }
}

/// Whether `host` is covered by `pattern` (`api.example.com`, `*.example.com`, `10.20.0.0/16`).
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let (p, h) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    if let Some(domain) = p.strip_prefix("*.") {
        return h.ends_with(&format!(".{domain}"));
    }
    if let Some((net, bits)) = p.split_once('/') {
        let (Ok(net), Ok(bits), Ok(ip)) = (net.parse::<Ipv4Addr>(), bits.parse::<u32>(), h.parse::<Ipv4Addr>()) else {
            return false;
        };
        let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits.min(32)) };
        return u32::from(net) & mask == u32::from(ip) & mask;
    }
    p == h
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
