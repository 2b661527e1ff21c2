//! Registry credentials from `$DOCKER_CONFIG/config.json` (or
//! `~/.docker/config.json`): plain `auths`, `credHelpers` and `credsStore`.

use bollard::auth::DockerCredentials;
use docker_credential::{CredentialRetrievalError, DockerCredential};
use oci_client::secrets::RegistryAuth;

/// Credentials for one registry, in the two forms prodbox needs.
#[derive(Clone)]
pub struct Credentials {
    /// For oci-client (manifest reads).
    pub registry: RegistryAuth,
    /// For the engine pull (the engine does not read the client's config).
    pub engine: Option<DockerCredentials>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.engine.is_some() { "Credentials(present)" } else { "Credentials(anonymous)" })
    }
}

/// Looks up credentials for `registry` (`host[:port]`); anonymous when none.
/// A broken credential helper is an error the user must see.
pub fn for_registry(registry: &str) -> Result<Credentials, super::FetchError> {
    let server = if registry == "docker.io" { "https://index.docker.io/v1/" } else { registry };
    match docker_credential::get_credential(server) {
        Ok(DockerCredential::UsernamePassword(user, pass)) => Ok(Credentials {
            registry: RegistryAuth::Basic(user.clone(), pass.clone()),
            engine: Some(DockerCredentials {
                username: Some(user),
                password: Some(pass),
                serveraddress: Some(registry.to_string()),
                ..Default::default()
            }),
        }),
        Ok(DockerCredential::IdentityToken(token)) => Ok(Credentials {
            registry: RegistryAuth::Bearer(token.clone()),
            engine: Some(DockerCredentials {
                identitytoken: Some(token),
                serveraddress: Some(registry.to_string()),
                ..Default::default()
            }),
        }),
        Err(CredentialRetrievalError::ConfigNotFound)
        | Err(CredentialRetrievalError::ConfigReadError)
        | Err(CredentialRetrievalError::NoCredentialConfigured) => Ok(anonymous()),
        Err(e) => Err(super::FetchError::Credentials { registry: registry.to_string(), detail: e.to_string() }),
    }
}

/// No credentials.
pub fn anonymous() -> Credentials {
    Credentials { registry: RegistryAuth::Anonymous, engine: None }
}
