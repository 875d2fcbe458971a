//! Decoding real files and rejecting broken ones with typed errors.

mod common;

use common::*;
use sotto::audio::{AudioError, decode_file, load_file};

#[test]
fn real_files_decode_with_their_own_rate_and_channels() {
    for (name, rate, channels) in [
        ("jfk.wav", 16_000, 1),
        ("jfk_48k_stereo.mp3", 48_000, 2),
        ("jfk_44k_stereo.wav", 44_100, 2),
        ("jfk.ogg", 16_000, 1),
        ("jfk.flac", 16_000, 1),
        ("jfk.m4a", 16_000, 1),
    ] {
        let d = decode_file(&fixture(name)).unwrap();
        assert_eq!((d.sample_rate, d.channels), (rate, channels), "{name}");
        let secs = d.samples.len() as f64 / rate as f64;
        assert!((secs - 11.0).abs() < 0.15, "{name}: {secs} s");
        let peak = d.samples.iter().fold(0f32, |m, s| m.max(s.abs()));
        assert!(peak > 0.1 && peak <= 1.01, "{name}: peak {peak}");
    }
}

#[test]
fn resampled_copies_match_the_original_waveform() {
    let original = load_file(&fixture("jfk.wav")).unwrap();
    let from_44k = load_file(&fixture("jfk_44k_stereo.wav")).unwrap();
    let n = original.len().min(from_44k.len());
    // Band-limited resampling of a lossless copy: the waveforms coincide, with no time shift.
    // (Correlation, not difference: ffmpeg's mono→stereo up-mix lowered the level by 3 dB.)
    let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>();
    let (a, b) = (&original[..n], &from_44k[..n]);
    let correlation = dot(a, b) / (dot(a, a) * dot(b, b)).sqrt();
    // 0.997 measured: the two resamplers' group delays differ by a fraction of a sample.
    // A one-sample shift already drops it below 0.95.
    assert!(correlation > 0.99, "correlation {correlation}");
}

#[test]
fn broken_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let jfk = std::fs::read(fixture("jfk.wav")).unwrap();
    let short = write(dir.path(), "short.wav", &jfk[..20]);
    let lying = write(dir.path(), "lying.wav", &jfk[..jfk.len() / 3]);
    let mut state = 99u64;
    let random: Vec<u8> = (0..100_000)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect();
    let garbage = write(dir.path(), "garbage.mp3", &random);
    let mp3 = std::fs::read(fixture("jfk.mp3")).unwrap();
    let cut_mp3 = write(dir.path(), "cut.mp3", &mp3[..mp3.len() / 2]);

    assert!(matches!(load_file(&short), Err(AudioError::Corrupt { .. })), "{:?}", load_file(&short));
    assert!(matches!(load_file(&lying), Err(AudioError::Corrupt { .. })), "{:?}", load_file(&lying));
    assert!(matches!(load_file(&garbage), Err(AudioError::Unsupported { .. } | AudioError::Corrupt { .. })));
    // A compressed file cut mid-stream keeps what was recorded (a recording killed mid-write).
    let partial = decode_file(&cut_mp3).unwrap();
    let secs = partial.samples.len() as f64 / partial.sample_rate as f64;
    assert!((4.5..6.5).contains(&secs), "{secs} s");
}
