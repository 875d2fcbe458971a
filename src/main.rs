//! `sotto`: the command-line shell over Sotto's core.

mod cli;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use sotto::asr::{Job, Segment, Stream, StreamEvent, StreamOptions, TranscribeOptions, Transcriber};
use sotto::export::{Format, render};
use sotto::{audio, text};

/// Sotto: private, on-device speech recognition. Nothing you say leaves this machine.
#[derive(Parser)]
#[command(name = "sotto", version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    /// Log more (-v: info, -vv: debug, including whisper.cpp's own messages).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Where notes are kept [default: the platform data dir, e.g. ~/.local/share/sotto].
    #[arg(long, global = true, env = "SOTTO_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Model manifest to use instead of the built-in one (e.g. a company mirror).
    #[arg(long, global = true, env = "SOTTO_MANIFEST", value_name = "PATH")]
    manifest: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  sotto transcribe meeting.m4a                   print the transcript
  sotto transcribe talk.mp3 --format srt > talk.srt
  sotto transcribe a.wav b.flac --format json    JSON per file
  sotto transcribe memo.ogg --stream             segment at pauses, print each as it is done
  sotto transcribe lecture.m4a --vad             skip the silences: fastest on audio with pauses
  sotto dictate                                  live text from the microphone; Ctrl-C to end
  sotto dictate --json --until-silence 5         JSON lines (ready, level, partial, final)
  sotto note add --audio memo.m4a                transcribe and keep as a note (encrypted)
  sotto note audio 3 --out memo.wav              the note's audio as WAV
  sotto note edit 3 --title 'Budget call'        retitle (keyword and meaning search follow)
  sotto note tag 3 --add work --remove todo      tags; `sotto note list --tag work`
  sotto reminder add 'call Ana' --at +2h         reminders: list, due, done, snooze ID 10m, cancel
  sotto assistant parse 'remind me to call Ana at 5 pm' --json
  sotto assistant run --audio command.wav        understand a spoken command and do it
  sotto settings set theme dark                  settings, encrypted with the notes
  sotto search 'what did we decide about the budget'
  sotto models list                              what is installed, what suits this device
  sotto models fetch whisper-base.en             download, verify (SHA-256) and install

Models are looked up in $SOTTO_MODELS_DIR, the app data dir and ~/.cache/sotto/models
(`sotto models fetch whisper-tiny.en` installs the default model).";

#[derive(Subcommand)]
enum Command {
    /// Transcribe audio files (WAV, MP3, FLAC, Ogg Vorbis, AAC/M4A) to text or subtitles.
    Transcribe(TranscribeArgs),
    /// Listen on the microphone and print live text; Ctrl-C ends it (pending speech is kept).
    Dictate(cli::dictate::DictateArgs),
    /// Voice notes: add (text, file or audio), show, list, edit, tag, delete, audio (as WAV).
    /// Encrypted, audio included; the passphrase comes from $SOTTO_PASSPHRASE or a prompt.
    #[command(subcommand)]
    Note(cli::notes::NoteCommand),
    /// How the notes are unlocked: OS keyring on/off, change the passphrase, the recovery key.
    #[command(subcommand)]
    Vault(cli::notes::VaultCommand),
    /// Search notes by words and by meaning.
    Search(cli::notes::SearchArgs),
    /// Reminders: add, list (due), done, snooze, cancel.
    #[command(subcommand, visible_alias = "reminders")]
    Reminder(cli::reminders::ReminderCommand),
    /// Voice commands: parse ("remind me to call Ana at 5 pm") or run them on the notes.
    #[command(subcommand)]
    Assistant(cli::assistant::AssistantCommand),
    /// The app's settings (kept encrypted with the notes): get, set.
    #[command(subcommand)]
    Settings(cli::settings::SettingsCommand),
    /// Export a note as Markdown, text, subtitles or JSON.
    Export(cli::notes::ExportArgs),
    /// List, download, verify, remove and quantize models.
    #[command(subcommand)]
    Models(cli::models::ModelsCommand),
    /// Load an embedding model, check it against reference vectors, time it (for models/measure).
    #[command(hide = true)]
    EmbedCheck {
        /// ONNX file.
        onnx: PathBuf,
        /// tokenizer.json.
        tokenizer: PathBuf,
        /// JSON with {"sentences": [{"text", "embedding"}]} (tests/data/minilm_reference.json).
        reference: PathBuf,
    },
    /// Word error rate of a hypothesis against a reference transcript (for benchmarks).
    #[command(hide = true)]
    Wer {
        /// The reference text.
        reference: String,
        /// The text to score.
        hypothesis: String,
    },
}

#[derive(clap::Args)]
struct TranscribeArgs {
    /// Audio files; each is decoded, resampled to 16 kHz mono and transcribed in turn.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    recogniser: cli::RecogniserArgs,
    /// Output format. With several files, txt/srt/vtt print a "==> FILE <==" header per file and
    /// json prints [{"file":…, "segments":[…]}].
    #[arg(short, long, value_enum, default_value_t = FormatArg::Txt)]
    format: FormatArg,
    /// Split at pauses (voice-activity detection) and transcribe each utterance with an encoder
    /// window fitted to it (one under 2 s together with the next); silence is skipped.
    #[arg(long)]
    stream: bool,
    /// Shrink whisper's 30 s window to the audio's length: much faster on short clips.
    #[arg(long)]
    fast: bool,
    /// Transcribe only the speech: pauses are cut out (voice-activity detection) and the rest is
    /// packed into fitted windows. Fastest on recordings with pauses; times still refer to the file.
    #[arg(long, conflicts_with = "stream")]
    vad: bool,
    /// Print one JSON line of timings per file to stderr (load, decode and transcribe ms, encoder work).
    #[arg(long)]
    timings: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Transcribe(args) => transcribe(args),
        Command::Dictate(args) => cli::dictate::run(args, &cli::notes::data_dir(cli.data_dir)),
        Command::Models(command) => cli::models::run(command, cli.manifest),
        Command::Note(command) => cli::notes::note(command, &cli::notes::data_dir(cli.data_dir)),
        Command::Vault(command) => cli::notes::vault_cmd(command, &cli::notes::data_dir(cli.data_dir)),
        Command::Search(args) => cli::notes::search(args, &cli::notes::data_dir(cli.data_dir)),
        Command::Reminder(command) => cli::reminders::run(command, &cli::notes::data_dir(cli.data_dir)),
        Command::Assistant(command) => cli::assistant::run(command, &cli::notes::data_dir(cli.data_dir)),
        Command::Settings(command) => cli::settings::run(command, &cli::notes::data_dir(cli.data_dir)),
        Command::Export(args) => cli::notes::export(args, &cli::notes::data_dir(cli.data_dir)),
        Command::EmbedCheck { onnx, tokenizer, reference } => embed_check(&onnx, &tokenizer, &reference),
        Command::Wer { reference, hypothesis } => {
            println!("{:.4}", text::wer::wer(&reference, &hypothesis));
            Ok(true)
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("sotto: error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// Prints {"load_ms", "sentences_per_s", "min_cosine", "packed"} for models/measure.
fn embed_check(onnx: &Path, tokenizer: &Path, reference: &Path) -> Result<bool> {
    let started = Instant::now();
    let embedder = sotto::text::Embedder::load(onnx, tokenizer)?;
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(reference)?)?;
    let sentences = json["sentences"].as_array().ok_or_else(|| anyhow!("no sentences in the reference"))?;
    let texts: Vec<&str> = sentences.iter().filter_map(|s| s["text"].as_str()).filter(|t| !t.is_empty()).collect();
    let mut min_cosine = 1.0f32;
    for s in sentences.iter().filter(|s| s["text"].as_str().is_some_and(|t| !t.is_empty())) {
        let want: Vec<f32> =
            s["embedding"].as_array().into_iter().flatten().filter_map(|v| v.as_f64()).map(|v| v as f32).collect();
        let got = embedder.embed(&[s["text"].as_str().unwrap_or_default()])?.remove(0);
        min_cosine = min_cosine.min(sotto::text::cosine(&got, &want));
    }
    let batch: Vec<&str> = texts.iter().copied().cycle().take(256).collect();
    let started = Instant::now();
    embedder.embed(&batch)?;
    let per_s = batch.len() as f64 / started.elapsed().as_secs_f64();
    let packed = embedder.packs_texts();
    println!(
        "{}",
        serde_json::json!({ "load_ms": load_ms, "sentences_per_s": per_s, "min_cosine": min_cosine, "packed": packed })
    );
    Ok(true)
}

/// The error and its causes on one line: scripts and users get the whole reason at once.
fn one_line(e: &anyhow::Error) -> String {
    e.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ")
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn,whisper_rs=off",
        1 => "info,whisper_rs=warn",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SOTTO_LOG").unwrap_or_else(|_| default.into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

/// The model to load: the one given, else the default one from the model dirs.
fn model_path(arg: Option<PathBuf>) -> Result<PathBuf> {
    match arg {
        Some(path) => Ok(path),
        None => cli::dirs().default_model().map_err(|searched| {
            let list = searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
            anyhow!("no model given and the default model is missing (looked for {list}); run `sotto models fetch whisper-tiny.en` or pass --model")
        }),
    }
}

/// Returns Ok(false) when some file failed (each failure already reported).
fn transcribe(args: TranscribeArgs) -> Result<bool> {
    let model = model_path(args.recogniser.model.clone())?;
    tracing::info!("model: {}", model.display());
    let load_start = Instant::now();
    let transcriber = Arc::new(Transcriber::load(&model)?);
    let load_ms = load_start.elapsed().as_secs_f64() * 1000.0;
    let options = TranscribeOptions { fit_window: args.fast, ..args.recogniser.options() };
    let many = args.files.len() > 1;
    let format = Format::from(args.format);
    let mut ok = true;
    let mut json_items = Vec::new();
    let stdout = std::io::stdout();
    for (i, file) in args.files.iter().enumerate() {
        let stream_txt = args.stream && format == Format::Txt;
        if many && format != Format::Json {
            let mut out = stdout.lock();
            writeln!(out, "{}==> {} <==", if i > 0 { "\n" } else { "" }, file.display())?;
        }
        let timings = args.timings.then_some(load_ms);
        let mode = if args.stream {
            Mode::Stream { print_as_you_go: stream_txt }
        } else if args.vad {
            Mode::Speech
        } else {
            Mode::Full
        };
        match transcribe_file(&transcriber, file, &options, mode, timings) {
            Ok(segments) if format == Format::Json && many => {
                json_items.push(serde_json::json!({ "file": file, "segments": segments }));
            }
            Ok(segments) if !stream_txt => {
                stdout.lock().write_all(render(&segments, format).as_bytes())?;
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("sotto: error: {}", one_line(&e));
                ok = false;
            }
        }
    }
    if many && format == Format::Json {
        println!("{}", serde_json::Value::Array(json_items));
    }
    Ok(ok)
}

/// `--format` of `sotto transcribe` (the core's [`Format`]).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    /// Plain text, one segment per line.
    Txt,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
    /// `[{"start_ms":…, "end_ms":…, "text":…}]`.
    Json,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Self {
        match arg {
            FormatArg::Txt => Format::Txt,
            FormatArg::Srt => Format::Srt,
            FormatArg::Vtt => Format::Vtt,
            FormatArg::Json => Format::Json,
        }
    }
}

/// How a file is transcribed.
#[derive(Clone, Copy)]
enum Mode {
    /// One pass over the whole file.
    Full,
    /// Speech only, packed into fitted windows.
    Speech,
    /// As a live stream in 100 ms chunks, cut at pauses.
    Stream { print_as_you_go: bool },
}

fn transcribe_file(
    transcriber: &Arc<Transcriber>,
    file: &Path,
    options: &TranscribeOptions,
    mode: Mode,
    timings: Option<f64>,
) -> Result<Vec<Segment>> {
    let decode_start = Instant::now();
    let samples = audio::load_file(file)?;
    let decode_ms = decode_start.elapsed().as_secs_f64() * 1000.0;
    let transcribe_start = Instant::now();
    let bar = progress_bar(file);
    let job = Job {
        on_progress: bar
            .clone()
            .map(|b| Arc::new(move |p: u8| b.set_position(p as u64)) as Arc<dyn Fn(u8) + Send + Sync>),
        ..Job::default()
    };
    let segments = if let Mode::Stream { print_as_you_go } = mode {
        let mut s = Stream::new(
            transcriber.clone(),
            options.clone(),
            // A file: every utterance is a final and nobody waits at a pause; `--threads` holds.
            StreamOptions { partial_every_ms: None, final_threads: None, ..StreamOptions::default() },
            Job { on_progress: None, ..job.clone() },
        )
        .context("cannot start a stream")?;
        let mut finals = Vec::new();
        let mut events = Vec::new();
        let total = samples.len().max(1);
        let emit = |events: &mut Vec<StreamEvent>, finals: &mut Vec<Segment>| -> Result<()> {
            for event in events.drain(..) {
                if let StreamEvent::Final(seg) = event {
                    if print_as_you_go {
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "{}", seg.text)?;
                        out.flush()?;
                    }
                    finals.push(seg);
                }
            }
            Ok(())
        };
        // 100 ms chunks, as a microphone would deliver them.
        for (i, chunk) in samples.chunks(audio::ms_to_samples(100)).enumerate() {
            let pushed = s.push(chunk, &mut events);
            emit(&mut events, &mut finals)?;
            pushed?;
            if let Some(b) = &bar {
                b.set_position(((i + 1) * chunk.len() * 100 / total).min(100) as u64);
            }
        }
        let finished = s.finish(&mut events);
        emit(&mut events, &mut finals)?;
        finished?;
        finals
    } else if let Mode::Speech = mode {
        transcriber.transcribe_speech(&samples, options, &job)?
    } else {
        transcriber.transcribe_with(&samples, options, &job)?
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(load_ms) = timings {
        let line = serde_json::json!({
            "file": file,
            "audio_ms": audio::samples_to_ms(samples.len()),
            "load_ms": load_ms,
            "decode_ms": decode_ms,
            "transcribe_ms": transcribe_start.elapsed().as_secs_f64() * 1000.0,
            "encoder_passes": job.stats.encoder_passes(),
            "encoded_ms": job.stats.encoded_ms(),
            "decoder_steps": job.stats.decoder_steps(),
            "mode": match mode { Mode::Full => "full", Mode::Speech => "vad", Mode::Stream { .. } => "stream" },
        });
        eprintln!("{line}");
    }
    Ok(segments)
}

/// A progress bar on stderr, only when a person is watching it.
fn progress_bar(file: &Path) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(100);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos:>3}% {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    Some(bar)
}
