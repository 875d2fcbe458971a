//! What is installed where, checking installed files, removing them.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::download::part_path;
use super::{Manifest, Variant};

/// Where a variant stands on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FileState {
    /// The file is in a models directory.
    Installed {
        /// Where.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
    /// An interrupted download that `fetch` will resume.
    Partial {
        /// Bytes so far.
        bytes: u64,
    },
    /// Not on this device.
    Available,
}

/// Find `variant`'s file in `dirs` (first hit wins).
pub fn state(variant: &Variant, dirs: &[PathBuf]) -> FileState {
    for dir in dirs {
        let path = dir.join(&variant.file);
        if let Ok(meta) = std::fs::metadata(&path)
            && meta.is_file()
        {
            return FileState::Installed { path, bytes: meta.len() };
        }
    }
    for dir in dirs {
        if let Ok(meta) = std::fs::metadata(part_path(&dir.join(&variant.file))) {
            return FileState::Partial { bytes: meta.len() };
        }
    }
    FileState::Available
}

/// Result of checking an installed file against the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Size and SHA-256 match.
    Ok,
    /// The bytes differ from the manifest's.
    Mismatch {
        /// Expected SHA-256.
        expected: String,
        /// Actual SHA-256.
        actual: String,
    },
    /// The manifest has no SHA-256 for it: the size is all that could be checked.
    Unverifiable {
        /// Actual SHA-256, to record once trusted.
        actual: String,
    },
}

/// Hash an installed file and compare it with its variant.
pub fn verify(variant: &Variant, path: &Path) -> std::io::Result<Verdict> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf)? {
            0 => break,
            n => hasher.update(&buf[..n]),
        }
    }
    let actual = hex::encode(hasher.finalize());
    Ok(if variant.sha256 == "unknown" {
        Verdict::Unverifiable { actual }
    } else if actual == variant.sha256 {
        Verdict::Ok
    } else {
        Verdict::Mismatch { expected: variant.sha256.clone(), actual }
    })
}

/// Delete every file of `model_id` (and partial downloads) from `dir`; returns what was removed.
pub fn remove(manifest: &Manifest, model_id: &str, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let Some(model) = manifest.model(model_id) else {
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, format!("no model {model_id} in the manifest")));
    };
    let mut removed = Vec::new();
    for v in &model.variants {
        for path in [dir.join(&v.file), part_path(&dir.join(&v.file))] {
            match std::fs::remove_file(&path) {
                Ok(()) => removed.push(path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(removed)
}
