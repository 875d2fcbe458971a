//! Shared helpers for integration tests: the real fixtures made by `models/fetch-fixtures`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sotto::asr::Transcriber;

/// `$SOTTO_CACHE` or `~/.cache/sotto`, as `models/fetch-fixtures` uses it.
pub fn cache() -> PathBuf {
    std::env::var_os("SOTTO_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| dirs::home_dir().expect("home dir").join(".cache/sotto"))
}

/// A fixture file; fails loudly if the fixtures were never prepared.
pub fn fixture(name: &str) -> PathBuf {
    let path = cache().join("fixtures").join(name);
    assert!(path.exists(), "missing fixture {} — run `make fixtures` (models/fetch-fixtures) first", path.display());
    path
}

/// The real Whisper tiny.en model file.
pub fn model_path() -> PathBuf {
    let path = cache().join("models/ggml-tiny.en.bin");
    assert!(path.exists(), "missing model {} — run `make fixtures` first", path.display());
    path
}

/// One loaded model shared by all tests in a binary.
pub fn transcriber() -> &'static Arc<Transcriber> {
    static T: OnceLock<Arc<Transcriber>> = OnceLock::new();
    T.get_or_init(|| Arc::new(Transcriber::load(&model_path()).expect("the fixture model loads")))
}

/// The LibriVox clips with their reference transcripts, in file-name order.
pub fn librivox() -> Vec<(PathBuf, String)> {
    let tsv = std::fs::read_to_string(fixture("librivox/transcripts.tsv")).expect("transcripts.tsv");
    let mut clips: Vec<(PathBuf, String)> = tsv
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (file, text) = l.split_once('\t').expect("file<TAB>text");
            (fixture(&format!("librivox/{file}")), text.to_string())
        })
        .collect();
    clips.sort();
    assert_eq!(clips.len(), 5, "five LibriVox clips");
    clips
}

/// The jfk reference text.
pub fn jfk_reference() -> String {
    std::fs::read_to_string(fixture("jfk.txt")).expect("jfk.txt").trim().to_string()
}

/// Joined segment texts.
pub fn text_of(segments: &[sotto::asr::Segment]) -> String {
    segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ")
}

/// Deterministic low-level noise (uniform, given RMS) for silence-like tests.
pub fn noise(samples: usize, rms: f32, seed: u64) -> Vec<f32> {
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    (0..samples)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 23) as f32 - 1.0) * rms * 3f32.sqrt()
        })
        .collect()
}

/// Write a file in a temp dir and return its path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    path
}
