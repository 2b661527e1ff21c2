//! Image references: `registry/repository[:tag][@sha256:…]`, parsed the way
//! the registries and the engine read them (through oci-client's `Reference`).

use std::fmt;

use oci_client::Reference;

/// A parsed image reference, normalized (`busybox` → `docker.io/library/busybox`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// Whether `reference` names its registry explicitly, as Docker reads it: a
/// first path part holding `.` or `:`, or `localhost`. `checkout:fix` and
/// `shop/checkout` do not (Docker would take them from Docker Hub).
pub fn names_registry(reference: &str) -> bool {
    match reference.split_once('/') {
        Some((first, _)) => first.contains(['.', ':']) || first == "localhost",
        None => false,
    }
}

/// Builds the reference grammar (a large regex, compiled on first use:
/// tens of milliseconds) on a thread of its own, so a command that parses
/// references soon finds it ready instead of compiling it on its path.
pub fn warm_up() {
    std::thread::spawn(|| {
        let _ = "localhost/warm:up".parse::<Reference>();
    });
}

/// The common case read without the grammar: a reference that names its
/// registry (`host[:port]/path[:tag][@sha256:<64 hex>]`, ASCII, not Docker
/// Hub), checked against the same rules as the grammar's, so it reads as the
/// grammar would. `None` for anything else (the grammar then decides): the
/// grammar is a large regex whose compiling, tenths of a second on a busy
/// machine, sat on `up`'s way to its first engine request.
fn parse_qualified(s: &str) -> Option<ImageRef> {
    let (rest, digest) = match s.split_once('@') {
        Some((rest, d)) => {
            let hex = d.strip_prefix("sha256:")?;
            let lower_hex = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            (rest, Some(d.to_string()).filter(|_| lower_hex)?.into())
        }
        None => (s, None),
    };
    let (name, tag) = match (rest.rfind(':'), rest.rfind('/')) {
        (Some(colon), Some(slash)) if colon > slash => (&rest[..colon], Some(&rest[colon + 1..])),
        (_, Some(_)) => (rest, None),
        _ => return None,
    };
    if let Some(tag) = tag {
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let ok = tag.len() <= 128
            && tag.bytes().next().is_some_and(word)
            && tag.bytes().all(|b| word(b) || b == b'.' || b == b'-');
        if !ok {
            return None;
        }
    }
    let (domain, repository) = name.split_once('/')?;
    if !(domain.contains(['.', ':']) || domain == "localhost") || domain == "docker.io" || domain == "index.docker.io" {
        return None;
    }
    let (host, port) = match domain.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    let host_ok = host.split('.').all(|c| {
        !c.is_empty()
            && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !c.starts_with('-')
            && !c.ends_with('-')
    });
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !host_ok || !port_ok || repository.len() > 255 || !repository.split('/').all(path_component) {
        return None;
    }
    Some(ImageRef {
        registry: domain.to_string(),
        repository: repository.to_string(),
        // The grammar's default when neither is given.
        tag: tag.map(str::to_string).or_else(|| digest.is_none().then(|| "latest".to_string())),
        digest,
    })
}

/// Whether `reference` is read without the reference grammar ([`ImageRef::parse`]'s quick path).
pub fn reads_without_grammar(reference: &str) -> bool {
    parse_qualified(reference).is_some()
}

/// A path component as the grammar has it: lowercase letters and digits,
/// separated by one `.`, one `_`, `__` or dashes.
fn path_component(c: &str) -> bool {
    let bytes = c.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(alnum) || !bytes.last().is_some_and(alnum) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(&bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(&bytes[i]) {
            i += 1;
        }
        match &c[start..i] {
            "." | "_" | "__" => {}
            sep if sep.bytes().all(|b| b == b'-') => {}
            _ => return false,
        }
    }
    true
}

impl ImageRef {
    /// Parses a reference; the error says what is wrong without echoing much.
    pub fn parse(s: &str) -> Result<ImageRef, String> {
        if let Some(quick) = parse_qualified(s) {
            return Ok(quick);
        }
        let r: Reference = s.parse().map_err(|e| format!("is not an image reference ({e})"))?;
        if let Some(d) = r.digest() {
            if !crate::digest::is_sha256_digest(d) {
                return Err("has a digest that is not sha256:<64 lowercase hex>".into());
            }
        }
        Ok(ImageRef {
            registry: r.registry().to_string(),
            repository: r.repository().to_string(),
            tag: r.tag().map(str::to_string),
            digest: r.digest().map(str::to_string),
        })
    }

    /// `registry/repository`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// `registry/repository@digest` (or `:tag` when there is no digest).
    pub fn pinned(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => format!("{}@{d}", self.name()),
            (None, Some(t)) => format!("{}:{t}", self.name()),
            (None, None) => self.name(),
        }
    }

    /// The oci-client form.
    pub fn to_reference(&self) -> Reference {
        match (&self.digest, &self.tag) {
            (Some(d), _) => Reference::with_digest(self.registry.clone(), self.repository.clone(), d.clone()),
            (None, Some(t)) => Reference::with_tag(self.registry.clone(), self.repository.clone(), t.clone()),
            (None, None) => Reference::with_tag(self.registry.clone(), self.repository.clone(), "latest".into()),
        }
    }

    /// Whether the registry is on this machine's loopback (plain HTTP is allowed there).
    pub fn is_loopback_registry(&self) -> bool {
        let host = host_of(&self.registry);
        host == "localhost" || host == "[::1]" || host.starts_with("127.")
    }
}

/// The host part of `host[:port]`, IPv6 brackets kept.
pub fn host_of(registry: &str) -> &str {
    if registry.starts_with('[') {
        return registry.split_once(']').map(|(h, _)| &registry[..h.len() + 1]).unwrap_or(registry);
    }
    registry.split(':').next().unwrap_or(registry)
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pinned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_explicit_registry_is_named() {
        for local in ["checkout:fix", "shop/checkout:fix", "checkout", "checkout@sha256:ab", "Checkout:x"] {
            assert!(!names_registry(local), "{local}");
        }
        for remote in [
            "localhost/x",
            "localhost:5000/x:1",
            "127.0.0.1:5000/x",
            "registry.example.com/a/b:c",
            "docker.io/library/x",
        ] {
            assert!(names_registry(remote), "{remote}");
        }
    }

    #[test]
    fn normalizes_and_pins() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse(&format!("127.0.0.1:5000/shop/checkout@{d}")).unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "shop/checkout");
        assert!(r.is_loopback_registry());
        assert_eq!(r.pinned(), format!("127.0.0.1:5000/shop/checkout@{d}"));
        let r = ImageRef::parse("busybox").unwrap();
        assert_eq!(r.name(), "docker.io/library/busybox");
        assert!(!r.is_loopback_registry());
        assert!(ImageRef::parse("r/x@sha256:abc").is_err());
    }

    /// What the grammar makes of `s`, without the quick path.
    fn by_grammar(s: &str) -> Option<ImageRef> {
        let r: Reference = s.parse().ok()?;
        Some(ImageRef {
            registry: r.registry().to_string(),
            repository: r.repository().to_string(),
            tag: r.tag().map(str::to_string),
            digest: r.digest().map(str::to_string),
        })
    }

    #[test]
    fn the_quick_path_reads_as_the_grammar_does() {
        let d = format!("sha256:{}", "0123456789abcdef".repeat(4));
        let mut accepted = 0;
        for name in [
            "127.0.0.1:5000/shop/checkout",
            "localhost/x",
            "localhost:5000/a/b/c",
            "registry.example.com/a__b/c-d/e.f",
            "reg-1.example.com/a---b",
            "Reg.Example.com/x",
            "a.b/c",
            "ghcr.io/org/app_1",
            // Not the grammar's (or not the quick path's): both must agree or the quick path steps aside.
            "-reg.example.com/x",
            "reg.example.com/A",
            "reg.example.com/a..b",
            "reg.example.com/a._b",
            "reg.example.com/a___b",
            "reg.example.com/_a",
            "reg.example.com/a/",
            "reg.example.com//a",
            "reg..example.com/a",
            "reg.example.com:/a",
            "reg.example.com:12a/a",
            "docker.io/library/busybox",
            "index.docker.io/busybox",
            "shop/checkout",
            "busybox",
            "localhost",
            "localhost:5000",
            "[::1]:5000/a",
            "réG.example.com/a",
        ] {
            for suffix in [
                String::new(),
                ":1.0".to_string(),
                ":v_1-2".to_string(),
                ":.bad".to_string(),
                ":tag-é".to_string(),
                format!(":{}", "t".repeat(129)),
                format!("@{d}"),
                format!(":1@{d}"),
                "@sha256:ABC".to_string(),
                format!("@sha256:{}", "A".repeat(64)),
                format!("@sha512:{}", "a".repeat(128)),
            ] {
                let s = format!("{name}{suffix}");
                if let Some(quick) = parse_qualified(&s) {
                    accepted += 1;
                    assert_eq!(Some(quick), by_grammar(&s), "{s}");
                }
            }
        }
        // The eight good names with each of the five good suffixes.
        assert_eq!(accepted, 40);
    }
}
