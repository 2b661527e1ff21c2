//! File sanitizing: layout kept, values decided by key, every format still parsing.

use super::*;
use crate::secret::Secret;
use serde_json::Value;
use std::collections::BTreeMap;

fn rules() -> SanitizeSection {
    SanitizeSection {
        prod_hosts: vec!["*.example.com".into()],
        hosts: BTreeMap::from([("payments.example.com".into(), "payments-stub".into())]),
        keep: vec!["/etc/app.yaml:log.level".into()],
        drop: vec!["/etc/app.yaml:newrelic.*".into()],
        ..Default::default()
    }
}

fn run_with(path: &str, text: &str, rules: &SanitizeSection) -> (String, Vec<Decision>) {
    let o = sanitize_file(path, &ProdValue::Plain(Secret::new(text)), rules, None);
    (o.content.expect("kept"), o.decisions)
}

fn run(path: &str, text: &str) -> (String, Vec<Decision>) {
    run_with(path, text, &rules())
}

#[test]
fn yaml_keeps_layout_and_types() {
    let text = "# checkout\ndatabase:\n  host: db.example.com\n  password: \"hunter2\"\n  port: 5432\nlog:\n  level: debug\nnewrelic:\n  license: abc\ntls:\n  key: |\n    -----BEGIN PRIVATE KEY-----\n    MIIEvQ\n    -----END PRIVATE KEY-----\n  verify: true\npayments: https://payments.example.com/v1 # upstream\n";
    let (out, d) = run("/etc/app.yaml", text);
    assert_eq!(
        out,
        "# checkout\ndatabase:\n  host: db.example.com.prodbox.invalid\n  password: \"prodbox-redacted\"\n  port: 5432\nlog:\n  level: debug\nnewrelic:\ntls:\n  key: |\n    -----BEGIN PRIVATE KEY-----\n    cHJvZGJveC1yZWRhY3RlZA==\n    -----END PRIVATE KEY-----\n  verify: true\npayments: https://payments-stub/v1 # upstream\n"
    );
    let names: Vec<(&str, Action)> = d.iter().map(|d| (d.name.as_str(), d.action)).collect();
    assert!(names.contains(&("/etc/app.yaml:database.password", Action::Redacted)), "{names:?}");
    assert!(names.contains(&("/etc/app.yaml:log.level", Action::Kept)), "{names:?}");
    assert!(names.contains(&("/etc/app.yaml:newrelic.license", Action::Dropped)), "{names:?}");
    assert!(names.contains(&("/etc/app.yaml:tls.key", Action::Redacted)), "{names:?}");
}

#[test]
fn yaml_kubernetes_env_lists_anchors_and_flow_maps() {
    let text = "env:\n  - name: DB_PASSWORD\n    value: hunter2xyz\n  - name: LOG_LEVEL\n    value: info\n  - name: API_KEY\n    valueFrom:\n      secretKeyRef:\n        name: api\n        key: password\nbase: &pw s3cret-anchored\nsecret: *pw\nflow: {user: app, password: fl0wpass}\n";
    let (out, _) = run("/k8s/deploy.yaml", text);
    assert!(!out.contains("hunter2xyz") && !out.contains("s3cret-anchored") && !out.contains("fl0wpass"), "{out}");
    assert!(out.contains("value: info") && out.contains("key: password") && out.contains("name: api"), "{out}");
    assert!(yaml::parse(&out).is_some(), "{out}");
}

#[test]
fn json_keeps_structure_and_types() {
    let text = r#"{"db":{"url":"postgres://u:hunter2@db.example.com/x","pool":5},"apiKey":"sk_live_4eC39HqLyjWDarjtT1zdp7dc","pin":{"password":1234},"flags":["a","b"]}"#;
    let (out, _) = run("/etc/app.json", text);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["db"]["url"], "postgres://u:prodbox@db.example.com.prodbox.invalid/x");
    assert_eq!(v["db"]["pool"], 5);
    assert_eq!(v["apiKey"], "sk_live_prodboxREDACTED0prodboxR");
    assert_eq!(v["pin"]["password"], 0, "a secret number stays a number");
    assert_eq!(v["flags"][1], "b");
    assert!(!out.contains("hunter2"));
}

#[test]
fn json_keeps_its_exact_layout_also_with_drop_rules() {
    let rules = SanitizeSection {
        prod_hosts: vec!["*.example.com".into()],
        drop: vec!["NEW_RELIC_*".into(), "*:list[1]".into(), "*:dropme".into()],
        ..Default::default()
    };
    let text = "{\n  \"db\": {\"url\": \"postgres://u:hunter2@db.example.com/x\", \"pool\": 5},\n  \"pin\": {\"password\": 1234, \"enabled\": true},\n  \"token\": \"t0k\\\"en\",\n  \"list\": [1, 2, 3],\n  \"dropme\": {\"a\": 1}\n}\n";
    let o = sanitize_file("/etc/app.json", &ProdValue::Plain(Secret::new(text)), &rules, None);
    let out = o.content.unwrap();
    assert_eq!(
        out,
        "{\n  \"db\": {\"url\": \"postgres://u:prodbox@db.example.com.prodbox.invalid/x\", \"pool\": 5},\n  \"pin\": {\"password\": 0, \"enabled\": true},\n  \"token\": \"prodbox-redacted\",\n  \"list\": [1, 3]\n}\n"
    );
    let names: Vec<&str> = o.decisions.iter().map(|d| d.name.as_str()).collect();
    assert!(names.contains(&"/etc/app.json:pin.password") && names.contains(&"/etc/app.json:token"), "{names:?}");
    assert!(o.removed.contains(&"t0k\"en".to_string()), "the unescaped secret goes to the scrub: {:?}", o.removed);
}

#[test]
fn toml_env_properties_ini_xml_and_text() {
    let (out, _) = run("/etc/app.toml", "[db]\npassword = 'hunter2'\nport = 5432\nopts = { user = \"u\", pw = \"p4ss\" }\n[api]\ntoken = \"t0k3n\" # prod\n");
    assert_eq!(
        out,
        "[db]\npassword = \"prodbox-redacted\"\nport = 5432\nopts = { user = \"u\", pw = \"prodbox-redacted\" }\n[api]\ntoken = \"prodbox-redacted\" # prod\n"
    );
    let (out, d) = run("/app/.env", "export DB_PASSWORD=hunter2\nREGION=eu-west-1\n");
    assert_eq!(out, "export DB_PASSWORD=prodbox-redacted\nREGION=eu-west-1\n");
    assert_eq!(d[1].name, "/app/.env:DB_PASSWORD");
    let (out, _) = run(
        "/app/app.properties",
        "db.password=hunter2\ndb.url = jdbc:postgresql://db.example.com/x\nmail.smtp.pass hunter3\\\n  tail\n",
    );
    assert_eq!(
        out,
        "db.password=prodbox-redacted\ndb.url = jdbc:postgresql://db.example.com.prodbox.invalid/x\nmail.smtp.pass prodbox-redacted\n"
    );
    let (out, _) = run("/root/.pypirc", "[pypi]\nusername = __token__\npassword = pypi-secret-word\n");
    assert_eq!(out, "[pypi]\nusername = __token__\npassword = prodbox-redacted\n");
    let (out, _) = run(
        "/app/web.config",
        "<configuration><appSettings><add key=\"DbPassword\" value=\"x&amp;y\"/><add key=\"Mode\" value=\"fast\"/></appSettings><db><password>p&lt;q</password></db></configuration>",
    );
    assert_eq!(
        out,
        "<configuration><appSettings><add key=\"DbPassword\" value=\"prodbox-redacted\"/><add key=\"Mode\" value=\"fast\"/></appSettings><db><password>prodbox-redacted</password></db></configuration>"
    );
    let (out, _) = run("/app/notes.txt", "use AKIAIOSFODNN7EXAMPLE here\nand nothing here\n");
    assert_eq!(out, "use AKIAPRODBOXREDACTED0 here\nand nothing here\n");
}

#[test]
fn unparseable_structured_files_are_scanned_as_text_and_reported() {
    let text = "{\n  // a comment\n  \"password\": \"hunter2-json5\",\n  \"level\": \"info\",\n}\n";
    let (out, d) = run("/etc/app.json", text);
    assert!(!out.contains("hunter2-json5"), "{out}");
    assert!(out.contains("\"level\": \"info\""));
    assert_eq!(d[0].action, Action::Redacted);
    assert!(d[0].reason.contains("not valid JSON"), "{}", d[0].reason);
    assert!(!d[0].by_profile, "--strict counts it");
}

#[test]
fn references_public_material_and_keys_stay() {
    let text = "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=\n    server: https://k8s.internal:6443\nusers:\n- user:\n    token: abcdefghijklmnopqrstuvwxyz0123456789\n    auth-provider:\n      token_uri: https://oauth2.googleapis.com/token\n";
    let (out, _) = run("/root/.kube/config.yaml", text);
    assert!(out.contains("certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM="), "{out}");
    assert!(out.contains("token_uri: https://oauth2.googleapis.com/token"), "{out}");
    assert!(!out.contains("abcdefghijklmnopqrstuvwxyz0123456789"), "{out}");
}

#[test]
fn jwks_keep_public_members_and_lose_private_ones() {
    let text = r#"{"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": "6w9xY032pdnptDSu-dzaWlIvmS9GblkOoD3t7OpGCaGKs9qRfQoPZYWMg1mMQyoMEyZKJChvcWioAgZCh1ox", "e": "AQAB", "d": "KWCmnN_-j4QSSu8N011aPTqSbeo5MmuvD0BIG8N3ARGKK3jRHPSPRWsjW5k7FPIwEUlTpY_dQGR7Fb7J6jF"}]}"#;
    let (out, _) = run("/etc/auth/jwks.json", text);
    assert!(
        out.contains("6w9xY032pdnptDSu-dzaWlIvmS9GblkOoD3t7OpGCaGKs9qRfQoPZYWMg1mMQyoMEyZKJChvcWioAgZCh1ox"),
        "{out}"
    );
    assert!(out.contains("\"alg\": \"RS256\"") && out.contains("\"use\": \"sig\""), "{out}");
    assert!(
        !out.contains("KWCmnN_-j4QSSu8N011aPTqSbeo5MmuvD0BIG8N3ARGKK3jRHPSPRWsjW5k7FPIwEUlTpY_dQGR7Fb7J6jF"),
        "{out}"
    );
}

#[test]
fn a_scalar_reference_beside_a_password_does_not_hide_it() {
    // Bitnami charts: `existingSecret` sits beside the password it replaces.
    let text = "postgresql:\n  auth:\n    username: web\n    password: Helm-Pw-77x\n    existingSecret: \"\"\nextra:\n  - secretKey: password\n    remoteRef:\n      key: prod/db\n";
    let (out, _) = run("/deploy/values.yaml", text);
    assert!(!out.contains("Helm-Pw-77x"), "{out}");
    assert!(
        out.contains("username: web") && out.contains("existingSecret: \"\"") && out.contains("key: prod/db"),
        "{out}"
    );
}

#[test]
fn a_kubernetes_secrets_data_is_secret_whatever_its_keys_say() {
    let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api-env\ndata:\n  url: cG9zdGdyZXM6Ly9kYi9hcHA=\n  config.json: e30=\nstringData:\n  token: abc123XYZ987\n---\nkind: ConfigMap\ndata:\n  url: https://api.internal\n";
    let (out, _) = run("/k8s/all.yaml", text);
    assert!(
        !out.contains("cG9zdGdyZXM6Ly9kYi9hcHA=") && !out.contains("e30=") && !out.contains("abc123XYZ987"),
        "{out}"
    );
    assert!(out.contains("name: api-env") && out.contains("url: https://api.internal"), "{out}");
    assert!(yaml::parse(&out).is_some(), "{out}");
}

#[test]
fn a_file_holding_one_value_is_named_by_its_file_name() {
    for (path, value) in [
        ("/run/secrets/db_password", "Plain-Pw-123\n"),
        ("/app/config/master.key", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
        ("/root/.vault-token", "hvs.CAESIabc123XYZ"),
    ] {
        let (out, _) = run(path, value);
        assert!(!out.contains(value.trim()), "{path}: {out}");
        assert_eq!(out.ends_with('\n'), value.ends_with('\n'), "{path}");
    }
    for (path, value) in [("/etc/hostname", "web-1\n"), ("/run/secrets/db_password_file", "/run/secrets/pw\n")] {
        assert_eq!(run(path, value).0, value, "{path}");
    }
}

#[test]
fn a_url_as_a_key_says_nothing_about_its_value() {
    let text = "<configuration>\n  <apikeys>\n    <add key=\"https://api.nuget.org/v3/index.json\" value=\"oy2abcdefghijklmnopqrstuvwxyz0123456789abcdefg\" />\n  </apikeys>\n  <packageSources>\n    <add key=\"nuget.org\" value=\"https://api.nuget.org/v3/index.json\" />\n  </packageSources>\n</configuration>\n";
    let (out, _) = run("/app/nuget.config", text);
    assert!(!out.contains("oy2abcdefghijklmnopqrstuvwxyz0123456789abcdefg"), "{out}");
    assert!(out.contains("value=\"https://api.nuget.org/v3/index.json\""), "{out}");
}

#[test]
fn label_keys_and_durations_under_a_key_named_key_stay() {
    let text = "tolerations:\n  - key: node-role.kubernetes.io/control-plane\n    operator: Exists\njwt:\n  key: Xk9fQ2mZ7rT4wY8p\n  refresh-token-margin: 60s\n";
    let (out, _) = run("/k8s/pod.yaml", text);
    assert!(out.contains("key: node-role.kubernetes.io/control-plane") && out.contains("margin: 60s"), "{out}");
    assert!(!out.contains("Xk9fQ2mZ7rT4wY8p"), "{out}");
}

/// A file of `n` blocks in `format`, with secrets, hosts, name/value pairs,
/// argument flags, comments and more changed keys than the report lists.
fn large_file(format: Format, n: usize) -> String {
    let mut t = String::new();
    match format {
        Format::Yaml => {
            t.push_str("kind: Secret\ndata:\n  url: aGVsbG8=\n");
            for i in 0..n {
                t.push_str(&format!(
                    "svc{i}:\n  url: https://svc{i}.example.com/api # password=hunter{i}xyz\n  password: \"s3cr3t-{i}-pw\"\n  env:\n    - name: DB_PASSWORD\n      value: pw{i}Zx9Qp2Lm\n    - name: LEVEL\n      value: debug\n  args: [\"--db-password\", \"a{i}b{i}c{i}d{i}\", \"-v\"]\n"
                ));
            }
            t.push_str("args:\n");
            for i in 0..n {
                t.push_str(&format!("  - --token\n  - tok{i}Qz8Wn4Lk\n  - plain{i}\n"));
            }
        }
        Format::Json => {
            t.push_str("{\"kind\":\"Secret\",\"meta\":{\"token\":\"tok-Zx9Qp2Lm7Vb4\"},\"services\":[");
            for i in 0..n {
                let sep = if i > 0 { "," } else { "" };
                t.push_str(&format!(
                    "{sep}{{\"name\":\"DB_PASSWORD\",\"value\":\"pw{i}Zx9Qp2Lm\",\"endpoint\":\"http://db{i}.example.com:5432\",\"apiKey\":\"sk_live_{i:024}\",\"args\":[\"--password\",\"x{i}y{i}z{i}w\"],\"n\":{i}}}"
                ));
            }
            t.push_str("],\"data\":{\"a\":\"b\"}}");
        }
        Format::Properties | Format::Env | Format::Ini => {
            let (sep, section) = match format {
                Format::Properties => ("=", ""),
                Format::Env => ("=", ""),
                _ => (" = ", "[main]\n"),
            };
            t.push_str(section);
            for i in 0..n {
                let k = if format == Format::Env { format!("APP_{i}") } else { format!("app.{i}") };
                t.push_str(&format!(
                    "# {k} password{sep}old{i}secretXy\n{k}_URL{sep}jdbc:postgresql://db{i}.example.com/shop\n{k}_PASSWORD{sep}pw{i}Zx9Qp2Lm\n{k}_SIZE{sep}{i}\n"
                ));
            }
        }
        Format::Toml => {
            for i in 0..n {
                t.push_str(&format!(
                    "[svc{i}]\nurl = \"https://svc{i}.example.com\"\npassword = \"pw{i}Zx9Qp2Lm\"\nlimits = {{ size = {i}, token = \"tok{i}Qz8Wn4Lk\" }}\n"
                ));
            }
        }
        Format::Xml => {
            t.push_str("<?xml version=\"1.0\"?>\n<configuration><appSettings>\n");
            for i in 0..n {
                t.push_str(&format!(
                    "<add key=\"Db{i}Password\" value=\"pw{i}Zx9Qp2Lm\"/>\n<add key=\"Url{i}\" value=\"https://svc{i}.example.com\"/>\n<!-- password={i}oldSecretXy -->\n"
                ));
            }
            t.push_str("</appSettings></configuration>\n");
        }
        Format::Text => unreachable!("text is not walked"),
    }
    t
}

/// A large file walked in pieces (as the pool does on several cores) gives
/// what one walk gives: the same text, rows, counts and secrets.
#[test]
fn pieces_of_a_walk_add_up_to_the_whole_walk() {
    let rules = SanitizeSection { prod_hosts: vec!["*.example.com".into()], ..Default::default() };
    let cases = [
        (Format::Yaml, "/etc/app.yaml"),
        (Format::Json, "/etc/app.json"),
        (Format::Properties, "/etc/app.properties"),
        (Format::Env, "/etc/app.env"),
        (Format::Ini, "/etc/app.ini"),
        (Format::Toml, "/etc/app.toml"),
        (Format::Xml, "/etc/app.config"),
    ];
    let mut files: Vec<(&str, String)> = Vec::new();
    for (format, path) in cases {
        for n in [40, 90] {
            files.push((path, large_file(format, n)));
        }
    }
    // One long argument list: a flag and its value can fall in two pieces.
    let args: String = (0..300).map(|i| format!("  - --token\n  - tok{i}Qz8Wn4Lk\n")).collect();
    files.push(("/etc/args.yaml", format!("command:\n{args}")));
    for (path, text) in files {
        {
            let n = text.len();
            let value = ProdValue::Plain(Secret::new(text));
            let whole = sanitize_file(path, &value, &rules, None);
            assert!(whole.content.is_some(), "{path}: {:?}", whole.decisions[0]);
            let secrets = crate::sanitize::scrub::hunted(whole.removed.clone());
            assert!(!secrets.is_empty(), "{path}");
            for pieces in [2, 3, 5, 8] {
                let Prepared::Split(split) = prepare(path, &value, &rules, None, pieces) else {
                    panic!("{path} ({n} bytes) was not cut into {pieces} pieces")
                };
                assert!(split.pieces() > 1, "{path}");
                let parts = (0..split.pieces()).map(|i| split.walk(i, &rules, None)).collect();
                let o = split.finish(parts);
                assert_eq!(o.content, whole.content, "{path} in {pieces} pieces");
                let rows = |d: &[Decision]| d.iter().map(|d| format!("{d:?}\n")).collect::<String>();
                assert_eq!(rows(&o.decisions), rows(&whole.decisions), "{path} in {pieces} pieces");
                assert_eq!(crate::sanitize::scrub::hunted(o.removed), secrets, "{path} in {pieces} pieces");
            }
        }
    }
}

/// A Solana keypair file (`id.json`): 64 numbers that are one private key.
#[test]
fn a_keypair_written_as_numbers_is_redacted_and_stays_json() {
    let bytes: Vec<String> = (0..64).map(|i| ((i * 37 + 11) % 256).to_string()).collect();
    let text = format!("[{}]\n", bytes.join(","));
    let (out, d) = run("/home/app/.config/solana/id.json", &text);
    assert_eq!(out, format!("[{}]\n", vec!["0"; 64].join(",")));
    assert_eq!(d[0].action, Action::Redacted, "{d:?}");
    // 63 numbers, or one above 255, are a list like any other.
    let text = format!("[{}]", bytes[..63].join(","));
    assert_eq!(run("/etc/app.json", &text).0, text);
}

/// A YAML alias needs its anchor walked first: such a file is walked whole.
#[test]
fn a_file_with_an_alias_is_not_cut() {
    let mut text = String::from("base: &pw s3cr3t-Zx9Qp2Lm\n");
    text.extend((0..200).map(|i| format!("svc{i}:\n  url: https://svc{i}.example.com\n")));
    text.push_str("copy: *pw\n");
    let value = ProdValue::Plain(Secret::new(text.clone()));
    assert!(matches!(prepare("/etc/app.yaml", &value, &SanitizeSection::default(), None, 8), Prepared::Done(_)));
    let without = ProdValue::Plain(Secret::new(text.replace("*pw", "x")));
    assert!(matches!(prepare("/etc/app.yaml", &without, &SanitizeSection::default(), None, 8), Prepared::Split(_)));
}
