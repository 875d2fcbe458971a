//! Recordings kept encrypted and crash-safe, end to end: real speech, real files, the real data
//! key and Whisper model, a real `kill -9`, the CLI.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use sotto::asr::{Job, TranscribeOptions};
use sotto::audio::{self, load_file, ms_to_samples};
use sotto::notes::{Library, NotesError};
use sotto::recording::{RECORDINGS_DIR, Recording, RecordingError, RecordingWriter, journal_names, to_f32, to_i16};
use sotto::store::{DB_FILE, Source, Store};
use sotto::text::wer::normalize;
use sotto::vault;

const PASS: &str = "correct horse battery staple";

fn opts() -> TranscribeOptions {
    TranscribeOptions { threads: 1, ..TranscribeOptions::default() }
}

/// The first LibriVox clips joined until `secs` of real speech, with their reference text.
fn speech(secs: f32) -> (Vec<f32>, String) {
    let (mut pcm, mut text) = (Vec::new(), String::new());
    for (path, reference) in librivox() {
        if pcm.len() as f32 >= secs * 16_000.0 {
            break;
        }
        pcm.extend(load_file(&path).unwrap());
        text.push_str(&reference);
        text.push(' ');
    }
    assert!(pcm.len() as f32 >= secs * 16_000.0);
    (pcm, text)
}

/// Most of the reference's longer words are in the transcript.
fn assert_heard(transcript: &str, reference: &str) {
    let heard = normalize(transcript);
    let words: Vec<String> = normalize(reference).into_iter().filter(|w| w.len() > 3).collect();
    let found = words.iter().filter(|w| heard.contains(w)).count();
    assert!(found * 10 >= words.len() * 7, "{found}/{} words of {reference:?} in {transcript:?}", words.len());
}

fn rounded(pcm: &[f32]) -> Vec<f32> {
    pcm.iter().map(|&x| to_f32(to_i16(x))).collect()
}

fn journals(dir: &Path) -> Vec<String> {
    journal_names(&dir.join(RECORDINGS_DIR)).unwrap()
}

#[test]
fn ten_seconds_of_speech_read_back_sample_for_sample_with_exact_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(dir.path(), PASS, None).unwrap();
    let (pcm, _) = speech(10.0);
    let mut writer = lib.start_recording().unwrap();
    // Capture-sized pieces of uneven length.
    let mut at = 0;
    for n in [160, 480, 1024, 333, 4096, 16_000].iter().cycle() {
        let end = (at + n).min(pcm.len());
        writer.append(&pcm[at..end]).unwrap();
        at = end;
        if at == pcm.len() {
            break;
        }
    }
    let name = writer.file_name().to_string();
    let done = writer.finish().unwrap();
    assert_eq!(done.file, name);
    assert_eq!(done.duration_ms, audio::samples_to_ms(pcm.len()));
    assert_eq!(done.sample_rate, 16_000);

    let key = vault::unlock(dir.path(), PASS).unwrap();
    let rec = Recording::open(&dir.path().join(RECORDINGS_DIR).join(&name), &key).unwrap();
    assert!(rec.is_finished());
    assert_eq!(rec.samples(), pcm.len() as u64);
    let back = rec.pcm(0, u64::MAX).unwrap();
    assert_eq!(back, rounded(&pcm), "every sample, to i16 precision");
    assert!(back.iter().zip(&pcm).all(|(a, b)| (a - b).abs() <= 0.5 / 32768.0 + 1e-7));
    for (a, b) in [(0, 10), (250, 1250), (499, 501), (1234, 5678), (9_000, 10_000), (0, rec.duration_ms())] {
        let got = rec.pcm(a, b).unwrap();
        assert_eq!(got.len(), ms_to_samples(b) - ms_to_samples(a), "{a}..{b} ms");
        assert_eq!(got, back[ms_to_samples(a)..ms_to_samples(b)]);
    }
    assert_eq!(rec.pcm(9_900, 60_000).unwrap(), back[ms_to_samples(9_900)..], "clamped to the end");
    assert!(matches!(rec.pcm(2_000, 1_000), Err(RecordingError::Range { .. })));
    // The WAV for playback holds the same samples.
    let wav = rec.wav(1_000, 3_000).unwrap();
    let mut reader = hound::WavReader::new(std::io::Cursor::new(wav)).unwrap();
    assert_eq!((reader.spec().sample_rate, reader.spec().channels), (16_000, 1));
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    assert_eq!(samples, back[16_000..48_000].iter().map(|&x| to_i16(x)).collect::<Vec<_>>());

    // Saved as a note, the same audio plays through the library.
    let id = lib.add_recording(done, Vec::new(), Source::Dictation).unwrap();
    assert_eq!(lib.get(id).unwrap().body, "", "an empty transcript still keeps the audio");
    assert_eq!(lib.recording_pcm(id, 1234, 5678).unwrap(), back[ms_to_samples(1234)..ms_to_samples(5678)]);
    assert_eq!(lib.recording(id).unwrap().unwrap().path, format!("{RECORDINGS_DIR}/{name}"));
    assert!(lib.interrupted().unwrap().is_empty());
}

#[test]
fn no_file_in_the_data_dir_holds_plaintext_audio() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(dir.path(), PASS, None).unwrap();
    // A distinctive ramp: as i16 it is 3001, 3002, ... (each f32 converts back exactly).
    let ramp: Vec<f32> = (0..48_000).map(|i| to_f32(3001 + (i % 20_000) as i16)).collect();
    let (speech, _) = speech(3.0);
    let mut writer = lib.start_recording().unwrap();
    writer.append(&ramp).unwrap();
    writer.append(&speech).unwrap();
    let done = writer.finish().unwrap();
    lib.add_recording(done, Vec::new(), Source::Dictation).unwrap();
    // One left unfinished too, and an imported file.
    let mut open = lib.start_recording().unwrap();
    open.append(&ramp).unwrap();
    lib.add_audio_file(&fixture("jfk.wav"), transcriber(), &opts(), &Job::default()).unwrap();
    drop(open);

    let ramp_bytes: Vec<u8> = (3001i16..3017).flat_map(i16::to_le_bytes).collect();
    let speech_bytes: Vec<u8> = speech[8000..8016].iter().flat_map(|&x| to_i16(x).to_le_bytes()).collect();
    let jfk = std::fs::read(fixture("jfk.wav")).unwrap();
    let jfk_bytes = &jfk[20_000..20_032];
    let files = walk(dir.path());
    assert!(files.iter().filter(|p| p.starts_with(dir.path().join(RECORDINGS_DIR))).count() >= 3);
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        for needle in [b"RIFF".as_slice(), b"WAVE", &ramp_bytes, &speech_bytes, jfk_bytes] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds plaintext audio ({:?}…)",
                file.display(),
                &needle[..4]
            );
        }
    }
}

#[test]
fn dropped_and_torn_journals_are_listed_then_recovered_as_notes() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(dir.path(), PASS, None).unwrap();
    let key = vault::unlock(dir.path(), PASS).unwrap();
    let (pcm, reference) = speech(10.0);
    // A writer dropped without finish (the app crashed), and one whose file ends mid-chunk (the
    // process died in the middle of a write).
    let mut dropped = lib.start_recording().unwrap();
    dropped.append(&pcm).unwrap();
    let dropped_name = dropped.file_name().to_string();
    drop(dropped);
    let mut torn = lib.start_recording().unwrap();
    torn.append(&pcm).unwrap();
    let torn_name = torn.file_name().to_string();
    drop(torn);
    let torn_path = dir.path().join(RECORDINGS_DIR).join(&torn_name);
    let len = std::fs::metadata(&torn_path).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&torn_path).unwrap().set_len(len - 5_000).unwrap();
    // A live writer is no interrupted recording.
    let mut live = lib.start_recording().unwrap();
    live.append(&pcm[..20_000]).unwrap();

    for (name, whole_chunks) in [(&dropped_name, pcm.len() / 8000), (&torn_name, pcm.len() / 8000 - 1)] {
        let rec = Recording::open(&dir.path().join(RECORDINGS_DIR).join(name), &key).unwrap();
        assert!(!rec.is_finished());
        assert_eq!(rec.samples(), (whole_chunks * 8000) as u64, "{name}");
        assert_eq!(rec.pcm(0, u64::MAX).unwrap(), rounded(&pcm[..whole_chunks * 8000]));
    }
    let mut listed = lib.interrupted().unwrap();
    listed.sort_by(|a, b| a.file.cmp(&b.file));
    let mut want = vec![dropped_name.clone(), torn_name.clone()];
    want.sort();
    assert_eq!(listed.iter().map(|i| i.file.clone()).collect::<Vec<_>>(), want);
    assert!(listed.iter().all(|i| !i.finished && i.error.is_none() && i.duration_ms >= 9_000), "{listed:?}");

    let ids = lib.recover_interrupted(transcriber(), &opts()).unwrap();
    assert_eq!(ids.len(), 2);
    for id in ids {
        let note = lib.get(id).unwrap();
        assert_eq!(note.source, Source::Dictation);
        assert_heard(&note.body, &reference);
        let audio = lib.recording_pcm(id, 0, u64::MAX).unwrap();
        assert!(audio.len() >= pcm.len() - 16_000, "{} samples kept", audio.len());
        assert_eq!(audio, rounded(&pcm[..audio.len()]));
    }
    assert!(lib.interrupted().unwrap().is_empty());
    assert_eq!(lib.recover_interrupted(transcriber(), &opts()).unwrap(), Vec::<i64>::new(), "each only once");
    let done = live.finish().unwrap();
    assert_eq!(done.duration_ms, 1250);
}

#[test]
fn tampered_or_cut_recordings_and_wrong_keys_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(dir.path(), PASS, None).unwrap();
    let (pcm, _) = speech(4.0);
    // An interrupted journal with an altered middle chunk: reported, kept, never recovered.
    let mut w = lib.start_recording().unwrap();
    w.append(&pcm).unwrap();
    let bad = dir.path().join(RECORDINGS_DIR).join(w.file_name());
    drop(w);
    let mut bytes = std::fs::read(&bad).unwrap();
    let middle = 56 + 2 * 16_016 + 100;
    bytes[middle] ^= 0x01;
    std::fs::write(&bad, &bytes).unwrap();
    let listed = lib.interrupted().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(matches!(listed[0].error, Some(RecordingError::Tampered { chunk: 2, .. })), "{listed:?}");
    assert!(lib.recover_interrupted(transcriber(), &opts()).unwrap().is_empty());
    assert!(bad.exists(), "an unreadable journal is kept");
    assert_eq!(lib.interrupted().unwrap().len(), 1, "and still reported");
    let key = vault::unlock(dir.path(), PASS).unwrap();
    let rec = Recording::open(&bad, &key).unwrap();
    assert_eq!(rec.pcm(0, 1000).unwrap().len(), 16_000, "what precedes it still plays");
    assert!(matches!(rec.pcm(500, 1500), Err(RecordingError::Tampered { chunk: 2, .. })));

    // A wrong key opens nothing.
    let other = vault::unlock(tempfile::tempdir().unwrap().path(), PASS).unwrap();
    assert!(matches!(Recording::open(&bad, &other), Err(RecordingError::WrongKey { .. })));

    // A note's finished recording, altered or cut.
    let id = lib.add_samples(&pcm, transcriber(), &opts(), &Job::default()).unwrap();
    let stored = lib.recording(id).unwrap().unwrap();
    let path = dir.path().join(&stored.path);
    let good = std::fs::read(&path).unwrap();
    let mut altered = good.clone();
    altered[56 + 16_016 + 7] ^= 0x80;
    std::fs::write(&path, &altered).unwrap();
    assert!(matches!(
        lib.recording_pcm(id, 0, u64::MAX),
        Err(NotesError::Recording(RecordingError::Tampered { chunk: 1, .. }))
    ));
    assert!(lib.recording_pcm(id, 0, 400).is_ok(), "chunk 0 is intact");
    std::fs::write(&path, &good[..good.len() - 16_016 - 10]).unwrap();
    match lib.recording_wav(id, 0, u64::MAX) {
        Err(NotesError::Recording(RecordingError::Truncated { expected_ms, found_ms, .. })) => {
            assert_eq!(expected_ms, stored.duration_ms);
            assert!(found_ms < expected_ms);
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
    // A note without audio says so.
    let text = lib.add(&sotto::store::NewNote { body: "typed".into(), ..Default::default() }).unwrap();
    assert!(matches!(lib.recording_pcm(text, 0, 10), Err(NotesError::NoRecording(n)) if n == text));
}

#[test]
fn an_imported_file_keeps_its_audio_after_the_original_is_gone_and_delete_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let original = outside.path().join("memo.flac");
    std::fs::copy(fixture("jfk.flac"), &original).unwrap();
    let lib = Library::open(dir.path(), PASS, None).unwrap();
    let id = lib.add_audio_file(&original, transcriber(), &opts(), &Job::default()).unwrap();
    std::fs::remove_file(&original).unwrap();

    let note = lib.get(id).unwrap();
    assert_eq!(note.source, Source::Audio);
    assert_eq!(normalize(&note.body), normalize(&jfk_reference()));
    assert!(note.segments.len() >= 2);
    let want = rounded(&load_file(&fixture("jfk.flac")).unwrap());
    assert_eq!(lib.recording_pcm(id, 0, u64::MAX).unwrap(), want);
    let stored = lib.recording(id).unwrap().unwrap();
    assert_eq!(stored.duration_ms, audio::samples_to_ms(want.len()));
    assert!(!stored.path.contains("memo"), "no user text in the stored name: {}", stored.path);
    let wav = lib.recording_wav(id, 2_000, 4_000).unwrap();
    assert_eq!(wav.len(), 44 + 2 * 32_000);

    assert_eq!(journals(dir.path()).len(), 1);
    lib.delete(id).unwrap();
    assert!(journals(dir.path()).is_empty(), "the recording went with the note");
    assert!(walk(&dir.path().join(RECORDINGS_DIR)).is_empty(), "nothing set aside is left");
    assert!(matches!(lib.recording_pcm(id, 0, 10), Err(NotesError::Store(_))));
    // A cancelled import leaves nothing behind.
    let job = Job::default();
    job.cancel.cancel();
    assert!(lib.add_audio_file(&fixture("jfk.wav"), transcriber(), &opts(), &job).is_err());
    assert!(walk(&dir.path().join(RECORDINGS_DIR)).is_empty());
    assert!(lib.list().unwrap().is_empty());
}

#[test]
fn notes_saved_before_sotto_kept_audio_still_load_and_play() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let user_file = outside.path().join("old memo.wav");
    std::fs::copy(fixture("jfk.wav"), &user_file).unwrap();
    {
        let key = vault::unlock(dir.path(), PASS).unwrap();
        let store = Store::open(&dir.path().join(DB_FILE), &key).unwrap();
        store
            .connection()
            .execute_batch(&format!(
                "INSERT INTO notes (created_at, updated_at, title, body, source) VALUES (1, 1, 'old', 'ask not', 'audio');
                 INSERT INTO recordings (note_id, path, duration_ms, sample_rate) VALUES (1, '{}', 11000, 16000);",
                user_file.display()
            ))
            .unwrap();
    }
    let lib = Library::open(dir.path(), PASS, None).unwrap();
    assert_eq!(lib.get(1).unwrap().body, "ask not");
    assert_eq!(lib.recording(1).unwrap().unwrap().path, user_file.display().to_string());
    assert_eq!(lib.recording_pcm(1, 0, 1_000).unwrap().len(), 16_000, "played from the user's file");
    assert!(lib.interrupted().unwrap().is_empty());
    lib.delete(1).unwrap();
    assert!(user_file.exists(), "deleting the note never deletes the user's own file");
}

#[test]
fn a_full_disk_is_a_typed_error_and_what_was_written_stays_readable() {
    let disk = SmallDisk::mount("128k");
    let key = vault::unlock(tempfile::tempdir().unwrap().path(), PASS).unwrap();
    let (pcm, _) = speech(10.0);
    let mut w = RecordingWriter::create(disk.path(), &key, 16_000).unwrap();
    let path = disk.path().join(w.file_name());
    let mut fed = 0;
    let err = loop {
        let end = (fed + 16_000).min(pcm.len());
        assert!(fed < end, "128 KiB hold less than 10 s");
        if let Err(e) = w.append(&pcm[fed..end]) {
            break e;
        }
        fed = end;
    };
    assert!(matches!(err, RecordingError::DiskFull { .. }), "{err:?}");
    assert!(matches!(w.append(&pcm[..100]), Err(RecordingError::DiskFull { .. })), "still full");
    drop(w);
    let rec = Recording::open(&path, &key).unwrap();
    assert!(!rec.is_finished());
    assert!(rec.samples() >= 3 * 16_000, "{} samples kept", rec.samples());
    assert_eq!(rec.torn_bytes(), 0, "cut back to the last whole chunk");
    assert_eq!(rec.pcm(0, u64::MAX).unwrap(), rounded(&pcm[..rec.samples() as usize]));
}

const CHILD_ENV: &str = "SOTTO_TEST_RECORD_INTO";

/// Not a test of its own: the body of the child that `kill_9_while_recording` kills.
#[test]
fn kill_9_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    let lib = Library::open(Path::new(&dir), PASS, None).unwrap();
    let mut writer = lib.start_recording().unwrap();
    let (pcm, _) = speech(12.0);
    println!("RECORDING");
    let start = Instant::now();
    // 100 ms of audio every 100 ms, as a microphone delivers it.
    for (i, block) in pcm.chunks(1600).enumerate() {
        writer.append(block).unwrap();
        let due = Duration::from_millis(100 * (i as u64 + 1));
        std::thread::sleep(due.saturating_sub(start.elapsed()));
    }
    // Never finished: the parent kills us before the audio runs out.
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn kill_9_while_recording_loses_at_most_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "kill_9_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.unwrap().contains("RECORDING")), "the child started recording");
    std::thread::sleep(Duration::from_millis(10_200));
    child.kill().unwrap(); // SIGKILL: no destructor, no flush
    child.wait().unwrap();

    let lib = Library::open(dir.path(), PASS, None).unwrap();
    let listed = lib.interrupted().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(!listed[0].finished);
    assert!(listed[0].duration_ms >= 9_000, "{} ms survived", listed[0].duration_ms);
    let ids = lib.recover_interrupted(transcriber(), &opts()).unwrap();
    assert_eq!(ids.len(), 1);
    let note = lib.get(ids[0]).unwrap();
    assert_eq!(note.source, Source::Dictation);
    let kept = lib.recording(ids[0]).unwrap().unwrap().duration_ms;
    assert!(kept >= 9_000, "{kept} ms kept");
    let (pcm, _) = speech(12.0);
    assert_eq!(lib.recording_pcm(ids[0], 0, u64::MAX).unwrap(), rounded(&pcm[..ms_to_samples(kept)]));
    // The first clip (7 s) was recorded whole.
    assert_heard(&note.body, &librivox()[0].1);
}

fn sotto(args: &[&str], data: &Path) -> Output {
    sotto_notes(args, data, PASS)
}

#[test]
fn cli_recovers_interrupted_recordings_and_writes_a_notes_audio_as_wav() {
    let data = tempfile::tempdir().unwrap();
    let (pcm, reference) = speech(10.0);
    {
        let lib = Library::open(data.path(), PASS, None).unwrap();
        let mut w = lib.start_recording().unwrap();
        w.append(&pcm).unwrap();
    }
    let out = sotto(&["note", "list", "--json"], data.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.trim_end(), "sotto: recovered an interrupted recording as note 1");
    let notes: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["source"], "dictation");
    let again = sotto(&["note", "show", "1", "--json"], data.path());
    assert!(again.status.success() && again.stderr.is_empty(), "{}", String::from_utf8_lossy(&again.stderr));
    let note: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_heard(note["body"].as_str().unwrap(), &reference);

    let wav = data.path().join("out.wav");
    let out = sotto(
        &["note", "audio", "1", "--out", wav.to_str().unwrap(), "--from-ms", "1000", "--to-ms", "3000"],
        data.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let reader = hound::WavReader::open(&wav).unwrap();
    assert_eq!((reader.spec().sample_rate, reader.spec().channels, reader.len()), (16_000, 1, 32_000));
    let all = data.path().join("all.wav");
    assert!(sotto(&["note", "audio", "1", "--out", all.to_str().unwrap()], data.path()).status.success());
    assert_eq!(hound::WavReader::open(&all).unwrap().len() as usize, pcm.len() / 8000 * 8000);
    let text = sotto(&["note", "add", "--text", "no audio here"], data.path());
    assert!(text.status.success());
    let none = sotto(&["note", "audio", "2", "--out", all.to_str().unwrap()], data.path());
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("note 2 has no recording"));
}

#[test]
fn a_delete_cut_short_by_a_crash_is_finished_by_the_next_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(dir.path(), PASS, None).unwrap();
    let (pcm, _) = speech(2.0);
    let save = |lib: &Library| {
        let mut w = lib.start_recording().unwrap();
        w.append(&pcm).unwrap();
        let id = lib.add_recording(w.finish().unwrap(), Vec::new(), Source::Dictation).unwrap();
        (id, dir.path().join(lib.recording(id).unwrap().unwrap().path))
    };
    let aside = |p: &Path| PathBuf::from(format!("{}.deleted", p.display()));
    // Killed after the file was set aside but before the note's row went: the note keeps its audio.
    let (kept, kept_path) = save(&lib);
    std::fs::rename(&kept_path, aside(&kept_path)).unwrap();
    // Killed after the row went but before the file did: the audio must not come back as a note.
    let (gone, gone_path) = save(&lib);
    std::fs::rename(&gone_path, aside(&gone_path)).unwrap();
    let key = vault::unlock(dir.path(), PASS).unwrap();
    Store::open(&dir.path().join(DB_FILE), &key).unwrap().delete(gone).unwrap();

    assert!(lib.interrupted().unwrap().is_empty(), "nothing set aside is interrupted");
    assert!(lib.recover_interrupted(transcriber(), &opts()).unwrap().is_empty());
    assert_eq!(lib.recording_pcm(kept, 0, u64::MAX).unwrap().len(), pcm.len());
    assert!(!aside(&gone_path).exists() && !gone_path.exists());
    assert_eq!(journals(dir.path()).len(), 1);
    assert_eq!(lib.list().unwrap().len(), 1);
}
