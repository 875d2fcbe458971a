//! The release binary on CPUs older than the build machine's, emulated by QEMU (Debian
//! `qemu-user`, installed by `models/fetch-fixtures`): `-cpu Haswell` (AVX2, no AVX-512) and
//! `-cpu Nehalem` (x86-64-v2, no AVX) transcribe JFK's first words correctly, each with the CPU
//! kernels ggml picked for it (docs/architecture.md, "Portable builds").
//!
//! They run `target/release/sotto` as built (`make test` builds it first; `$SOTTO_RELEASE_BIN`
//! names another), with the libraries next to it. QEMU's vector instructions are hundreds of
//! times slower than the CPU's: 3.3 s of audio with `--fast` (the encoder's window fitted to it)
//! takes 1.5 min as Haswell and 1.3 min as Nehalem here, run side by side with 2 threads each
//! (the whole 11 s clip did not finish in 10 min).
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use common::{fixture, jfk_reference, model_path};
use sotto::text::wer::normalize;

/// The release `sotto`, refused when older than the sources it is built from.
fn release_binary() -> PathBuf {
    let bin = std::env::var_os("SOTTO_RELEASE_BIN").map(PathBuf::from).unwrap_or_else(|| {
        // CARGO_BIN_EXE_sotto is <target>/<profile>/sotto.
        Path::new(env!("CARGO_BIN_EXE_sotto")).parent().unwrap().parent().unwrap().join("release/sotto")
    });
    let built = std::fs::metadata(&bin).and_then(|m| m.modified()).unwrap_or_else(|_| {
        panic!("no release binary at {}: `cargo build --release --bin sotto` (make test does)", bin.display())
    });
    if std::env::var_os("SOTTO_RELEASE_BIN").is_none() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let newest =
            ["src", "crates/whisper-rs-sys/build.rs", "crates/whisper-rs-sys/sotto", "Cargo.toml", "Cargo.lock"]
                .iter()
                .flat_map(|p| files(&root.join(p)))
                .filter_map(|p| std::fs::metadata(&p).and_then(|m| m.modified()).ok().map(|t| (t, p)))
                .max();
        if let Some((changed, path)) = newest {
            assert!(
                changed <= built,
                "{} is older than {}: `cargo build --release --bin sotto` (make test does)",
                bin.display(),
                path.display()
            );
        }
    }
    bin
}

fn files(path: &Path) -> Vec<PathBuf> {
    if path.is_dir() { common::walk(path) } else { vec![path.to_path_buf()] }
}

/// JFK's first 3.3 s ("And so my fellow Americans") as a WAV file in `dir`.
fn jfk_opening(dir: &Path) -> PathBuf {
    let mut reader = hound::WavReader::open(fixture("jfk.wav")).unwrap();
    let spec = reader.spec();
    let keep = (spec.sample_rate as f64 * 3.3) as usize * spec.channels as usize;
    let path = dir.join("jfk-opening.wav");
    let mut writer = hound::WavWriter::create(&path, spec).unwrap();
    for sample in reader.samples::<i16>().take(keep) {
        writer.write_sample(sample.unwrap()).unwrap();
    }
    writer.finalize().unwrap();
    path
}

/// JFK's opening words, normalised.
fn opening_words() -> Vec<String> {
    normalize(&jfk_reference())[..5].to_vec()
}

/// Transcribe JFK's opening as `cpu` would, with tiny.en f16, `--fast`, on two threads; the
/// transcript and the features of the CPU kernels ggml loaded.
fn transcribe_as(cpu: &str) -> (String, Vec<String>) {
    let bin = release_binary();
    let dir = tempfile::tempdir().unwrap();
    let started = SystemTime::now();
    let out = Command::new("qemu-x86_64")
        .args(["-cpu", cpu])
        .arg(&bin)
        .arg("transcribe")
        .arg(jfk_opening(dir.path()))
        .arg("--model")
        .arg(model_path())
        .args(["--threads", "2", "--fast", "--format", "json"])
        .env("SOTTO_LOG", "warn,sotto::asr=debug")
        .output()
        .expect("qemu-x86_64 runs (Debian qemu-user; `make fixtures` installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "sotto under qemu-x86_64 -cpu {cpu} failed ({}): {stderr}", out.status);
    eprintln!("-cpu {cpu}: {:.0} s", started.elapsed().unwrap().as_secs_f64());

    let segments: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON array");
    let text = segments.iter().map(|s| s["text"].as_str().unwrap()).collect::<Vec<_>>().join(" ");
    // "whisper.cpp CPU kernels from DIR: SSE3 SSSE3 AVX ..."
    let line = stderr.lines().find(|l| l.contains("whisper.cpp CPU kernels from")).expect("the kernels are logged");
    let (from, features) = line.split_once(" from ").unwrap().1.rsplit_once(": ").unwrap();
    assert_eq!(Path::new(from), bin.parent().unwrap(), "the modules next to the binary are loaded");
    (text, features.split_whitespace().map(String::from).collect())
}

#[test]
fn haswell_runs_the_avx2_kernels() {
    let (text, features) = transcribe_as("Haswell");
    assert_eq!(normalize(&text), opening_words(), "{text}");
    for f in ["AVX", "AVX2", "FMA", "F16C"] {
        assert!(features.iter().any(|x| x == f), "{f} missing from {features:?}");
    }
    assert!(!features.iter().any(|x| x.starts_with("AVX512")), "{features:?}");
}

#[test]
fn nehalem_runs_the_sse_kernels() {
    let (text, features) = transcribe_as("Nehalem");
    assert_eq!(normalize(&text), opening_words(), "{text}");
    assert!(features.iter().any(|x| x == "SSSE3"), "{features:?}");
    assert!(!features.iter().any(|x| x.starts_with("AVX") || x == "F16C" || x == "FMA"), "{features:?}");
}
