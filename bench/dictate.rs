//! Dictation latency: Sotto's live session fed in real time (as a microphone delivers audio)
//! beside "transcribe the whole utterance after stop" (what push-to-talk apps do) with Sotto and
//! faster-whisper, on the same utterances and weights, in one run. Run through `bench/dictate`;
//! see bench/README.md.
//!
//!   cargo bench --bench dictate -- [--python BENCH_VENV_PYTHON --ct2 CT2_DIR] [--repeat 5]
//!       [--only "5 s"] [--name dictate-latest] [--out bench/results]
//!
//! Without `--python`, faster-whisper is left out (its column reads NaN): for quick runs while
//! working on the session; `--only` keeps one utterance length.

#[path = "common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;
use sotto::asr::{Job, TranscribeOptions, Transcriber};
use sotto::audio::vad::{VadConfig, utterances};
use sotto::audio::{SAMPLE_RATE, SileroModel, load_file, ms_to_samples, samples_to_ms};
use sotto::dictation::{Session, SessionConfig, SessionEvent};

use common::*;

/// Samples fed per step: 20 ms, a typical microphone callback.
const STEP_MS: u64 = 20;

struct Utterance {
    name: &'static str,
    pcm: Vec<f32>,
    /// Where the speech ends (ms), by Silero VAD.
    speech_end_ms: u64,
}

/// One real-time run: when each event arrived (ms since the first sample was fed) and the
/// session's CPU time per second of audio.
struct Run {
    events: Vec<(f64, SessionEvent)>,
    stop_at: Option<f64>,
    cpu_ms_per_s: f64,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let repeat = args.num("--repeat", 5);
    let name = args.value("--name").unwrap_or_else(|| "dictate-latest".into());
    let out = args.path("--out", &repo_root().join("bench/results"));
    let models = models_dir();
    let silero = Arc::new(SileroModel::load(&models.join(sotto::audio::silero::MODEL_FILE))?);
    let mut utterances = load_utterances(&silero)?;
    if let Some(only) = args.value("--only") {
        utterances.retain(|u| u.name == only);
    }
    let scratch = tempfile::tempdir()?;

    let mut model_files = vec![("f16 (portable)", models.join("ggml-tiny.en.bin"))];
    let bf16 = models.join("ggml-tiny.en-bf16.bin");
    if sotto::asr::bf16_native() && bf16.is_file() {
        model_files.insert(0, ("bf16 (the default here)", bf16));
    }
    let mut rows = Vec::new();
    for (label, path) in &model_files {
        let transcriber = Arc::new(Transcriber::load(path).with_context(|| path.display().to_string())?);
        for u in &utterances {
            eprintln!("{label}, {}: push-to-talk, hands-free, after stop ×{repeat}", u.name);
            let (mut ptt, mut lag, mut cpu, mut hands_free, mut after) = (vec![], vec![], vec![], vec![], vec![]);
            for _ in 0..repeat {
                let run = live(&transcriber, &silero, &u.pcm, true)?;
                let stop = run.stop_at.expect("stopped");
                let last_final = run.events.iter().rev().find(|(_, e)| matches!(e, SessionEvent::Final(_)));
                ptt.push(last_final.map_or(f64::NAN, |(t, _)| (t - stop).max(0.0)));
                lag.extend(partial_lags(&run.events));
                cpu.push(run.cpu_ms_per_s);

                let mut padded = u.pcm.clone();
                padded.extend(vec![0.0; ms_to_samples(2_000)]);
                let run = live(&transcriber, &silero, &padded, false)?;
                let last_final = run.events.iter().rev().find(|(_, e)| matches!(e, SessionEvent::Final(_)));
                hands_free.push(last_final.map_or(f64::NAN, |(t, _)| t - u.speech_end_ms as f64));

                // As many threads as the session's finals: every core.
                let options = TranscribeOptions { threads: cores(), fit_window: true, ..TranscribeOptions::default() };
                let t = Instant::now();
                transcriber.transcribe_with(&u.pcm, &options, &Job::default())?;
                after.push(ms(t.elapsed()));
            }
            rows.push(json!({
                "model": label, "utterance": u.name, "audio_ms": samples_to_ms(u.pcm.len()),
                "stop_to_final_ms": ptt, "hands_free_final_ms": hands_free, "partial_lag_ms_p50": median(&lag),
                "cpu_ms_per_audio_s": median(&cpu), "sotto_after_stop_ms": after,
            }));
        }
    }
    // faster-whisper transcribing each utterance after stop, in its own process (bench/asr_worker.py).
    let fw = match args.value("--python") {
        Some(python) => {
            let ct2 = args.value("--ct2").context("--ct2 (the CTranslate2 model dir) goes with --python")?;
            let mut wavs = Vec::new();
            for u in &utterances {
                let path = scratch.path().join(format!("{}.wav", u.name));
                write_wav(&path, &u.pcm)?;
                wavs.push(path);
            }
            faster_whisper(&python, &ct2, &wavs, repeat, scratch.path())?
        }
        None => {
            eprintln!("faster-whisper left out (no --python)");
            Vec::new()
        }
    };

    let md = markdown(&rows, &fw, repeat);
    print!("{md}");
    let json = json!({
        "date": utc_now(), "commit": commit(), "loadavg": loadavg(), "repeat": repeat,
        "cpu": cpu_name(), "rows": rows, "faster_whisper_after_stop_ms": fw,
    });
    save(&out, &name, &md, &json)?;
    Ok(())
}

/// ~2.5, 5, 10 and 25 s of LibriVox speech (clips back to back: one utterance each).
fn load_utterances(silero: &Arc<SileroModel>) -> Result<Vec<Utterance>> {
    let dir = models_dir().parent().map(|c| c.join("fixtures/librivox")).context("cache dir")?;
    let clip = |id: &str| -> Result<Vec<f32>> {
        Ok(load_file(&dir.join(format!("sense_and_sensibility_01_austen_64kb-{id}.wav")))?)
    };
    let joined = |ids: &[&str]| -> Result<Vec<f32>> {
        let mut pcm = Vec::new();
        for id in ids {
            pcm.extend(clip(id)?);
        }
        Ok(pcm)
    };
    let ten = joined(&["0870", "0930"])?;
    // The longest utterance the segmenter lets grow (it cuts at 25 s): partials must stay cheap.
    let long = joined(&["0870", "0880", "0890", "0920", "0930"])?;
    let mut out = Vec::new();
    for (name, pcm) in [("2.5 s", clip("0880")?), ("5 s", clip("0890")?), ("10 s", ten), ("25 s", long)] {
        let vad = VadConfig::with_silero(silero.clone());
        let found = utterances(&pcm, &vad);
        let Some(last) = found.last() else { bail!("{name}: no speech found") };
        let speech_end_ms = last.end_ms().saturating_sub(vad.post_roll_ms as u64);
        out.push(Utterance { name, pcm, speech_end_ms });
    }
    Ok(out)
}

/// Feed `pcm` in real time; with `stop`, stop right after the last sample (the key is released),
/// else wait for a final and stop then.
fn live(transcriber: &Arc<Transcriber>, silero: &Arc<SileroModel>, pcm: &[f32], stop: bool) -> Result<Run> {
    let (tx, rx) = channel();
    let config = SessionConfig {
        transcribe: TranscribeOptions {
            threads: 1,
            vad: VadConfig::with_silero(silero.clone()),
            ..TranscribeOptions::default()
        },
        levels_per_second: 0,
        ..SessionConfig::default()
    };
    let begun = Instant::now();
    let sink_begun = begun;
    let session =
        Session::start(transcriber.clone(), config, Box::new(move |e| drop(tx.send((ms(sink_begun.elapsed()), e)))))?;
    let cpu = process_cpu_ns();
    let step = ms_to_samples(STEP_MS);
    for (i, chunk) in pcm.chunks(step).enumerate() {
        session.feed(chunk, SAMPLE_RATE, 1)?;
        let due = Duration::from_millis((i as u64 + 1) * STEP_MS);
        if let Some(wait) = due.checked_sub(begun.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    let mut stop_at = None;
    let mut events = Vec::new();
    if stop {
        stop_at = Some(ms(begun.elapsed()));
        session.stop();
    } else {
        // Hands-free: the session decides when the utterance is over (its last piece: long
        // speech is made final in pieces as it goes).
        let end_ms = samples_to_ms(pcm.len()).saturating_sub(2_000);
        while let Ok((t, e)) = rx.recv_timeout(Duration::from_secs(30)) {
            let done = matches!(&e, SessionEvent::Final(s) if s.end_ms + 1_000 >= end_ms);
            events.push((t, e));
            if done {
                break;
            }
        }
        session.stop();
    }
    session.wait();
    events.extend(rx.try_iter());
    let cpu_ms = (process_cpu_ns() - cpu) as f64 / 1e6;
    let audio_s = pcm.len() as f64 / SAMPLE_RATE as f64;
    Ok(Run { events, stop_at, cpu_ms_per_s: cpu_ms / audio_s })
}

/// For every 10 ms of speech that partials cover, how long after it was spoken it first showed
/// (ms): a word spoken at `t` appears with the first partial whose text reaches past `t`.
fn partial_lags(events: &[(f64, SessionEvent)]) -> Vec<f64> {
    let mut lags = Vec::new();
    let mut covered = 0u64;
    for (arrived, e) in events {
        let SessionEvent::Partial(seg) = e else { continue };
        let mut t = covered.max(seg.start_ms);
        while t < seg.end_ms {
            lags.push(arrived - t as f64);
            t += 10;
        }
        covered = covered.max(seg.end_ms);
    }
    lags
}

fn faster_whisper(
    python: &str,
    ct2: &str,
    wavs: &[PathBuf],
    repeat: usize,
    dir: &Path,
) -> Result<Vec<serde_json::Value>> {
    let out = dir.join("fw.json");
    let mut files = Vec::new();
    for _ in 0..repeat {
        files.extend(wavs.iter().cloned());
    }
    let status = std::process::Command::new(python)
        .arg(repo_root().join("bench/asr_worker.py"))
        .args(["--out", &out.to_string_lossy(), "--threads", &cores().to_string(), "faster-whisper", "--model", ct2])
        .args(["--compute-type", "int8"])
        .args(&files)
        .env("OMP_NUM_THREADS", "1")
        .status()?;
    if !status.success() {
        bail!("faster-whisper worker failed: {status}");
    }
    let result: serde_json::Value = serde_json::from_slice(&std::fs::read(&out)?)?;
    let runs = result["files"].as_array().cloned().unwrap_or_default();
    Ok(wavs
        .iter()
        .map(|w| {
            let times: Vec<f64> = runs
                .iter()
                .filter(|r| r["file"].as_str() == Some(&*w.to_string_lossy()))
                .filter_map(|r| r["transcribe_ms"].as_f64())
                .collect();
            json!({ "file": w.file_stem().map(|s| s.to_string_lossy().into_owned()), "transcribe_ms": times })
        })
        .collect())
}

fn write_wav(path: &Path, pcm: &[f32]) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    for s in pcm {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)?;
    }
    w.finalize()?;
    Ok(())
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default()
}

fn med(v: &serde_json::Value) -> f64 {
    let xs: Vec<f64> = v.as_array().map(|a| a.iter().filter_map(|x| x.as_f64()).collect()).unwrap_or_default();
    median(&xs)
}

fn markdown(rows: &[serde_json::Value], fw: &[serde_json::Value], repeat: usize) -> String {
    let mut md = format!(
        "# Dictation latency: Sotto's live session vs transcribe-after-stop\n\n{} UTC, {}, commit {}, \
         load {}; median of {repeat}; audio fed in 20 ms steps in real time. The session: partials on 1 thread, \
         finals on all {} cores; transcribe-after-stop: all {} cores.\n\n",
        utc_now(),
        cpu_name(),
        commit(),
        loadavg(),
        cores(),
        cores()
    );
    md.push_str(
        "| model | utterance | stop → final (ms) | hands-free: end of speech → final (ms) | partial lag p50 (ms) | \
         CPU ms per s of audio | Sotto after stop (ms) | faster-whisper int8 after stop (ms) | × faster than Sotto after stop | × faster than faster-whisper |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for r in rows {
        let name = r["utterance"].as_str().unwrap_or("");
        let fw_ms = fw.iter().find(|f| f["file"].as_str() == Some(name)).map_or(f64::NAN, |f| med(&f["transcribe_ms"]));
        let (ptt, after) = (med(&r["stop_to_final_ms"]), med(&r["sotto_after_stop_ms"]));
        md.push_str(&format!(
            "| {} | {name} | {ptt:.0} | {:.0} | {:.0} | {:.0} | {after:.0} | {fw_ms:.0} | {:.1} | {:.1} |\n",
            r["model"].as_str().unwrap_or(""),
            med(&r["hands_free_final_ms"]),
            r["partial_lag_ms_p50"].as_f64().unwrap_or(f64::NAN),
            r["cpu_ms_per_audio_s"].as_f64().unwrap_or(f64::NAN),
            after / ptt.max(1.0),
            fw_ms / ptt.max(1.0),
        ));
    }
    md.push_str(
        "\n- stop → final: `stop()` right after the last sample (the key released) until the utterance's final \
         arrives; 0 when the final was already there.\n- CPU: the session's CPU time (both threads) per second of audio, \
         partials included; under 1000 means it keeps up on one core.\n- hands-free: from where Silero VAD says speech ended to \
         the final (600 ms of silence close an utterance).\n- partial lag: for each 10 ms of speech, when it first \
         showed in a partial, from when it was spoken.\n- after stop: one transcription of the whole utterance \
         (Sotto with the window fitted to it; faster-whisper int8, greedy, in its own process).\n",
    );
    md
}

/// CPU cores this process may use.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
