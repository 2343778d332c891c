//! Passwords on their way to a script: read at use from the manifest's source, never shown,
//! and carried only inside a script's standard input.

use serde::Serialize;

use crate::manifest::spec::SecretSource;

/// A password read by the controller. Its `Debug` never shows it; it leaves the process
/// only inside a script's standard input.
#[derive(Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Why a secret could not be read.
pub type SecretError = crate::secret_file::SecretFileError;

/// Reads a secret at use, without blocking ([`crate::secret_file::resolve`]).
///
/// # Errors
/// The variable is unset or the file unusable.
pub fn read_secret(source: &SecretSource) -> Result<Secret, SecretError> {
    crate::secret_file::resolve(source).map(Secret)
}
