//! `sotto note …`, `sotto search`, `sotto export`: the notes library from the command line.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use sotto::asr::{Job, Segment, TranscribeOptions, Transcriber};
use sotto::export::{Format, markdown, render};
use sotto::notes::{EmbedderFiles, Library, SearchMode};
use sotto::paths;
use sotto::store::{NewNote, Source};

/// Manage voice notes.
#[derive(Subcommand)]
pub enum NoteCommand {
    /// Save a note from text, a text file or an audio file; prints the new id.
    Add(AddArgs),
    /// Show a note with its timed segments.
    Show {
        /// Note id.
        id: i64,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// List notes, newest first.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Delete a note (and its recording).
    Delete {
        /// Note id.
        id: i64,
    },
    /// Write a note's audio as a 16 kHz mono WAV file.
    Audio {
        /// Note id.
        id: i64,
        /// The WAV file to write.
        #[arg(long, value_name = "FILE.wav")]
        out: PathBuf,
        /// Start of the excerpt, in milliseconds [default: the beginning].
        #[arg(long, value_name = "N")]
        from_ms: Option<u64>,
        /// End of the excerpt, in milliseconds [default: the end].
        #[arg(long, value_name = "N")]
        to_ms: Option<u64>,
    },
}

/// What a new note is made from (exactly one).
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct AddArgs {
    /// The note's text.
    #[arg(long)]
    text: Option<String>,
    /// A UTF-8 text file.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// An audio file to transcribe (timestamps are kept per segment, the audio encrypted).
    #[arg(long, value_name = "FILE")]
    audio: Option<PathBuf>,
}

/// `sotto search` arguments.
#[derive(Args)]
pub struct SearchArgs {
    /// Words, "exact phrases", prefix*; or a question in your own words (meaning search).
    query: String,
    /// Ranking: hybrid (default) fuses keyword and meaning rankings.
    #[arg(long, value_enum, default_value_t = SearchMode::Hybrid)]
    mode: SearchMode,
    /// Most results.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Print [{"id", "title", "score", "snippet"}], best first.
    #[arg(long)]
    json: bool,
}

/// `sotto export` arguments.
#[derive(Args)]
pub struct ExportArgs {
    /// Note id.
    id: i64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Md)]
    format: ExportFormat,
}

/// Note export formats.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Markdown: title, text, timed segments.
    Md,
    /// Plain text.
    Txt,
    /// SubRip subtitles of the segments.
    Srt,
    /// WebVTT subtitles of the segments.
    Vtt,
    /// The whole note as JSON.
    Json,
}

/// The data dir: `--data-dir`, `$SOTTO_DATA_DIR`, else the platform data dir.
pub fn data_dir(arg: Option<PathBuf>) -> PathBuf {
    arg.unwrap_or_else(|| dirs::data_dir().map(|d| d.join("sotto")).unwrap_or_else(|| PathBuf::from(".sotto")))
}

fn passphrase(prompt: &str) -> Result<String> {
    if let Ok(p) = std::env::var("SOTTO_PASSPHRASE") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt).context("cannot read the passphrase");
    }
    bail!("the notes are encrypted: set SOTTO_PASSPHRASE or run in a terminal to be asked")
}

/// `sotto vault …`: how the notes are unlocked.
#[derive(Subcommand)]
pub enum VaultCommand {
    /// Keep the key in the OS keyring so notes open without the passphrase (which keeps working).
    KeyringOn,
    /// Remove the key from the OS keyring.
    KeyringOff,
    /// Change the passphrase (the new one is read from $SOTTO_NEW_PASSPHRASE or a prompt).
    Passphrase,
}

/// Run a `vault` subcommand.
pub fn vault_cmd(command: VaultCommand, dir: &Path) -> Result<bool> {
    match command {
        VaultCommand::KeyringOn => sotto::vault::enable_keyring(dir, &passphrase("Passphrase: ")?)?,
        VaultCommand::KeyringOff => sotto::vault::disable_keyring(dir)?,
        VaultCommand::Passphrase => {
            let old = passphrase("Current passphrase: ")?;
            let new = match std::env::var("SOTTO_NEW_PASSPHRASE") {
                Ok(p) => p,
                Err(_) if std::io::stdin().is_terminal() => rpassword::prompt_password("New passphrase: ")?,
                Err(_) => bail!("set SOTTO_NEW_PASSPHRASE or run in a terminal to be asked"),
            };
            sotto::vault::change_passphrase(dir, &old, &new)?;
        }
    }
    Ok(true)
}

/// The MiniLM files in the model dirs, if installed.
fn embedder_files() -> Option<EmbedderFiles> {
    paths::model_dirs().into_iter().find_map(|d| {
        let files = EmbedderFiles {
            onnx: d.join("all-MiniLM-L6-v2.onnx"),
            tokenizer: d.join("all-MiniLM-L6-v2.tokenizer.json"),
        };
        (files.onnx.is_file() && files.tokenizer.is_file()).then_some(files)
    })
}

/// Unlock the library of `dir`: $SOTTO_PASSPHRASE, else the OS keyring if enabled, else a prompt.
pub fn open(dir: &Path, with_embedder: bool) -> Result<Library> {
    let files = if with_embedder { embedder_files() } else { None };
    // An explicit passphrase wins; then the keyring if the user turned it on; then a prompt.
    if std::env::var_os("SOTTO_PASSPHRASE").is_none() && sotto::vault::keyring_enabled(dir) {
        match sotto::vault::unlock_with_keyring(dir) {
            Ok(key) => return Ok(Library::open_with_key(dir, &key, files.as_ref())?),
            Err(e) => tracing::warn!("{e}"),
        }
    }
    Ok(Library::open(dir, &passphrase("Passphrase for Sotto's notes: ")?, files.as_ref())?)
}

/// Run a `note` subcommand.
pub fn note(command: NoteCommand, dir: &Path) -> Result<bool> {
    match command {
        NoteCommand::Add(args) => {
            let new = if let Some(text) = args.text {
                NewNote { body: text, source: Some(Source::Text), ..NewNote::default() }
            } else if let Some(file) = args.file {
                let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
                let body = String::from_utf8(bytes).map_err(|e| {
                    anyhow!(
                        "{}: not UTF-8 text (invalid byte at offset {})",
                        file.display(),
                        e.utf8_error().valid_up_to()
                    )
                })?;
                NewNote { body, source: Some(Source::Text), ..NewNote::default() }
            } else {
                let file = args.audio.expect("clap requires one source");
                let transcriber = load_default_model()?;
                let lib = open(dir, true)?;
                recover(&lib, Some(&transcriber));
                let id = lib.add_audio_file(&file, &transcriber, &TranscribeOptions::default(), &Job::default())?;
                println!("{id}");
                return Ok(true);
            };
            if new.body.trim().is_empty() {
                bail!("the note is empty (no text)");
            }
            let lib = open_recovering(dir, true)?;
            let id = lib.add(&new)?;
            println!("{id}");
            Ok(true)
        }
        NoteCommand::Show { id, json } => {
            let note = open_recovering(dir, false)?.get(id)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&note)?);
            } else {
                print!("{}", markdown(&note));
            }
            Ok(true)
        }
        NoteCommand::List { json } => {
            let notes = open_recovering(dir, false)?.list()?;
            if json {
                println!("{}", serde_json::to_string(&notes)?);
            } else {
                for n in notes {
                    println!("{:>6}  {:<9} {}", n.id, format!("{:?}", n.source).to_lowercase(), n.title);
                }
            }
            Ok(true)
        }
        NoteCommand::Delete { id } => {
            open(dir, true)?.delete(id)?;
            Ok(true)
        }
        NoteCommand::Audio { id, out, from_ms, to_ms } => {
            let wav = open(dir, false)?.recording_wav(id, from_ms.unwrap_or(0), to_ms.unwrap_or(u64::MAX))?;
            std::fs::write(&out, wav).with_context(|| format!("cannot write {}", out.display()))?;
            Ok(true)
        }
    }
}

fn load_default_model() -> Result<Transcriber> {
    let model = paths::default_model()
        .map_err(|_| anyhow!("no speech model installed; run `sotto models fetch whisper-tiny.en`"))?;
    Ok(Transcriber::load(&model)?)
}

/// Open the library and turn recordings a crash interrupted into notes first.
fn open_recovering(dir: &Path, with_embedder: bool) -> Result<Library> {
    let lib = open(dir, with_embedder)?;
    recover(&lib, None);
    Ok(lib)
}

/// Recover interrupted recordings, one stderr line per note made or recording kept unread. The
/// model is loaded only when there is something to recover; trouble here never stops the command.
pub fn recover(lib: &Library, transcriber: Option<&Transcriber>) {
    let pending = match lib.interrupted() {
        Ok(pending) => pending,
        Err(e) => {
            eprintln!("sotto: warning: cannot look for interrupted recordings: {e}");
            return;
        }
    };
    for p in &pending {
        if let Some(e) = &p.error {
            eprintln!("sotto: warning: interrupted recording {} cannot be read (kept): {e}", p.file);
        }
    }
    if pending.iter().all(|p| p.error.is_some()) {
        return;
    }
    let loaded;
    let transcriber = match transcriber {
        Some(t) => t,
        None => match load_default_model() {
            Ok(t) => {
                loaded = t;
                &loaded
            }
            Err(e) => {
                eprintln!("sotto: warning: interrupted recordings wait to be recovered: {e}");
                return;
            }
        },
    };
    match lib.recover_interrupted(transcriber, &TranscribeOptions::default()) {
        Ok(ids) => {
            for id in ids {
                eprintln!("sotto: recovered an interrupted recording as note {id}");
            }
        }
        Err(e) => eprintln!("sotto: warning: recovering interrupted recordings failed: {e}"),
    }
}

/// Run `sotto search`.
pub fn search(args: SearchArgs, dir: &Path) -> Result<bool> {
    if args.mode == SearchMode::Meaning && embedder_files().is_none() {
        bail!("search by meaning needs the MiniLM model (run `sotto models fetch minilm-l6-v2`)");
    }
    let hits = open(dir, true)?.search(&args.query, args.mode, args.limit)?;
    if args.json {
        println!("{}", serde_json::to_string(&hits)?);
    } else {
        for h in hits {
            println!("{:>6}  {:.3}  {}\n        {}", h.id, h.score, h.title, h.snippet);
        }
    }
    Ok(true)
}

/// Run `sotto export`.
pub fn export(args: ExportArgs, dir: &Path) -> Result<bool> {
    let note = open(dir, false)?.get(args.id)?;
    let segments = if note.segments.is_empty() {
        // A typed note exports as one cue.
        vec![Segment { start_ms: 0, end_ms: 0, text: note.body.clone() }]
    } else {
        note.segments.clone()
    };
    let out = match args.format {
        ExportFormat::Md => markdown(&note),
        ExportFormat::Txt => format!("{}\n", note.body.trim_end()),
        ExportFormat::Srt => render(&segments, Format::Srt),
        ExportFormat::Vtt => render(&segments, Format::Vtt),
        ExportFormat::Json => format!("{}\n", serde_json::to_string_pretty(&note)?),
    };
    print!("{out}");
    Ok(true)
}
