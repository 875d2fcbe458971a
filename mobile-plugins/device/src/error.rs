//! The plugin's errors, serialized for the page as their message.

use serde::{Serialize, Serializer};

/// Why a report failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The platform side (Kotlin/Swift) failed.
    #[cfg(mobile)]
    #[error(transparent)]
    PluginInvoke(#[from] tauri::plugin::mobile::PluginInvokeError),
    /// Reading the system's files failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The plugin's result.
pub type Result<T> = std::result::Result<T, Error>;

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}
