//! Decoding real files, keeping what a cut file holds, and rejecting broken ones with typed errors.

mod common;

use common::*;
use sotto::audio::{AudioError, decode_file, decode_to_16k, load_file};

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
    // The header declares 11 s of samples; none follow it.
    let header = jfk.len() - 16_000 * 11 * 2;
    let no_data = write(dir.path(), "no_data.wav", &jfk[..header]);

    assert!(matches!(load_file(&short), Err(AudioError::Corrupt { .. })), "{:?}", load_file(&short));
    assert!(matches!(load_file(&no_data), Err(AudioError::Corrupt { .. })), "{:?}", load_file(&no_data));
    assert!(matches!(load_file(&garbage), Err(AudioError::Unsupported { .. } | AudioError::Corrupt { .. })));
    // A compressed file cut mid-stream keeps what was recorded (a recording killed mid-write).
    let partial = decode_file(&cut_mp3).unwrap();
    let secs = partial.samples.len() as f64 / partial.sample_rate as f64;
    assert!((4.5..6.5).contains(&secs), "{secs} s");
    assert!(partial.truncated, "the MP3 declares 11 s");
    // A third of a WAV: its first third, marked as cut.
    let third = decode_file(&lying).unwrap();
    assert!(third.truncated);
    assert_eq!(third.samples.len(), (jfk.len() / 3 - header) / 2);
}

#[test]
fn a_wav_cut_short_keeps_what_was_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let jfk = std::fs::read(fixture("jfk.wav")).unwrap();
    let whole = decode_file(&fixture("jfk.wav")).unwrap();
    assert!(!whole.truncated);
    // The header (with a LIST chunk), then 16-bit mono: cut after a whole sample, and inside one.
    let header = jfk.len() - whole.samples.len() * 2;
    let half = header + (jfk.len() - header) / 4 * 2;
    let samples = (half - header) / 2;
    for (name, bytes) in [("half.wav", half), ("mid_sample.wav", half + 1)] {
        let cut = write(dir.path(), name, &jfk[..bytes]);
        let d = decode_file(&cut).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(d.truncated, "{name}");
        assert_eq!((d.sample_rate, d.channels), (16_000, 1));
        assert_eq!(d.samples.len(), samples, "{name}: every whole sample there is");
        assert_eq!(d.samples[..], whole.samples[..samples], "{name}: the same audio as the whole file's start");
        // At 16 kHz mono the conversion for the models is the identity.
        assert_eq!(load_file(&cut).unwrap(), d.samples, "{name}");
    }
    // Stereo 44.1 kHz cut inside a frame (left sample there, right one missing): that frame goes.
    let stereo = std::fs::read(fixture("jfk_44k_stereo.wav")).unwrap();
    let whole = decode_file(&fixture("jfk_44k_stereo.wav")).unwrap();
    let data_start = stereo.len() - whole.samples.len() * 4;
    let frames = 100_000;
    let cut = write(dir.path(), "stereo.wav", &stereo[..data_start + frames * 4 + 2]);
    let d = decode_file(&cut).unwrap();
    assert!(d.truncated);
    assert_eq!(d.samples[..], whole.samples[..frames]);
}

#[test]
fn decoding_holds_one_piece_of_the_source_at_a_time() {
    for name in ["jfk.wav", "jfk_48k_stereo.mp3", "jfk_44k_stereo.wav", "jfk.ogg", "jfk.flac", "jfk.m4a"] {
        let whole = load_file(&fixture(name)).unwrap();
        let mut pieces = 0;
        let mut streamed = Vec::new();
        let info = decode_to_16k(&fixture(name), |piece| {
            pieces += 1;
            streamed.extend_from_slice(piece);
            Ok(())
        })
        .unwrap();
        // A packet (FLAC's largest here: 4,096 frames) or a WAV piece of 4,096 frames: well under
        // half a second of the file, however long it is.
        assert!(info.max_piece_frames as u32 <= info.sample_rate / 2, "{name}: {info:?}");
        assert!(pieces > 20, "{name}: the sink gets the audio as it is decoded ({pieces} pieces)");
        assert!(!info.truncated, "{name}");
        assert_eq!(streamed, whole, "{name}: load_file is the streamed pieces, joined");
        assert!((whole.len() as i64 - 176_000).abs() < 2_400, "{name}: {} samples at 16 kHz", whole.len());
    }
}

#[test]
fn a_chained_ogg_decodes_every_link() {
    // Two Ogg Vorbis streams back to back, as `cat` or a streaming recorder makes them: at the
    // second, symphonia asks for a reset (ResetRequired); before, decoding stopped there, silently.
    let dir = tempfile::tempdir().unwrap();
    let ogg = std::fs::read(fixture("jfk.ogg")).unwrap();
    let chained = write(dir.path(), "chained.ogg", &[&ogg[..], &ogg[..]].concat());
    let one = load_file(&fixture("jfk.ogg")).unwrap();
    let two = load_file(&chained).unwrap();
    assert!((two.len() as i64 - 2 * one.len() as i64).abs() < 1_600, "{} vs 2 x {}", two.len(), one.len());
    // The second link is the same speech again.
    let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>();
    let (a, b) = (&one[..], &two[two.len() - one.len()..]);
    let correlation = dot(a, b) / (dot(a, a) * dot(b, b)).sqrt();
    assert!(correlation > 0.95, "correlation {correlation}");
    assert!(!decode_file(&chained).unwrap().truncated);
}
