//! The detection corpus: realistic-format fake secrets (most under innocuous
//! names, so only their values can give them away) and ordinary values that
//! must survive. `cargo test --lib corpus -- --nocapture` prints the figures.
//! Every secret here is made up for these tests.

use std::collections::BTreeMap;

use super::{sanitize, Action};
use crate::profile::SanitizeSection;
use crate::secret::Secret;
use crate::secret::{ProdConfig, ProdValue};

/// (name, value): secrets under names that say nothing.
const SECRETS_BY_VALUE: &[(&str, &str)] = &[
    ("UPSTREAM", "AKIAIOSFODNN7EXAMPLE"),
    ("CFG", "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"),
    ("TARGET", "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"),
    ("DATA", "glpat-_6ilI8ihN5KXSc7Tvo_h"),
    ("REGISTRY", "npm_nXsiVpzz63FfkCzJr4i0B3JrTAwR4y9ojflj"),
    ("PUBLISH", "pypi-AgEIcHlwaS5vcmcDDb-xHKas1VOqg6YYZYn9ZhyiA4uoRgnatmUdjAWtGSU8po-799NksnRH9uc"),
    ("HOOK", "https://hooks.slack.com/services/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"),
    ("NOTIFY", "xoxb-004743957551-3137353799075-ZPf1Qh6yYTWmE4lBYOvfZ8Uz"),
    ("CHAT", "https://discord.com/api/webhooks/761222029729975288/qcbnr3yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jBMp"),
    ("PAY", "sk_live_5Xj8TPQxjq4i9DoV8gz4FkQ1"),
    ("LLM", "sk-proj-Cu3ZR1zTOlUcR64cXQLioDnkHIfxIq2HZt_PlJhx2jIclHkC"),
    ("ASSIST", "sk-ant-api03-iHp6bR1IqfEouHgxzNNAL5wIScGebcy8F5n3_YNBDRzrZSgqbjG3uhkWKFLf6xuI5aHUQPFeNBTxaQWk8JzFalHlsZfYcAA"),
    ("MAPS", "AIzaMMDktXP_tKsf2rcDkdfrUnW5gcF-Ha6ili8"),
    ("MAIL", "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"),
    ("MAILER", "key-c94dbca3a0aac36098b2cc2bd8183194"),
    ("SMS", "SK78da6bd0c621de49f145fda9988c79fc"),
    ("SHOP", "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"),
    ("SQ", "sq0atp-_JUqBlIFXZ53Ncqe28-ajY"),
    ("DROPLET", "dop_v1_ee737443e210471948d33296c87009e8a7f770d9106fd287db7f1adbc60926f6"),
    ("VLT", "hvs.NyD7CHLn_xC-1hsYgBds1ghxY5OokvQyx7eNWVQ4vnakJkS1pAWTN3lg8zV5yPU8d0FZfWe7ihGyiRUIQfHOJMaidD"),
    ("HEADER", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
    ("PRIMARY", "postgres://shop:gET9D9XyYq6B@db.internal:5432/shop"),
    ("BROKER", "amqp://guest:0Fi7FlaZ7Vt0SX@rabbit.internal:5672/vhost"),
    ("MONGO", "mongodb+srv://admin:jMpu3uDxYYMfGmzW@cluster0.abcde.mongodb.net/db"),
    ("STORAGE", "DefaultEndpointsProtocol=https;AccountName=shopdata;AccountKey=uF0ie9Pu2njHkAm1/5wDr16EpLLJIVGHz4FxFEtKyPiYGFDm7ena8D5VfLDpgyyjVw5HanSBeVRsfAGeAbP0Vx==;EndpointSuffix=core.windows.net"),
    ("MSSQL", "Server=tcp:sql.internal,1433;Database=shop;User ID=app;Password=NtencYFJEeAg;Encrypt=true"),
    ("ERRORS", "https://c425c8d99d19bdd0b6cc60d5d32cbe54@o123456.ingest.sentry.io/1234567"),
    ("BOT", "008261995:AAvsSKuvinX-zMqf9OgXluCZz8xBfZuXTpt"),
    ("NEWSLETTER", "7611a3ce9d97dcbee500fe7ee5fc324b-us14"),
    ("AGE", "AGE-SECRET-KEY-11XF266CCIFU6FD6YIBEHMI5SKOEWQKUR3JQ64NQ6PUXCMLZKRUYKQH7DX2"),
    ("HF", "hf_JHLS45gqIO2zVZxqyxKjxvWfColNV9ds0H"),
    ("LINEAR", "lin_api_qtO93L7Q5uUaVcojsNOBAGx5diFoNPcbdaKwtgHw"),
    ("DOPPLER", "dp.pt.IoALtLinxN1Ekia7ZpTjCgeOj3QYrzZq9adP0J5wMPL"),
    ("DBX", "dapief750110c57513064d6d59291f0cde2e"),
    ("GCP", "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"),
    ("OPAQUE", "62O6SQ1IEE1HSa2bB9UoK4tYnzNLeK6k"),
    ("BLOB", "sedonuSsddfrfifiUziXnFAAoeelK9mqmALOR2Hc"),
    ("REDIS", "redis://:wq7sdTWx6uX9@cache.internal:6379/0"),
    ("SMTP", "smtps://mailer:MGE2sNVbYAbB@smtp.internal:465"),
    ("TEAMS", "https://outlook.office.com/webhook/3bf16295-d069-10bf-3f5f-b85967f532f3@ab3cc2d0/IncomingWebhook/b698d5c7e41ba4ea5ee874ae7689447a/b57a6835"),
    ("SETTINGS", "--api-key=9QgmyjjYtUtBrmgO6grn4yDcaz2YBSoG --verbose"),
    ("HEXKEY", "9e048c07dd7753eda83d7c58dfe0d5a0cf318656b3e6f0bade65c3b188cc102d"),
    ("BUNDLE", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----\n"),
];

/// (name, value): ordinary values under secret-looking names: only the name gives them away.
const SECRETS_BY_NAME: &[(&str, &str)] = &[
    ("DB_PASSWORD", "hunter2"),
    ("SESSION_SECRET", "correct horse battery staple"),
    ("ADMIN_PASSWD", "letmein!"),
    ("JWT_SIGNING_KEY", "my-signing-key"),
    ("STRIPE_WEBHOOK_SECRET", "whsec"),
    ("API_TOKEN", "abc123"),
    ("SMTP_AUTH", "plain-s3cret"),
    ("SENTRY_DSN", "internal"),
    ("ENCRYPTION_SALT", "pepper"),
    ("CLIENT_CREDENTIALS", "user:pass"),
];

/// (name, value): ordinary configuration that must come through unchanged.
const ORDINARY: &[(&str, &str)] = &[
    ("LOG_LEVEL", "info"),
    ("DEBUG", "false"),
    ("PORT", "8080"),
    ("RATIO", "0.75"),
    ("VERSION", "1.24.3"),
    ("RELEASE", "v2.3.1-rc.1"),
    ("REGION", "eu-west-1"),
    ("ZONE", "us-east-1a"),
    ("ORDERS_API", "https://api.example.org/v1/orders"),
    ("HEALTH_URL", "http://localhost:8080/health"),
    ("DATA_DIR", "/var/lib/checkout/data"),
    ("CA_FILE", "/etc/ssl/certs/ca-certificates.crt"),
    ("TENANT", "550e8400-e29b-41d4-a716-446655440000"),
    ("DB_HOSTS", "db1:5432,db2:5432"),
    ("KAFKA", "kafka-0.kafka:9092,kafka-1.kafka:9092"),
    ("APP_NAME", "checkout-service"),
    ("FLAG", "feature_new_cart_flow"),
    ("TZ", "Europe/Berlin"),
    ("LANG", "en_US.UTF-8"),
    ("TIMEOUT", "30s"),
    ("MEMORY", "512Mi"),
    ("REVISION", "9f1c2ab"),
    ("COMMIT", "9f1c2ab3d4e5f60718293a4b5c6d7e8f90a1b2c3"),
    ("IMAGE_DIGEST", "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
    ("HSTS", "max-age=31536000; includeSubDomains"),
    ("UA", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"),
    ("MAIN_CLASS", "com.example.checkout.CheckoutApplication"),
    ("JAVA_OPTS", "-Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=200"),
    ("CRON", "0 */5 * * *"),
    ("CONTENT_TYPE", "text/html; charset=utf-8"),
    ("SERVICES", "checkout,cart,payments"),
    ("BROKER_URL", "amqp://rabbit.internal:5672/vhost"),
    ("DB_URL", "postgres://db.internal:5432/shop"),
    ("SERVICE_NAME", "CheckoutService_v2_Production"),
    ("STARTED", "2026-11-20T14:05:00Z"),
    ("CONTACT", "oncall@example.org"),
    ("ROLE_ARN", "arn:aws:iam::123456789012:role/checkout-prod"),
    ("TOPIC", "projects/shop-prod-4711/topics/orders"),
    ("INTERNAL_NET", "10.0.0.0/8"),
    ("SVC_HOST", "checkout.prod.svc.cluster.local"),
    ("ASSETS", "s3://shop-assets-prod/images/"),
    ("ROUTE", "/api/v1/orders/{id}/items"),
    ("GREETING", "hello from production"),
    ("KEY_ROTATION", "quarterly"),
    ("OAUTH_TOKEN_URL", "https://login.example.org/oauth2/token"),
    ("POOL", "min=2,max=20"),
    ("ALPHABET", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    ("BUILD", "build-2026-11-20-1405"),
];

fn config(entries: &[(&str, &str)]) -> ProdConfig {
    ProdConfig {
        env: entries.iter().map(|(k, v)| (k.to_string(), ProdValue::Plain(Secret::new(*v)))).collect(),
        files: BTreeMap::new(),
    }
}

/// The part of a corpus secret that must not survive (for URLs and
/// connection strings, the password; otherwise the value).
fn secret_part(value: &str) -> &str {
    if let Some(f) = super::detect::find_all(value).into_iter().find(|f| f.shape == super::detect::Shape::Password) {
        return &value[f.span];
    }
    value.trim()
}

#[test]
fn corpus_figures() {
    assert!(SECRETS_BY_VALUE.len() >= 40 && ORDINARY.len() >= 40);
    let rules = SanitizeSection::default();
    let mut all = SECRETS_BY_VALUE.to_vec();
    all.extend_from_slice(SECRETS_BY_NAME);
    let out = sanitize(&config(&all), &rules).unwrap();
    let env: BTreeMap<&str, &str> = out.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut missed = Vec::new();
    for (name, value) in &all {
        let decision = out.decisions.iter().find(|d| d.name == *name).unwrap();
        let leaked = env.get(name).is_some_and(|v| v.contains(secret_part(value)));
        if decision.action != Action::Redacted || leaked {
            missed.push(*name);
        }
    }
    let out = sanitize(&config(ORDINARY), &rules).unwrap();
    let changed: Vec<&str> = ORDINARY
        .iter()
        .filter(|(k, v)| out.env.iter().find(|(n, _)| n == k).map(|(_, x)| x.as_str()) != Some(*v))
        .map(|(k, _)| *k)
        .collect();
    let by_value_missed = missed.iter().filter(|m| SECRETS_BY_VALUE.iter().any(|(n, _)| n == *m)).count();
    eprintln!(
        "corpus: secrets detected {}/{} ({} of {} under innocuous names by value alone); false positives {}/{}",
        all.len() - missed.len(),
        all.len(),
        SECRETS_BY_VALUE.len() - by_value_missed,
        SECRETS_BY_VALUE.len(),
        changed.len(),
        ORDINARY.len()
    );
    assert!(missed.is_empty(), "secrets that got through: {missed:?}");
    assert!(changed.is_empty(), "ordinary values that were changed: {changed:?}");
}
