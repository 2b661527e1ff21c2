//! What a name says about its value: secret, an identifier, a reference, or
//! nothing.
//!
//! Names are matched by **token**, never by substring: `DB_PASSWORD`,
//! `db.password`, `dbPassword` and `db-password` all split into `DB` +
//! `PASSWORD` (on `_ . - /`, spaces, camelCase and letter/digit changes), and
//! every rule compares whole tokens. So `AUTHOR` cannot swallow
//! `AUTHORIZATION`, and `KEYBOARD` is not a `KEY`.
//!
//! The rules are data:
//! - [`SECRET_TOKENS`]: a token that marks the value secret wherever it stands
//!   (`PASSWORD`, `PASS`, `PW`, `SECRET`, `TOKEN`, `HMAC`, …);
//! - `KEY` marks it secret at the end of the name (`STRIPE_KEY`, `api-key`) or
//!   before a material word (`KEY_DATA`, `KEY_B64`), unless a
//!   [`PUBLIC_KEY_QUALIFIERS`] word stands before it (`PUBLIC_KEY`,
//!   `SITE_KEY`, `PARTITION_KEY`);
//! - [`DESCRIPTOR_TOKENS`]: a name that *ends* in one of them describes
//!   something about a secret, not the secret (`TOKEN_URL`, `PASSWORD_FILE`,
//!   `AUTH_METHOD`, `SECRET_NAME`), so the name alone redacts nothing; the
//!   value is still checked;
//! - [`ID_TOKENS`]: a name that ends in one says the value is an identifier
//!   or a checksum (`*_ID`, `*_SHA`, `*_DIGEST`, `*_VERSION`): opaque-looking
//!   values under it are kept. Under a name that says nothing (`CFG_017`,
//!   `EXTRA`, `UPSTREAM`) the same values are redacted: see
//!   [`NameClass`];
//! - [`REFERENCE_CONTEXTS`]: keys whose values name a secret elsewhere
//!   (`secretKeyRef`, `valueFrom`): below them names mark nothing.

/// Tokens that make the value secret wherever they stand in the name.
pub const SECRET_TOKENS: &[&str] = &[
    "PASSWORD",
    "PASSWORDS",
    "PASSWD",
    "PW",
    "PWD",
    "PASSPHRASE",
    "PASSCODE",
    "SECRET",
    "SECRETS",
    "TOKEN",
    "TOKENS",
    "AUTHTOKEN",
    "APIKEY",
    "APIKEYS",
    "CREDENTIAL",
    "CREDENTIALS",
    "CREDS",
    "CRED",
    "AUTH",
    "AUTHORIZATION",
    "DSN",
    "HMAC",
    "SIGNING",
    "SALT",
    "PEPPER",
    "COOKIE",
    "CONNSTR",
    "CONNECTIONSTRING",
    "SAS",
    "SIG",
    "SIGNATURE",
    "PRIVATEKEY",
    "SECRETKEY",
    "ACCESSKEY",
    "MASTERKEY",
    "ENCRYPTIONKEY",
    "SIGNINGKEY",
    "CLIENTSECRET",
    "SESSIONKEY",
    "APPKEY",
    "LICENSEKEY",
    "SHAREDKEY",
    "ACCOUNTKEY",
    "OTP",
    "TOTP",
    "SEED",
    "PIN",
    "PINCODE",
    "PSK",
    "PRESHARED",
    "AUTHTOK",
    "PAT",
    "MNEMONIC",
    // An SNMP community string is the agent's password.
    "COMMUNITY",
    // The same words in other languages.
    "PASSWORT",
    "KENNWORT",
    "SENHA",
    "CONTRASENA",
    "CLAVE",
    "WACHTWOORD",
    "LOSENORD",
    "HASLO",
    "MOTDEPASSE",
];

/// Words after a secret word that say which one of several it is
/// (`STRIPE_KEY_PROD`, `SMTP_PASS_OLD`, `ENCRYPTION_KEY_V2`): the secret
/// word still ends the name.
const VARIANT_WORDS: &[&str] = &[
    "V",
    "OLD",
    "NEW",
    "PREV",
    "PREVIOUS",
    "NEXT",
    "CURRENT",
    "PRIMARY",
    "SECONDARY",
    "PROD",
    "PRODUCTION",
    "STAGING",
    "STAGE",
    "DEV",
    "TEST",
    "LIVE",
    "BACKUP",
    "ALT",
    "LEGACY",
    "FALLBACK",
    "ROTATED",
    "ACTIVE",
];

/// Words before `PASS` that make it "hand over", not a password.
const PASS_NOT_PASSWORD: &[&str] = &["PROXY", "FASTCGI", "UWSGI", "GRPC", "SCGI", "MEMCACHED", "BY", "HEADER", "ENV"];

/// Endings that make a run-together token secret (`BINDPW`, `PGPASSWORD`,
/// `REQUIREPASS`, `CSRFTOKEN`), and the words that end so but are not.
const SECRET_SUFFIXES: &[&str] =
    &["PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY", "PWD", "PW", "PASS", "AUTH", "COMMUNITY"];
const NOT_SECRET_WORDS: &[&str] = &[
    "BYPASS",
    "COMPASS",
    "SURPASS",
    "OVERPASS",
    "UNDERPASS",
    "TRESPASS",
    "ENCOMPASS",
    "CUTPASS",
    "MULTIPASS",
    "ONEPASS",
    "TWOPASS",
    "PASSWORDLESS",
];

/// Token pairs that mark a secret where each word alone does not.
pub const SECRET_PAIRS: &[(&str, &str)] = &[
    ("PRIVATE", "KEY"),
    ("CONNECTION", "STRING"),
    ("CONN", "STRING"),
    ("SECRET", "ID"),
    ("ACCESS", "KEY"),
    ("MASTER", "KEY"),
    ("SHARED", "KEY"),
    ("ACCOUNT", "KEY"),
    ("API", "KEY"),
    // Several keys, named for what they do (`ENCRYPTION_KEYS=old:…,new:…`);
    // `KEYS` alone is too often a list of names (`keys:` of a JWK Set).
    ("ENCRYPTION", "KEYS"),
    ("DECRYPTION", "KEYS"),
    ("PRIVATE", "KEYS"),
    ("ACCESS", "KEYS"),
    ("MASTER", "KEYS"),
    ("API", "KEYS"),
];

/// Words that make a `KEY` before them public or not a credential at all.
pub const PUBLIC_KEY_QUALIFIERS: &[&str] = &[
    "PUBLIC",
    "PUB",
    "PUBLISHABLE",
    "SITE",
    "PARTITION",
    "SORT",
    "ROUTING",
    "PRIMARY",
    "FOREIGN",
    "CACHE",
    "IDEMPOTENCY",
    "OBJECT",
    "LOOKUP",
    "SHARD",
    "GROUP",
    "DEDUP",
    "DEDUPLICATION",
    "UNIQUE",
    "HOST",
    "VAPID",
    "RECAPTCHA",
    "AUTHORIZED",
];

/// Words after `KEY` that still mean the key's material (`KEY_DATA`, `KEY_B64`).
const KEY_MATERIAL: &[&str] =
    &["DATA", "B64", "BASE64", "PEM", "MATERIAL", "VALUE", "CONTENT", "CONTENTS", "RAW", "HEX", "BYTES", "BASE", "STR"];

/// A name ending in one of these describes something *about* a secret (where
/// it is, how long it lives, what kind it is), not the secret itself.
pub const DESCRIPTOR_TOKENS: &[&str] = &[
    "URL",
    "URI",
    "URLS",
    "ENDPOINT",
    "HOST",
    "HOSTNAME",
    "PORT",
    "PATH",
    "FILE",
    "FILENAME",
    "FILES",
    "DIR",
    "DIRECTORY",
    "LOCATION",
    "TTL",
    "EXPIRY",
    "EXPIRES",
    "EXPIRATION",
    "LIFETIME",
    "TIMEOUT",
    "SECONDS",
    "SECS",
    "MINUTES",
    "HOURS",
    "DAYS",
    "MS",
    "ENABLED",
    "ENABLE",
    "DISABLED",
    "DISABLE",
    "REQUIRED",
    "TYPE",
    "KIND",
    "METHOD",
    "METHODS",
    "MODE",
    "NAME",
    "NAMES",
    "LENGTH",
    "LEN",
    "SIZE",
    "MIN",
    "MAX",
    "ALGORITHM",
    "ALGORITHMS",
    "ALG",
    "ALGO",
    "ALGOS",
    "MECHANISM",
    "MECHANISMS",
    "ENCODER",
    "COMPLEXITY",
    "STRENGTH",
    "SAMESITE",
    "HTTPONLY",
    "HINT",
    "AUTHORITY",
    "SUBJECT",
    "MESSAGE",
    "MSG",
    "TITLE",
    "MARGIN",
    "SOURCE",
    "PLACEHOLDER",
    "SKEW",
    "LEEWAY",
    "ALLOWLIST",
    "BLOCKLIST",
    "WHITELIST",
    "BLACKLIST",
    "DIGITS",
    "ROUNDS",
    "ITERATIONS",
    "COST",
    "MINUTE",
    "HOUR",
    "DAY",
    "ISSUER",
    "AUDIENCE",
    "SCOPE",
    "SCOPES",
    "PROVIDER",
    "COUNT",
    "LIMIT",
    "RETRIES",
    "ATTEMPTS",
    "INTERVAL",
    "POLICY",
    "STRATEGY",
    "FORMAT",
    "REGION",
    "USER",
    "USERNAME",
    "EMAIL",
    "DOMAIN",
    "REALM",
    "FIELD",
    "CERT",
    "CERTS",
    "CERTIFICATE",
    "CERTIFICATES",
    "CHAIN",
    "PROCESS",
    "COMMAND",
    "HELPER",
    "HELPERS",
    "HASHER",
    "HASHERS",
    "VALIDATOR",
    "VALIDATORS",
    "CHARSET",
    "ALPHABET",
    "AT",
    "DATE",
    "TIME",
    "TIMESTAMP",
    "SINCE",
    "UNTIL",
    "RATE",
    "CAPACITY",
    "BURST",
    "WINDOW",
    "DURATION",
    "AGE",
    "DELAY",
    "THRESHOLD",
    "KWARGS",
    "OPTIONS",
    "TEMPLATE",
    "MASKED",
    "STDIN",
    "PROMPT",
    "IMAGE",
    "IMAGES",
    "REPOSITORY",
    "CIPHER",
    "CIPHERS",
    "SERVERS",
    "HOSTS",
    "BROKERS",
    "NODES",
    "ENDPOINTS",
    "ADDRESS",
    "ADDR",
    "ADDRESSES",
    "PERIOD",
    "SCHEDULE",
    "LEVEL",
    "CLASS",
    "HANDLER",
    "MODULE",
    "PLUGIN",
    "BACKEND",
    "STORE",
    "ENCODING",
    "SUFFIX",
    "PREFIX",
    "SEPARATOR",
    "DELIMITER",
    "PATTERN",
    "REGEX",
    "STATUS",
    "FLAG",
    "FLAGS",
    "SERVER",
    "SERVICE",
    "ORIGIN",
    "REDIRECT",
    "CALLBACK",
    "HEADER",
    "LOCALE",
    "LANGUAGE",
    "DESCRIPTION",
    "LABEL",
    "REF",
    // What selects or lists things, not a credential (`LDAP_USER_FILTER`,
    // `TLS_CIPHER_SUITES`, `TOKEN_QUERY`).
    "FILTER",
    "FILTERS",
    "QUERY",
    "SELECTOR",
    "EXPRESSION",
    "EXPR",
    "SUITE",
    "SUITES",
];

/// A name ending in one of these says its value is an identifier, a version
/// or a checksum: opaque-looking values under it are not secrets.
pub const ID_TOKENS: &[&str] = &[
    "ID",
    "IDS",
    "UUID",
    "GUID",
    "ULID",
    "SHA",
    "SHA1",
    "SHA256",
    "SHA512",
    "MD5",
    "DIGEST",
    "CHECKSUM",
    "SUM",
    "SUMS",
    "HASH",
    "CRC",
    "VERSION",
    "VER",
    "REVISION",
    "REV",
    "COMMIT",
    "BUILD",
    "RELEASE",
    "TAG",
    "ETAG",
    "FINGERPRINT",
    "THUMBPRINT",
    "SERIAL",
    "KID",
    "INTEGRITY",
    "ARN",
    "NUMBER",
    "NUM",
    "ACCOUNT",
    "TENANT",
    "SUBSCRIPTION",
    "UID",
    "GID",
    "OID",
    "LINEAGE",
    "PROJECT",
    "ORG",
    "TRACE",
    "SPAN",
    "REQUEST",
    "CORRELATION",
    "NONCE",
    "SID",
];

/// Keys below which values name a secret kept elsewhere (Kubernetes
/// `secretKeyRef`, `valueFrom`, `envFrom`), compared as lower-case words
/// without separators.
pub const REFERENCE_CONTEXTS: &[&str] = &[
    "secretkeyref",
    "secretref",
    "valuefrom",
    "envfrom",
    "configmapkeyref",
    "configmapref",
    "secretname",
    "existingsecret",
    "secretsmanager",
    "vaultref",
    "keyvaultreference",
    "remoteref",
    "secretstoreref",
];

/// Splits a name into upper-case tokens: on anything not a letter or digit,
/// on camelCase (`dbPassword` → `DB PASSWORD`, `APIKey` → `API KEY`) and
/// between letters and digits (`CFG017` → `CFG 017`).
pub fn tokens(name: &str) -> Vec<String> {
    with_tokens(name, |t| t.iter().map(|w| w.to_string()).collect())
}

/// Calls `f` with the tokens of `name`, upper-cased in a buffer on the
/// stack (this runs for every key of every config file).
fn with_tokens<R>(name: &str, f: impl FnOnce(&[&str]) -> R) -> R {
    let mut upper = [0u8; 128];
    let bytes = name.as_bytes();
    if bytes.len() > upper.len() || !name.is_ascii() {
        let owned: Vec<String> = unicode_tokens(name);
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        return f(&refs);
    }
    let n = bytes.len();
    let mut spans: [(usize, usize); 32] = [(0, 0); 32];
    let mut count = 0;
    let mut start: Option<usize> = None;
    for i in 0..n {
        let c = bytes[i];
        upper[i] = c.to_ascii_uppercase();
        if !c.is_ascii_alphanumeric() {
            if let Some(s) = start.take() {
                if count < spans.len() {
                    spans[count] = (s, i);
                    count += 1;
                }
            }
            continue;
        }
        if let Some(s) = start {
            let prev = bytes[i - 1];
            let next_lower = bytes.get(i + 1).is_some_and(u8::is_ascii_lowercase);
            let split = (prev.is_ascii_lowercase() && c.is_ascii_uppercase())
                || (prev.is_ascii_uppercase() && c.is_ascii_uppercase() && next_lower)
                || (prev.is_ascii_digit() != c.is_ascii_digit());
            if split && i > s {
                if count < spans.len() {
                    spans[count] = (s, i);
                    count += 1;
                }
                start = Some(i);
            }
        } else {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        if count < spans.len() {
            spans[count] = (s, n);
            count += 1;
        }
    }
    let text = std::str::from_utf8(&upper[..n]).expect("ASCII");
    let mut words: [&str; 32] = [""; 32];
    for (w, &(a, b)) in words.iter_mut().zip(&spans[..count]) {
        *w = &text[a..b];
    }
    f(&words[..count])
}

/// [`tokens`] for names that are not ASCII.
fn unicode_tokens(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some(prev) = chars[..i].last().filter(|_| !cur.is_empty()) {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let split = (prev.is_lowercase() && c.is_uppercase())
                || (prev.is_uppercase() && c.is_uppercase() && next_lower)
                || (prev.is_ascii_digit() != c.is_ascii_digit());
            if split {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_uppercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// What a name says about its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameClass {
    /// The name marks the value secret; the str is the rule, for the report.
    Secret(&'static str),
    /// The name says the value is an identifier, version or checksum.
    Identifier,
    /// The name says what the value is, and it is not a secret.
    Descriptive,
    /// The name says the value is public (`PUBLIC_KEY`, `NEXT_PUBLIC_…`,
    /// `PUBLISHABLE_KEY`): only known secret formats are looked for.
    Public,
    /// The name says nothing about the value (`CFG_017`, `EXTRA`): opaque
    /// values under it are taken for keys.
    Neutral,
}

/// What the word lists say of one token, looked up once in a hash map
/// (the lists are long, and this runs for every key of every file).
#[derive(Clone, Copy, Default)]
struct Word {
    secret: Option<&'static str>,
    descriptor: bool,
    id: bool,
    public_qualifier: bool,
    key_material: bool,
    pass_not_password: bool,
    not_secret_word: bool,
}

/// A word-at-a-time multiplicative hash (FxHash's): the word table is hit
/// for every token of every key and the class cache for every key, their
/// keys are short, and the cache holds at most 4096 of them, so flooding
/// it gains nothing. The hash behind the word table and the class cache.
#[derive(Default)]
struct FxHash(u64);

impl std::hash::Hasher for FxHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = self.0;
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w.try_into().expect("8 bytes"))).wrapping_mul(K);
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K);
        }
        self.0 = h;
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ n as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

type WordTable = std::collections::HashMap<&'static str, Word, std::hash::BuildHasherDefault<FxHash>>;

/// Classes of names already seen, for one walk over a file (its keys repeat).
#[derive(Default)]
pub struct ClassCache {
    /// The last few shapes (`url`, `timeout`, `app.db.0.url` in every block
    /// of a file): compared before anything is hashed.
    recent: [Option<(u8, [u8; SHAPE_LEN], NameClass)>; 8],
    next: usize,
    shapes: std::collections::HashMap<Box<[u8]>, NameClass, std::hash::BuildHasherDefault<FxHash>>,
}

/// Names longer than this are classified each time.
const SHAPE_LEN: usize = 64;

impl ClassCache {
    /// [`classify`], remembered for short names (up to 4096 of them).
    pub fn classify(&mut self, name: &str) -> NameClass {
        if name.len() > SHAPE_LEN {
            return classify(name);
        }
        // A run of digits is a word whose value no rule reads, but for a
        // lone `5` (`MD5`, `MD_5`: a hash's name): `app.db.17.url` and
        // `app.db.18.url`, `service17` and `service18` are one name here.
        let b = name.as_bytes();
        let mut buf = [0u8; SHAPE_LEN];
        let (mut n, mut i) = (0, 0);
        while i < b.len() {
            let c = b[i];
            i += 1;
            if c.is_ascii_digit() {
                let start = i - 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                buf[n] = if i - start == 1 && c == b'5' { b'5' } else { b'0' };
            } else {
                buf[n] = c;
            }
            n += 1;
        }
        let shape = &buf[..n];
        let same = |r: &&Option<(u8, [u8; SHAPE_LEN], NameClass)>| {
            r.as_ref().is_some_and(|(len, bytes, _)| usize::from(*len) == n && &bytes[..n] == shape)
        };
        if let Some(Some((_, _, c))) = self.recent.iter().find(same) {
            return *c;
        }
        // Looked up as bytes: checking UTF-8 again cost more than the lookup.
        let c = match self.shapes.get(shape) {
            Some(c) => *c,
            None => {
                let c = classify(std::str::from_utf8(shape).unwrap_or(name));
                if self.shapes.len() < 4096 {
                    self.shapes.insert(shape.into(), c);
                }
                c
            }
        };
        self.recent[self.next] = Some((n as u8, buf, c));
        self.next = (self.next + 1) % self.recent.len();
        c
    }
}

fn word(w: &str) -> Word {
    static WORDS: std::sync::OnceLock<WordTable> = std::sync::OnceLock::new();
    let table = WORDS.get_or_init(|| {
        let mut m = WordTable::default();
        for &t in SECRET_TOKENS {
            m.entry(t).or_default().secret = Some(t);
        }
        for &t in DESCRIPTOR_TOKENS {
            m.entry(t).or_default().descriptor = true;
        }
        for &t in ID_TOKENS {
            m.entry(t).or_default().id = true;
        }
        for &t in PUBLIC_KEY_QUALIFIERS {
            m.entry(t).or_default().public_qualifier = true;
        }
        for &t in KEY_MATERIAL {
            m.entry(t).or_default().key_material = true;
        }
        for &t in PASS_NOT_PASSWORD {
            m.entry(t).or_default().pass_not_password = true;
        }
        for &t in NOT_SECRET_WORDS {
            m.entry(t).or_default().not_secret_word = true;
        }
        m
    });
    table.get(w).copied().unwrap_or_default()
}

/// Classifies `name` (see the module doc).
pub fn classify(name: &str) -> NameClass {
    with_tokens(name, classify_tokens)
}

fn classify_tokens(t: &[&str]) -> NameClass {
    // The head noun is the last word that is no variant (`AUTH_URL_2`,
    // `PASSWORD_FILE_OLD`: a URL, a file).
    let head = t.iter().rposition(|w| !variant(w)).unwrap_or(t.len().saturating_sub(1));
    let last = t.get(head).copied().unwrap_or("");
    if t.iter().any(|w| matches!(*w, "PUBLIC" | "PUBLISHABLE" | "PUB" | "PUBKEY" | "NPUB" | "RECIPIENT")) {
        return NameClass::Public;
    }
    let secret = secret_rule(t);
    // A captcha's site key is shipped to every browser (its secret key is not).
    if secret.is_none() && (t.windows(2).any(|p| p == ["SITE", "KEY"]) || t.contains(&"SITEKEY")) {
        return NameClass::Public;
    }
    // `MAX_TOKENS`, `NUM_PASSWORDS`: a quantity of secrets, not one.
    if let Some(rule) = secret {
        let quantity = t.iter().position(|w| matches!(*w, "MAX" | "MIN" | "NUM" | "TOTAL"));
        if quantity.is_some_and(|q| t[q + 1..].contains(&rule)) {
            return NameClass::Descriptive;
        }
    }
    if let Some(rule) = secret {
        // `TOKEN_URL`, `PASSWORD_FILE`: about a secret, not one. `SECRET_ID`
        // and `KEY_PASSWORD` were matched as pairs and stay secret.
        let pair_at_end = head >= 1 && SECRET_PAIRS.contains(&(t[head - 1], last));
        let described = head >= 1 && (word(last).descriptor || word(last).id);
        if !described || pair_at_end {
            return NameClass::Secret(rule);
        }
    }
    // `MD5_SUM`: the digit splits off the hash's name.
    let hash_name = t.windows(2).any(|p| p[0] == "MD" && p[1] == "5");
    if hash_name || t.iter().any(|w| word(w).id) {
        return NameClass::Identifier;
    }
    // The last word is the head noun: it says what the value is.
    if secret.is_some() || word(last).descriptor {
        return NameClass::Descriptive;
    }
    NameClass::Neutral
}

/// The rule that makes a token list secret, if any.
fn secret_rule(t: &[&str]) -> Option<&'static str> {
    for (i, w) in t.iter().enumerate() {
        let w = *w;
        let about = word(w);
        if let Some(hit) = about.secret {
            return Some(hit);
        }
        if !about.not_secret_word && (w.starts_with("PASSW") || w.len() > 4) {
            if let Some(hit) =
                SECRET_SUFFIXES.iter().find(|s| w.ends_with(**s) || (w.starts_with("PASSW") && **s == "PASSWORD"))
            {
                return Some(hit);
            }
        }
        if let Some(next) = t.get(i + 1) {
            if let Some((a, _)) = SECRET_PAIRS.iter().find(|(a, b)| *a == w && b == next) {
                return Some(pair_rule(a));
            }
        }
        if w == "PASS" {
            // `SMTP_PASS`, `keystore.pass`, but not nginx's `proxy_pass`.
            let proxy = i > 0 && word(t[i - 1]).pass_not_password;
            if !proxy && t[i + 1..].iter().all(|x| variant(x)) {
                return Some("PASS");
            }
            continue;
        }
        if w == "KEY" {
            let public = i > 0 && word(t[i - 1]).public_qualifier;
            let material = t[i + 1..].iter().all(|x| word(x).key_material || variant(x));
            if !public && material {
                return Some("KEY");
            }
        }
    }
    None
}

/// A variant word or a number after a secret word ([`VARIANT_WORDS`]).
fn variant(w: &str) -> bool {
    VARIANT_WORDS.contains(&w) || w.bytes().all(|b| b.is_ascii_digit())
}

fn pair_rule(first: &str) -> &'static str {
    match first {
        "PRIVATE" => "PRIVATE KEY",
        "CONNECTION" | "CONN" => "CONNECTION STRING",
        "SECRET" => "SECRET ID",
        "ACCESS" => "ACCESS KEY",
        "MASTER" => "MASTER KEY",
        "SHARED" => "SHARED KEY",
        "ACCOUNT" => "ACCOUNT KEY",
        "ENCRYPTION" | "DECRYPTION" => "ENCRYPTION KEY",
        _ => "API KEY",
    }
}

/// The secret rule `name` matches, if any.
pub fn secret_name(name: &str) -> Option<&'static str> {
    match classify(name) {
        NameClass::Secret(rule) => Some(rule),
        _ => None,
    }
}

/// Whether a key (one segment of a path) opens a reference context.
pub fn is_reference_context(key: &str) -> bool {
    if key.len() < 6 || key.len() > 24 || !matches!(key.as_bytes()[0] | 0x20, b's' | b'v' | b'e' | b'c' | b'r' | b'k') {
        return false;
    }
    // Every context ends in `ref`, `from`, `name`, `secret`, `manager` or `reference`.
    let last = key.bytes().rev().find(u8::is_ascii_alphanumeric).unwrap_or(b' ');
    if !matches!(last | 0x20, b'f' | b'm' | b'e' | b't' | b'r') {
        return false;
    }
    let mut folded = [0u8; 24];
    let mut n = 0;
    for b in key.bytes().filter(u8::is_ascii_alphanumeric) {
        folded[n] = b.to_ascii_lowercase();
        n += 1;
    }
    REFERENCE_CONTEXTS.iter().any(|c| c.as_bytes() == &folded[..n])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_classifies_as_classify_does() {
        // One cache for all: names that differ only in a number share an entry.
        let mut cache = ClassCache::default();
        for name in [
            "MD6_SUM",
            "MD5_SUM",
            "app.db.17.url",
            "app.db.18.password",
            "SERVICE_1_URL",
            "SERVICE_2_TOKEN",
            "S3_KEY",
            "S4_KEY",
            "OAUTH2_SECRET",
            "OAUTH3_ID",
            "CFG_017",
            "CFG017",
            "sha256",
            "sha1",
            "1",
            "2fa",
            "3des_key",
            "v2",
            "k8s.token",
            "k9s.id",
        ] {
            assert_eq!(cache.classify(name), classify(name), "{name}");
        }
    }

    #[test]
    fn tokens_split_on_separators_case_and_digits() {
        assert_eq!(tokens("DB_PASSWORD"), ["DB", "PASSWORD"]);
        assert_eq!(tokens("mail.smtp.pass"), ["MAIL", "SMTP", "PASS"]);
        assert_eq!(tokens("dbPassword"), ["DB", "PASSWORD"]);
        assert_eq!(tokens("APIKey"), ["API", "KEY"]);
        assert_eq!(tokens("CFG_017"), ["CFG", "017"]);
        assert_eq!(tokens("-Djavax.net.ssl.keyStorePassword"), ["DJAVAX", "NET", "SSL", "KEY", "STORE", "PASSWORD"]);
    }

    #[test]
    fn secret_names() {
        for n in [
            "DB_PASSWORD",
            "SMTP_PASS",
            "ADMIN_PW",
            "LDAP_PWD",
            "passwd",
            "WEBHOOK_HMAC",
            "JWT_SIGNING",
            "SECRET",
            "CLIENT_SECRET_VALUE",
            "clientSecret",
            "mail.smtp.pass",
            "keystore.pass",
            "api-key",
            "AUTHORIZATION",
            "HTTP_AUTHORIZATION",
            "X_API_KEY",
            "STRIPE_KEY",
            "ENCRYPTION_KEYS",
            "API_KEYS",
            "PRIVATE_KEY",
            "privateKey",
            "SENTRY_DSN",
            "GITHUB_TOKEN",
            "VAULT_SECRET_ID",
            "SECRET_KEY_BASE",
            "apikey",
            "AZURE_STORAGE_CONNECTION_STRING",
            "SSL_KEY_PASSWORD",
            "TLS_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "password",
            "PWD",
            "KEY",
            "SIGNING_KEY_B64",
            "SNMP_COMMUNITY",
            "SNMP_RO_COMMUNITY",
            "rocommunity",
        ] {
            assert!(secret_name(n).is_some(), "{n}");
        }
        for n in [
            "LOG_LEVEL",
            "KEYBOARD_LAYOUT",
            "AUTHOR_NAME",
            "AWS_ACCESS_KEY_ID",
            "OAUTH_TOKEN_URL",
            "token_uri",
            "auth-url",
            "MONKEY",
            "PASSWORD_FILE",
            "AUTH_METHOD",
            "TOKEN_TTL",
            "STRIPE_PUBLISHABLE_KEY",
            "RECAPTCHA_SITE_KEY",
            "VAPID_PUBLIC_KEY",
            "CLIENT_ID",
            "PASSENGER_COUNT",
            "TOKENIZER",
            "AUTHORITY",
            "BYPASS_CACHE",
            "DYNAMO_PARTITION_KEY",
            "KEY_ID",
            "LDAP_USER_FILTER",
            "TLS_CIPHER_SUITES",
            "SNMP_COMMUNITY_NAME",
        ] {
            assert_eq!(secret_name(n), None, "{n}");
        }
    }

    #[test]
    fn name_classes() {
        assert_eq!(classify("GIT_COMMIT_SHA"), NameClass::Identifier);
        assert_eq!(classify("REQUEST_ID"), NameClass::Identifier);
        assert_eq!(classify("IMAGE_DIGEST"), NameClass::Identifier);
        assert_eq!(classify("CFG_017"), NameClass::Neutral);
        // Run-together public words: a WireGuard public key, an hCaptcha site key, a nostr npub.
        assert_eq!(classify("WIREGUARD_SERVER_PUBKEY"), NameClass::Public);
        assert_eq!(classify("HCAPTCHA_SITEKEY"), NameClass::Public);
        assert_eq!(classify("NOSTR_NPUB"), NameClass::Public);
        assert_eq!(classify("HCAPTCHA_SITEKEY_SECRET"), NameClass::Secret("SECRET"));
        assert_eq!(classify("CIPHER_SUITES"), NameClass::Descriptive);
        // Variant words after the head noun leave it the head noun.
        assert_eq!(classify("AUTH_URL_2"), NameClass::Descriptive);
        assert_eq!(classify("PASSWORD_FILE_OLD"), NameClass::Descriptive);
        assert_eq!(classify("DB_PASSWORD_2"), NameClass::Secret("PASSWORD"));
        assert_eq!(classify("STRIPE_API_KEY_LIVE"), NameClass::Secret("API KEY"));
        assert_eq!(classify("EXTRA"), NameClass::Neutral);
        assert_eq!(classify("UPSTREAM"), NameClass::Neutral);
        assert_eq!(classify("QUEUE_NAME"), NameClass::Descriptive);
        assert_eq!(classify("TOKEN_URL"), NameClass::Descriptive);
        assert_eq!(classify("MD5_SUM"), NameClass::Identifier);
        assert_eq!(classify("ARTIFACT_SHA256"), NameClass::Identifier);
        assert_eq!(classify("HMAC_ALGO"), NameClass::Descriptive);
        assert_eq!(classify("MAX_TOKENS"), NameClass::Descriptive);
        assert_eq!(classify("OPENAI_MAX_TOKENS"), NameClass::Descriptive);
        assert_eq!(classify("TOKENS_PER_MINUTE"), NameClass::Descriptive);
        assert_eq!(classify("COOKIE_SAMESITE"), NameClass::Descriptive);
        assert_eq!(classify("AUTH_MECHANISM"), NameClass::Descriptive);
        assert_eq!(classify("SALT_ROUNDS"), NameClass::Descriptive);
        assert!(matches!(classify("GITHUB_PAT"), NameClass::Secret(_)));
        assert!(matches!(classify("WALLET_MNEMONIC"), NameClass::Secret(_)));
        assert_eq!(classify("PASSWORDLESS"), NameClass::Neutral);
        assert_eq!(classify("HCAPTCHA_SITE_KEY"), NameClass::Public);
        assert!(matches!(classify("RECAPTCHA_SITE_KEY_SECRET"), NameClass::Secret(_)));
        assert!(matches!(classify("API_KEY_SECOND"), NameClass::Secret(_)));
        assert_eq!(classify("POD_UID"), NameClass::Identifier);
        assert_eq!(classify("PASSWORD_HINT"), NameClass::Descriptive);
        assert_eq!(classify("Auth__Authority"), NameClass::Descriptive);
        assert_eq!(classify("AUTH_FAILURE_MESSAGE"), NameClass::Descriptive);
        assert_eq!(classify("credential_source"), NameClass::Descriptive);
        assert_eq!(classify("AUTHORIZED_KEY"), NameClass::Neutral);
        for n in [
            "STRIPE_KEY_PROD",
            "ENCRYPTION_KEY_V2",
            "SMTP_PASS_OLD",
            "DB_PASS_2",
            "AES_KEY_PRIMARY",
            "DB_SENHA",
            "CLAVE_API",
        ] {
            assert!(matches!(classify(n), NameClass::Secret(_)), "{n}");
        }
        assert!(!matches!(classify("KEY_ROTATION_DAYS"), NameClass::Secret(_)));
        assert!(!matches!(classify("PASS_RATE"), NameClass::Secret(_)));
    }

    #[test]
    fn reference_contexts() {
        // The cheap first checks (length, first and last letter) let every context through.
        for c in REFERENCE_CONTEXTS {
            assert!(is_reference_context(c), "{c}");
        }
        assert!(is_reference_context("secretKeyRef"));
        assert!(is_reference_context("valueFrom"));
        assert!(!is_reference_context("password"));
    }
}
