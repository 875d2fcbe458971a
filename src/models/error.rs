use std::path::PathBuf;

/// Why a manifest could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifest file could not be read.
    #[error("manifest {path}: cannot read")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or a field is missing or of the wrong type.
    #[error("manifest: {0}")]
    Syntax(String),
    /// A field has a value that cannot be right.
    #[error("manifest: {at}: {detail}")]
    Invalid {
        /// Where: `model whisper-base.en`, `model whisper-base.en variant q5_1`.
        at: String,
        /// What is wrong.
        detail: String,
    },
}
