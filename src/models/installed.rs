//! What is installed where, checking installed files, removing them. "Installed" means present
//! in one of the model dirs ([`crate::paths::Dirs::model_dirs`]), the same for listing, verifying
//! and removing.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::download::part_path;
use super::{Manifest, SharedFile, Variant};

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
    file_state(&variant.file, dirs)
}

/// Find the file named `file` in `dirs` (first hit wins).
pub fn file_state(file: &str, dirs: &[PathBuf]) -> FileState {
    for dir in dirs {
        let path = dir.join(file);
        if let Ok(meta) = std::fs::metadata(&path)
            && meta.is_file()
        {
            return FileState::Installed { path, bytes: meta.len() };
        }
    }
    for dir in dirs {
        if let Ok(meta) = std::fs::metadata(part_path(&dir.join(file))) {
            return FileState::Partial { bytes: meta.len() };
        }
    }
    FileState::Available
}

/// Result of checking an installed file against the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The SHA-256 is that of a known-good build (the download's, or Sotto's own).
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
    let actual = sha256_hex(path)?;
    Ok(if variant.accepts(&actual) {
        Verdict::Ok
    } else if variant.sha256 == "unknown" {
        Verdict::Unverifiable { actual }
    } else {
        Verdict::Mismatch { expected: variant.sha256.clone(), actual }
    })
}

/// Hash an installed shared file (a tokenizer) and compare it with the manifest.
pub fn verify_shared(file: &SharedFile, path: &Path) -> std::io::Result<Verdict> {
    let actual = sha256_hex(path)?;
    Ok(if actual == file.sha256 { Verdict::Ok } else { Verdict::Mismatch { expected: file.sha256.clone(), actual } })
}

/// Lowercase hex SHA-256 of a file, read in 1 MiB pieces.
pub fn sha256_hex(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf)? {
            0 => break,
            n => hasher.update(&buf[..n]),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Delete every file of `model_id` (all variants, its shared files and partial downloads) from
/// each of `dirs`, so that nothing [`state`] would call installed is left; returns what was removed.
pub fn remove(manifest: &Manifest, model_id: &str, dirs: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let Some(model) = manifest.model(model_id) else {
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, format!("no model {model_id} in the manifest")));
    };
    let names = model.variants.iter().map(|v| v.file.as_str()).chain(model.files.iter().map(|f| f.file.as_str()));
    let mut removed = Vec::new();
    for name in names {
        for dir in dirs {
            for path in [dir.join(name), part_path(&dir.join(name))] {
                match std::fs::remove_file(&path) {
                    Ok(()) => removed.push(path),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_deletes_whatever_state_finds_in_any_dir() {
        let manifest = Manifest::embedded();
        let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let dirs = [first.path().to_path_buf(), second.path().to_path_buf()];
        let minilm = manifest.model("minilm-l6-v2").unwrap();
        let onnx = minilm.variant("f32").unwrap();
        let tokenizer = &minilm.files[0];
        // The model in the second dir (a fixture cache), a partial download in the first.
        std::fs::write(second.path().join(&onnx.file), b"onnx").unwrap();
        std::fs::write(second.path().join(&tokenizer.file), b"{}").unwrap();
        std::fs::write(part_path(&first.path().join(&onnx.file)), b"on").unwrap();
        assert!(matches!(state(onnx, &dirs), FileState::Installed { path, .. } if path.starts_with(second.path())));
        assert!(matches!(file_state(&tokenizer.file, &dirs), FileState::Installed { .. }));
        // Another model's file stays.
        std::fs::write(second.path().join("ggml-tiny.en.bin"), b"x").unwrap();

        let removed = remove(&manifest, "minilm-l6-v2", &dirs).unwrap();
        assert_eq!(removed.len(), 3, "{removed:?}");
        assert_eq!(state(onnx, &dirs), FileState::Available);
        assert_eq!(file_state(&tokenizer.file, &dirs), FileState::Available);
        assert!(second.path().join("ggml-tiny.en.bin").exists());
        assert!(remove(&manifest, "no-such-model", &dirs).is_err());
    }

    #[test]
    fn either_build_verifies() {
        let manifest = Manifest::embedded();
        let f16 = manifest.model("whisper-tiny.en").unwrap().variant("f16").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(&f16.file);
        std::fs::write(&path, b"not a model").unwrap();
        let actual = sha256_hex(&path).unwrap();
        assert!(actual.len() == 64 && actual.chars().all(|c| c.is_ascii_hexdigit()), "{actual}");
        assert!(matches!(verify(f16, &path).unwrap(), Verdict::Mismatch { expected, .. } if expected == f16.sha256));
        // A manifest whose variant's own build is this file accepts it.
        let mut own = f16.clone();
        own.local_sha256 = Some(actual);
        assert_eq!(verify(&own, &path).unwrap(), Verdict::Ok);
    }
}
