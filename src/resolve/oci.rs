//! The `oci` source: the OCI registry is the deploy registry. A tag of
//! `[image].repository` (`prod`) names what runs: the digest the registry
//! serves for it now (the index digest, not a platform's). Its config is the
//! newest deploy-record artifact referring to that digest (OCI 1.1 referrers,
//! or the referrers-tag fallback `sha256-<hex>` of the distribution spec);
//! history is the tags matching `history_tags`. [`push_record`] is what
//! `prodbox record` does: it pushes such an artifact.

use std::collections::BTreeMap;

use futures_util::future::BoxFuture;
use oci_client::errors::OciDistributionError;
use oci_client::{Client, Reference, RegistryOperation};
use serde_json::{json, Value};

use super::{Answer, DeployRecord, DeploySource, Query, ResolveError};
use crate::digest::sha256_digest;
use crate::fetch::auth::{self, Credentials};
use crate::fetch::remote::{classify, client_for, MANIFEST_TYPES};
use crate::fetch::{FetchError, RegistryOptions};
use crate::image_ref::ImageRef;
use crate::timestamp::Timestamp;

/// The artifactType (and layer media type) of a deploy-record artifact.
pub const ARTIFACT_TYPE: &str = "application/vnd.prodbox.deploy-record.v1+json";
/// The annotation that orders artifacts.
pub const CREATED: &str = "org.opencontainers.image.created";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const EMPTY_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// History reads at most this many tags.
const MAX_HISTORY_TAGS: usize = 200;

/// A tag of the profile's repository.
pub struct OciSource {
    pub repository: String,
    pub tag: String,
    pub history_tags: Option<String>,
}

impl DeploySource for OciSource {
    fn current<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, ResolveError>> {
        Box::pin(async move {
            let repo = Repo::open(&self.repository, &query.registry)?;
            let tag = query.expand(&self.tag);
            let (json, notes) = repo.deploy_of_tag(&tag).await?;
            Ok(Answer { origin: repo.origin(&tag), json, notes })
        })
    }

    fn history<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, ResolveError>> {
        Box::pin(async move {
            let repo = Repo::open(&self.repository, &query.registry)?;
            let Some(pattern) = &self.history_tags else {
                return Err(ResolveError::NoHistory {
                    origin: repo.origin(&query.expand(&self.tag)),
                    service: query.service.clone(),
                    hint: "set [source].history_tags to the tags each deploy leaves, e.g. \"prod-*\"".into(),
                });
            };
            let pattern = query.expand(pattern);
            let listed = repo
                .client
                .list_tags(&repo.image.to_reference(), &repo.creds.registry, None, None)
                .await
                .map_err(|e| repo.error("listing tags", e))?;
            let mut tags: Vec<String> =
                listed.tags.into_iter().filter(|t| crate::sanitize::glob::matches(&pattern, t)).collect();
            tags.sort();
            tags.truncate(MAX_HISTORY_TAGS);
            tags.push(query.expand(&self.tag));
            let mut deploys = Vec::new();
            for tag in &tags {
                deploys.push(repo.deploy_of_tag(tag).await?.0);
            }
            Ok(Answer::new(repo.origin(&pattern), json!({ "deploys": deploys })))
        })
    }
}

/// A repository with its client and credentials.
struct Repo {
    image: ImageRef,
    client: Client,
    creds: Credentials,
}

impl Repo {
    fn open(repository: &str, options: &RegistryOptions) -> Result<Repo, ResolveError> {
        let image = ImageRef::parse(repository).map_err(|e| ResolveError::Setup {
            origin: repository.into(),
            detail: format!("[image].repository {e}"),
        })?;
        let image = ImageRef { tag: None, digest: None, ..image };
        let creds = auth::for_registry(&image.registry)?;
        Ok(Repo { client: client_for(&image, options), image, creds })
    }

    fn origin(&self, tag: &str) -> String {
        format!("registry {}:{tag}", self.image.name())
    }

    fn at_tag(&self, tag: &str) -> Reference {
        Reference::with_tag(self.image.registry.clone(), self.image.repository.clone(), tag.into())
    }

    fn at_digest(&self, digest: &str) -> Reference {
        Reference::with_digest(self.image.registry.clone(), self.image.repository.clone(), digest.into())
    }

    fn error(&self, what: &'static str, e: OciDistributionError) -> ResolveError {
        match classify(&self.image.registry, &self.image.name(), what, "", e) {
            FetchError::Unreachable { registry, detail } => ResolveError::Unreachable { origin: registry, detail },
            FetchError::Auth { registry, detail } => ResolveError::Rejected {
                origin: registry,
                status: 401,
                hint: format!(" ({detail}); run `docker login` or check ~/.docker/config.json"),
            },
            other => ResolveError::BadAnswer { origin: self.image.name(), detail: other.to_string() },
        }
    }

    /// The record JSON for what `tag` serves now, and remarks.
    async fn deploy_of_tag(&self, tag: &str) -> Result<(Value, Vec<String>), ResolveError> {
        let digest = match self.client.fetch_manifest_digest(&self.at_tag(tag), &self.creds.registry).await {
            Ok(d) => d,
            Err(OciDistributionError::ImageManifestNotFoundError(_))
            | Err(OciDistributionError::ServerError { code: 404, .. }) => {
                return Err(ResolveError::NoMatch(format!(
                    "registry {}: has no tag {tag}; check [source].tag, or push the tag production runs",
                    self.image.name()
                )))
            }
            Err(OciDistributionError::RegistryError { envelope, .. })
                if envelope.errors.iter().any(|e| format!("{:?}", e.code).contains("ManifestUnknown")) =>
            {
                return Err(ResolveError::NoMatch(format!(
                    "registry {}: has no tag {tag}; check [source].tag, or push the tag production runs",
                    self.image.name()
                )))
            }
            Err(e) => return Err(self.error("resolving the tag", e)),
        };
        if !crate::digest::is_sha256_digest(&digest) {
            return Err(ResolveError::BadAnswer {
                origin: self.origin(tag),
                detail: "the registry did not answer with a sha256 digest".into(),
            });
        }
        let pinned = format!("{}@{digest}", self.image.name());
        let mut notes = Vec::new();
        let mut record = match self.newest_record(&digest).await? {
            Some((created, mut record)) => {
                if let Some(obj) = record.as_object_mut() {
                    if obj.get("image").and_then(Value::as_str).is_some_and(|i| !i.ends_with(&digest)) {
                        notes.push(format!("the deploy-record artifact names another image; the tag {tag} decides"));
                    }
                    if obj.get("deployed_at").is_none_or(Value::is_null) {
                        obj.insert("deployed_at".into(), created.map(Value::String).unwrap_or(Value::Null));
                    }
                }
                record
            }
            None => {
                notes.push(format!(
                    "no deploy-record artifact refers to {}: running without production config; push one with `prodbox record`",
                    short(&digest)
                ));
                json!({ "deployed_at": self.image_created(&digest).await? })
            }
        };
        match record.as_object_mut() {
            Some(obj) => {
                obj.insert("image".into(), Value::String(pinned));
            }
            None => {
                return Err(ResolveError::BadAnswer {
                    origin: self.origin(tag),
                    detail: "the deploy-record artifact is not a JSON object".into(),
                })
            }
        }
        Ok((record, notes))
    }

    /// The newest deploy-record artifact referring to `digest`: its created
    /// annotation and its record JSON.
    async fn newest_record(&self, digest: &str) -> Result<Option<(Option<String>, Value)>, ResolveError> {
        let index = self
            .client
            .pull_referrers(&self.at_digest(digest), Some(ARTIFACT_TYPE))
            .await
            .map_err(|e| self.error("listing referrers", e))?;
        let created =
            |e: &oci_client::manifest::ImageIndexEntry| e.annotations.as_ref().and_then(|a| a.get(CREATED)).cloned();
        let newest = index
            .manifests
            .iter()
            .filter(|e| e.artifact_type.as_deref() == Some(ARTIFACT_TYPE))
            .max_by_key(|e| created(e).as_deref().and_then(Timestamp::parse));
        let Some(entry) = newest else { return Ok(None) };
        let manifest = self.manifest(&entry.digest).await?;
        let layer = manifest["layers"][0]["digest"].as_str().ok_or_else(|| ResolveError::BadAnswer {
            origin: self.image.name(),
            detail: format!("deploy-record artifact {} has no layer", short(&entry.digest)),
        })?;
        let bytes = self.blob(layer).await?;
        let record: Value = serde_json::from_slice(&bytes)
            .map_err(|e| super::record::syntax(&format!("deploy-record artifact {}", short(&entry.digest)), &e))?;
        Ok(Some((created(entry), record)))
    }

    /// The image config's `created` (an index: its first manifest's).
    async fn image_created(&self, digest: &str) -> Result<Option<String>, ResolveError> {
        let mut manifest = self.manifest(digest).await?;
        if let Some(first) = manifest["manifests"][0]["digest"].as_str() {
            manifest = self.manifest(first).await?;
        }
        let Some(config) = manifest["config"]["digest"].as_str() else { return Ok(None) };
        let config: Value = serde_json::from_slice(&self.blob(config).await?).unwrap_or_default();
        Ok(config["created"].as_str().map(str::to_string))
    }

    /// A manifest by digest, checked against it.
    async fn manifest(&self, digest: &str) -> Result<Value, ResolveError> {
        let (body, _) = self
            .client
            .pull_manifest_raw(&self.at_digest(digest), &self.creds.registry, MANIFEST_TYPES)
            .await
            .map_err(|e| self.error("reading a manifest", e))?;
        self.checked(digest, &body)?;
        serde_json::from_slice(&body)
            .map_err(|e| super::record::syntax(&format!("manifest {}", short(digest)), &e).into())
    }

    async fn blob(&self, digest: &str) -> Result<Vec<u8>, ResolveError> {
        let mut bytes = Vec::new();
        self.client
            .pull_blob(&self.at_digest(digest), digest, &mut bytes)
            .await
            .map_err(|e| self.error("reading a blob", e))?;
        self.checked(digest, &bytes)?;
        Ok(bytes)
    }

    fn checked(&self, digest: &str, bytes: &[u8]) -> Result<(), ResolveError> {
        let actual = sha256_digest(bytes);
        if actual != digest {
            return Err(ResolveError::BadAnswer {
                origin: self.image.name(),
                detail: format!("content of {digest} does not match its digest (got {actual}); refusing it"),
            });
        }
        Ok(())
    }
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(19)]
}

/// What `prodbox record` pushed.
#[derive(Debug, serde::Serialize)]
pub struct Pushed {
    /// `registry/repository@digest` of the image the record describes.
    pub subject: String,
    /// Digest of the artifact manifest.
    pub artifact: String,
    /// Its `org.opencontainers.image.created`.
    pub created: String,
    /// The referrers-tag index that was updated.
    pub referrers_tag: String,
}

/// Pushes `text` (a deploy record) as a deploy-record artifact referring to
/// the record's image digest, and adds it to the referrers-tag index.
pub async fn push_record(origin: &str, text: &str, options: &RegistryOptions) -> Result<Pushed, ResolveError> {
    let record = DeployRecord::from_json(origin, text)?;
    let digest = record.image.digest.clone().expect("a parsed record has a digest");
    let repo = Repo::open(&record.image.name(), options)?;
    let subject = repo.at_digest(&digest);
    repo.client
        .auth(&subject, &repo.creds.registry, RegistryOperation::Push)
        .await
        .map_err(|e| repo.error("logging in", e))?;
    let (subject_body, _) = repo
        .client
        .pull_manifest_raw(&subject, &repo.creds.registry, MANIFEST_TYPES)
        .await
        .map_err(|e| repo.error("reading the record's image", e))?;
    repo.checked(&digest, &subject_body)?;
    let subject_json: Value = serde_json::from_slice(&subject_body).unwrap_or_default();
    let subject_type = subject_json["mediaType"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| if subject_json.get("manifests").is_some() { OCI_INDEX } else { OCI_MANIFEST }.to_string());

    let created = record.deployed_at.clone().unwrap_or_else(|| Timestamp::now().to_string());
    let empty = b"{}".to_vec();
    let empty_digest = sha256_digest(&empty);
    let record_bytes = text.as_bytes().to_vec();
    let record_digest = sha256_digest(&record_bytes);
    for (bytes, d) in [(empty.clone(), &empty_digest), (record_bytes.clone(), &record_digest)] {
        repo.client.push_blob(&subject, bytes, d).await.map_err(|e| repo.error("pushing a blob", e))?;
    }
    let annotations = BTreeMap::from([(CREATED, created.clone())]);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": {"mediaType": EMPTY_TYPE, "digest": empty_digest, "size": empty.len()},
        "layers": [{"mediaType": ARTIFACT_TYPE, "digest": record_digest, "size": record_bytes.len()}],
        "subject": {"mediaType": subject_type, "digest": digest, "size": subject_body.len()},
        "annotations": annotations,
    });
    let manifest_bytes = serde_json::to_vec(&manifest).expect("serializable");
    let artifact = sha256_digest(&manifest_bytes);
    repo.client
        .push_manifest_raw(&repo.at_digest(&artifact), manifest_bytes.clone(), OCI_MANIFEST.parse().expect("header"))
        .await
        .map_err(|e| repo.error("pushing the artifact manifest", e))?;

    // The referrers-tag fallback: registries without the referrers API find
    // referrers in an index tagged sha256-<hex>; keep it up to date.
    let tag = digest.replace(':', "-");
    let mut index = match repo.client.pull_manifest_raw(&repo.at_tag(&tag), &repo.creds.registry, &[OCI_INDEX]).await {
        Ok((body, _)) => serde_json::from_slice(&body).unwrap_or_else(|_| empty_index()),
        Err(_) => empty_index(),
    };
    if let Some(list) = index["manifests"].as_array_mut() {
        list.retain(|m| m["digest"] != artifact.as_str());
        list.push(json!({
            "mediaType": OCI_MANIFEST,
            "digest": artifact,
            "size": manifest_bytes.len(),
            "artifactType": ARTIFACT_TYPE,
            "annotations": annotations,
        }));
    }
    repo.client
        .push_manifest_raw(
            &repo.at_tag(&tag),
            serde_json::to_vec(&index).expect("serializable"),
            OCI_INDEX.parse().expect("header"),
        )
        .await
        .map_err(|e| repo.error("pushing the referrers index", e))?;
    Ok(Pushed { subject: record.image.pinned(), artifact, created, referrers_tag: tag })
}

fn empty_index() -> Value {
    json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
}
