//! The recogniser with the real Whisper tiny.en model on real speech.

mod common;

use common::*;
use sotto::asr::{AsrError, CancelToken, Job, Stream, StreamEvent, StreamOptions, TranscribeOptions, Transcriber};
use sotto::audio::{self, load_file, ms_to_samples};
use sotto::text::wer::{corpus_wer, normalize, wer};
use std::path::PathBuf;
use std::sync::Arc;

fn opts() -> TranscribeOptions {
    TranscribeOptions { threads: 1, ..TranscribeOptions::default() }
}

#[test]
fn jfk_matches_the_reference() {
    let segments = transcriber().transcribe(&load_file(&fixture("jfk.wav")).unwrap(), &opts()).unwrap();
    assert_eq!(normalize(&text_of(&segments)), normalize(&jfk_reference()), "{segments:?}");
    assert!(segments.windows(2).all(|w| w[0].start_ms <= w[1].start_ms && w[0].end_ms <= w[1].start_ms + 10));
    assert!(segments.last().unwrap().end_ms <= 11_000);
}

#[test]
fn sottos_spectrogram_gives_whispers_transcript() {
    // Sotto computes the log-mel itself (a faster FFT); whisper.cpp's own must give the same
    // segments, times included: on a short clip, with a fitted window, and over several windows.
    let jfk = load_file(&fixture("jfk.wav")).unwrap();
    let mut clips = vec![(fixture("jfk.wav"), jfk_reference())];
    clips.extend(librivox());
    let (long, _, _) = join_with_pauses(clips, &[1_500, 4_000, 3_000, 5_000, 3_500, 4_500]);
    let fitted = TranscribeOptions { fit_window: true, ..opts() };
    for (audio, options) in [(&jfk, opts()), (&jfk, fitted), (&long, opts())] {
        let ours = transcriber().transcribe(audio, &options).unwrap();
        let theirs =
            transcriber().transcribe(audio, &TranscribeOptions { whisper_mel: true, ..options.clone() }).unwrap();
        assert!(!ours.is_empty());
        assert_eq!(ours, theirs);
    }
    let job = Job::default();
    let ours = transcriber().transcribe_speech(&long, &opts(), &job).unwrap();
    let theirs =
        transcriber().transcribe_speech(&long, &TranscribeOptions { whisper_mel: true, ..opts() }, &job).unwrap();
    assert_eq!(ours, theirs);
}

#[test]
fn librivox_corpus_wer_is_at_most_9_percent() {
    let clips = librivox();
    let hyps: Vec<String> = clips
        .iter()
        .map(|(path, _)| text_of(&transcriber().transcribe(&load_file(path).unwrap(), &opts()).unwrap()))
        .collect();
    let corpus = corpus_wer(clips.iter().zip(&hyps).map(|((_, r), h)| (r.as_str(), h.as_str())));
    assert!(corpus <= 0.09, "corpus WER {corpus:.3}: {hyps:#?}");
}

#[test]
fn each_librivox_clip_streamed_alone_is_as_accurate_as_a_file() {
    // Live decoding is greedy only (no random retries). Alone and cold, "He was not an
    // ill-disposed young man" looped to "an old-s-s-y-y-y-…" until the bound: the corpus went
    // from 7% to 35% WER. A looping decode is now done again by a beam search.
    let clips = librivox();
    let hyps: Vec<String> =
        clips.iter().map(|(path, _)| text_of(&stream_finals(&load_file(path).unwrap()).0)).collect();
    let corpus = corpus_wer(clips.iter().zip(&hyps).map(|((_, r), h)| (r.as_str(), h.as_str())));
    assert!(corpus <= 0.09, "corpus WER {corpus:.3}: {hyps:#?}");
    assert!(hyps.iter().all(|h| !h.contains("-y-y")), "{hyps:#?}");
}

#[test]
fn compressed_and_resampled_copies_give_the_same_words() {
    let reference =
        normalize(&text_of(&transcriber().transcribe(&load_file(&fixture("jfk.wav")).unwrap(), &opts()).unwrap()));
    for name in ["jfk_48k_stereo.mp3", "jfk.ogg", "jfk.flac", "jfk.m4a", "jfk_44k_stereo.wav", "jfk.mp3"] {
        let pcm = load_file(&fixture(name)).unwrap();
        // Same duration within 125 ms (codec priming/padding), whatever the source rate.
        assert!((pcm.len() as i64 - 176_000).abs() < 2_000, "{name}: {} samples", pcm.len());
        let words = normalize(&text_of(&transcriber().transcribe(&pcm, &opts()).unwrap()));
        assert_eq!(words, reference, "{name}");
    }
}

#[test]
fn silence_and_low_noise_give_no_text() {
    let silence = vec![0.0f32; ms_to_samples(8_000)];
    let hiss = noise(ms_to_samples(8_000), 0.003, 42);
    for (name, audio) in [("silence", &silence), ("noise", &hiss)] {
        let segments = transcriber().transcribe(audio, &opts()).unwrap();
        assert!(segments.is_empty(), "{name}: {segments:?}");
    }
    // Without the VAD gate, whisper.cpp's own no-speech suppression must still keep silence empty.
    let ungated = TranscribeOptions { vad_gate: false, ..opts() };
    let segments = transcriber().transcribe(&silence, &ungated).unwrap();
    assert!(segments.is_empty(), "ungated silence: {segments:?}");
}

/// The LibriVox clips joined with 3–5 s pauses, and where each clip lies (ms).
fn clips_with_pauses() -> (Vec<f32>, Vec<(u64, u64)>, String) {
    join_with_pauses(librivox(), &[3_000, 4_000, 5_000, 3_500, 4_500])
}

/// `clips` joined, each after its pause (low noise); the audio, each clip's span (ms), the reference.
fn join_with_pauses(clips: Vec<(PathBuf, String)>, pauses_ms: &[u64]) -> (Vec<f32>, Vec<(u64, u64)>, String) {
    let mut audio = Vec::new();
    let mut spans = Vec::new();
    let mut refs = Vec::new();
    for ((path, reference), &pause) in clips.into_iter().zip(pauses_ms) {
        audio.extend(noise(ms_to_samples(pause), 0.0005, pause));
        let start = audio::samples_to_ms(audio.len());
        audio.extend(load_file(&path).unwrap());
        spans.push((start, audio::samples_to_ms(audio.len())));
        refs.push(reference);
    }
    audio.extend(vec![0.0; ms_to_samples(1_000)]);
    (audio, spans, refs.join(" "))
}

#[test]
fn streaming_matches_full_file_and_pauses_close_segments() {
    let (audio, spans, reference) = clips_with_pauses();
    let full = text_of(&transcriber().transcribe(&audio, &opts()).unwrap());

    let (finals, _) = stream_finals(&audio);
    let streamed = text_of(&finals);

    let (full_wer, stream_wer) = (wer(&reference, &full), wer(&reference, &streamed));
    eprintln!("WER full {full_wer:.3}, streamed {stream_wer:.3}");
    assert!(stream_wer <= full_wer + 0.02, "stream WER {stream_wer:.3} vs full {full_wer:.3}\n{streamed}\n{full}");

    // Every pause closes a segment: no final straddles the gap between two clips,
    // and every clip produced at least one final of its own.
    for gap in spans.windows(2).map(|w| (w[0].1, w[1].0)) {
        assert!(
            finals.iter().all(|s| s.end_ms <= gap.0 + 400 || s.start_ms >= gap.1 - 400),
            "a segment spans the pause {gap:?}: {finals:?}"
        );
    }
    for (start, end) in &spans {
        assert!(
            finals.iter().any(|s| s.start_ms + 400 >= *start && s.end_ms <= end + 400),
            "clip {start}-{end}: {finals:?}"
        );
    }
    assert!(finals.windows(2).all(|w| w[0].end_ms <= w[1].start_ms), "finals in order: {finals:?}");
}

/// Finals of `audio` streamed in 100 ms chunks (partials off), and how much audio (ms) had been
/// pushed when each arrived (`None`: at `finish`).
fn stream_finals(audio: &[f32]) -> (Vec<sotto::asr::Segment>, Vec<Option<u64>>) {
    let options = StreamOptions { partial_every_ms: None, ..StreamOptions::default() };
    let mut stream = Stream::new(transcriber().clone(), opts(), options, Job::default()).unwrap();
    let (mut events, mut arrived) = (Vec::new(), Vec::new());
    let step = ms_to_samples(100);
    for (i, chunk) in audio.chunks(step).enumerate() {
        stream.push(chunk, &mut events).unwrap();
        arrived.resize(events.len(), Some(audio::samples_to_ms(i * step + chunk.len())));
    }
    stream.finish(&mut events).unwrap();
    arrived.resize(events.len(), None);
    let finals = events
        .into_iter()
        .map(|e| match e {
            StreamEvent::Final(s) => s,
            StreamEvent::Partial(_) => panic!("partials were switched off"),
        })
        .collect();
    (finals, arrived)
}

#[test]
fn a_short_utterance_keeps_its_words_and_is_final_at_once() {
    // JFK pauses after "ask not": alone, that utterance came out "As not." Heard after the end
    // of the utterance before it, it keeps its words, and it is final at its own pause.
    let jfk = load_file(&fixture("jfk.wav")).unwrap();
    let (finals, arrived) = stream_finals(&jfk);
    eprintln!("{finals:?} {arrived:?}");
    assert_eq!(normalize(&text_of(&finals)), normalize(&jfk_reference()), "{finals:?}");
    assert!(finals.windows(2).all(|w| w[0].end_ms <= w[1].start_ms), "{finals:?}");
    // Hands-free: each final but the last arrives within 1.2 s of stream time after its end
    // (the end includes 300 ms of post-roll; the pause that closes it is 600 ms).
    for (seg, at) in finals.iter().zip(&arrived).take(finals.len() - 1) {
        let at = at.expect("final before the end of the stream");
        assert!(at <= seg.end_ms + 1_200, "{seg:?} arrived at {at} ms");
    }

    // A short utterance followed by a long pause is final at that pause, before the stream
    // ends; one at the very end is final at `finish`.
    let short = &jfk[ms_to_samples(3_000)..ms_to_samples(4_800)];
    let mut audio = short.to_vec();
    audio.extend(vec![0.0; ms_to_samples(5_000)]);
    let (finals, arrived) = stream_finals(&audio);
    assert_eq!(finals.len(), 1, "{finals:?}");
    assert!(arrived[0].is_some_and(|at| at <= finals[0].end_ms + 1_200), "{arrived:?} {finals:?}");
    assert!(normalize(&finals[0].text).iter().any(|w| w == "not"), "{finals:?}");
    assert!(finals[0].end_ms <= 1_900, "{finals:?}");
    let (finals, arrived) = stream_finals(short);
    assert_eq!((finals.len(), arrived), (1, vec![None]), "{finals:?}");
}

#[test]
fn streaming_gives_partials_before_the_final() {
    let (path, reference) = librivox().remove(0);
    let mut audio = vec![0.0; ms_to_samples(500)];
    audio.extend(load_file(&path).unwrap());
    audio.extend(vec![0.0; ms_to_samples(1_500)]);
    let options = StreamOptions { partial_every_ms: Some(1_500), ..StreamOptions::default() };
    let mut stream = Stream::new(transcriber().clone(), opts(), options, Job::default()).unwrap();
    let mut events = Vec::new();
    for chunk in audio.chunks(ms_to_samples(100)) {
        stream.push(chunk, &mut events).unwrap();
    }
    stream.finish(&mut events).unwrap();
    let first_final = events.iter().position(|e| matches!(e, StreamEvent::Final(_))).expect("a final segment");
    let partials = &events[..first_final];
    assert!(partials.len() >= 2, "{events:?}");
    assert!(partials.iter().all(|e| matches!(e, StreamEvent::Partial(_))));
    // Live text grows towards the final words.
    let StreamEvent::Final(fin) = &events[first_final] else { unreachable!() };
    assert!(wer(&reference, &fin.text) <= 0.15, "{}", fin.text);
}

#[test]
fn cancellation_stops_a_running_job() {
    let (audio, _, _) = clips_with_pauses();
    let cancel = CancelToken::new();
    let trip = cancel.clone();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = calls.clone();
    // Cancel from the progress callback, i.e. while whisper.cpp is mid-job.
    let job = Job {
        cancel,
        on_progress: Some(Arc::new(move |_| {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            trip.cancel();
        })),
        ..Job::default()
    };
    let started = std::time::Instant::now();
    let result = transcriber().transcribe_with(&audio, &TranscribeOptions { vad_gate: false, ..opts() }, &job);
    assert!(matches!(result, Err(AsrError::Cancelled)), "{result:?}");
    assert!(calls.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    eprintln!("cancelled after {:?}", started.elapsed());

    let pre = Job::default();
    pre.cancel.cancel();
    assert!(matches!(transcriber().transcribe_with(&audio, &opts(), &pre), Err(AsrError::Cancelled)));
}

#[test]
fn initial_prompt_steers_vocabulary() {
    // tiny.en hears "ill disposed" in clip 0880 as "old-sposed"; priming with the word fixes it.
    let (path, reference) = librivox().into_iter().find(|(p, _)| p.to_string_lossy().contains("0880")).unwrap();
    let pcm = load_file(&path).unwrap();
    let plain = text_of(&transcriber().transcribe(&pcm, &opts()).unwrap());
    let primed = TranscribeOptions { initial_prompt: Some("He was ill-disposed.".into()), ..opts() };
    let steered = text_of(&transcriber().transcribe(&pcm, &primed).unwrap());
    assert!(wer(&reference, &steered) < wer(&reference, &plain), "plain {plain:?} primed {steered:?}");
}

#[test]
fn language_is_checked_against_the_model() {
    let de = TranscribeOptions { language: Some("de".into()), ..opts() };
    assert!(matches!(transcriber().transcribe(&[0.0; 16_000], &de), Err(AsrError::Language { .. })));
    let en = TranscribeOptions { language: Some("EN".into()), ..opts() };
    assert!(transcriber().transcribe(&[0.0; 16_000], &en).is_ok());
    assert!(!transcriber().info().is_multilingual());
    assert_eq!(transcriber().info().size_name(), "tiny");
}

#[test]
fn broken_models_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = std::fs::read(model_path()).unwrap();
    let half = write(dir.path(), "half.bin", &model[..model.len() / 2]);
    let header_only = write(dir.path(), "header.bin", &model[..30]);
    let text = write(dir.path(), "model.txt", b"this is a text file, not a model\n");
    let empty = write(dir.path(), "empty.bin", b"");
    for path in [&half, &header_only, &text, &empty] {
        let err = Transcriber::load(path).err().unwrap_or_else(|| panic!("{} loaded", path.display()));
        assert!(matches!(err, AsrError::InvalidModel { .. }), "{}: {err:?}", path.display());
    }
    let missing = dir.path().join("missing.bin");
    assert!(matches!(Transcriber::load(&missing), Err(AsrError::ModelIo { .. })));
    // A file with one extra byte at the end is not the file the manifest describes either.
    let mut long = model.clone();
    long.push(0);
    let long = write(dir.path(), "long.bin", &long);
    assert!(matches!(Transcriber::load(&long), Err(AsrError::InvalidModel { .. })));
}

#[test]
fn speech_only_path_keeps_accuracy_and_original_times() {
    let (audio, spans, reference) = clips_with_pauses();
    let full = text_of(&transcriber().transcribe(&audio, &opts()).unwrap());
    let segments = transcriber().transcribe_speech(&audio, &opts(), &Job::default()).unwrap();
    let speech = text_of(&segments);
    let (full_wer, speech_wer) = (wer(&reference, &full), wer(&reference, &speech));
    assert!(speech_wer <= full_wer + 0.02, "speech-only WER {speech_wer:.3} vs full {full_wer:.3}\n{speech}");
    // Times refer to the original recording: every segment lies on a clip, none in a pause.
    for s in &segments {
        assert!(
            spans.iter().any(|(a, b)| s.start_ms + 400 >= *a && s.end_ms <= b + 400),
            "{s:?} is not on a clip {spans:?}"
        );
    }
    assert!(segments.windows(2).all(|w| w[0].start_ms <= w[1].start_ms));
    let silence = vec![0.0f32; ms_to_samples(5_000)];
    assert!(transcriber().transcribe_speech(&silence, &opts(), &Job::default()).unwrap().is_empty());
}

#[test]
fn speech_only_path_encodes_the_speech_about_once() {
    // jfk then the LibriVox clips, as in bench/asr's dictation clip: whisper stops decoding the
    // first packed window early, and used to encode that whole window a second time.
    let mut clips = vec![(fixture("jfk.wav"), jfk_reference())];
    clips.extend(librivox());
    let (audio, spans, reference) = join_with_pauses(clips, &[1_500, 4_000, 3_000, 5_000, 3_500, 4_500]);
    let job = Job::default();
    let segments = transcriber().transcribe_speech(&audio, &opts(), &job).unwrap();
    let speech_ms: u64 = spans.iter().map(|(a, b)| b - a).sum();
    let (encoded, passes) = (job.stats.encoded_ms(), job.stats.encoder_passes());
    eprintln!("encoded {encoded} ms in {passes} passes for {speech_ms} ms of speech");
    // The margin covers the gaps between packed clips and each window's fitted tail (1.3x here).
    assert!(encoded <= speech_ms * 3 / 2, "encoded {encoded} ms in {passes} passes for {speech_ms} ms of speech");
    let hyp = text_of(&segments);
    assert!(wer(&reference, &hyp) <= 0.10, "WER {:.3}: {hyp}", wer(&reference, &hyp));
}

#[test]
fn a_repetition_loop_is_cut_short() {
    // Trimmed to its speech, this 3 s LibriVox clip sends tiny.en into "old-s-s-y-y-y…" at
    // temperature 0; whisper.cpp used to decode 220 tokens of it before retrying warmer.
    let (path, reference) = librivox().into_iter().find(|(p, _)| p.to_string_lossy().contains("0880")).unwrap();
    let job = Job::default();
    let segments = transcriber().transcribe_speech(&load_file(&path).unwrap(), &opts(), &job).unwrap();
    let hyp = text_of(&segments);
    let steps = job.stats.decoder_steps();
    eprintln!("{steps} decoder steps: {hyp}");
    assert!(steps < 150, "{steps} decoder steps: {hyp}");
    assert!(wer(&reference, &hyp) <= 0.34, "WER {:.3}: {hyp}", wer(&reference, &hyp));
}

#[test]
fn push_to_talk_gets_its_final_from_the_partial_made_when_speech_ended() {
    // The key is released 400 ms after the last word: by then a partial has heard all the speech
    // (one comes 200 ms into any pause), so stopping costs no whisper call at all.
    let (path, reference) = librivox().remove(0);
    let mut audio = load_file(&path).unwrap();
    audio.extend(vec![0.0; ms_to_samples(1_000)]);
    let vad = sotto::audio::vad::VadConfig::with_silero(silero_model());
    let speech = sotto::audio::vad::utterances(&audio, &vad);
    let speech_end = speech.last().unwrap().end_sample() as usize - ms_to_samples(vad.post_roll_ms as u64);
    audio.truncate(speech_end + ms_to_samples(400));
    let job = Job::default();
    let options = TranscribeOptions { vad, ..opts() };
    let mut stream = Stream::new(transcriber().clone(), options, StreamOptions::default(), job.clone()).unwrap();
    let mut events = Vec::new();
    for chunk in audio.chunks(ms_to_samples(20)) {
        stream.push(chunk, &mut events).unwrap();
    }
    let passes = job.stats.encoder_passes();
    assert!(events.iter().all(|e| matches!(e, StreamEvent::Partial(_))), "{events:?}");
    stream.finish(&mut events).unwrap();
    assert_eq!(job.stats.encoder_passes(), passes, "stop re-transcribed the utterance");
    let Some(StreamEvent::Final(fin)) = events.last() else { panic!("{events:?}") };
    assert!(wer(&reference, &fin.text) <= 0.15, "{}", fin.text);
}

#[test]
fn hurry_gives_up_the_partial_in_progress_and_keeps_every_word() {
    // The key is released while a partial of ongoing speech runs: it is given up (the final is
    // what the user waits for), no partial follows, and the final still has all the words.
    let (path, reference) = librivox().remove(0);
    let audio = load_file(&path).unwrap();
    let hurry = Arc::new(std::sync::OnceLock::<sotto::asr::Hurry>::new());
    let fired = hurry.clone();
    // whisper.cpp reports progress before it encodes: hurry from there, i.e. mid-partial.
    let job = Job { on_progress: Some(Arc::new(move |_| fired.get().unwrap().now())), ..Job::default() };
    let options = StreamOptions { partial_every_ms: Some(1_000), ..StreamOptions::default() };
    let mut stream = Stream::new(transcriber().clone(), opts(), options, job).unwrap();
    hurry.set(stream.hurry()).unwrap();
    let mut events = Vec::new();
    for chunk in audio.chunks(ms_to_samples(100)) {
        stream.push(chunk, &mut events).unwrap();
    }
    assert!(events.iter().all(|e| matches!(e, StreamEvent::Final(_))), "no partial survives a hurry: {events:?}");
    stream.finish(&mut events).unwrap();
    let text: Vec<String> = events
        .iter()
        .map(|e| match e {
            StreamEvent::Final(s) => s.text.clone(),
            StreamEvent::Partial(_) => unreachable!(),
        })
        .collect();
    assert!(!text.is_empty() && wer(&reference, &text.join(" ")) <= 0.15, "{text:?}");
}

#[test]
fn long_speech_is_made_final_in_pieces_without_losing_or_repeating_words() {
    // Two clips back to back, about 10 s of speech, cut into pieces of at most 5 s while partials
    // run: each piece is final as it goes, and together they say the words once.
    let clips = librivox();
    let mut audio = load_file(&clips[0].0).unwrap();
    audio.extend(load_file(&clips[4].0).unwrap());
    audio.extend(vec![0.0; ms_to_samples(1_000)]);
    let reference = format!("{} {}", clips[0].1, clips[4].1);
    let vad = sotto::audio::vad::VadConfig {
        max_utterance_ms: 5_000,
        ..sotto::audio::vad::VadConfig::with_silero(silero_model())
    };
    let options = TranscribeOptions { vad, ..opts() };
    let mut stream = Stream::new(transcriber().clone(), options, StreamOptions::default(), Job::default()).unwrap();
    let mut events = Vec::new();
    for chunk in audio.chunks(ms_to_samples(20)) {
        stream.push(chunk, &mut events).unwrap();
    }
    stream.finish(&mut events).unwrap();
    let finals: Vec<_> =
        events.iter().filter_map(|e| if let StreamEvent::Final(s) = e { Some(s.clone()) } else { None }).collect();
    assert!(finals.len() >= 2, "{finals:?}");
    let heard = text_of(&finals);
    assert!(wer(&reference, &heard) <= 0.15, "{heard:?}");
}
