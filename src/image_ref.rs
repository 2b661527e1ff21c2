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

impl ImageRef {
    /// Parses a reference; the error says what is wrong without echoing much.
    pub fn parse(s: &str) -> Result<ImageRef, String> {
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
}
