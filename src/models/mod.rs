//! Models: the manifest of variants, device-aware choice, verified downloads, quantization.

mod device;
pub mod download;
mod error;
pub mod installed;
mod manifest;
pub mod quantize;

pub use device::{Backends, Choice, DeviceProfile, Platform, recommend_whisper, recommend_whisper_with};
pub use download::{Download, DownloadError, Downloader, Progress};
pub use error::ManifestError;
pub use manifest::{Accelerator, EMBEDDED, FileFormat, Manifest, Model, ModelKind, SharedFile, Variant};
pub use quantize::{QuantType, QuantizeError, QuantizeStats, local_recipe, quantize_file};

impl Variant {
    /// A download request for this variant into `dir`.
    pub fn download_to(&self, dir: &std::path::Path, trust_unverified: bool) -> Download {
        Download {
            urls: self.urls().map(str::to_string).collect(),
            dest: dir.join(&self.file),
            exact_bytes: self.bytes_exact.then_some(self.bytes as u64),
            estimated_bytes: self.bytes as u64,
            sha256: self.sha256_bytes(),
            // Upstream SHA-1s come from a model card that may lag the files: only a fallback
            // check for files without a SHA-256.
            sha1: if self.sha256_bytes().is_some() { None } else { self.sha1_bytes() },
            trust_unverified,
        }
    }
}

impl SharedFile {
    /// A download request for this file into `dir`.
    pub fn download_to(&self, dir: &std::path::Path) -> Download {
        Download {
            urls: self.urls().map(str::to_string).collect(),
            dest: dir.join(&self.file),
            exact_bytes: Some(self.bytes as u64),
            estimated_bytes: self.bytes as u64,
            sha256: self.sha256_bytes(),
            sha1: None,
            trust_unverified: false,
        }
    }
}
