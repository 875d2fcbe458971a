//! Shared helpers for integration tests: the real fixtures made by `models/fetch-fixtures`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sotto::asr::Transcriber;
use sotto::audio::{SAMPLE_RATE, SileroModel, silero};

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

/// The real Silero model (made by `models/fetch-fixtures`), loaded once per test binary.
pub fn silero_model() -> Arc<SileroModel> {
    static MODEL: OnceLock<Arc<SileroModel>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let path = cache().join("models").join(silero::MODEL_FILE);
            assert!(path.exists(), "missing model {} — run `make fixtures` first", path.display());
            Arc::new(SileroModel::load(&path).expect("the fixture model loads"))
        })
        .clone()
}

/// Amplitude of a level in dBFS.
pub fn amplitude(dbfs: f32) -> f32 {
    10f32.powf(dbfs / 20.0)
}

pub fn rms_dbfs(samples: &[f32]) -> f32 {
    let power = samples.iter().map(|s| s * s).sum::<f32>() / samples.len().max(1) as f32;
    10.0 * (power + 1e-20).log10()
}

/// `samples` scaled to an RMS of `dbfs`.
pub fn scaled_to(samples: &[f32], dbfs: f32) -> Vec<f32> {
    let gain = amplitude(dbfs - rms_dbfs(samples));
    samples.iter().map(|s| s * gain).collect()
}

/// A room: pink noise (Paul Kellet's filter over uniform white noise) at `pink_dbfs` RMS plus
/// 50 Hz mains hum with its 2nd, 3rd and 5th harmonics at `hum_dbfs` RMS. Deterministic.
pub fn room_noise(samples: usize, pink_dbfs: f32, hum_dbfs: f32, seed: u64) -> Vec<f32> {
    let white = noise(samples, 1.0, seed);
    let mut b = [0f32; 7];
    let pink: Vec<f32> = white
        .iter()
        .map(|&w| {
            b[0] = 0.99886 * b[0] + w * 0.0555179;
            b[1] = 0.99332 * b[1] + w * 0.0750759;
            b[2] = 0.96900 * b[2] + w * 0.153852;
            b[3] = 0.86650 * b[3] + w * 0.3104856;
            b[4] = 0.55000 * b[4] + w * 0.5329522;
            b[5] = -0.7616 * b[5] - w * 0.0168980;
            let out = b.iter().sum::<f32>() + w * 0.5362;
            b[6] = w * 0.115926;
            out
        })
        .collect();
    let hum: Vec<f32> = (0..samples)
        .map(|i| {
            let t = i as f32 / SAMPLE_RATE as f32;
            [(1.0, 1.0, 0.0), (2.0, 0.5, 0.7), (3.0, 0.3, 1.9), (5.0, 0.15, 2.6)]
                .iter()
                .map(|&(k, a, phase)| a * (2.0 * std::f32::consts::PI * 50.0 * k * t + phase).sin())
                .sum()
        })
        .collect();
    let pink = scaled_to(&pink, pink_dbfs);
    let hum = scaled_to(&hum, hum_dbfs);
    pink.iter().zip(&hum).map(|(p, h)| p + h).collect()
}

/// A small tmpfs of `size` (e.g. "4m"), for full-disk tests; unmounted on drop. Needs root (CI
/// runs as root).
pub struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    /// Mount one.
    pub fn mount(size: &str) -> SmallDisk {
        let disk = SmallDisk(tempfile::tempdir().unwrap());
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(disk.0.path())
            .status();
        assert!(ok.is_ok_and(|s| s.success()), "mounting a tmpfs needs root (CI runs as root)");
        disk
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.0.path()).status();
    }
}

/// Run the `sotto` binary on the notes in `data`, unlocked with `passphrase`, with the fixture
/// models (and the default model lookup, not `$SOTTO_MODEL`).
pub fn sotto_notes(args: &[&str], data: &Path, passphrase: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sotto"))
        .args(args)
        .env("SOTTO_DATA_DIR", data)
        .env("SOTTO_PASSPHRASE", passphrase)
        .env("SOTTO_MODELS_DIR", cache().join("models"))
        .env_remove("SOTTO_MODEL")
        .output()
        .unwrap()
}

/// Every file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

/// The MiniLM embedder's files (fp32 ONNX and tokenizer) made by `models/fetch-fixtures`.
pub fn minilm() -> sotto::notes::EmbedderFiles {
    let m = cache().join("models");
    let files = sotto::notes::EmbedderFiles {
        onnx: m.join("all-MiniLM-L6-v2.onnx"),
        tokenizer: m.join("all-MiniLM-L6-v2.tokenizer.json"),
    };
    assert!(files.onnx.exists(), "missing {} — run `make fixtures`", files.onnx.display());
    files
}

/// A typed-in note with `body`.
pub fn text_note(body: &str) -> sotto::store::NewNote {
    sotto::store::NewNote { body: body.into(), source: Some(sotto::store::Source::Text), ..Default::default() }
}
