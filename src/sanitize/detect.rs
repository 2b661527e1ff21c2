//! Detectors: does a name, or part of a value, look secret?
//!
//! The value rules are data ([`TOKEN_RULES`]): an id the report names, the
//! prefixes that mark the format, the characters and length of its body —
//! the formats secret scanners such as gitleaks and trufflehog know. A few
//! formats need a parser instead (JWT, PEM, URL and key=value credentials,
//! bot tokens); the entropy test catches random keys without a known prefix.
//! Each finding carries its [`Shape`] so a stand-in of the same shape can
//! replace it. No regex engine: a prefix scan keeps 10 MB of config fast.

use std::ops::Range;

use super::glob;

/// Names that mark a value secret, whatever the value.
pub const SECRET_NAMES: &[&str] = &[
    "*PASSWORD*",
    "*PASSWD*",
    "*PASSPHRASE*",
    "*SECRET*",
    "*TOKEN*",
    "*_KEY",
    "*-KEY",
    "*.KEY",
    "KEY",
    "*APIKEY*",
    "*API_KEY*",
    "*ACCESS_KEY*",
    "*PRIVATE*",
    "*CREDENTIAL*",
    "*AUTH*",
    "*DSN*",
    "*SIGNING*",
    "*SALT*",
    "*COOKIE*",
    "*SESSION_KEY*",
    "*CONNECTION_STRING*",
    "*CONN_STR*",
    "PWD",
    "*_PWD",
];

/// Names that match a pattern above but are known not to hold secrets.
const NOT_SECRET_NAMES: &[&str] =
    &["*_TOKEN_URL", "*_AUTH_URL", "*AUTHOR*", "*_KEY_ID", "*TOKEN_TTL*", "*_KEY_PATH", "*_KEY_FILE", "*AUTH_METHOD*"];

/// The secret-name pattern `name` matches, if any.
pub fn secret_name(name: &str) -> Option<&'static str> {
    // Config files repeat the same keys thousands of times: remember answers.
    thread_local! {
        static SEEN: std::cell::RefCell<std::collections::HashMap<String, Option<&'static str>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    if let Some(hit) = SEEN.with(|seen| seen.borrow().get(name).copied()) {
        return hit;
    }
    let names = name_matcher();
    let answer = if names.not_secret.first_match(name).is_some() { None } else { names.secret.first_match(name) };
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if seen.len() >= 4096 {
            seen.clear();
        }
        seen.insert(name.to_string(), answer);
    });
    answer
}

/// Name patterns compiled once: `*WORD*` patterns become one case-insensitive
/// Aho-Corasick search, the rest go through the glob. (It runs for every
/// key of every config file.)
struct NameMatcher {
    secret: PatternSet,
    not_secret: PatternSet,
}

struct PatternSet {
    contains: aho_corasick::AhoCorasick,
    contains_patterns: Vec<&'static str>,
    others: Vec<&'static str>,
}

impl PatternSet {
    fn new(patterns: &'static [&'static str]) -> PatternSet {
        let (contains_patterns, others): (Vec<&'static str>, Vec<&'static str>) = patterns
            .iter()
            .partition(|p| p.len() > 2 && p.starts_with('*') && p.ends_with('*') && !p[1..p.len() - 1].contains('*'));
        let words: Vec<&str> = contains_patterns.iter().map(|p| &p[1..p.len() - 1]).collect();
        let contains =
            aho_corasick::AhoCorasick::builder().ascii_case_insensitive(true).build(words).expect("static patterns");
        PatternSet { contains, contains_patterns, others }
    }

    fn first_match(&self, name: &str) -> Option<&'static str> {
        if let Some(m) = self.contains.find(name) {
            return Some(self.contains_patterns[m.pattern().as_usize()]);
        }
        self.others.iter().copied().find(|p| glob::matches(p, name))
    }
}

fn name_matcher() -> &'static NameMatcher {
    static NAMES: std::sync::OnceLock<NameMatcher> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| NameMatcher {
        secret: PatternSet::new(SECRET_NAMES),
        not_secret: PatternSet::new(NOT_SECRET_NAMES),
    })
}

/// The characters a token's body may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// A–Z, 0–9.
    UpperAlnum,
    /// a–z, A–Z, 0–9.
    Alnum,
    /// Alnum plus `-` and `_` (base64url).
    Token,
    /// Token plus `.`.
    Dotted,
    /// 0–9, a–f (either case).
    Hex,
    /// URL path characters.
    Path,
}

impl Charset {
    /// Whether `c` belongs.
    pub fn has(self, c: char) -> bool {
        match self {
            Charset::UpperAlnum => c.is_ascii_uppercase() || c.is_ascii_digit(),
            Charset::Alnum => c.is_ascii_alphanumeric(),
            Charset::Token => c.is_ascii_alphanumeric() || c == '-' || c == '_',
            Charset::Dotted => c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.',
            Charset::Hex => c.is_ascii_hexdigit(),
            Charset::Path => c.is_ascii_alphanumeric() || "-_./@".contains(c),
        }
    }
}

/// A token format: prefix, then `min..=max` characters of `body`.
#[derive(Debug)]
pub struct TokenRule {
    pub id: &'static str,
    pub prefixes: &'static [&'static str],
    pub body: Charset,
    pub min: usize,
    pub max: usize,
}

/// Known token formats, most specific first.
#[rustfmt::skip]
pub const TOKEN_RULES: &[TokenRule] = &[
    TokenRule { id: "aws-access-key-id", prefixes: &["AKIA", "ASIA", "ABIA", "ACCA"], body: Charset::UpperAlnum, min: 16, max: 16 },
    TokenRule { id: "github-token", prefixes: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], body: Charset::Alnum, min: 30, max: 255 },
    TokenRule { id: "github-fine-grained-token", prefixes: &["github_pat_"], body: Charset::Token, min: 50, max: 255 },
    TokenRule { id: "gitlab-token", prefixes: &["glpat-", "gldt-", "glrt-", "glptt-"], body: Charset::Token, min: 20, max: 64 },
    TokenRule { id: "npm-token", prefixes: &["npm_"], body: Charset::Alnum, min: 36, max: 36 },
    TokenRule { id: "pypi-token", prefixes: &["pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBp"], body: Charset::Token, min: 40, max: 500 },
    TokenRule { id: "slack-token", prefixes: &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-", "xapp-"], body: Charset::Token, min: 10, max: 255 },
    TokenRule { id: "slack-webhook", prefixes: &["https://hooks.slack.com/services/", "https://hooks.slack.com/workflows/"], body: Charset::Path, min: 20, max: 255 },
    TokenRule { id: "discord-webhook", prefixes: &["https://discord.com/api/webhooks/", "https://discordapp.com/api/webhooks/"], body: Charset::Path, min: 20, max: 255 },
    TokenRule { id: "teams-webhook", prefixes: &["https://outlook.office.com/webhook/"], body: Charset::Path, min: 20, max: 400 },
    TokenRule { id: "stripe-key", prefixes: &["sk_live_", "rk_live_", "sk_test_", "rk_test_", "whsec_"], body: Charset::Alnum, min: 16, max: 255 },
    TokenRule { id: "anthropic-key", prefixes: &["sk-ant-"], body: Charset::Token, min: 32, max: 255 },
    TokenRule { id: "openai-key", prefixes: &["sk-proj-", "sk-svcacct-", "sk-"], body: Charset::Token, min: 32, max: 255 },
    TokenRule { id: "google-api-key", prefixes: &["AIza"], body: Charset::Token, min: 35, max: 35 },
    TokenRule { id: "google-oauth-secret", prefixes: &["GOCSPX-"], body: Charset::Token, min: 24, max: 40 },
    TokenRule { id: "sendgrid-key", prefixes: &["SG."], body: Charset::Dotted, min: 60, max: 80 },
    TokenRule { id: "mailgun-key", prefixes: &["key-"], body: Charset::Hex, min: 32, max: 32 },
    TokenRule { id: "twilio-api-key", prefixes: &["SK"], body: Charset::Hex, min: 32, max: 32 },
    TokenRule { id: "shopify-token", prefixes: &["shpat_", "shpss_", "shpca_", "shppa_"], body: Charset::Hex, min: 32, max: 32 },
    TokenRule { id: "square-token", prefixes: &["sq0atp-", "sq0csp-"], body: Charset::Token, min: 22, max: 60 },
    TokenRule { id: "digitalocean-token", prefixes: &["dop_v1_", "doo_v1_", "dor_v1_"], body: Charset::Hex, min: 64, max: 64 },
    TokenRule { id: "vault-token", prefixes: &["hvs.", "hvb."], body: Charset::Token, min: 24, max: 255 },
    TokenRule { id: "doppler-token", prefixes: &["dp.pt.", "dp.st.", "dp.sa.", "dp.ct."], body: Charset::Alnum, min: 40, max: 50 },
    TokenRule { id: "linear-key", prefixes: &["lin_api_"], body: Charset::Alnum, min: 40, max: 40 },
    TokenRule { id: "databricks-token", prefixes: &["dapi"], body: Charset::Hex, min: 32, max: 32 },
    TokenRule { id: "age-secret-key", prefixes: &["AGE-SECRET-KEY-1"], body: Charset::UpperAlnum, min: 58, max: 58 },
    TokenRule { id: "huggingface-token", prefixes: &["hf_"], body: Charset::Alnum, min: 34, max: 40 },
    TokenRule { id: "datadog-key", prefixes: &["ddapi_", "ddapp_"], body: Charset::Alnum, min: 30, max: 60 },
];

/// What a finding looks like, so its stand-in can look the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// A known prefix, then `len` characters of `charset`.
    Prefixed { prefix: &'static str, charset: Charset, len: usize },
    /// A JSON Web Token.
    Jwt,
    /// A PEM block; the label (`RSA PRIVATE KEY`) is the format, not the secret.
    Pem { label: String },
    /// A password (in a URL's userinfo or a `Password=…` pair): the span is the password alone.
    Password,
    /// A bot token `digits:secret`: the span is the secret part.
    BotSecret { len: usize },
    /// Anything else: replaced by `prodbox-redacted`.
    Opaque,
}

/// A secret found inside a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub span: Range<usize>,
    pub shape: Shape,
}

/// The shortest secret a token rule, JWT, bot token or the entropy test can
/// find (`xoxb-` and ten characters).
const SHORTEST_TOKEN: usize = 15;

/// What one pattern of the scanner stands for.
#[derive(Clone, Copy)]
enum Marker {
    /// `TOKEN_RULES[rule]`, with this prefix.
    Prefix(usize, &'static str),
    Pem,
    Url,
    Jwt,
}

/// One pass over a value finds every prefix and marker (Aho-Corasick), so
/// the cost does not grow with the number of rules.
struct Scanner {
    markers: aho_corasick::AhoCorasick,
    kinds: Vec<Marker>,
    passwords: aho_corasick::AhoCorasick,
}

fn scanner() -> &'static Scanner {
    static SCANNER: std::sync::OnceLock<Scanner> = std::sync::OnceLock::new();
    SCANNER.get_or_init(|| {
        let mut patterns: Vec<&'static str> = Vec::new();
        let mut kinds = Vec::new();
        for (i, rule) in TOKEN_RULES.iter().enumerate() {
            for prefix in rule.prefixes {
                patterns.push(prefix);
                kinds.push(Marker::Prefix(i, prefix));
            }
        }
        for (p, k) in [("-----BEGIN ", Marker::Pem), ("://", Marker::Url), ("eyJ", Marker::Jwt)] {
            patterns.push(p);
            kinds.push(k);
        }
        Scanner {
            markers: aho_corasick::AhoCorasick::new(&patterns).expect("static patterns"),
            kinds,
            passwords: aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(PASSWORD_KEYS)
                .expect("static patterns"),
        }
    })
}

/// Every secret in `value`, left to right, not overlapping.
pub fn find_all(value: &str) -> Vec<Finding> {
    let sc = scanner();
    let mut found = Vec::new();
    // Below this length only credentials in a URL or a key=value pair fit;
    // most config values are that short, so skip the full scan.
    if value.len() < SHORTEST_TOKEN {
        if value.contains("://") {
            url_credentials(value, &mut found);
        }
        if value.contains('=') && sc.passwords.is_match(value) {
            key_value_passwords(value, &mut found);
        }
        return found;
    }
    let (mut pem, mut url, mut jwt) = (false, false, false);
    let mut prefixes: Vec<(usize, usize, &'static str)> = Vec::new();
    for m in sc.markers.find_overlapping_iter(value) {
        match sc.kinds[m.pattern().as_usize()] {
            Marker::Prefix(rule, prefix) => prefixes.push((m.start(), rule, prefix)),
            Marker::Pem => pem = true,
            Marker::Url => url = true,
            Marker::Jwt => jwt = true,
        }
    }
    if pem {
        pem_blocks(value, &mut found);
    }
    if url {
        url_credentials(value, &mut found);
    }
    if sc.passwords.is_match(value) {
        key_value_passwords(value, &mut found);
    }
    if !prefixes.is_empty() {
        prefixes.sort_unstable_by_key(|&(start, rule, _)| (start, rule));
        prefixed_tokens(value, &prefixes, &mut found);
    }
    if jwt {
        jwts(value, &mut found);
    }
    if value.contains(':') {
        bot_tokens(value, &mut found);
    }
    if value.contains("-us") {
        mailchimp_keys(value, &mut found);
    }
    high_entropy(value, &mut found);
    if found.len() > 1 {
        found.sort_by_key(|f| f.span.start);
        let mut out: Vec<Finding> = Vec::with_capacity(found.len());
        for f in found {
            if out.last().is_none_or(|last| f.span.start >= last.span.end) {
                out.push(f);
            }
        }
        return out;
    }
    found
}

/// The id of the first rule that fires on `value`, if any.
pub fn secret_value(value: &str) -> Option<&'static str> {
    find_all(value).first().map(|f| f.rule)
}

fn overlaps(found: &[Finding], span: &Range<usize>) -> bool {
    found.iter().any(|f| f.span.start < span.end && span.start < f.span.end)
}

fn boundary_before(value: &str, at: usize) -> bool {
    value[..at].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric())
}

/// Checks each (start, rule, prefix) hit: a boundary before it, a body of
/// the rule's characters and length after it.
fn prefixed_tokens(value: &str, hits: &[(usize, usize, &'static str)], found: &mut Vec<Finding>) {
    for &(start, rule_index, prefix) in hits {
        let rule = &TOKEN_RULES[rule_index];
        if !boundary_before(value, start) {
            continue;
        }
        let from = start + prefix.len();
        let body = value[from..].bytes().take_while(|&b| rule.body.has(b as char)).count();
        let ends_clean = value[from + body..].chars().next().is_none_or(|c| !c.is_ascii_alphanumeric());
        if body >= rule.min && body <= rule.max && ends_clean {
            let span = start..from + body;
            if !overlaps(found, &span) {
                found.push(Finding {
                    rule: rule.id,
                    span,
                    shape: Shape::Prefixed { prefix, charset: rule.body, len: body },
                });
            }
        }
    }
}

fn pem_blocks(value: &str, found: &mut Vec<Finding>) {
    let mut from = 0;
    while let Some(i) = value[from..].find("-----BEGIN ") {
        let start = from + i;
        let label_start = start + "-----BEGIN ".len();
        let Some(label_len) = value[label_start..].find("-----") else { break };
        let label = value[label_start..label_start + label_len].to_string();
        from = label_start + label_len;
        if !label.contains("PRIVATE KEY") {
            continue;
        }
        let end_marker = format!("-----END {label}-----");
        let end = value[from..].find(&end_marker).map(|j| from + j + end_marker.len()).unwrap_or(value.len());
        found.push(Finding { rule: "pem-private-key", span: start..end, shape: Shape::Pem { label } });
        from = end;
    }
}

/// `scheme://user:password@host`: the password; `scheme://<long key>@host`
/// (a DSN): the key.
fn url_credentials(value: &str, found: &mut Vec<Finding>) {
    for (at, _) in value.match_indices("://") {
        let start = at + 3;
        let authority_len = value[start..].find(|c: char| "/?# \"'\n\t,;".contains(c)).unwrap_or(value.len() - start);
        let authority = &value[start..start + authority_len];
        let Some(at_sign) = authority.rfind('@') else { continue };
        let userinfo = &authority[..at_sign];
        match userinfo.find(':') {
            Some(colon) if colon + 1 < userinfo.len() => {
                let span = start + colon + 1..start + at_sign;
                if !overlaps(found, &span) {
                    found.push(Finding { rule: "url-credentials", span, shape: Shape::Password });
                }
            }
            None if userinfo.len() >= 16 && userinfo.chars().all(|c| c.is_ascii_alphanumeric()) => {
                let span = start..start + at_sign;
                if !overlaps(found, &span) {
                    found.push(Finding { rule: "url-key", span, shape: Shape::Password });
                }
            }
            _ => {}
        }
    }
}

/// `Password=…;`, `pwd=…`, `AccountKey=…`, `SharedAccessKey=…` in connection strings.
/// Keys whose value in a `k=v;…` connection string is a secret.
const PASSWORD_KEYS: &[&str] = &["password=", "pwd=", "accountkey=", "sharedaccesskey=", "sharedsecret=", "secret="];

fn key_value_passwords(value: &str, found: &mut Vec<Finding>) {
    for m in scanner().passwords.find_iter(value) {
        {
            let i = m.start();
            if !boundary_before(value, i) {
                continue;
            }
            let start = m.end();
            let len = value[start..].find([';', '&', ' ', '\n', '"', '\'']).unwrap_or(value.len() - start);
            if len == 0 {
                continue;
            }
            let span = start..start + len;
            if !overlaps(found, &span) {
                found.push(Finding { rule: "connection-string-password", span, shape: Shape::Password });
            }
        }
    }
}

fn jwts(value: &str, found: &mut Vec<Finding>) {
    let mut from = 0;
    while let Some(i) = value[from..].find("eyJ") {
        let start = from + i;
        let len = value[start..].chars().take_while(|&c| Charset::Dotted.has(c)).count();
        from = start + len.max(3);
        let token = &value[start..start + len];
        let parts: Vec<&str> = token.split('.').collect();
        if boundary_before(value, start) && parts.len() == 3 && parts[1].len() >= 8 && parts[2].len() >= 8 {
            let span = start..start + len;
            if !overlaps(found, &span) {
                found.push(Finding { rule: "jwt", span, shape: Shape::Jwt });
            }
        }
    }
}

/// Telegram-style bot tokens: `123456789:AA…` (35 characters after the colon).
fn bot_tokens(value: &str, found: &mut Vec<Finding>) {
    for (i, _) in value.match_indices(':') {
        let digits = value[..i].chars().rev().take_while(char::is_ascii_digit).count();
        let secret = value[i + 1..].chars().take_while(|&c| Charset::Token.has(c)).count();
        let start = i - digits;
        if (8..=10).contains(&digits) && secret == 35 && boundary_before(value, start) {
            let span = i + 1..i + 1 + secret;
            if !overlaps(found, &span) {
                found.push(Finding { rule: "telegram-bot-token", span, shape: Shape::BotSecret { len: secret } });
            }
        }
    }
}

/// Mailchimp: 32 hex digits, `-us`, a data-centre number.
fn mailchimp_keys(value: &str, found: &mut Vec<Finding>) {
    for (i, _) in value.match_indices("-us") {
        let hex = value[..i].chars().rev().take_while(char::is_ascii_hexdigit).count();
        let dc = value[i + 3..].chars().take_while(char::is_ascii_digit).count();
        if hex == 32 && (1..=2).contains(&dc) && boundary_before(value, i - 32) {
            let span = i - 32..i + 3 + dc;
            if !overlaps(found, &span) {
                found.push(Finding { rule: "mailchimp-key", span, shape: Shape::Opaque });
            }
        }
    }
}

/// Minimum length of a token the entropy test looks at.
pub const ENTROPY_MIN_LEN: usize = 20;
/// Bits per character above which a mixed token is taken for a random key.
pub const ENTROPY_BITS: f64 = 3.7;

/// Long tokens of mixed letters and digits with high Shannon entropy: random
/// keys. Paths, URLs, UUIDs, hex digests under 40 characters, dotted names
/// and version strings stay.
fn high_entropy(value: &str, found: &mut Vec<Finding>) {
    let bytes = value.as_bytes();
    let is_token = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-');
    let mut i = 0;
    while i < bytes.len() {
        if !is_token(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_token(bytes[i]) {
            i += 1;
        }
        if i - start < ENTROPY_MIN_LEN {
            continue;
        }
        let token = &value[start..i];
        // Content digests (`sha256:<hex>`) name public content.
        let digest = value[..start].ends_with("sha256:") || value[..start].ends_with("sha512:");
        let span = start..i;
        if !digest && looks_random(token) && !overlaps(found, &span) {
            found.push(Finding { rule: "high-entropy", span, shape: Shape::Opaque });
        }
    }
}

/// The entropy test on one token.
pub fn looks_random(t: &str) -> bool {
    if t.len() < ENTROPY_MIN_LEN || t.starts_with('/') || t.contains("//") {
        return false;
    }
    let hex = t.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if hex && t.len() <= 40 {
        return false; // UUIDs, short hashes, commit ids
    }
    let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
    let letters = t.chars().filter(|c| c.is_ascii_alphabetic()).count();
    // Words joined by -, _ or / (feature-flag-names, snake_case, resource
    // paths) are not keys: each word short with at most one digit, or a number.
    let word_like = |w: &str| {
        w.chars().all(|c| c.is_ascii_digit())
            || (w.len() <= 12 && w.chars().filter(|c| c.is_ascii_digit()).count() <= 1)
    };
    if t.split(['-', '_', '/']).count() > 1 && t.split(['-', '_', '/']).all(word_like) {
        return false;
    }
    // Random keys mix letters and digits; identifiers and words rarely carry two digits.
    digits >= 2 && letters >= 2 && shannon(t) >= ENTROPY_BITS
}

/// Shannon entropy in bits per character.
pub fn shannon(s: &str) -> f64 {
    let mut counts = [0usize; 128];
    let mut n = 0usize;
    for b in s.bytes() {
        counts[(b & 0x7f) as usize] += 1;
        n += 1;
    }
    let n = n as f64;
    counts
        .iter()
        .filter(|&&k| k > 0)
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_only_the_secret() {
        let v = "postgres://shop:pr0d-Pa55@db.example.com:5432/shop";
        let f = find_all(v);
        assert_eq!(f.len(), 1);
        assert_eq!(&v[f[0].span.clone()], "pr0d-Pa55");
        let v = "Server=db;User Id=app;Password=hunter2;Encrypt=true";
        assert_eq!(&v[find_all(v)[0].span.clone()], "hunter2");
        let v = "token AKIAIOSFODNN7EXAMPLE, and ghp_16C7e42F292c6912E7710c838347Ae178B4a";
        let ids: Vec<_> = find_all(v).iter().map(|f| f.rule).collect();
        assert_eq!(ids, vec!["aws-access-key-id", "github-token"]);
    }

    #[test]
    fn secret_names() {
        for n in ["DB_PASSWORD", "STRIPE_KEY", "api_token", "AUTH_HEADER", "SENTRY_DSN", "PWD", "GITHUB_TOKEN"] {
            assert!(secret_name(n).is_some(), "{n}");
        }
        for n in ["LOG_LEVEL", "KEYBOARD_LAYOUT", "AUTHOR_NAME", "AWS_ACCESS_KEY_ID", "OAUTH_TOKEN_URL", "MONKEY"] {
            assert_eq!(secret_name(n), None, "{n}");
        }
    }
}
