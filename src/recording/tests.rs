//! The format's promises, with tiny chunks so every edge is cheap to reach.

use zeroize::Zeroizing;

use super::format::{HEADER_LEN, TAG_LEN};
use super::*;
use crate::vault::Key;

const RATE: u32 = 1000;
const CHUNK: u32 = 10;

fn key() -> Key {
    Zeroizing::new([7; 32])
}

/// i16 values as f32 that convert back exactly.
fn ramp(n: usize) -> Vec<f32> {
    (0..n).map(|i| to_f32((i as i16).wrapping_mul(97))).collect()
}

fn write(dir: &std::path::Path, samples: &[f32], finish: bool) -> std::path::PathBuf {
    let mut w = RecordingWriter::create_with_chunk(dir, &key(), RATE, CHUNK).unwrap();
    let path = dir.join(w.file_name());
    // Uneven pieces: chunking must not depend on how the caller slices its audio.
    for piece in samples.chunks(7) {
        w.append(piece).unwrap();
    }
    if finish {
        let done = w.finish().unwrap();
        assert_eq!(done.duration_ms, samples.len() as u64 * 1000 / RATE as u64);
    }
    path
}

#[test]
fn round_trip_and_exact_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let samples = ramp(95);
    let path = write(dir.path(), &samples, true);
    let rec = Recording::open(&path, &key()).unwrap();
    assert!(rec.is_finished());
    assert_eq!(rec.samples(), 95);
    assert_eq!(rec.pcm(0, u64::MAX).unwrap(), samples);
    // 1 ms = 1 sample at this rate; ranges across chunk edges.
    for (a, b) in [(0, 1), (9, 11), (10, 20), (13, 94), (90, 95), (94, 200), (95, 95), (300, 400)] {
        let want = &samples[(a as usize).min(95)..(b as usize).min(95)];
        assert_eq!(rec.pcm(a, b).unwrap(), want, "{a}..{b}");
    }
    assert!(matches!(rec.pcm(5, 4), Err(RecordingError::Range { .. })));
    let wav = rec.wav(10, 20).unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(wav.len(), 44 + 20);
    rec.verify().unwrap();
    // A multiple of the chunk size still ends with a (then empty) final chunk.
    let path = write(dir.path(), &ramp(30), true);
    let rec = Recording::open(&path, &key()).unwrap();
    assert!(rec.is_finished());
    assert_eq!(rec.pcm(0, u64::MAX).unwrap(), ramp(30));
}

#[test]
fn an_unfinished_file_reads_to_its_last_whole_chunk_at_any_cut() {
    let dir = tempfile::tempdir().unwrap();
    let samples = ramp(57);
    let path = write(dir.path(), &samples, true);
    let bytes = std::fs::read(&path).unwrap();
    let full = CHUNK as usize * 2 + TAG_LEN;
    // Every cut from the header's end on: what remains is its whole chunks, never an error.
    for cut in HEADER_LEN..bytes.len() {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let rec = Recording::open(&path, &key()).unwrap();
        let whole = (cut - HEADER_LEN) / full;
        assert!(!rec.is_finished(), "cut at {cut}");
        assert_eq!(rec.samples(), (whole * CHUNK as usize) as u64, "cut at {cut}");
        assert_eq!(rec.pcm(0, u64::MAX).unwrap(), samples[..whole * CHUNK as usize], "cut at {cut}");
    }
    // A dropped writer leaves the same: whole chunks, unfinished; the buffered rest is lost.
    let path = write(dir.path(), &samples, false);
    let rec = Recording::open(&path, &key()).unwrap();
    assert!(!rec.is_finished());
    assert_eq!(rec.pcm(0, u64::MAX).unwrap(), samples[..50]);
    // Sealing it makes it a finished recording of those chunks.
    let locked = try_lock(&path).unwrap().expect("no writer holds it");
    let sealed = seal_unfinished(&path, &key()).unwrap();
    drop(locked);
    assert!(sealed.is_finished());
    assert_eq!(sealed.pcm(0, u64::MAX).unwrap(), samples[..50]);
}

#[test]
fn altered_reordered_or_dropped_chunks_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let samples = ramp(45);
    let path = write(dir.path(), &samples, true);
    let bytes = std::fs::read(&path).unwrap();
    let full = CHUNK as usize * 2 + TAG_LEN;
    let chunk = |i: usize| HEADER_LEN + i * full..HEADER_LEN + (i + 1) * full;

    let mut flipped = bytes.clone();
    flipped[chunk(2).start + 3] ^= 0x40;
    std::fs::write(&path, &flipped).unwrap();
    let rec = Recording::open(&path, &key()).unwrap();
    assert_eq!(rec.pcm(0, 20).unwrap(), samples[..20], "chunks before it still read");
    assert!(matches!(rec.pcm(15, 25), Err(RecordingError::Tampered { chunk: 2, .. })));
    assert!(matches!(rec.verify(), Err(RecordingError::Tampered { chunk: 2, .. })));

    let mut swapped = bytes.clone();
    swapped[chunk(1)].copy_from_slice(&bytes[chunk(2)]);
    swapped[chunk(2)].copy_from_slice(&bytes[chunk(1)]);
    std::fs::write(&path, &swapped).unwrap();
    assert!(matches!(Recording::open(&path, &key()).unwrap().verify(), Err(RecordingError::Tampered { chunk: 1, .. })));

    let mut dropped = bytes[..chunk(1).start].to_vec();
    dropped.extend_from_slice(&bytes[chunk(2).start..]);
    std::fs::write(&path, &dropped).unwrap();
    assert!(matches!(Recording::open(&path, &key()).unwrap().verify(), Err(RecordingError::Tampered { chunk: 1, .. })));

    // Cutting at a chunk edge drops the final chunk: no longer finished (the note's saved
    // length then tells a cut from a crash).
    std::fs::write(&path, &bytes[..chunk(3).start]).unwrap();
    assert!(!Recording::open(&path, &key()).unwrap().is_finished());

    let mut header = bytes.clone();
    header[16] ^= 1; // the chunk size
    std::fs::write(&path, &header).unwrap();
    assert!(matches!(Recording::open(&path, &key()), Err(RecordingError::WrongKey { .. })));
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(Recording::open(&path, &Zeroizing::new([8; 32])), Err(RecordingError::WrongKey { .. })));
    std::fs::write(&path, b"RIFF....WAVE").unwrap();
    assert!(matches!(Recording::open(&path, &key()), Err(RecordingError::NotARecording { .. })));
}

#[test]
fn writers_lock_their_files_and_names_are_random_hex() {
    let dir = tempfile::tempdir().unwrap();
    let w = RecordingWriter::create(dir.path(), &key(), 16_000).unwrap();
    let other = RecordingWriter::create(dir.path(), &key(), 16_000).unwrap();
    assert_ne!(w.file_name(), other.file_name());
    assert!(is_journal_name(w.file_name()));
    assert_eq!(journal_names(dir.path()).unwrap().len(), 2, "no temporary names left");
    let path = dir.path().join(w.file_name());
    assert!(try_lock(&path).unwrap().is_none(), "held by its writer");
    let done = w.finish().unwrap();
    assert!(try_lock(&path).unwrap().is_none(), "held until a note has it");
    drop(done);
    assert!(try_lock(&path).unwrap().is_some());
    assert!(matches!(RecordingWriter::create(dir.path(), &key(), 0), Err(RecordingError::SampleRate(0))));
    assert!(journal_names(&dir.path().join("missing")).unwrap().is_empty());
}

#[test]
fn writers_and_recordings_move_between_threads() {
    fn send<T: Send>() {}
    fn sync<T: Send + Sync>() {}
    send::<RecordingWriter>();
    send::<FinishedRecording>();
    sync::<Recording>();
}
