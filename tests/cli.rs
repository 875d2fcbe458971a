//! The `sotto` binary end to end: real model, real files, exit codes and output formats.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use sotto::text::wer::normalize;

fn sotto(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sotto"))
        .args(args)
        .env("SOTTO_MODEL", model_path())
        .env_remove("SOTTO_LOG")
        .output()
        .expect("run sotto")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn transcribes_jfk_to_json() {
    let out = sotto(&["transcribe", s(&fixture("jfk.wav")), "--format", "json", "--threads", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let segments: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON array");
    assert!(!segments.is_empty());
    let text: Vec<&str> = segments.iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert_eq!(normalize(&text.join(" ")), normalize(&jfk_reference()));
    let starts: Vec<u64> = segments.iter().map(|s| s["start_ms"].as_u64().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
    assert!(segments.iter().all(|s| s["end_ms"].as_u64().unwrap() > s["start_ms"].as_u64().unwrap()));
    assert!(
        out.stderr.is_empty(),
        "no progress or logs when stderr is not a terminal: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn subtitles_and_several_files() {
    let jfk = fixture("jfk.wav");
    let out = sotto(&["transcribe", s(&jfk), "--format", "srt", "--threads", "1"]);
    let srt = String::from_utf8(out.stdout).unwrap();
    assert!(srt.starts_with("1\n00:00:00,000 --> 00:00:0"), "{srt}");
    assert!(srt.contains("\n2\n00:00:"), "{srt}");

    let ogg = fixture("jfk.ogg");
    let out = sotto(&["transcribe", s(&jfk), s(&ogg), "--format", "vtt", "--threads", "1", "--stream"]);
    assert!(out.status.success());
    let vtt = String::from_utf8(out.stdout).unwrap();
    assert_eq!(vtt.matches("WEBVTT").count(), 2, "{vtt}");
    assert!(vtt.contains(&format!("==> {} <==", ogg.display())));
}

#[test]
fn one_bad_file_fails_the_run_but_not_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "noise.mp3", &random_bytes(40_000, 3));
    let out = sotto(&["transcribe", s(&bad), s(&fixture("jfk.wav")), "--format", "json", "--threads", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items.len(), 1, "only the good file has a transcript");
    assert!(items[0]["file"].as_str().unwrap().ends_with("jfk.wav"));
}

/// A canonical 44-byte PCM s16 mono WAV header declaring `data_bytes` of samples.
fn wav_header(rate: u32, data_bytes: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(44);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(36 + data_bytes).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes()); // PCM
    h.extend_from_slice(&1u16.to_le_bytes()); // mono
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&(rate * 2).to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&16u16.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_bytes.to_le_bytes());
    h
}

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect()
}

/// Runs sotto and checks: exit code 1, one line on stderr naming the problem, no panic.
fn assert_clean_failure(args: &[&str], expect: &str) {
    let out = sotto(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("sotto: error: "), "{stderr}");
    assert!(stderr.contains(expect), "{args:?}: expected {expect:?} in {stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_audio_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let jfk = std::fs::read(fixture("jfk.wav")).unwrap();
    let empty = write(dir.path(), "empty.wav", b"");
    let short_header = write(dir.path(), "short.wav", &jfk[..20]);
    // The header still declares 11 s of samples; not one follows it.
    let lying = write(dir.path(), "lying.wav", &jfk[..jfk.len() - 16_000 * 11 * 2]);
    let garbage = write(dir.path(), "garbage.mp3", &random_bytes(65_536, 7));
    let zero = write(dir.path(), "zero.wav", &wav_header(16_000, 0));
    let missing = dir.path().join("missing.wav");

    assert_clean_failure(&["transcribe", s(&empty)], "file is empty");
    assert_clean_failure(&["transcribe", s(&short_header)], "header is cut short");
    assert_clean_failure(&["transcribe", s(&lying)], "file ends before them");
    assert_clean_failure(&["transcribe", s(&garbage)], "not a supported audio file");
    assert_clean_failure(&["transcribe", s(&zero)], "no audio samples");
    assert_clean_failure(&["transcribe", s(&missing)], "No such file");
}

#[test]
fn a_wav_cut_short_is_transcribed_as_far_as_it_goes() {
    // A recorder killed mid-file: the header declares 11 s, the data stops after about 4.5 s
    // ("And so my fellow Americans, ask not").
    let dir = tempfile::tempdir().unwrap();
    let jfk = std::fs::read(fixture("jfk.wav")).unwrap();
    let cut = write(dir.path(), "cut.wav", &jfk[..jfk.len() * 4 / 10]);
    let out = sotto(&["transcribe", s(&cut), "--threads", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let text = normalize(&String::from_utf8_lossy(&out.stdout)).join(" ");
    assert!(text.starts_with("and so my fellow americans"), "{text}");
    assert!(!text.contains("your country"), "only what the file holds: {text}");
    // The user is told, once, that the file is cut short.
    assert!(stderr.contains("decoded what is there") && stderr.contains("cut.wav"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn bad_models_are_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let model = std::fs::read(model_path()).unwrap();
    let half = write(dir.path(), "half.bin", &model[..model.len() / 2]);
    let text = write(dir.path(), "model.txt", b"not a model\n");
    let jfk = fixture("jfk.wav");
    assert_clean_failure(&["transcribe", s(&jfk), "--model", s(&half)], "truncated");
    assert_clean_failure(&["transcribe", s(&jfk), "--model", s(&text)], "not a whisper.cpp ggml model");
    assert_clean_failure(&["transcribe", s(&jfk), "--model", s(&dir.path().join("none.bin"))], "cannot read");
    assert_clean_failure(&["transcribe", s(&jfk), "--language", "de"], "English-only model");
}

#[test]
fn default_model_is_found_in_the_models_dir() {
    let out = Command::new(env!("CARGO_BIN_EXE_sotto"))
        .args(["transcribe", s(&fixture("jfk.wav")), "--threads", "1", "--fast"])
        .env_remove("SOTTO_MODEL")
        .env("SOTTO_MODELS_DIR", model_path().parent().unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(normalize(&String::from_utf8_lossy(&out.stdout)), normalize(&jfk_reference()));

    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sotto"))
        .args(["transcribe", s(&fixture("jfk.wav"))])
        .env_remove("SOTTO_MODEL")
        .env("SOTTO_MODELS_DIR", empty.path())
        .env("SOTTO_CACHE", empty.path())
        .env("XDG_DATA_HOME", empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("default model is missing"));
}

#[test]
fn help_and_version() {
    let out = sotto(&["--version"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), format!("sotto {}", env!("CARGO_PKG_VERSION")));
    let help = String::from_utf8(sotto(&["transcribe", "--help"]).stdout).unwrap();
    for flag in [
        "--model",
        "--format",
        "--threads",
        "--language",
        "--prompt",
        "--stream",
        "- srt:",
        "- json:",
        "[env: SOTTO_MODEL=",
    ] {
        assert!(help.contains(flag), "transcribe --help lacks {flag}");
    }
    let usage = sotto(&["transcribe"]);
    assert_eq!(usage.status.code(), Some(2), "usage errors exit 2");
}
