//! Detectors: does part of a value look secret?
//!
//! The value rules are data ([`TOKEN_RULES`]): an id the report names, the
//! prefixes that mark the format, the characters and length of its body —
//! the formats secret scanners such as gitleaks and trufflehog know. Formats
//! that need a parser have one here: JWTs, PEM blocks (also base64-wrapped,
//! or a bare DER body), PuTTY keys, credentials in URLs, in userinfo without
//! a scheme (`user:pw@tcp(…)`, JDBC thin `user/pw@host`), in `.pgpass` and
//! `.netrc` lines, in `Authorization` schemes, and any `key=value`,
//! `key: value`, `"key": "value"` or `--flag value` whose key is a secret
//! name ([`super::names`]). The entropy test catches random keys without a
//! known prefix.
//!
//! Public material is found first and never flagged: certificates, SSH
//! public keys, publishable keys, OAuth client ids, SRI hashes, ARNs,
//! `data:` URIs, ULIDs. Each finding carries its [`Shape`] so a stand-in of
//! the same shape can replace it. No regex engine: one Aho-Corasick pass
//! finds every marker, which keeps 10 MB of config fast.

use std::ops::Range;

use base64::Engine as _;

use super::{names, one_of};

pub use super::names::secret_name;

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
    /// Any visible ASCII but quotes and backslash.
    Printable,
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
            Charset::Printable => c.is_ascii_graphic() && !"\"'\\`".contains(c),
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
    TokenRule { id: "square-token", prefixes: &["sq0atp-", "sq0csp-"], body: Charset::Token, min: 22, max: 60 },
    TokenRule { id: "digitalocean-token", prefixes: &["dop_v1_", "doo_v1_", "dor_v1_"], body: Charset::Hex, min: 64, max: 64 },
    TokenRule { id: "vault-token", prefixes: &["hvs.", "hvb."], body: Charset::Token, min: 24, max: 255 },
    TokenRule { id: "doppler-token", prefixes: &["dp.pt.", "dp.st.", "dp.sa.", "dp.ct."], body: Charset::Alnum, min: 40, max: 50 },
    TokenRule { id: "linear-key", prefixes: &["lin_api_"], body: Charset::Alnum, min: 40, max: 40 },
    TokenRule { id: "databricks-token", prefixes: &["dapi"], body: Charset::Hex, min: 32, max: 32 },
    TokenRule { id: "age-secret-key", prefixes: &["AGE-SECRET-KEY-1"], body: Charset::UpperAlnum, min: 58, max: 58 },
    TokenRule { id: "huggingface-token", prefixes: &["hf_"], body: Charset::Alnum, min: 34, max: 40 },
    TokenRule { id: "datadog-key", prefixes: &["ddapi_", "ddapp_"], body: Charset::Alnum, min: 30, max: 60 },
    TokenRule { id: "grafana-token", prefixes: &["glsa_", "glc_"], body: Charset::Token, min: 32, max: 200 },
    TokenRule { id: "docker-hub-token", prefixes: &["dckr_pat_"], body: Charset::Token, min: 24, max: 64 },
    TokenRule { id: "atlassian-token", prefixes: &["ATATT3"], body: Charset::Token, min: 100, max: 300 },
    TokenRule { id: "postman-key", prefixes: &["PMAK-"], body: Charset::Token, min: 50, max: 80 },
    TokenRule { id: "newrelic-key", prefixes: &["NRAK-", "NRII-", "NRJS-"], body: Charset::UpperAlnum, min: 27, max: 40 },
    TokenRule { id: "pulumi-token", prefixes: &["pul-"], body: Charset::Hex, min: 40, max: 40 },
    TokenRule { id: "terraform-token", prefixes: &[".atlasv1."], body: Charset::Token, min: 60, max: 100 },
    TokenRule { id: "django-secret-key", prefixes: &["django-insecure-"], body: Charset::Printable, min: 20, max: 100 },
    TokenRule { id: "azure-client-secret", prefixes: &["8Q~", "7Q~"], body: Charset::Dotted, min: 30, max: 40 },
    TokenRule { id: "facebook-token", prefixes: &["EAACEdEose0cBA", "EAAG", "EAAB"], body: Charset::Alnum, min: 60, max: 300 },
    TokenRule { id: "password-hash", prefixes: &["$2a$", "$2b$", "$2y$"], body: Charset::Printable, min: 56, max: 60 },
    TokenRule { id: "password-hash", prefixes: &["$argon2id$", "$argon2i$", "$argon2d$"], body: Charset::Printable, min: 30, max: 200 },
    TokenRule { id: "stripe-key", prefixes: &["sk_prod_", "rk_prod_"], body: Charset::Alnum, min: 16, max: 255 },
    TokenRule { id: "password-hash", prefixes: &["$1$", "$5$", "$6$", "$apr1$", "$y$", "$7$", "$sha1$", "$pbkdf2-sha256$", "$pbkdf2-sha512$", "$scrypt$"], body: Charset::Printable, min: 8, max: 200 },
    TokenRule { id: "password-hash", prefixes: &["SCRAM-SHA-256$", "SCRAM-SHA-1$"], body: Charset::Printable, min: 20, max: 300 },
    TokenRule { id: "password-hash", prefixes: &["{SSHA}", "{SHA}", "{SSHA256}", "{SSHA512}", "{CRYPT}", "{PBKDF2}"], body: Charset::Printable, min: 8, max: 200 },
    TokenRule { id: "sentry-token", prefixes: &["sntrys_", "sntryu_"], body: Charset::Token, min: 40, max: 255 },
    TokenRule { id: "shopify-token", prefixes: &["shpat_", "shpss_", "shpca_", "shppa_"], body: Charset::Hex, min: 32, max: 32 },
    TokenRule { id: "mapbox-secret-token", prefixes: &["sk.eyJ"], body: Charset::Dotted, min: 40, max: 300 },
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
    /// A password (in a URL's userinfo, a `Password=…` pair, after a secret
    /// key): the span is the password alone.
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

/// What one pattern of the scanner stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// `TOKEN_RULES[rule]`, with this prefix.
    Prefix(usize, &'static str),
    Pem,
    PemBase64,
    Putty,
    Url,
    Jwt,
    AuthScheme,
    /// A word that may end a secret name (`pass`, `token`, `key`): the
    /// identifier around it is checked as a key.
    SecretWord,
    /// The start of something public (`pk_live_`, `ssh-rsa AAAA…`).
    Public(Public),
    /// A literal that gates a rule (`LoginModule`, ` -u `, `$ANSIBLE_VAULT;`).
    Gate(Gate),
}

/// Literals whose presence turns on one of the rarer rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Gate {
    UserFlag,
    CredentialLine,
    Jaas,
    AnsibleVault,
    Mailchimp,
    Netrc,
    Command,
    /// `rocommunity x`, `com2sec … x`, `createUser u SHA "x" AES "y"` (snmpd.conf).
    Snmp,
    /// strongSwan / libreswan secrets: `: PSK "x"`, `user : EAP "x"`.
    Ipsec,
    /// A URL path segment that names a key without a secret word
    /// (Loggly's `/inputs/<customer token>/`).
    PathKey,
}

const GATES: &[(&str, Gate)] = &[
    (" -u ", Gate::UserFlag),
    (" --user", Gate::UserFlag),
    (" -U ", Gate::UserFlag),
    (" -p", Gate::UserFlag),
    (" -P", Gate::UserFlag),
    ("\" \"", Gate::CredentialLine),
    (" >", Gate::CredentialLine),
    ("LoginModule", Gate::Jaas),
    ("$ANSIBLE_VAULT;", Gate::AnsibleVault),
    ("-us", Gate::Mailchimp),
    ("machine ", Gate::Netrc),
    ("default ", Gate::Netrc),
    ("mysql", Gate::Command),
    ("mariadb", Gate::Command),
    ("sshpass", Gate::Command),
    ("redis-cli", Gate::Command),
    (" login", Gate::Command),
    ("community", Gate::Snmp),
    ("createUser ", Gate::Snmp),
    (": PSK ", Gate::Ipsec),
    (": EAP ", Gate::Ipsec),
    (": XAUTH ", Gate::Ipsec),
    (": NTLM ", Gate::Ipsec),
    ("/inputs/", Gate::PathKey),
];

/// Commands whose short flag takes a password (`mysqldump -pX`, `sshpass -p
/// X`, `redis-cli -a X`, `docker login -p X`): the command, the flag, and
/// whether only an attached value counts (`mysql -p db` prompts, `db` is a
/// database).
#[rustfmt::skip]
const PASSWORD_FLAGS: &[(&str, &str, bool)] = &[
    ("mysql", "-p", true), ("mysqldump", "-p", true), ("mysqladmin", "-p", true), ("mysqlimport", "-p", true),
    ("mariadb", "-p", true), ("mariadb-dump", "-p", true),
    ("sshpass", "-p", false), ("redis-cli", "-a", false),
    ("docker login", "-p", false), ("podman login", "-p", false), ("buildah login", "-p", false),
    ("skopeo login", "-p", false), ("nerdctl login", "-p", false), ("oras login", "-p", false),
];

/// Kinds of public material, found before secrets so they are never flagged.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Public {
    /// The token from here to its end.
    Token,
    /// `data:…`, `arn:…`: up to a quote or blank.
    Word,
    /// A token ending here belongs to the public suffix (`….apps.googleusercontent.com`).
    Suffix,
    /// `Public-Lines: N` and the N lines after it.
    PuttyLines,
    /// A PEM block that holds no private key, up to its END line.
    Pem,
    /// The line after a comment that says it holds a public key
    /// (`untrusted comment: minisign public key …`).
    NextLine,
}

#[rustfmt::skip]
const PUBLIC_MARKERS: &[(&str, Public)] = &[
    ("pk_live_", Public::Token), ("pk_test_", Public::Token),
    ("AAAAB3NzaC1", Public::Token), ("AAAAC3NzaC1", Public::Token), ("AAAAE2VjZHNh", Public::Token),
    ("AAAAGnNrLXNzaC1", Public::Token), ("AAAAInNrLWVj", Public::Token),
    ("sha256-", Public::Token), ("sha384-", Public::Token), ("sha512-", Public::Token),
    ("nonce-", Public::Token), ("arn:", Public::Word), ("|1|", Public::Token),
    ("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS", Public::Token), ("LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS", Public::Token),
    ("data:", Public::Word), ("pin-sha256=", Public::Word), ("age1", Public::Token),
    ("-----BEGIN CERTIFICATE", Public::Pem), ("-----BEGIN PUBLIC KEY", Public::Pem),
    ("-----BEGIN RSA PUBLIC KEY", Public::Pem), ("-----BEGIN X509 CRL", Public::Pem),
    ("-----BEGIN TRUSTED CERTIFICATE", Public::Pem), ("-----BEGIN PGP PUBLIC KEY", Public::Pem),
    ("-----BEGIN DH PARAMETERS", Public::Pem), ("-----BEGIN EC PARAMETERS", Public::Pem),
    ("-----BEGIN NEW CERTIFICATE REQUEST", Public::Pem), ("-----BEGIN PKCS7", Public::Pem),
    ("-----BEGIN CMS", Public::Pem), ("-----BEGIN PGP SIGNATURE", Public::Pem),
    // Mapbox public tokens; base64 images and documents (PNG, JPEG, GIF, WebP, PDF, SVG).
    ("pk.eyJ", Public::Token),
    ("iVBORw0KGgo", Public::Token), ("/9j/4", Public::Token), ("R0lGOD", Public::Token),
    ("UklGR", Public::Token), ("JVBERi0", Public::Token), ("PHN2Zy", Public::Token),
    (".apps.googleusercontent.com", Public::Suffix),
    ("Public-Lines:", Public::PuttyLines),
    ("untrusted comment: minisign public key", Public::NextLine),
    ("untrusted comment: signify public key", Public::NextLine),
];

/// Words whose presence makes the identifier around them worth checking
/// as a secret name (lower case; matched case-insensitively).
#[rustfmt::skip]
const SECRET_WORDS: &[&str] = &[
    "pass", "pw", "secret", "token", "key", "auth", "cred", "dsn", "hmac", "sign", "salt", "pepper", "cookie", "conn",
    "sas", "sig", "public", "seed", "otp", "community",
];

/// One pass over a value finds every prefix and marker (Aho-Corasick), so
/// the cost does not grow with the number of rules.
struct Scanner {
    markers: aho_corasick::AhoCorasick,
    kinds: Vec<Marker>,
}

fn scanner() -> &'static Scanner {
    static SCANNER: std::sync::OnceLock<Scanner> = std::sync::OnceLock::new();
    SCANNER.get_or_init(|| {
        let mut patterns: Vec<String> = Vec::new();
        let mut kinds = Vec::new();
        for (i, rule) in TOKEN_RULES.iter().enumerate() {
            for prefix in rule.prefixes {
                patterns.push(prefix.to_string());
                kinds.push(Marker::Prefix(i, prefix));
            }
        }
        for (p, k) in [
            ("-----BEGIN ", Marker::Pem),
            ("LS0tLS1CRUdJTi", Marker::PemBase64),
            ("PuTTY-User-Key-File-", Marker::Putty),
            ("://", Marker::Url),
            ("eyJ", Marker::Jwt),
        ] {
            patterns.push(p.to_string());
            kinds.push(k);
        }
        for scheme in AUTH_SCHEMES {
            for variant in [scheme.to_string(), scheme.to_lowercase(), scheme.to_uppercase()] {
                if !patterns.contains(&variant) {
                    patterns.push(variant);
                    kinds.push(Marker::AuthScheme);
                }
            }
        }
        for (p, k) in PUBLIC_MARKERS {
            patterns.push(p.to_string());
            kinds.push(Marker::Public(*k));
        }
        for (p, g) in GATES {
            patterns.push(p.to_string());
            kinds.push(Marker::Gate(*g));
        }
        // Secret words in the three usual spellings (a case-insensitive
        // automaton for everything would be slower on 10 MB of text).
        for w in SECRET_WORDS {
            let title: String = w[..1].to_uppercase() + &w[1..];
            for variant in [w.to_string(), w.to_uppercase(), title] {
                patterns.push(variant);
                kinds.push(Marker::SecretWord);
            }
        }
        Scanner {
            markers: aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::Standard)
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(&patterns)
                .expect("static patterns"),
            kinds,
        }
    })
}

/// `Authorization` schemes whose credential follows after one space.
const AUTH_SCHEMES: &[&str] = &["Bearer ", "Basic ", "Token "];

/// What one scan of a value found.
#[derive(Default)]
struct Hits {
    prefixes: Vec<(usize, usize, &'static str)>,
    words: Vec<usize>,
    schemes: Vec<usize>,
    public: Vec<(usize, usize, Public)>,
    gates: Vec<Gate>,
    pem: bool,
    pem64: bool,
    putty: bool,
    url: bool,
    jwt: bool,
}

/// Every secret in `value`, left to right, not overlapping.
pub fn find_all(value: &str) -> Vec<Finding> {
    scan(value).findings
}

/// What one look at a value found: its secrets, and whether all of it is
/// public material, from the same pass.
pub struct Scan {
    pub findings: Vec<Finding>,
    /// [`is_public`], for values of [`SHORTEST_TOKEN`] bytes or more (a
    /// shorter value without `= : @` or a blank is not looked at: false).
    pub whole_public: bool,
}

/// [`find_all`] and [`is_public`] in one pass over `value`.
pub fn scan(value: &str) -> Scan {
    // Most config values are short words, numbers and names: nothing below
    // fits a secret rule without one of these characters.
    if value.len() < SHORTEST_TOKEN && !value.contains(['=', ':', '@', ' ', '\t']) {
        return Scan { findings: Vec::new(), whole_public: false };
    }
    let sc = scanner();
    let mut hits = Hits::default();
    for m in sc.markers.find_overlapping_iter(value) {
        match sc.kinds[m.pattern().as_usize()] {
            Marker::Prefix(rule, prefix) => hits.prefixes.push((m.start(), rule, prefix)),
            Marker::Pem => hits.pem = true,
            Marker::PemBase64 => hits.pem64 = true,
            Marker::Putty => hits.putty = true,
            Marker::Url => hits.url = true,
            Marker::Jwt => hits.jwt = true,
            Marker::AuthScheme => hits.schemes.push(m.start()),
            Marker::SecretWord => hits.words.push(m.start()),
            Marker::Public(kind) => hits.public.push((m.start(), m.end(), kind)),
            Marker::Gate(g) => hits.gates.push(g),
        }
    }
    // The characters the rules below need: one pass over a short value,
    // a fast search per character over a long one (a 2.5 MB log).
    // On a short value the same pass also tells which of the last rules
    // can find anything: a colon after 8 digits (a bot token), four colons
    // (a pgpass line), a token long enough for the entropy test.
    let (mut at, mut colon, mut blank, mut quote, mut query) = (false, false, false, false, false);
    let (mut colons, mut bot, mut longest_token) = (0, false, usize::MAX);
    if value.len() < 256 {
        let (mut digits, mut token) = (0, 0);
        longest_token = 0;
        for b in value.bytes() {
            match b {
                b'@' => at = true,
                b':' => {
                    colon = true;
                    colons += 1;
                    bot |= digits >= 8;
                }
                b' ' | b'\n' | b'\t' => blank = true,
                b'"' => quote = true,
                b'?' => query = true,
                _ => {}
            }
            digits = if b.is_ascii_digit() { digits + 1 } else { 0 };
            token = if ENTROPY_TOKEN_BYTES[usize::from(b)] { token + 1 } else { 0 };
            longest_token = longest_token.max(token);
        }
    } else {
        at = value.contains('@');
        colon = value.contains(':');
        blank = value.contains(' ') || value.contains('\n') || value.contains('\t');
        quote = value.contains('"');
        query = value.contains('?');
        bot = colon;
        colons = if colon { value.bytes().filter(|&b| b == b':').take(4).count() } else { 0 };
    }
    let gate = |g| hits.gates.contains(&g);
    let mut public = public_spans(value, &hits.public);
    let whole_public = covers_all(value, &public);
    let mut found = Vec::new();
    if hits.pem {
        pem_blocks(value, &mut found);
    }
    if hits.pem64 {
        base64_pems(value, &mut found);
    }
    if hits.putty {
        putty_keys(value, &mut found);
    }
    if let Some(at) = gate(Gate::AnsibleVault).then(|| value.find("$ANSIBLE_VAULT;")).flatten() {
        // The header names the cipher; the hex lines after it are the secret.
        let from = value[at..].find(char::is_whitespace).map_or(value.len(), |i| at + i + 1);
        let mut end = from;
        for word in value[from..].split_inclusive(char::is_whitespace) {
            let w = word.trim();
            if !w.is_empty() && !w.bytes().all(|b| b.is_ascii_hexdigit()) {
                break;
            }
            end += word.len();
        }
        let end = value[..end].trim_end().len().max(from);
        push(&mut found, "ansible-vault", from..end, Shape::Opaque);
    }
    if !hits.prefixes.is_empty() {
        hits.prefixes.sort_unstable_by_key(|&(start, rule, _)| (start, rule));
        prefixed_tokens(value, &hits.prefixes, &public, &mut found);
    }
    if hits.jwt {
        jwts(value, &mut found);
    }
    if hits.url {
        // Credentials in a URL end at an `@`: most URLs have none.
        if at {
            url_credentials(value, &mut found);
        }
        // A path segment naming a key holds a secret word (in one of the
        // spellings the scanner knows): most URLs have none.
        if !hits.words.is_empty() || gate(Gate::PathKey) {
            url_path_keys(value, &mut found);
        }
        if query {
            url_query_passwords(value, &mut found);
        }
    }
    if at {
        bare_userinfo(value, &mut found);
    }
    if !hits.schemes.is_empty() {
        auth_schemes(value, &hits.schemes, &mut found);
    }
    if !hits.words.is_empty() {
        secret_keys(value, &hits.words, &mut found, &mut public);
        if gate(Gate::Netrc) {
            netrc_passwords(value, &mut found);
        }
    }
    if gate(Gate::UserFlag) {
        user_flags(value, &mut found);
        short_password_flags(value, &mut found);
    }
    if gate(Gate::CredentialLine) {
        credential_lines(value, &mut found);
    }
    if gate(Gate::Command) {
        command_flags(value, &mut found);
    }
    if colon && (blank || quote) {
        user_password_tokens(value, &mut found);
    }
    if gate(Gate::Jaas) {
        jaas_users(value, &mut found);
    }
    if gate(Gate::Snmp) {
        snmp_lines(value, &mut found);
    }
    if gate(Gate::Ipsec) {
        ipsec_secrets(value, &mut found);
    }
    if value.len() >= SHORTEST_TOKEN {
        if bot {
            bot_tokens(value, &mut found);
        }
        if colons >= 4 {
            pgpass_lines(value, &mut found);
        }
        if gate(Gate::Mailchimp) {
            mailchimp_keys(value, &mut found);
        }
        if longest_token >= ENTROPY_MIN_LEN {
            high_entropy(value, &public, &mut found);
        }
    }
    if !public.is_empty() {
        found.retain(|f| f.rule == "pem-private-key" || !inside(&public, &f.span));
    }
    if found.len() > 1 {
        found.sort_by_key(|f| (f.span.start, std::cmp::Reverse(f.span.end)));
        let mut out: Vec<Finding> = Vec::with_capacity(found.len());
        for f in found {
            if out.last().is_none_or(|last| f.span.start >= last.span.end) {
                out.push(f);
            }
        }
        return Scan { findings: out, whole_public };
    }
    Scan { findings: found, whole_public }
}

/// Whether `spans` cover all of `value` but its surrounding blanks.
fn covers_all(value: &str, spans: &[Range<usize>]) -> bool {
    let t = value.trim();
    let from = value.len() - value.trim_start().len();
    spans.iter().any(|s| s.start <= from && s.end >= from + t.len())
}

/// The shortest secret a token rule, JWT, bot token or the entropy test can
/// find (`xoxb-` and ten characters).
const SHORTEST_TOKEN: usize = 15;

fn overlaps(found: &[Finding], span: &Range<usize>) -> bool {
    found.iter().any(|f| f.span.start < span.end && span.start < f.span.end)
}

fn inside(spans: &[Range<usize>], span: &Range<usize>) -> bool {
    spans.iter().any(|p| p.start <= span.start && span.end <= p.end)
}

fn push(found: &mut Vec<Finding>, rule: &'static str, span: Range<usize>, shape: Shape) {
    if !span.is_empty() && !overlaps(found, &span) {
        found.push(Finding { rule, span, shape });
    }
}

fn boundary_before(value: &str, at: usize) -> bool {
    value[..at].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric())
}

/// Characters of base64 and base64url tokens (and of most keys).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-' | b'=' | b'~')
}

/// The token (base64-ish run) that starts at `start`.
fn token_end(value: &str, start: usize) -> usize {
    start + value.as_bytes()[start..].iter().take_while(|&&b| is_token_byte(b) || b == b'.' || b == b'|').count()
}

/// Spans of public material: never secrets, whatever their entropy.
fn public_spans(value: &str, hits: &[(usize, usize, Public)]) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    for &(start, end, kind) in hits {
        match kind {
            Public::Token => {
                if boundary_before(value, start) || value[..start].ends_with('\'') {
                    spans.push(start..token_end(value, start));
                }
            }
            Public::Word => {
                let len = value[start..].find(['"', '\'', ' ', '\n', ')', '>']).unwrap_or(value.len() - start);
                spans.push(start..start + len);
            }
            Public::Suffix => {
                let from = value[..start].bytes().rev().take_while(|b| b.is_ascii_alphanumeric() || *b == b'-').count();
                spans.push(start - from..end);
            }
            Public::Pem => {
                let end = value[end..].find("-----END ").map_or(value.len(), |i| {
                    let e = end + i + "-----END ".len();
                    value[e..].find("-----").map_or(value.len(), |j| e + j + 5)
                });
                spans.push(start..end);
            }
            Public::PuttyLines => {
                let lines: usize = value[end..].lines().next().and_then(|l| l.trim().parse().ok()).unwrap_or(0);
                let mut at = value[end..].find('\n').map_or(value.len(), |i| end + i + 1);
                for _ in 0..lines.min(1000) {
                    at = value[at..].find('\n').map_or(value.len(), |i| at + i + 1);
                }
                spans.push(start..at);
            }
            Public::NextLine => {
                let from = value[end..].find('\n').map_or(value.len(), |i| end + i + 1);
                let to = value[from..].find('\n').map_or(value.len(), |i| from + i);
                spans.push(from..to);
            }
        }
    }
    // Whole-token shapes that are public: ULIDs, VAPID public keys, site keys,
    // base64 certificates and public keys in DER.
    spans
}

/// Whether all of `value` is public material (a certificate, an SSH
/// public key, a publishable key, …).
pub fn is_public(value: &str) -> bool {
    let sc = scanner();
    let hits: Vec<(usize, usize, Public)> = sc
        .markers
        .find_overlapping_iter(value)
        .filter_map(|m| match sc.kinds[m.pattern().as_usize()] {
            Marker::Public(kind) => Some((m.start(), m.end(), kind)),
            _ => None,
        })
        .collect();
    covers_all(value, &public_spans(value, &hits))
}

/// Whether a whole token is public material by its shape alone.
pub fn public_token(t: &str) -> bool {
    let crockford = |c: char| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"ILOU".contains(c));
    if t.len() == 26 && t.chars().all(crockford) && t.starts_with(['0', '1', '2', '3', '4', '5', '6', '7']) {
        return true; // ULID
    }
    if t.len() == 87 && t.starts_with('B') && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return true; // VAPID / P-256 public key, uncompressed point
    }
    if let Some((kind, id)) = t.split_once('-') {
        // AWS resource ids: `vpc-0f1e2d3c4b5a69788`, `sg-0123abcd`.
        let hex = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if (1..=12).contains(&kind.len())
            && kind.bytes().all(|b| b.is_ascii_lowercase())
            && matches!(id.len(), 8 | 17)
            && hex(id)
        {
            return true;
        }
    }
    if t.len() == 40 && t.starts_with("6L") && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return true; // reCAPTCHA site key
    }
    der_kind(t) == Some(Der::Public)
}

#[derive(Debug, PartialEq, Eq)]
enum Der {
    Private,
    Public,
}

/// A base64 DER body: a private key (PKCS#1, PKCS#8, SEC1: a SEQUENCE that
/// opens with a small version INTEGER) or public material (a certificate or
/// SubjectPublicKeyInfo: a SEQUENCE that opens with a SEQUENCE).
fn der_kind(t: &str) -> Option<Der> {
    if t.len() < 60 || !(t.starts_with("MI") || t.starts_with("MC") || t.starts_with("MH")) {
        return None;
    }
    let head = base64::engine::general_purpose::STANDARD_NO_PAD.decode(&t[..16]).ok()?;
    if head.first() != Some(&0x30) {
        return None;
    }
    let len_bytes = match head.get(1)? {
        n if n & 0x80 == 0 => 0,
        n => (n & 0x7f) as usize,
    };
    let body = head.get(2 + len_bytes..)?;
    match body {
        [0x02, 0x01, 0x00 | 0x01, ..] => Some(Der::Private),
        [0x30, ..] => Some(Der::Public),
        _ => None,
    }
}

/// Checks each (start, rule, prefix) hit: a boundary before it, a body of
/// the rule's characters and length after it.
fn prefixed_tokens(
    value: &str,
    hits: &[(usize, usize, &'static str)],
    public: &[Range<usize>],
    found: &mut Vec<Finding>,
) {
    for &(start, rule_index, prefix) in hits {
        let rule = &TOKEN_RULES[rule_index];
        if !boundary_before(value, start) && !prefix.starts_with(|c: char| !c.is_ascii_alphanumeric()) {
            continue;
        }
        let from = start + prefix.len();
        let body = value[from..].bytes().take_while(|&b| rule.body.has(b as char)).count();
        let ends_clean = value[from + body..].chars().next().is_none_or(|c| !c.is_ascii_alphanumeric());
        let span = start..from + body;
        if body >= rule.min && body <= rule.max && ends_clean && !inside(public, &span) {
            push(found, rule.id, span, Shape::Prefixed { prefix, charset: rule.body, len: body });
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
        if !secret_armour(&label) {
            continue;
        }
        let end_marker = format!("-----END {label}-----");
        let end = value[from..].find(&end_marker).map(|j| from + j + end_marker.len()).unwrap_or(value.len());
        push(found, "pem-private-key", start..end, Shape::Pem { label });
        from = end;
    }
}

/// Whether a PEM label names key material: a private or secret key, or any
/// other key that is not public (`OpenVPN Static key V1`). Certificates,
/// public keys, parameters, signatures and messages are not.
fn secret_armour(label: &str) -> bool {
    let l = label.to_ascii_uppercase();
    l.contains("PRIVATE") || l.contains("SECRET") || (l.contains("KEY") && !l.contains("PUBLIC"))
}

/// A PEM block wrapped in base64 (kubeconfig `client-key-data`, Kubernetes
/// Secret `data:`): a private key is redacted, a certificate stays.
fn base64_pems(value: &str, found: &mut Vec<Finding>) {
    for (start, _) in value.match_indices("LS0tLS1CRUdJTi") {
        let end =
            start + value[start..].bytes().take_while(|&b| b.is_ascii_alphanumeric() || one_of(b, b"+/=")).count();
        let token = &value[start..end];
        let Ok(decoded) = base64::engine::general_purpose::STANDARD
            .decode(token.trim_end_matches('='))
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(token.trim_end_matches('=')))
        else {
            // Not decodable whole (cut, or wrapped over lines): fail closed.
            push(found, "base64-pem", start..end, Shape::Opaque);
            continue;
        };
        let text = String::from_utf8_lossy(&decoded);
        if text.contains("PRIVATE KEY") {
            push(found, "base64-pem-private-key", start..end, Shape::Opaque);
        }
    }
}

/// PuTTY key files: the private lines and the MAC.
fn putty_keys(value: &str, found: &mut Vec<Finding>) {
    for (start, _) in value.match_indices("Private-Lines:") {
        let after = start + "Private-Lines:".len();
        let count: usize = value[after..].lines().next().and_then(|l| l.trim().parse().ok()).unwrap_or(0);
        let body_start = value[after..].find('\n').map_or(value.len(), |i| after + i + 1);
        let mut end = body_start;
        for _ in 0..count.min(1000) {
            end = value[end..].find('\n').map_or(value.len(), |i| end + i + 1);
        }
        let end = value[..end].trim_end_matches(['\n', '\r']).len().max(body_start);
        push(found, "putty-private-key", body_start..end, Shape::Opaque);
    }
    for (start, _) in value.match_indices("Private-MAC:") {
        let from = start + "Private-MAC:".len();
        let from = from + value[from..].len() - value[from..].trim_start_matches([' ', '\t']).len();
        let len = value[from..].find(['\n', '\r']).unwrap_or(value.len() - from);
        push(found, "putty-private-key", from..from + len, Shape::Opaque);
    }
}

/// `scheme://user:password@host`: the password; `scheme://<long key>@host`
/// (a DSN): the key.
/// Where `://` stands in `value`, left to right, not overlapping (as
/// `match_indices("://")`, without setting up a substring searcher for
/// every value).
fn scheme_separators(value: &str) -> impl Iterator<Item = usize> + '_ {
    let b = value.as_bytes();
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(i) = b[from..].iter().position(|&c| c == b':') {
            let at = from + i;
            if b[at + 1..].starts_with(b"//") {
                from = at + 3;
                return Some(at);
            }
            from = at + 1;
        }
        None
    })
}

fn url_credentials(value: &str, found: &mut Vec<Finding>) {
    for at in scheme_separators(value) {
        let start = at + 3;
        let rest = &value.as_bytes()[start..];
        let authority_len = rest
            .iter()
            .position(|b| matches!(b, b'/' | b'?' | b'#' | b' ' | b'"' | b'\'' | b'\n' | b'\t' | b',' | b';'))
            .unwrap_or(rest.len());
        let mut authority = &value[start..start + authority_len];
        // No `@` anywhere after the scheme (most URLs): no userinfo to look for.
        if !authority.bytes().any(|b| b == b'@') && rest.contains(&b'@') {
            // An unencoded `#`, `?` or `/` in the password (`redis://:pa#ss@host`)
            // ends the authority early for a parser, not for the reader.
            let wider = rest
                .iter()
                .position(|b| matches!(b, b' ' | b'"' | b'\'' | b'\n' | b'\t' | b',' | b';'))
                .unwrap_or(rest.len());
            let candidate = &value[start..start + wider];
            let port = |c: &str| c.split(['?', '#', '/']).next().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
            if let (Some(at), Some(colon)) = (candidate.rfind('@'), candidate.find(':')) {
                if colon < at && !candidate[..colon].contains(['?', '#', '/']) && !port(&candidate[colon + 1..at]) {
                    authority = &candidate[..at + 1];
                }
            }
        }
        let Some(at_sign) = authority.bytes().rposition(|b| b == b'@') else { continue };
        let userinfo = &authority[..at_sign];
        match userinfo.find(':') {
            Some(colon) if colon + 1 < userinfo.len() && !is_reference(&userinfo[colon + 1..]) => {
                push(found, "url-credentials", start + colon + 1..start + at_sign, Shape::Password);
            }
            None if userinfo.len() >= 16 && userinfo.chars().all(|c| c.is_ascii_alphanumeric()) => {
                push(found, "url-key", start..start + at_sign, Shape::Password);
            }
            _ => {}
        }
    }
}

/// A URL path segment that names a key, then the key itself
/// (`https://maker.ifttt.com/trigger/x/with/key/<key>`, `/token/<token>`,
/// `/apikey/<key>`): the segment after it, when it is a token with letters
/// and digits.
fn url_path_keys(value: &str, found: &mut Vec<Finding>) {
    for at in scheme_separators(value) {
        let rest = &value[at + 3..];
        let len = rest.find([' ', '"', '\'', '\n', '\t', '?', '#', '<', '>']).unwrap_or(rest.len());
        let Some(path_at) = rest[..len].find('/') else { continue };
        let mut pos = at + 3 + path_at + 1;
        let mut named = false;
        for seg in rest[path_at + 1..len].split('/') {
            let token = seg.len() >= 12
                && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && seg.bytes().any(|b| b.is_ascii_digit())
                && seg.bytes().any(|b| b.is_ascii_alphabetic());
            if named && token {
                push(found, "url-path-key", pos..pos + seg.len(), Shape::Opaque);
            }
            named = (3..=12).contains(&seg.len())
                && [
                    "key",
                    "keys",
                    "apikey",
                    "api_key",
                    "api-key",
                    "token",
                    "tokens",
                    "secret",
                    "access_token",
                    "inputs",
                ]
                .iter()
                .any(|w| seg.eq_ignore_ascii_case(w));
            pos += seg.len() + 1;
        }
    }
}

/// A password in a URL's query under a one-letter name beside its user
/// (InfluxDB's `/write?db=x&u=writer&p=secret`): `p` alone says little,
/// beside `u=` or `user=` it is the password. (Longer names, `password=`,
/// `pwd=`, are secret words the key rules find.)
fn url_query_passwords(value: &str, found: &mut Vec<Finding>) {
    for at in scheme_separators(value) {
        let rest = &value[at + 3..];
        let len = rest.find([' ', '"', '\'', '\n', '\t', '#', '<', '>']).unwrap_or(rest.len());
        let Some(q) = rest[..len].find('?') else { continue };
        let query_at = at + 3 + q + 1;
        let query = &value[query_at..at + 3 + len];
        let params = || {
            query.split('&').scan(query_at, |pos, p| {
                let start = *pos;
                *pos += p.len() + 1;
                Some((start, p))
            })
        };
        let has_user = params().any(|(_, p)| {
            p.split_once('=').is_some_and(|(k, v)| {
                !v.is_empty() && ["u", "user", "username", "login"].iter().any(|u| k.eq_ignore_ascii_case(u))
            })
        });
        if !has_user {
            continue;
        }
        for (start, p) in params() {
            if let Some(v) = p.strip_prefix("p=").or_else(|| p.strip_prefix("P=")) {
                let from = start + 2;
                if let Some(span) = plausible(value, from..from + v.len()) {
                    push(found, "url-query-password", span, Shape::Password);
                }
            }
        }
    }
}

/// Userinfo without a scheme: Go's MySQL DSN `user:pw@tcp(host)/db`,
/// `user:pw@host`, and JDBC thin / EZConnect `user/pw@host:1521/svc`.
fn bare_userinfo(value: &str, found: &mut Vec<Finding>) {
    let b = value.as_bytes();
    for (at, _) in value.match_indices('@') {
        // What follows must look like a host or a Go DSN protocol.
        let next = b.get(at + 1).copied().unwrap_or(b' ');
        if !(next.is_ascii_alphanumeric() || next == b'[' || next == b'/' || next == b'(') {
            continue;
        }
        if value[at + 1..].starts_with("sha256:") || value[at + 1..].starts_with("sha512:") {
            continue; // image@digest
        }
        // Walk back over the password to its separator.
        let mut i = at;
        while i > 0 && !matches!(b[i - 1], b' ' | b'\t' | b'\n' | b'"' | b'\'' | b'=' | b',' | b'@' | b'(' | b'>') {
            i -= 1;
        }
        let credential = &value[i..at];
        if credential.contains("//") || credential.ends_with(':') {
            continue; // a URL (url_credentials decides), or no password (`jdbc:oracle:thin:@host`)
        }
        // JDBC thin / EZConnect `…:user/password@`, else `user:password@`.
        let (user, password, offset) = if let Some(slash) = credential.rfind('/') {
            let user_from = credential[..slash].rfind(':').map_or(0, |c| c + 1);
            (&credential[user_from..slash], &credential[slash + 1..], slash + 1)
        } else if let Some(colon) = credential.find(':') {
            (&credential[..colon], &credential[colon + 1..], colon + 1)
        } else {
            continue;
        };
        let user_ok = !user.is_empty()
            && user.len() <= 64
            && user.bytes().all(|c| c.is_ascii_alphanumeric() || one_of(c, b"._-$#%+\\"))
            && !user.bytes().all(|c| c.is_ascii_digit());
        // Images (`repo/name@sha…`) and paths have no password shape: a
        // password here has no further `/` and something besides letters.
        let pw_ok = !password.is_empty()
            && !password.contains('/')
            && !is_reference(password)
            && (!credential.contains('/') || password.bytes().any(|c| !c.is_ascii_lowercase()));
        if user_ok && pw_ok {
            push(found, "userinfo-credentials", i + offset..at, Shape::Password);
        }
    }
}

/// `Bearer <token>`, `Basic <base64 user:pass>`, `Token <token>`: the credential.
fn auth_schemes(value: &str, starts: &[usize], found: &mut Vec<Finding>) {
    for &start in starts {
        if !boundary_before(value, start) {
            continue;
        }
        let scheme_len = value[start..].find(' ').map_or(0, |i| i + 1);
        let from = start + scheme_len;
        let len = value[from..].bytes().take_while(|&b| is_token_byte(b) || b == b'.').count();
        let token = &value[from..from + len];
        let basic = value[start..].to_ascii_lowercase().starts_with("basic");
        let credential = if basic {
            basic_credentials(token)
        } else {
            token.len() >= 8 && token.bytes().any(|b| !b.is_ascii_lowercase())
        };
        if credential {
            push(found, "authorization-credentials", from..from + len, Shape::Opaque);
        }
    }
}

/// Whether `token` is base64 of `user:password`.
pub fn basic_credentials(token: &str) -> bool {
    if token.len() < 8 || token.len() > 512 {
        return false;
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(token) else { return false };
    let Ok(text) = std::str::from_utf8(&bytes) else { return false };
    let Some((user, pass)) = text.split_once(':') else { return false };
    !user.is_empty() && !pass.is_empty() && text.chars().all(|c| c.is_ascii_graphic())
}

/// Any `key=value`, `key: value`, `"key": "value"`, `key => value`,
/// `--key value`, `-Dkey=value` or `<key>value</key>` whose key is a
/// secret name: the value. `starts` are where secret words were seen.
fn secret_keys(value: &str, starts: &[usize], found: &mut Vec<Finding>, public: &mut Vec<Range<usize>>) {
    let b = value.as_bytes();
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-';
    let mut last_start = usize::MAX;
    for &hit in starts {
        let mut start = hit;
        while start > 0 && is_ident(b[start - 1]) {
            start -= 1;
        }
        // Flags: `--db-password`, `-Dx.password`: the name starts after the dashes.
        let dashes = b[start..].iter().take_while(|&&c| c == b'-').count();
        let flag = dashes > 0;
        let name_start = start + dashes;
        if name_start == last_start || name_start >= b.len() {
            continue;
        }
        last_start = name_start;
        let mut end = hit;
        while end < b.len() && is_ident(b[end]) {
            end += 1;
        }
        let name = value[name_start..end].trim_end_matches(['.', '-']);
        if name.is_empty() || !name.as_bytes()[0].is_ascii_alphabetic() && name.as_bytes()[0] != b'_' {
            continue;
        }
        match names::classify(name) {
            // redis.conf `sentinel auth-pass <master> <password>`: the
            // master's name comes before the password.
            names::NameClass::Secret(_) if name == "auth-pass" && value[..start].trim_end().ends_with("sentinel") => {
                let after = |from: usize| {
                    let word = value[from..].trim_start_matches([' ', '\t']);
                    let at = value.len() - word.len();
                    (at, word.find(char::is_whitespace).map_or(value.len(), |n| at + n))
                };
                let (master, master_end) = after(name_start + name.len());
                let (pw, pw_end) = after(master_end);
                if master_end > master {
                    if let Some(span) = plausible(value, pw..pw_end) {
                        push(found, "secret-named-key", span, Shape::Password);
                    }
                }
            }
            names::NameClass::Secret(rule) => {
                if let Some(span) = value_after_key(value, start, name_start + name.len(), flag) {
                    let v = &value[span.clone()];
                    let mode = rule == "AUTH" && v.len() <= 16 && v.bytes().all(|b| b.is_ascii_alphabetic());
                    if !mode && !is_public(v) {
                        push(found, "secret-named-key", span, Shape::Password);
                    }
                }
            }
            // `PublicKey = …`: what follows is public, whatever its entropy.
            names::NameClass::Public => {
                if let Some(span) = value_after_key(value, start, name_start + name.len(), flag) {
                    public.push(span);
                }
            }
            _ => {}
        }
    }
}

/// Whether `text` starts with a connection string's next `Name=` pair.
fn pair_follows(text: &str) -> bool {
    let name = text.bytes().take_while(|b| b.is_ascii_alphanumeric() || one_of(*b, b" _")).count();
    name > 0 && text.as_bytes()[0].is_ascii_alphabetic() && text.as_bytes().get(name) == Some(&b'=')
}

/// The span of the value that follows a key ending at `end`.
fn value_after_key(value: &str, key_start: usize, end: usize, flag: bool) -> Option<Range<usize>> {
    let b = value.as_bytes();
    let mut i = end;
    // A quoted key: `"password": …`, `\"password\": …` (escaped any number
    // of times), `'password' => …`, `define('DB_PASSWORD', '…')`.
    let opened_with = key_start.checked_sub(1).map(|k| b[k]);
    let mut quoted_key = false;
    if matches!(opened_with, Some(b'"' | b'\'')) {
        let slashes = b[i..].iter().take_while(|&&c| c == b'\\').count();
        if b.get(i + slashes) == opened_with.as_ref() {
            i += slashes + 1;
            quoted_key = true;
        }
    } else if opened_with == Some(b'[') && b.get(i) == Some(&b']') {
        i += 1; // `env[DB_PASS] = …`
    } else if opened_with == Some(b'<') && b.get(i) == Some(&b'>') {
        // `<password>value</password>`
        let from = i + 1;
        let len = value[from..].find('<')?;
        return plausible(value, from..from + len);
    }
    let spaces = |i: &mut usize| {
        while *i < b.len() && (b[*i] == b' ' || b[*i] == b'\t') {
            *i += 1;
        }
    };
    let before_sep = i;
    spaces(&mut i);
    let equals = b.get(i) == Some(&b'=');
    // A directive at the start of a line (`requirepass x`, nginx, redis,
    // sshd, .netrc-like files) is followed by its value after blanks.
    let line_start = value[..key_start].rfind('\n').map_or(0, |n| n + 1);
    let directive = value[line_start..key_start].trim().is_empty() && !quoted_key;
    match b.get(i) {
        Some(b'=') if b.get(i + 1) == Some(&b'>') => i += 2,
        Some(b'=') if !matches!(b.get(i + 1), Some(b'=' | b'~')) => i += 1,
        Some(b':') if b.get(i + 1) == Some(&b'=') => i += 2,
        Some(b':') if !value[i..].starts_with("::") && !value[i..].starts_with("://") => i += 1,
        // `["--password", "x"]`, `define('KEY', 'x')`.
        Some(b',') if flag || (quoted_key && value[..key_start - 1].trim_end().ends_with('(')) => i += 1,
        Some(b'\n' | b'\r') | None => return None,
        Some(_) if (flag || directive) && i > before_sep => {}
        // `user legacy insecure-password x`: a compound key word, then its value.
        Some(_)
            if i > before_sep
                && !quoted_key
                && value[key_start..end].contains(['-', '_', '.'])
                && key_start > 0
                && b[key_start - 1] == b' ' => {}
        _ => return None,
    }
    spaces(&mut i);
    let rest = &value[i..];
    if ["${", "{{", "#{", "$(", "%(", "<%", "%env(", "env(", "ENV.fetch(", "ENV[", "os.environ", "getenv("]
        .iter()
        .any(|p| rest.starts_with(p))
    {
        // A reference or a template; a default value inside it is a value.
        return reference_default(rest).and_then(|r| plausible(value, i + r.start..i + r.end));
    }
    // `password=''x''` inside a single-quoted string (libpq in postgresql.conf).
    if let Some(inner) = rest.strip_prefix("''") {
        let len = inner.find("''")?;
        return plausible(value, i + 2..i + 2 + len);
    }
    // Quoted values, escaped any number of times: up to the same quote.
    let slashes = rest.bytes().take_while(|&c| c == b'\\').count();
    if let Some(&q) = rest.as_bytes().get(slashes).filter(|q| matches!(q, b'"' | b'\'' | b'`')) {
        let from = i + slashes + 1;
        let inner = &value[from..];
        let close = if slashes > 0 { inner.find(&rest[..slashes + 1]) } else { closing_quote(inner, q) };
        let len = close.unwrap_or_else(|| inner.find('\n').unwrap_or(inner.len()));
        return plausible(value, from..from + len);
    }
    if rest.starts_with('{') && !equals {
        return None; // a structured value: its own keys are checked where they stand
    }
    if rest.starts_with('{') {
        // ODBC braces: `Pwd={a;b}`, `}}` standing for `}`.
        let rb = rest.as_bytes();
        let mut j = 1;
        while j < rb.len() {
            if rb[j] == b'}' {
                if rb.get(j + 1) == Some(&b'}') {
                    j += 2;
                    continue;
                }
                break;
            }
            j += 1;
        }
        let inner = &rest[1..j.min(rest.len())];
        if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_alphanumeric() || one_of(b, b"_.-")) {
            return None; // `{token}`: a template
        }
        return plausible(value, i + 1..i + j.max(1));
    }
    // `Authorization: Bearer x`: the credential follows the scheme.
    let scheme = ["Bearer ", "Basic ", "Token ", "Digest ", "Negotiate ", "bearer ", "basic ", "token "]
        .iter()
        .find(|s| rest.starts_with(**s))
        .map_or(0, |s| s.len());
    let (i, rest) = (i + scheme, &rest[scheme..]);
    let spaced = (flag || directive) && !equals && i > before_sep;
    let stop = if directive && !flag { "\"')}]<>" } else { ";&,\"')}]<>" };
    let len = rest.find(|c: char| c.is_whitespace() || stop.contains(c)).unwrap_or(rest.len());
    let len = if directive && !flag { rest[..len].trim_end_matches(';').len() } else { len };
    // At a line's start a `;` may be part of a password, but not when a
    // `Name=` pair follows it: `InstrumentationKey=x;IngestionEndpoint=…`.
    let len = if directive && equals {
        rest[..len].find(';').filter(|&j| pair_follows(&rest[j + 1..])).unwrap_or(len)
    } else {
        len
    };
    if spaced && directive && !flag {
        // `requirepass x`: the value ends the line (or a `;`, or a comment);
        // `API_TOKEN (name matches …)` is prose, not a directive.
        let after = rest[len..].trim_start_matches([' ', '\t', ';']);
        if !(after.is_empty() || after.starts_with(['\n', '\r', '#'])) {
            return None;
        }
    }
    let word = rest.bytes().take_while(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.').count();
    if word > 0 && rest[word..].starts_with(['(', '[']) && rest.as_bytes()[0].is_ascii_alphabetic() {
        return None; // a call or a lookup: `env("DB_PASSWORD")`, `os.environ['X']`
    }
    let code = &rest[..len];
    if code.contains('.')
        && code.split('.').all(|p| {
            !p.is_empty()
                && p.as_bytes()[0].is_ascii_alphabetic()
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
        && code
            .split('.')
            .any(|p| p == "env" || p == "environ" || p == "ENV" || p == "settings" || p == "config" || p == "Values")
    {
        return None; // `process.env.DB_PASSWORD`, `settings.DB_PASSWORD`
    }
    plausible(value, i..i + len)
}

/// The default inside a reference: `${VAR:default}`, `${VAR:-default}`,
/// `env('X', 'default')`, `ENV.fetch("X", "default")`, `getenv('X', 'd')`.
pub fn reference_default(t: &str) -> Option<Range<usize>> {
    if let Some(body) = t.strip_prefix("${") {
        let close = body.find('}')?;
        let inner = &body[..close];
        let colon = inner.find(':').or_else(|| inner.find('-'))?;
        // `${VAR:?message}`, `${VAR?message}`: an error message, no default.
        if inner[colon..].starts_with(":?") || inner[..colon].contains('?') {
            return None;
        }
        let mut from = colon + 1;
        if inner[from..].starts_with(['-', '=', '?', '+']) {
            from += 1;
        }
        return (from < inner.len()).then(|| 2 + from..2 + inner.len());
    }
    // A call with a second, quoted argument.
    let open = t.find('(')?;
    let close = t[open..].find(')').map(|c| open + c)?;
    let args = &t[open + 1..close];
    let comma = args.find(',')?;
    let second = args[comma + 1..].trim_start();
    let q = second.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let start = open + 1 + comma + 1 + (args[comma + 1..].len() - second.len()) + 1;
    let len = t[start..].find(q)?;
    (len > 0).then(|| start..start + len)
}

/// `curl -u user:password`, `--user user:password`: the password.
fn user_flags(value: &str, found: &mut Vec<Finding>) {
    for flag in [" -u ", " --user ", " --user=", " -U "] {
        for (at, _) in value.match_indices(flag) {
            let from = at + flag.len();
            let word = value[from..].split(|c: char| c.is_whitespace()).next().unwrap_or("");
            let word_trim = word.trim_matches(['"', '\'']);
            let offset = word.len() - word.trim_start_matches(['"', '\'']).len();
            if let Some(colon) = word_trim.find(':') {
                let pw = &word_trim[colon + 1..];
                if !pw.is_empty() && !is_reference(pw) {
                    let s = from + offset + colon + 1;
                    push(found, "user-flag-password", s..s + pw.len(), Shape::Password);
                }
            }
        }
    }
}

/// `mysql -u root -pX` (an attached value that is no port number) and
/// `ipmitool -U admin -P X`, `sqlcmd -U sa -P X` (attached or not; not
/// psql's `-P name=value`): the password.
fn short_password_flags(value: &str, found: &mut Vec<Finding>) {
    for (user, flag, spaced) in [(" -u ", " -p", false), (" -U ", " -P", true)] {
        if !value.contains(user) && !value.starts_with(&user[1..]) {
            continue;
        }
        for (at, _) in value.match_indices(flag) {
            let mut from = at + flag.len();
            // `racadm -u root -p X`: a separate `-p` value counts on the `-u`
            // line, but not for mysql (`mysql -u root -p shop` prompts; `shop`
            // is the database), nor a number (a port, `-p 8080:80`).
            let line_start = value[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = value[at..].find('\n').map_or(value.len(), |i| at + i);
            let line = &value[line_start..line_end];
            let separate = !spaced
                && value[from..].starts_with([' ', '\t'])
                && (line.contains(user) || line.starts_with(&user[1..]))
                && !line.contains("mysql")
                && !line.contains("mariadb");
            if spaced || separate {
                from += value[from..].len() - value[from..].trim_start_matches([' ', '\t']).len();
            }
            let word = value[from..].split(char::is_whitespace).next().unwrap_or("");
            let q = word.len() - word.trim_start_matches(['"', '\'']).len();
            let pw = word.trim_matches(['"', '\'']);
            let setting =
                pw.split_once('=').is_some_and(|(k, _)| !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase()));
            if pw.is_empty()
                || pw.starts_with('-')
                || pw.bytes().all(|b| b.is_ascii_digit())
                || (separate && (port_mapping(pw) || looks_like_path(pw)))
                || setting
                || is_reference(pw)
            {
                continue;
            }
            push(found, "short-password-flag", from + q..from + q + pw.len(), Shape::Password);
        }
    }
}

/// A port or a port mapping (`8080`, `8080:80`, `127.0.0.1:80:80/tcp`).
fn port_mapping(t: &str) -> bool {
    let t = t.trim_end_matches("/tcp").trim_end_matches("/udp");
    t.starts_with(|c: char| c.is_ascii_digit()) && t.bytes().all(|b| b.is_ascii_digit() || b == b':' || b == b'.')
}

/// The password after a command's password flag ([`PASSWORD_FLAGS`]), up to
/// the end of that command (`;`, `&&`, `|`, a line end).
fn command_flags(value: &str, found: &mut Vec<Finding>) {
    let b = value.as_bytes();
    for &(cmd, flag, attached_only) in PASSWORD_FLAGS {
        for (at, _) in value.match_indices(cmd) {
            let before =
                at == 0 || matches!(b[at - 1], b' ' | b'\t' | b'\n' | b'"' | b'\'' | b';' | b'|' | b'&' | b'(' | b'/');
            if !before || !b.get(at + cmd.len()).is_some_and(|c| *c == b' ' || *c == b'\t') {
                continue;
            }
            let from = at + cmd.len();
            let end = value[from..].find(['\n', ';', '|', '&']).map_or(value.len(), |i| from + i);
            let mut words = value[from..end].split(' ').scan(from, |pos, w| {
                let start = *pos;
                *pos += w.len() + 1;
                Some((start, w))
            });
            while let Some((start, w)) = words.next() {
                let span = if w.len() > flag.len() && w.starts_with(flag) && !w.starts_with("--") {
                    Some((start + flag.len(), &w[flag.len()..]))
                } else if w == flag && !attached_only {
                    words.by_ref().find(|(_, n)| !n.is_empty())
                } else {
                    None
                };
                if let Some((s, pw)) = span {
                    let q = pw.len() - pw.trim_start_matches(['"', '\'']).len();
                    let pw = pw.trim_matches(['"', '\'']);
                    if !pw.is_empty() && !is_reference(pw) {
                        push(found, "command-password-flag", s + q..s + q + pw.len(), Shape::Password);
                    }
                }
            }
        }
    }
}

/// `user:password` standing as a word in text (`[smtp]:587 user:pw`,
/// `"ops:pw"`): a password with capitals, digits and symbols.
fn user_password_tokens(value: &str, found: &mut Vec<Finding>) {
    if !value.is_ascii() {
        return user_password_tokens_unicode(value, found);
    }
    // Words split as `char::is_whitespace` and quotes split them; only
    // words with a colon can be pairs, so the colons are found first (a
    // fast search: a long text has few) and each one's word read around it.
    let b = value.as_bytes();
    let sep = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | b'"' | b'\'');
    let mut done = 0;
    for colon in memchr::memchr_iter(b':', b) {
        if colon < done {
            continue; // a second colon of the word just read
        }
        let start = b[..colon].iter().rposition(|&c| sep(c)).map_or(0, |i| i + 1);
        done = b[colon..].iter().position(|&c| sep(c)).map_or(b.len(), |i| colon + i);
        user_password_word(&value[start..done], start, found);
    }
}

/// [`user_password_tokens`] on text that is not all ASCII.
fn user_password_tokens_unicode(value: &str, found: &mut Vec<Finding>) {
    let mut at = 0;
    for word in value.split_inclusive(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
        let w = word.trim_end_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'');
        user_password_word(w, at, found);
        at += word.len();
    }
}

/// One word of [`user_password_tokens`], at byte `at` of the value.
fn user_password_word(w: &str, at: usize, found: &mut Vec<Finding>) {
    if w.len() > 8 && user_password_pair(w) {
        let (_, pw) = w.split_once(':').expect("a pair");
        let strong = pw.bytes().any(|b| b.is_ascii_uppercase()) || pw.bytes().any(|b| one_of(b, b"!#$%^&*()+=?~@.-_"));
        if strong && !w.contains('/') {
            let s = at + w.len() - pw.len();
            push(found, "user-password-pair", s..at + w.len(), Shape::Password);
        }
    }
}

/// Kafka's JAAS `PlainLoginModule`: `user_<name>="<password>"` entries.
fn jaas_users(value: &str, found: &mut Vec<Finding>) {
    for (at, _) in value.match_indices("user_") {
        if !boundary_before(value, at) {
            continue;
        }
        let rest = &value[at..];
        let Some(eq) = rest.find("=\"") else { continue };
        if !rest[5..eq].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            continue;
        }
        let from = at + eq + 2;
        if let Some(len) = value[from..].find('"') {
            push(found, "jaas-user-password", from..from + len, Shape::Password);
        }
    }
}

/// Lines of two quoted strings (`"user" "password"`: pgbouncer's
/// `auth_file`), and Redis ACL rules (`user app on >password ~* +@all`).
fn credential_lines(value: &str, found: &mut Vec<Finding>) {
    let mut at = 0;
    for line in value.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let t = body.trim();
        let lead = body.len() - body.trim_start().len();
        if t.starts_with('"') && t.ends_with('"') && t.matches('"').count() == 4 {
            let parts: Vec<&str> = t.split('"').collect();
            if parts[2].trim().is_empty() && !parts[3].is_empty() {
                let s = at + lead + parts[1].len() + 2 + parts[2].len() + 1;
                push(found, "auth-file-password", s..s + parts[3].len(), Shape::Password);
            }
        }
        if t.starts_with("user ") {
            for (i, _) in body.match_indices(" >") {
                let s = at + i + 2;
                let len = value[s..].find(char::is_whitespace).unwrap_or(value.len() - s);
                push(found, "acl-password", s..s + len, Shape::Password);
            }
        }
        at += line.len();
    }
}

/// snmpd.conf: the community of `rocommunity`/`rwcommunity` (first word),
/// `com2sec`, `trapsink`/`trap2sink`/`informsink` (last word) and
/// `trapcommunity`, and the passphrases of `createUser user SHA "a" AES "p"`.
fn snmp_lines(value: &str, found: &mut Vec<Finding>) {
    let mut at = 0;
    for line in value.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let words: Vec<(usize, &str)> = body
            .split([' ', '\t'])
            .scan(0usize, |pos, w| {
                let s = *pos;
                *pos += w.len() + 1;
                Some((s, w))
            })
            .filter(|(_, w)| !w.is_empty())
            .collect();
        let Some(&(_, directive)) = words.first() else {
            at += line.len();
            continue;
        };
        let mut secret = |i: usize| {
            if let Some(&(s, w)) = words.get(i) {
                let q = w.len() - w.trim_start_matches(['"', '\'']).len();
                let t = w.trim_matches(['"', '\'']);
                if !t.is_empty() && !t.starts_with('-') && !is_reference(t) {
                    push(found, "snmp-community", at + s + q..at + s + q + t.len(), Shape::Password);
                }
            }
        };
        match directive {
            "rocommunity" | "rwcommunity" | "rocommunity6" | "rwcommunity6" | "trapcommunity" => secret(1),
            "com2sec" | "com2sec6" | "trapsink" | "trap2sink" | "informsink" if words.len() >= 3 => {
                secret(words.len() - 1)
            }
            "createUser" => {
                for (i, (_, w)) in words.iter().enumerate() {
                    let proto = w.trim_matches('"').to_ascii_uppercase();
                    if proto.starts_with("MD5")
                        || proto.starts_with("SHA")
                        || proto.starts_with("DES")
                        || proto.starts_with("AES")
                    {
                        secret(i + 1);
                    }
                }
            }
            _ => {}
        }
        at += line.len();
    }
}

/// strongSwan / libreswan `ipsec.secrets`: `[selectors] : PSK|EAP|XAUTH|NTLM
/// "secret"` (quoted or a bare word to the line's end).
fn ipsec_secrets(value: &str, found: &mut Vec<Finding>) {
    for kind in [": PSK ", ": EAP ", ": XAUTH ", ": NTLM "] {
        for (at, _) in value.match_indices(kind) {
            let from = at + kind.len();
            let line = &value[from..value[from..].find('\n').map_or(value.len(), |i| from + i)];
            let t = line.trim_end();
            let (s, len) = if let Some(inner) = t.strip_prefix('"') {
                (from + 1, closing_quote(inner, b'"').unwrap_or(inner.len()))
            } else {
                (from, t.len())
            };
            if len > 0 && !is_reference(&value[s..s + len]) {
                push(found, "ipsec-secret", s..s + len, Shape::Password);
            }
        }
    }
}

/// The index of the closing `q` in `s`, skipping backslash escapes (and
/// doubled quotes for `'`).
fn closing_quote(s: &str, q: u8) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == q => {
                if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                return Some(i);
            }
            b'\n' => return None,
            _ => i += 1,
        }
    }
    None
}

/// A value span that can hold a secret: not empty, not a boolean or null,
/// not a reference or template (`${DB_PASSWORD}`, `{password}`, `%(pw)s`),
/// not a file path.
fn plausible(value: &str, span: Range<usize>) -> Option<Range<usize>> {
    let v = value.get(span.clone())?;
    if v.trim().is_empty()
        || !value_can_be_secret(v)
        || looks_like_path(v)
        || matches!(v, "|" | ">" | "|-" | ">-" | "|+" | ">+")
    {
        return None;
    }
    Some(span)
}

/// An absolute or relative file path, which no secret looks like
/// (`${user.home}/.ssh/id_rsa` too: a variable standing for a folder).
pub fn looks_like_path(v: &str) -> bool {
    let var_end = if v.starts_with("${") {
        v.find('}').map(|i| i + 1)
    } else if let Some(rest) = v.strip_prefix('%') {
        rest.find('%').map(|i| i + 2)
    } else {
        v.strip_prefix('$').map(|rest| 1 + rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count())
    };
    let v = match var_end.map(|e| &v[e..]) {
        Some(rest) if rest.starts_with('/') => rest,
        _ => v,
    };
    let rest = v.strip_prefix('/').or_else(|| v.strip_prefix("./")).or_else(|| v.strip_prefix("~/"));
    // A relative path to a file in lower-case words (`prod/terraform.tfstate`,
    // `certs/ca.pem`): base64 and passwords have capitals, and no `.ext`.
    let relative_file = || {
        let last = v.rsplit('/').next().unwrap_or("");
        last.rsplit_once('.').is_some_and(|(stem, ext)| {
            !stem.is_empty() && (1..=8).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_lowercase())
        }) && v.split('/').all(|p| {
            !p.is_empty()
                && p.len() <= 64
                && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || one_of(b, b"._-"))
        })
    };
    if rest.is_none() && v.contains('/') && v.contains('.') && relative_file() {
        return true;
    }
    rest.is_some_and(|r| {
        let parts: Vec<&str> = r.split('/').collect();
        parts.len() >= 2
            && parts.iter().all(|p| {
                !p.is_empty() && p.len() <= 64 && p.bytes().all(|b| b.is_ascii_alphanumeric() || one_of(b, b"._-@"))
            })
    })
}

/// Whether a value could hold a secret at all: booleans, nulls, numbers
/// of a few digits and references to secrets kept elsewhere cannot.
pub fn value_can_be_secret(v: &str) -> bool {
    let t = v.trim();
    // The words below, folded to lower case on the stack (no allocation:
    // this runs for every value under a secret name).
    let mut buf = [0u8; 12];
    let lower = if t.len() <= buf.len() && t.is_ascii() {
        buf[..t.len()].copy_from_slice(t.as_bytes());
        buf[..t.len()].make_ascii_lowercase();
        std::str::from_utf8(&buf[..t.len()]).unwrap_or_default()
    } else {
        "-" // longer than every word below, or not ASCII: none of them
    };
    if matches!(
        lower,
        "" | "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "null"
            | "none"
            | "nil"
            | "~"
            | "enabled"
            | "disabled"
            | "unset"
    ) {
        return false;
    }
    // Masks and placeholders (`**********`, `<redacted>`) hold nothing.
    let first = t.chars().next().unwrap_or(' ');
    if t.len() >= 3 && matches!(first, '*' | 'x' | 'X' | '•' | '#' | '.' | '-') && t.chars().all(|c| c == first) {
        return false;
    }
    if matches!(
        lower,
        "redacted"
            | "[redacted]"
            | "<redacted>"
            | "(redacted)"
            | "<secret>"
            | "<password>"
            | "<token>"
            | "hidden"
            | "[hidden]"
    ) {
        return false;
    }
    if is_timestamp(t) || is_hostname(t) || secret_object_name(t) {
        return false;
    }
    // The name of another variable (`STRIPE_SECRET_KEY`) points at a secret.
    if t.contains('_')
        && t.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && t.as_bytes()[0].is_ascii_uppercase()
    {
        return false;
    }
    !is_reference(t)
}

/// The name of a Kubernetes object that holds secrets (`orders-db-credentials`,
/// `acme-tls`, `app-secrets`): lower-case words joined by `-`, the last one
/// saying what the object holds. It names the secret; it is not one.
fn secret_object_name(t: &str) -> bool {
    // Every word below ends in `s` or `h`: most values fail before a search.
    if !matches!(t.as_bytes().last(), Some(b's' | b'h')) {
        return false;
    }
    let Some((_, last)) = t.rsplit_once('-') else { return false };
    matches!(last, "secret" | "secrets" | "credentials" | "creds" | "tls" | "keys" | "auth")
        && t.len() <= 63
        && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && t.as_bytes()[0].is_ascii_lowercase()
        && !t.contains("--")
}

/// A DNS name (`login.microsoftonline.com`, `db-1.prod.internal`), with an
/// optional port: where something is, not a secret.
/// A Kubernetes-style qualified name: a DNS prefix, a slash, and a name of
/// words (`topology.kubernetes.io/zone`, `node-role.kubernetes.io/control-plane`):
/// a label or annotation key, never a credential.
pub fn is_qualified_name(t: &str) -> bool {
    if !super::has_byte(t.as_bytes(), b'/') {
        return false;
    }
    let Some((prefix, name)) = t.split_once('/') else { return false };
    is_hostname(prefix)
        && !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || one_of(b, b"-._"))
        && name
            .split(['-', '.', '_'])
            .all(|w| w.bytes().all(|b| b.is_ascii_lowercase()) || w.bytes().all(|b| b.is_ascii_digit()))
}

/// A duration (`60s`, `5m`, `1h30m`, `250ms`): numbers with units.
pub fn is_duration(t: &str) -> bool {
    let mut rest = t;
    let mut parts = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let unit = rest[digits..].bytes().take_while(u8::is_ascii_lowercase).count();
        if digits == 0 || !matches!(&rest[digits..digits + unit], "ms" | "s" | "m" | "h" | "d" | "w") {
            return false;
        }
        rest = &rest[digits + unit..];
        parts += 1;
    }
    parts > 0
}

pub fn is_hostname(t: &str) -> bool {
    if !super::has_byte(t.as_bytes(), b'.') {
        return false;
    }
    let host = t
        .rsplit_once(':')
        .filter(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .map_or(t, |(h, _)| h);
    let Some((first, tld)) = host.split_once('.').zip(host.rsplit_once('.')).map(|((f, _), (_, t))| (f, t)) else {
        return false;
    };
    host.split('.').all(|l| {
        !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }) && (2..=12).contains(&tld.len())
        && tld.bytes().all(|b| b.is_ascii_lowercase())
        && first.bytes().any(|b| b.is_ascii_lowercase())
}

/// An ISO date or timestamp (`2026-10-01`, `2026-10-01T00:00:00Z`).
fn is_timestamp(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && t[10..].bytes().all(|c| c.is_ascii_digit() || one_of(c, b"T:.+-Z "))
}

/// A reference to a value kept elsewhere, or a template placeholder.
pub fn is_reference(t: &str) -> bool {
    // Most values are none of the shapes below: a cheap look first.
    let Some(&b0) = t.as_bytes().first() else { return false };
    // The first word names a reference context (`secretKeyRef: …`).
    let first_word = || {
        let end = t.bytes().position(|b| matches!(b, b':' | b'/' | b'.' | b' ')).unwrap_or(t.len());
        names::is_reference_context(&t[..end])
    };
    // Every other shape below starts with one of these bytes; a value that
    // does not (a URL, a number, a word) can only be the last one.
    if !matches!(
        b0,
        b'$' | b'%'
            | b'{'
            | b'#'
            | b'<'
            | b'@'
            | b'E'
            | b'o'
            | b's'
            | b'r'
            | b'g'
            | b'a'
            | b'd'
            | b'b'
            | b'v'
            | b'k'
            | b'p'
    ) {
        return first_word();
    }
    if !matches!(b0, b'$' | b'%' | b'{' | b'#' | b'<' | b'@' | b'E')
        && !t.bytes().any(|b| matches!(b, b':' | b'/' | b'[' | b'(' | b'.' | b' '))
        && !names::is_reference_context(t)
    {
        return false;
    }
    let whole_braced =
        |open: &str, close: &str| t.starts_with(open) && t.ends_with(close) && t.len() > open.len() + close.len();
    whole_braced("${", "}")
        || whole_braced("{{", "}}")
        || whole_braced("%(", ")s")
        || whole_braced("<%", "%>")
        || whole_braced("$(", ")")
        || whole_braced("#{", "}")
        || (whole_braced("{", "}")
            && t[1..t.len() - 1].bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.'))
        || (t.starts_with('$') && t.len() > 1 && t[1..].bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'))
        || whole_braced("#{", "}#")
        || [
            "op://",
            "sm://",
            "ref+",
            "gcpsm://",
            "awssm://",
            "azkv://",
            "doppler://",
            "bws://",
            "secret://",
            "vault://",
            "k8s://",
            "awskms:",
        ]
        .iter()
        .any(|p| t.starts_with(p))
        || t.starts_with("secretref:")
        || t.starts_with("vault:")
        || t.starts_with("arn:aws:secretsmanager:")
        || t.starts_with("arn:aws:ssm:")
        || t.starts_with("projects/") && t.contains("/secrets/")
        || t.starts_with("@Microsoft.KeyVault(")
        || t.starts_with("ENC[")
        || whole_braced("%env(", ")%")
        || whole_braced("%(", ")")
        || whole_braced("$[", "]")
        || whole_braced("@@", "@@")
        // A placeholder for the value: `<your-api-key>`, `<set in vault>`.
        || (whole_braced("<", ">")
            && t[1..t.len() - 1].bytes().all(|c| c.is_ascii_lowercase() || one_of(c, b"-_ "))
            && t[1..t.len() - 1].contains(['-', '_', ' ']))
        || first_word()
}

/// `.netrc`: `machine host login user password secret` (and `passwd`).
fn netrc_passwords(value: &str, found: &mut Vec<Finding>) {
    if !(value.contains("machine ") || value.contains("default ")) || !value.contains("login") {
        return;
    }
    let mut words = value.split_ascii_whitespace().peekable();
    while let Some(w) = words.next() {
        if w == "password" || w == "passwd" || w == "account" {
            if let Some(secret) = words.peek() {
                let start = secret.as_ptr() as usize - value.as_ptr() as usize;
                push(found, "netrc-password", start..start + secret.len(), Shape::Password);
            }
        }
    }
}

/// `.pgpass`: `host:port:database:user:password`, colons escaped as `\:`.
fn pgpass_lines(value: &str, found: &mut Vec<Finding>) {
    let mut offset = 0;
    for line in value.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let at = offset;
        offset += line.len();
        if body.starts_with('#') || body.contains(' ') {
            continue;
        }
        let b = body.as_bytes();
        let colons: Vec<usize> = (0..b.len()).filter(|&i| b[i] == b':' && (i == 0 || b[i - 1] != b'\\')).collect();
        if colons.len() != 4 {
            continue;
        }
        let port = &body[colons[0] + 1..colons[1]];
        if !(port == "*" || (!port.is_empty() && port.bytes().all(|c| c.is_ascii_digit()))) || colons[0] == 0 {
            continue;
        }
        let from = colons[3] + 1;
        if from < body.len() {
            push(found, "pgpass-password", at + from..at + body.len(), Shape::Password);
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
            push(found, "jwt", start..start + len, Shape::Jwt);
        }
    }
}

/// Telegram-style bot tokens: `123456789:AA…` (35 characters after the colon).
fn bot_tokens(value: &str, found: &mut Vec<Finding>) {
    let b = value.as_bytes();
    for i in memchr::memchr_iter(b':', b) {
        let digits = b[..i].iter().rev().take_while(|c| c.is_ascii_digit()).count();
        if !(8..=10).contains(&digits) {
            continue;
        }
        let secret = value[i + 1..].chars().take_while(|&c| Charset::Token.has(c)).count();
        let start = i - digits;
        if secret == 35 && boundary_before(value, start) {
            push(found, "telegram-bot-token", i + 1..i + 1 + secret, Shape::BotSecret { len: secret });
        }
    }
}

/// Mailchimp: 32 hex digits, `-us`, a data-centre number.
fn mailchimp_keys(value: &str, found: &mut Vec<Finding>) {
    for (i, _) in value.match_indices("-us") {
        let hex = value[..i].chars().rev().take_while(char::is_ascii_hexdigit).count();
        let dc = value[i + 3..].chars().take_while(char::is_ascii_digit).count();
        if hex == 32 && (1..=2).contains(&dc) && boundary_before(value, i - 32) {
            push(found, "mailchimp-key", i - 32..i + 3 + dc, Shape::Opaque);
        }
    }
}

/// Minimum length of a token the entropy test looks at.
pub const ENTROPY_MIN_LEN: usize = 20;
/// Bits per character above which a mixed token is taken for a random key.
pub const ENTROPY_BITS: f64 = 3.7;

/// Long tokens of mixed letters and digits with high Shannon entropy: random
/// keys, and base64 DER private keys. Paths, URLs, UUIDs, hex digests under
/// 40 characters, dotted names, version strings and public material stay.
fn high_entropy(value: &str, public: &[Range<usize>], found: &mut Vec<Finding>) {
    let bytes = value.as_bytes();
    let is_token = |b: u8| ENTROPY_TOKEN_BYTES[usize::from(b)];
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
        // Base64 padding belongs to the token.
        let mut end = i;
        while end < bytes.len() && bytes[end] == b'=' && end - i < 2 {
            end += 1;
        }
        let token = &value[start..i];
        let span = start..end;
        if inside(public, &span) || overlaps(found, &span) {
            continue;
        }
        // Content digests (`sha256:<hex>`) name public content, and so do
        // image references pinned by one.
        if value[..start].ends_with("sha256:")
            || value[..start].ends_with("sha512:")
            || value[..start].ends_with("sha1:")
            || value[end..].starts_with("@sha256:")
        {
            continue;
        }
        match der_kind(token) {
            Some(Der::Private) => push(found, "der-private-key", span, Shape::Opaque),
            Some(Der::Public) => {}
            None if !public_token(token) && looks_random(token) => match base64_text(&value[span.clone()]) {
                // Base64 of text is judged by the text: credentials or secrets in it make it secret.
                Some(text) if !basic_credentials(&value[span.clone()]) => {
                    if !find_all(&text).is_empty() {
                        push(found, "base64-secret", span, Shape::Opaque);
                    }
                }
                _ => push(found, "high-entropy", span, Shape::Opaque),
            },
            None => {}
        }
    }
}

/// Letters, digits and `+ / _ - ~`: the bytes of a token [`high_entropy`]
/// looks at (a table: this runs for every byte of every file).
static ENTROPY_TOKEN_BYTES: [bool; 256] = super::alphanumeric_or(b"+/_-~");

/// The entropy test on one token.
pub fn looks_random(t: &str) -> bool {
    let path = t.starts_with('/')
        && t[1..]
            .split('/')
            .all(|p| p.len() <= 40 && p.bytes().all(|b| b.is_ascii_alphanumeric() || one_of(b, b"._-")));
    if t.len() < ENTROPY_MIN_LEN || path || t.contains("//") {
        return false;
    }
    let hex = t.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if hex && t.len() <= 40 {
        return false; // UUIDs, short hashes, commit ids
    }
    // Random keys mix letters and digits; identifiers and words rarely carry
    // two digits (the last test below, and the cheapest: it goes first).
    let digits = t.bytes().filter(u8::is_ascii_digit).count();
    let letters = t.bytes().filter(u8::is_ascii_alphabetic).count();
    if digits < 2 || letters < 2 {
        return false;
    }
    // Words joined by -, _ or / (feature-flag-names, snake_case, resource
    // paths) are not keys: each word short with at most one digit, or a number.
    let word_like = |w: &str| {
        let letters = w.bytes().take_while(u8::is_ascii_alphabetic).count();
        w.chars().all(|c| c.is_ascii_digit())
            || (w.len() <= 12 && w.chars().filter(|c| c.is_ascii_digit()).count() <= 1)
            // A word and a number: `java21`, `debian12`, `v1beta1`.
            || (w.len() <= 14 && letters >= 2 && w[letters..].bytes().filter(u8::is_ascii_alphabetic).count() <= 4
                && w[letters..].bytes().take_while(u8::is_ascii_digit).count() >= 1)
    };
    if t.split(['-', '_', '/']).count() > 1 && t.split(['-', '_', '/']).all(word_like) {
        return false;
    }
    // A path through ids (`tenants/<uuid>/federationmetadata`,
    // `uploads/2024/11/<uuid>`): segments of words, numbers and UUIDs.
    let uuid_or_words = |seg: &str| {
        seg.split(['-', '_']).all(|w| {
            word_like(w)
                || w.bytes().all(|b| b.is_ascii_alphabetic())
                || (w.len() <= 12 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        })
    };
    // Two slashes at least: a random base64 key rarely has them, a path has.
    if t.bytes().filter(|&b| b == b'/').count() >= 2 && t.split('/').all(uuid_or_words) {
        return false;
    }
    shannon(t) >= ENTROPY_BITS
}

/// Whether a whole value is opaque: one token that can only be a key or an
/// identifier (random-looking, 32+ hex digits, a UUID, a 40+ character
/// mix of classes, a passphrase of joined words). Under a name that says
/// nothing about it, such a value is taken for a key ([`super::names::NameClass::Neutral`]).
pub fn opaque(value: &str) -> bool {
    opaque_scanned(value, None)
}

/// [`opaque`], told whether `value` is all public material when a
/// [`scan`] of it already knows (`Some(scan.whole_public)`).
pub fn opaque_scanned(value: &str, whole_public: Option<bool>) -> bool {
    let t = value.trim();
    if t.len() < 10 || t.len() > 512 || t.contains(char::is_whitespace) && !passphrase(t) {
        return false;
    }
    if passphrase(t) {
        return true;
    }
    if scheme_separators(t).next().is_some()
        || t.starts_with('/')
        || t.starts_with("./")
        || public_token(t)
        || is_reference(t)
        || match whole_public {
            Some(public) if value.len() >= SHORTEST_TOKEN => public,
            _ => is_public(t),
        }
    {
        return false;
    }
    let hexish = t.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    let hex_digits = t.bytes().filter(u8::is_ascii_hexdigit).count();
    if hexish && hex_digits >= 32 {
        return true; // 32/40/64 hex, UUIDs
    }
    if user_password_pair(t) {
        return true;
    }
    // Lists and settings (`a:1,b:2`, `k=v;…`) and pinned images are not one key.
    let setting = t.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty()
            && k.as_bytes()[0].is_ascii_alphabetic()
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || one_of(b, b"_.-"))
    });
    if t.contains([',', ';', ' ']) || setting || t.contains("@sha256:") {
        return false;
    }
    if strong_password(t) {
        return true;
    }
    let symbols = t.bytes().filter(|b| one_of(*b, b"!#$%^&*()+{}[]<>?~|\\")).count();
    let classes = [
        t.bytes().any(|b| b.is_ascii_lowercase()),
        t.bytes().any(|b| b.is_ascii_uppercase()),
        t.bytes().any(|b| b.is_ascii_digit()),
        symbols > 0,
    ];
    let n_classes = classes.iter().filter(|&&c| c).count();
    let dotted_words = t.split(['.', '-', '_', ':', '/', '@']).all(|w| w.len() <= 12);
    let token = t.bytes().all(is_token_byte);
    (t.len() >= 24 && symbols >= 1 && n_classes >= 3 && !dotted_words)
        || (t.len() >= 32 && n_classes >= 3 && symbols >= 2)
        || (token && looks_random(t) && base64_text(t).is_none_or(|text| !find_all(&text).is_empty()))
        || (t.len() >= 32 && base64_key(t))
}

/// A short password by its make-up: no blanks, and capitals, small letters,
/// digits and a symbol all at once (`Lilaccherry84!`).
fn strong_password(t: &str) -> bool {
    (10..=64).contains(&t.len())
        && !t.contains(char::is_whitespace)
        && t.bytes().any(|b| b.is_ascii_uppercase())
        && t.bytes().any(|b| b.is_ascii_lowercase())
        && t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes().any(|b| one_of(b, b"!#$%^&*()+{}[]<>?~|\\@"))
        && scheme_separators(t).next().is_none()
        && !is_reference(t)
}

/// `user:password` as a whole value: a name, a colon, and a password that
/// mixes letters with digits or symbols (not a port, a version or a tag).
pub fn user_password_pair(t: &str) -> bool {
    // The name starts with a letter: most words with a colon (times, ports,
    // URLs) fail here, before anything else is looked at.
    if !t.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    let Some((user, pw)) = t.split_once(':') else { return false };
    if user.len() > 64 || !user.bytes().all(|b| b.is_ascii_alphanumeric() || one_of(b, b"._-@+")) {
        return false;
    }
    let has = |f: fn(&u8) -> bool| pw.bytes().any(|b| f(&b));
    // `redis:7-alpine`, `app:v1.2.3`: a tag, not a password.
    let versionish = (pw.starts_with(|c: char| c.is_ascii_digit())
        || (pw.starts_with('v') && pw[1..].starts_with(|c: char| c.is_ascii_digit())))
        && pw.contains(['.', '-', '_']);
    let alnum_or_symbols = pw.bytes().all(|b| b.is_ascii_alphanumeric() || one_of(b, b"!#$%^&*()+=?~@"));
    let pw_ok = pw.len() >= 6
        && !pw.contains(['/', ':', ' '])
        && !versionish
        && has(u8::is_ascii_alphabetic)
        && has(u8::is_ascii_digit)
        && (alnum_or_symbols || has(u8::is_ascii_uppercase));
    // `TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256`: names of constants.
    let constant =
        |s: &str| s.contains('_') && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    // `commit:<sha>`, `build:<id>` (tags, labels): the left side names an identifier.
    pw_ok && !(constant(user) && constant(pw)) && names::classify(user) != names::NameClass::Identifier
}

/// The text a base64 token encodes, when it encodes readable text (JSON,
/// prose, settings) rather than random bytes.
fn base64_text(token: &str) -> Option<String> {
    if token.len() < 16 || token.len() > 64 * 1024 {
        return None;
    }
    let engine = if token.contains(['-', '_']) {
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
    } else {
        &base64::engine::general_purpose::STANDARD_NO_PAD
    };
    let bytes = engine.decode(token.trim_end_matches('=')).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let readable =
        text.chars().filter(|c| c.is_alphanumeric() || c.is_ascii_punctuation() || *c == ' ' || *c == '\n').count();
    let spaced = text.contains([' ', '\n', ':', '=', ',']);
    (readable * 20 >= text.chars().count() * 19 && spaced).then_some(text)
}

/// Base64 of 24+ random bytes (`openssl rand -base64 32`).
fn base64_key(t: &str) -> bool {
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(t) else { return false };
    bytes.len() >= 24 && bytes.iter().filter(|b| !b.is_ascii_graphic()).count() * 3 > bytes.len()
}

/// Four to eight lower-case words joined by one separator
/// (`correct-horse-battery-staple`): a passphrase.
fn passphrase(t: &str) -> bool {
    let Some(sep) = t.chars().skip(1).find(|c| !c.is_ascii_lowercase()) else { return false };
    if !matches!(sep, '-' | ' ' | '.' | '_' | '+') {
        return false;
    }
    let mut words: Vec<&str> = t.split(sep).collect();
    // `drizzle-sparrow-acorn-50`: words and a number.
    let numbered = words.last().is_some_and(|w| (2..=4).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_digit()));
    if numbered {
        words.pop();
    }
    let least = if numbered { 3 } else { 4 };
    // `Velvet-Quarry-Meadow-Pistol` (capitalised words, joined by a symbol:
    // with blanks that is a title).
    let title = sep != ' '
        && words.iter().all(|w| {
            w.len() > 1 && w.as_bytes()[0].is_ascii_uppercase() && w[1..].bytes().all(|b| b.is_ascii_lowercase())
        });
    (least..=8).contains(&words.len())
        && words.iter().all(|w| (3..=10).contains(&w.len()) && (title || w.bytes().all(|b| b.is_ascii_lowercase())))
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
    fn pairs_found_by_colon_as_by_word() {
        for text in [
            "smtp relay: ops:Tr0ub4dor&3x 'svc:Pa55-word!' \"db:S3cret.Value\"\n2026-11-20T14:05:07Z",
            "ops:Tr0ub4dor&3x",
            ":lead a:b:Cc9#xxxxxx trail: x:Yy8!yyyyyyy:",
            "no pairs here at all",
        ] {
            let (mut by_colon, mut by_word) = (Vec::new(), Vec::new());
            user_password_tokens(text, &mut by_colon);
            user_password_tokens_unicode(text, &mut by_word);
            let spans = |f: &[Finding]| f.iter().map(|f| f.span.clone()).collect::<Vec<_>>();
            assert_eq!(spans(&by_colon), spans(&by_word), "{text}");
        }
        let mut found = Vec::new();
        user_password_tokens("x ops:Tr0ub4dor&3x", &mut found);
        assert_eq!(found.len(), 1);
    }

    fn secrets(v: &str) -> Vec<&str> {
        find_all(v).iter().map(|f| &v[f.span.clone()]).collect()
    }

    #[test]
    fn spans_cover_only_the_secret() {
        let v = "postgres://shop:pr0d-Pa55@db.example.com:5432/shop";
        assert_eq!(secrets(v), ["pr0d-Pa55"]);
        let v = "Server=db;User Id=app;Password=hunter2;Encrypt=true";
        assert_eq!(secrets(v), ["hunter2"]);
        let v = "token AKIAIOSFODNN7EXAMPLE, and ghp_16C7e42F292c6912E7710c838347Ae178B4a";
        let ids: Vec<_> = find_all(v).iter().map(|f| f.rule).collect();
        assert_eq!(ids, vec!["aws-access-key-id", "github-token"]);
    }

    #[test]
    fn one_letter_query_passwords_beside_a_user_and_sentinel_passwords() {
        let v = "http://influx.example.com:8086/write?db=metrics&u=writer&p=Wr1t3rPass99&precision=s";
        assert_eq!(secrets(v), ["Wr1t3rPass99"]);
        // Without a user beside it, `p` is a page, a port, anything.
        assert!(secrets("https://shop.example.com/list?p=2&sort=asc").is_empty());
        assert_eq!(secrets("sentinel auth-pass mymaster S3ntinelPw77"), ["S3ntinelPw77"]);
        assert_eq!(
            secrets("port 26379\nsentinel auth-pass mymaster S3ntinelPw77\nsentinel down 5\n"),
            ["S3ntinelPw77"]
        );
        assert!(secrets("sentinel auth-pass mymaster").is_empty());
        let v = "https://logs-01.loggly.com/inputs/8c4f2a1e-6b3d-4e9f-a7c2-1d5e8f3b9a6c/tag/http/";
        assert_eq!(secrets(v), ["8c4f2a1e-6b3d-4e9f-a7c2-1d5e8f3b9a6c"]);
        // Mapbox: `pk.` tokens are public, `sk.` ones secret.
        let sk = "sk.eyJ1IjoiZXhhbXBsZSIsImEiOiJjbGFiY2RlZmcwMDAwMDAwMDAwMDAifQ.AbCdEfGhIjKlMnOpQrStUv";
        assert_eq!(secrets(sk), [sk]);
        // A connection string's first pair ends at the `;` before the next
        // pair; a `;` inside a password at a line's start does not end it.
        let v = "InstrumentationKey=1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d;IngestionEndpoint=https://in.example.com/";
        assert_eq!(secrets(v), ["1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"]);
        assert_eq!(secrets("password=pa;ss-w0rd-2026"), ["pa;ss-w0rd-2026"]);
    }

    #[test]
    fn connection_strings_of_every_driver_family() {
        assert_eq!(secrets("host=db user=app password='a b;c' sslmode=require"), ["a b;c"]);
        assert_eq!(secrets("Driver={ODBC};Server=x;Uid=app;Pwd={p;w};"), ["p;w"]);
        assert_eq!(secrets("jdbc:oracle:thin:scott/Tig3rPass@db.internal:1521/ORCL"), ["Tig3rPass"]);
        assert_eq!(secrets("app:Secr3t@tcp(mysql.internal:3306)/shop?parseTime=true"), ["Secr3t"]);
        assert_eq!(
            secrets(
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"k@fka!\";"
            ),
            ["k@fka!"]
        );
        assert_eq!(secrets("https://api.internal/v1?user=a&apikey=abc123def&x=1"), ["abc123def"]);
        assert_eq!(secrets("https://acct.blob.core.windows.net/c?sv=2022&sig=AbC%2Bdef%3D&se=2030"), ["AbC%2Bdef%3D"]);
        assert_eq!(secrets("db.internal:5432:shop:app:pg\\:pass"), ["pg\\:pass"]);
        assert_eq!(secrets("machine api.internal login deploy password n3tRcPass"), ["n3tRcPass"]);
        assert_eq!(secrets("redis://:Xy7pQ#2C@redis.internal:6379/0"), ["Xy7pQ#2C"]);
        assert_eq!(secrets("nats://u:ab?cd!9@nats.internal:4222"), ["ab?cd!9"]);
        assert!(secrets("jdbc:oracle:thin:@ora.internal:1521/APP").is_empty());
        assert!(secrets("http://host.internal:8080?q=a@b.example").is_empty());
        assert_eq!(secrets("postgres://app:ab/cd+ef@pg.internal/app"), ["ab/cd+ef"]);
        assert!(secrets("https://host.internal:8443/@scope/pkg").is_empty());
        let v =
            "https://login.example.com/ef09a026-3d9c-40e9-9d5b-a6e1e06e79c3/federationmetadata/2007-06/metadata.xml";
        assert!(secrets(v).is_empty());
        assert!(secrets("uploads/2024/11/84bcc27d-b5e6-4461-8339-d6532ca85c6a.pdf").is_empty());
        assert_eq!(secrets("https://hooks.example.net/services/T0AB12CD3/B0EF45GH6/Xk9fQ2mZ7rT4wY8pL3vN6bJ1").len(), 1);
    }

    #[test]
    fn third_red_team_rules() {
        // A key in a URL's path, after a segment that names it.
        assert_eq!(
            secrets("https://maker.ifttt.com/trigger/deploy/with/key/dmqAWepHzYutTewLSZjJE1"),
            ["dmqAWepHzYutTewLSZjJE1"]
        );
        assert!(secrets("https://api.example.com/v1/keys/list").is_empty());
        // mysql's attached `-p`, ipmitool's and sqlcmd's `-P`; not a port, not psql's `-P pager=off`.
        assert_eq!(secrets("-u backup -pwjn^ajjh.U2ZDh --single-transaction"), ["wjn^ajjh.U2ZDh"]);
        assert_eq!(
            secrets("ipmitool -I lanplus -H bmc -U ADMIN -P 'N6I43e3~E+aS' chassis power cycle"),
            ["N6I43e3~E+aS"]
        );
        assert!(secrets("psql -h db -U app -p 5432 -P pager=off").is_empty());
        assert!(secrets("tunnel -u admin -p 8080 -p9090").is_empty());
        assert_eq!(secrets("racadm -r idrac-07.oob -u root -p 4Uj6+3GxMy serveraction powercycle"), ["4Uj6+3GxMy"]);
        assert!(secrets("mysql -u root -p shop").is_empty());
        assert!(secrets("docker run -u 1000 -p 8080:80 nginx").is_empty());
        assert!(secrets("tar -u -f a.tar\nmkdir -p /var/lib/app").is_empty());
        // snmpd.conf and ipsec.secrets.
        let snmp = "rocommunity drq1xml1tvoxij 10.0.0.0/8\ncom2sec ro default c0rpSecret9\ncreateUser monitor SHA \"7zG6x!.~Vey\" AES \"peFK7D+YVm\"\nrouser monitor authpriv\n";
        assert_eq!(secrets(snmp), ["drq1xml1tvoxij", "c0rpSecret9", "7zG6x!.~Vey", "peFK7D+YVm"]);
        assert_eq!(secrets(": RSA /etc/ipsec.d/private/gw.key\nops : EAP \"g~63RkdATQ\"\n"), ["g~63RkdATQ"]);
        // Public: the line after a minisign public key comment.
        assert!(secrets("untrusted comment: minisign public key 24875D73\nRWQX2nxmaLgCUS+Dk+VMj8ppyfxOz6QIEv+0/7g6bpoR6tkQgoXtOV3\n").is_empty());
        // Not credentials: cipher suites, an identifier tag, an error message in a reference, a relative file path.
        assert!(!user_password_pair("TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"));
        assert!(!user_password_pair("commit:a66a2202b6a6897d46b0e3178af810506e3873ed"));
        assert!(user_password_pair("deploy:Xk9fQ2mZ7rT4"));
        assert_eq!(reference_default("${ADMIN_PASSWORD:?must be set}"), None);
        assert!(reference_default("${ADMIN_PASSWORD:-hunter2}").is_some());
        assert!(looks_like_path("prod/terraform.tfstate") && !looks_like_path("Xk9f/Q2mZ.7rT4"));
        assert!(!value_can_be_secret("enabled"));
        // A Kubernetes object that holds a secret is named, not a secret.
        assert!(!value_can_be_secret("orders-db-credentials") && !value_can_be_secret("acme-tls"));
        assert!(value_can_be_secret("velvet-quarry-meadow-pistol"));
        // Capitalised passphrases joined by a symbol; a title with blanks is prose.
        assert!(opaque("Velvet-Quarry-Meadow-Pistol") && opaque("velvet-quarry-meadow-pistol"));
        assert!(!opaque("Velvet Quarry Meadow Portal"));
    }

    #[test]
    fn qualified_names_and_durations() {
        assert!(is_qualified_name("topology.kubernetes.io/zone"));
        assert!(is_qualified_name("node-role.kubernetes.io/control-plane"));
        assert!(!is_qualified_name("example.com/Xk9fQ2mZ7rT4"));
        assert!(!is_qualified_name("hunter2/abc"));
        assert!(is_duration("60s") && is_duration("1h30m") && is_duration("250ms"));
        assert!(!is_duration("1234") && !is_duration("s3cret") && !is_duration("60sx"));
    }

    #[test]
    fn password_flags_of_known_commands() {
        assert_eq!(secrets("mysqldump -h db -u root -pS3cretXy9 --all-databases"), ["S3cretXy9"]);
        assert_eq!(secrets("sshpass -p 'Pw-9x' ssh deploy@10.0.0.8"), ["Pw-9x"]);
        assert_eq!(secrets("redis-cli -h r -a R3dis!pw ping"), ["R3dis!pw"]);
        assert_eq!(secrets("docker login -u ci -p D0ck3rPw registry.internal"), ["D0ck3rPw"]);
        // `-p` is a port or a prompt elsewhere.
        assert!(secrets("docker run -p 8080:80 nginx").is_empty());
        assert!(secrets("mysql -h db -p shop").is_empty());
        assert!(secrets("psql -h db -p 5432 -U app").is_empty());
    }

    #[test]
    fn armoured_keys_that_are_not_public() {
        let v = "<tls-auth>\n-----BEGIN OpenVPN Static key V1-----\n0a1b2c3d4e5f\n-----END OpenVPN Static key V1-----\n</tls-auth>";
        assert_eq!(find_all(v).len(), 1);
        for v in [
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----",
            "-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----",
        ] {
            assert!(find_all(v).is_empty(), "{v}");
        }
    }

    #[test]
    fn credentials_inside_structured_values() {
        assert_eq!(secrets(r#"{"db":{"credentials":{"password":"vcapPw1"}}}"#), ["vcapPw1"]);
        assert_eq!(secrets(r#"{\"password\":\"innerPw2\"}"#), ["innerPw2"]);
        assert_eq!(secrets("--verbose --db-password=fl4gPw --x"), ["fl4gPw"]);
        assert_eq!(secrets("--password fl4gPw2"), ["fl4gPw2"]);
        assert_eq!(secrets("-Djavax.net.ssl.keyStorePassword=ks-pass-9"), ["ks-pass-9"]);
        assert_eq!(secrets("Authorization: Bearer abcDEF123456"), ["abcDEF123456"]);
        assert_eq!(secrets("Basic dXNlcjpodW50ZXIy"), ["dXNlcjpodW50ZXIy"]);
        assert_eq!(secrets("<password>xmlPw3</password>"), ["xmlPw3"]);
    }

    #[test]
    fn references_and_public_material_stay() {
        for v in [
            "password=${DB_PASSWORD}",
            "api_key: <your-api-key>",
            "password: {password}",
            "PASSWORD = env('DB_PASSWORD')",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host",
            "pk_live_51HqLyjWDarjtT1zdp7dcXYZabc123",
            "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC",
            "arn:aws:iam::123456789012:role/checkout-Prod-Role-1A2B3C4D5E6F",
            "01ARZ3NDEKTSV4RRFFQ69G5FAV",
            "vpc-0f1e2d3c4b5a69788",
            "pk.eyJ1IjoiYWNtZSIsImEiOiJjbHh5ejEyMzQ1Njc4OTBhYmNkZWYifQ.aBcDeFgHiJkLmNoPqRsTuV",
            "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAQ0lEQVR4nGNgGAWjYBSMglEwCkbBKBgF",
            "-----BEGIN DH PARAMETERS-----\nMIIBCAKCAQEAur1Wa4xXw1ToklXDN2/MgIFi4IDHzlcQzTaZ8ELgFicvYu4ZBoiL2T73C6nMF6Ki\n-----END DH PARAMETERS-----",
            "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
            "1234567890-abc123def456ghi789jkl012mno345pq.apps.googleusercontent.com",
            "auth: true",
        ] {
            assert!(find_all(v).is_empty(), "{v}: {:?}", secrets(v));
        }
    }

    #[test]
    fn opaque_values() {
        for v in [
            "9e048c07dd7753eda83d7c58dfe0d5a0",
            "3f2b8a4e-9c1d-4e7a-b5f6-0a1b2c3d4e5f",
            "x!k2#Lm9$pQ8^rT7&vW6*yZ5(aB4)cD3-eF2_gH1=iJ0+kL9",
            "correct-horse-battery-staple",
            "basalt-marble-pylon-meadow-70",
            "keboegsm:5zsiv0uc",
            "Lilaccherry84!",
            "q83vEjRWeJqrze8pZn2ZVkVjxXWUnBEq+/6uf2hk4yw=",
        ] {
            assert!(opaque(v), "{v}");
        }
        for v in
            ["https://example.com/a", "info", "checkout-service", "eu-west-1", "2026-11-20T14:05:00Z", "/var/lib/app"]
        {
            assert!(!opaque(v), "{v}");
        }
    }
}
