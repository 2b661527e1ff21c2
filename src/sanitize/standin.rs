//! Stand-ins: what a redacted value becomes. Where the shape is known the
//! stand-in has it (a JWT that parses, a PEM block, a key with the same
//! prefix, length and alphabet, a URL whose password is local), so the
//! application still starts; it never holds any of the secret's characters
//! beyond the format's own markers (prefixes, PEM armour).

use super::detect::{Charset, Finding, Shape};
use super::REDACTED;

/// A local password for credentials in URLs and connection strings.
pub const LOCAL_PASSWORD: &str = "prodbox";

/// Replaces every finding in `value` with its stand-in.
pub fn replace(value: &str, findings: &[Finding]) -> String {
    let mut out = String::with_capacity(value.len());
    let mut at = 0;
    for f in findings {
        out.push_str(&value[at..f.span.start]);
        push_standin(&mut out, &f.shape);
        at = f.span.end;
    }
    out.push_str(&value[at..]);
    out
}

/// The stand-in for one shape.
pub fn standin(shape: &Shape) -> String {
    let mut out = String::new();
    push_standin(&mut out, shape);
    out
}

/// Appends the stand-in for one shape to `out` (no allocation of its own:
/// this runs for every redacted value).
fn push_standin(out: &mut String, shape: &Shape) {
    match shape {
        Shape::Prefixed { prefix, charset, len } => {
            out.push_str(prefix);
            push_filler(out, *charset, *len);
        }
        Shape::Jwt => out.push_str(JWT),
        Shape::Pem { label } => {
            for part in [
                "-----BEGIN ",
                label.as_str(),
                "-----\n",
                "cHJvZGJveC1yZWRhY3RlZA==",
                "\n-----END ",
                label.as_str(),
                "-----",
            ] {
                out.push_str(part);
            }
        }
        Shape::Password => out.push_str(LOCAL_PASSWORD),
        Shape::BotSecret { len } => push_filler(out, Charset::Token, *len),
        Shape::Opaque => out.push_str(REDACTED),
    }
}

/// `{"alg":"HS256","typ":"JWT"}.{"sub":"prodbox-redacted","iat":0}.<signature>`:
/// parses as a JWT, verifies against nothing.
pub const JWT: &str =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJwcm9kYm94LXJlZGFjdGVkIiwiaWF0IjowfQ.cHJvZGJveC1yZWRhY3RlZC1zaWduYXR1cmU";

/// `len` characters of `charset` spelling "prodboxredacted…" as far as the
/// alphabet allows, so a stand-in is recognisable and passes format checks.
fn push_filler(out: &mut String, charset: Charset, len: usize) {
    let source = match charset {
        Charset::UpperAlnum => "PRODBOXREDACTED0",
        Charset::Hex => "0bad0bad0bad0bad",
        Charset::Path => "prodbox/redacted",
        _ => "prodboxREDACTED0",
    };
    out.reserve(len);
    let mut left = len;
    while left > 0 {
        let n = left.min(source.len());
        out.push_str(&source[..n]); // ASCII: any cut is a char boundary
        left -= n;
    }
}

#[cfg(test)]
mod tests {
    use super::super::detect::find_all;
    use super::*;

    #[test]
    fn stand_ins_keep_the_shape_and_none_of_the_secret() {
        for (secret, want_prefix) in [
            ("AKIAIOSFODNN7EXAMPLE", "AKIA"),
            ("ghp_16C7e42F292c6912E7710c838347Ae178B4a", "ghp_"),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_"),
        ] {
            let f = find_all(secret);
            let out = replace(secret, &f);
            assert!(out.starts_with(want_prefix), "{out}");
            assert_eq!(out.len(), secret.len(), "{out}");
            assert_ne!(out, secret);
            let tail = &secret[want_prefix.len()..];
            assert!(!out.contains(tail), "{out}");
        }
        let url = "postgres://shop:pr0d-Pa55@db:5432/shop";
        assert_eq!(replace(url, &find_all(url)), "postgres://shop:prodbox@db:5432/shop");
        // A JWT is replaced by one that still parses: three base64url parts, a JSON header.
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIiwicm9sZSI6ImFkbWluIn0.c2lnbmF0dXJlLW9mLXByb2R1Y3Rpb24";
        let out = replace(jwt, &find_all(jwt));
        assert_ne!(out, jwt);
        let parts: Vec<&str> = out.split('.').collect();
        assert_eq!(parts.len(), 3, "{out}");
        use base64::Engine as _;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[0]).expect("base64url");
        assert!(serde_json::from_slice::<serde_json::Value>(&header).is_ok(), "{out}");
        assert!(!out.contains("c2lnbmF0dXJlLW9mLXByb2R1Y3Rpb24"));
    }
}
