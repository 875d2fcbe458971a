//! `sotto note …`, `sotto search`, `sotto export`: the notes library from the command line.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use sotto::asr::{Job, TranscribeOptions, Transcriber};
use sotto::export::{NoteFormat, markdown};
use sotto::notes::{EmbedderFiles, Library, NotesError, SearchMode};
use sotto::store::{DB_FILE, ListOptions, NewNote, NoteEdit, SortBy, Source};
use sotto::vault::{self, Credential, RecoveryKey};
use zeroize::Zeroizing;

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
    /// List notes, newest first unless told otherwise.
    List(ListArgs),
    /// Change a note's title and/or text (keyword and meaning search follow).
    Edit(EditArgs),
    /// Add or remove a note's tags; prints its tags.
    Tag {
        /// Note id.
        id: i64,
        /// Tag to add (repeatable); tags are case-insensitive, a leading # is dropped.
        #[arg(long, value_name = "TAG")]
        add: Vec<String>,
        /// Tag to remove (repeatable).
        #[arg(long, value_name = "TAG")]
        remove: Vec<String>,
        /// Print ["tag", …].
        #[arg(long)]
        json: bool,
    },
    /// List every tag with its number of notes.
    Tags {
        /// Print [{"tag", "notes"}].
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

/// `sotto note list` arguments.
#[derive(Args)]
pub struct ListArgs {
    /// Order by creation, last edit or title.
    #[arg(long, value_enum, default_value_t = SortArg::Created)]
    sort: SortArg,
    /// Direction [default: desc for created and updated, asc for title].
    #[arg(long, value_enum)]
    order: Option<Order>,
    /// Most notes to print.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Notes to skip first (with --limit: pages).
    #[arg(long, value_name = "N", default_value_t = 0)]
    offset: usize,
    /// Only notes with this tag.
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

/// `--sort` of `sotto note list` (the core's [`SortBy`]).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortArg {
    /// When the note was made.
    Created,
    /// When it was last edited.
    Updated,
    /// Its title, case-insensitively.
    Title,
}

impl From<SortArg> for SortBy {
    fn from(arg: SortArg) -> Self {
        match arg {
            SortArg::Created => SortBy::Created,
            SortArg::Updated => SortBy::Updated,
            SortArg::Title => SortBy::Title,
        }
    }
}

/// A list's direction.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Order {
    /// Smallest first (oldest, A to Z).
    Asc,
    /// Largest first (newest, Z to A).
    Desc,
}

/// `sotto note edit` arguments.
#[derive(Args)]
pub struct EditArgs {
    /// Note id.
    id: i64,
    /// New title ("" derives it from the text again).
    #[arg(long, required_unless_present_any = ["text", "file"])]
    title: Option<String>,
    /// New text.
    #[arg(long, alias = "body", conflicts_with = "file")]
    text: Option<String>,
    /// New text from a UTF-8 file.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
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
    #[arg(long, value_enum, default_value_t = ModeArg::Hybrid)]
    mode: ModeArg,
    /// Most results.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Print [{"id", "title", "score", "snippet"}], best first.
    #[arg(long)]
    json: bool,
}

/// `--mode` of `sotto search` (the core's [`SearchMode`]).
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ModeArg {
    /// Keyword and meaning rankings fused (reciprocal-rank fusion).
    Hybrid,
    /// FTS5 words, "phrases" and prefix*.
    Keyword,
    /// Sentence-embedding similarity: a question in your own words.
    Meaning,
}

impl From<ModeArg> for SearchMode {
    fn from(arg: ModeArg) -> Self {
        match arg {
            ModeArg::Hybrid => SearchMode::Hybrid,
            ModeArg::Keyword => SearchMode::Keyword,
            ModeArg::Meaning => SearchMode::Meaning,
        }
    }
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

impl From<ExportFormat> for NoteFormat {
    fn from(arg: ExportFormat) -> Self {
        match arg {
            ExportFormat::Md => NoteFormat::Md,
            ExportFormat::Txt => NoteFormat::Txt,
            ExportFormat::Srt => NoteFormat::Srt,
            ExportFormat::Vtt => NoteFormat::Vtt,
            ExportFormat::Json => NoteFormat::Json,
        }
    }
}

/// The data dir: `--data-dir`, `$SOTTO_DATA_DIR`, else the platform data dir.
pub fn data_dir(arg: Option<PathBuf>) -> PathBuf {
    arg.unwrap_or_else(sotto::paths::default_data_dir)
}

/// The passphrase: $SOTTO_PASSPHRASE, else asked on the terminal.
fn passphrase(prompt: &str) -> Result<Zeroizing<String>> {
    if let Ok(p) = std::env::var("SOTTO_PASSPHRASE") {
        return Ok(Zeroizing::new(p));
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt).map(Zeroizing::new).context("cannot read the passphrase");
    }
    bail!("the notes are encrypted: set SOTTO_PASSPHRASE or run in a terminal to be asked")
}

/// A new passphrase: `$var`, else typed twice on the terminal (a typo would lock the notes).
fn new_passphrase(var: &str, prompt: &str) -> Result<Zeroizing<String>> {
    if let Ok(p) = std::env::var(var) {
        return Ok(Zeroizing::new(p));
    }
    if !std::io::stdin().is_terminal() {
        bail!("set {var} or run in a terminal to be asked for the new passphrase");
    }
    for _ in 0..3 {
        let first = Zeroizing::new(rpassword::prompt_password(prompt).context("cannot read the passphrase")?);
        if first.is_empty() {
            eprintln!("The passphrase is empty; try again.");
            continue;
        }
        let again =
            Zeroizing::new(rpassword::prompt_password("Type it again: ").context("cannot read the passphrase")?);
        if first == again {
            return Ok(first);
        }
        eprintln!("The two differ; try again.");
    }
    bail!("no new passphrase (typed differently three times)")
}

/// The passphrase as a credential (moved, not copied: the credential wipes it when dropped).
fn by_passphrase(mut passphrase: Zeroizing<String>) -> Credential {
    Credential::Passphrase(std::mem::take(&mut *passphrase))
}

/// The recovery key: $SOTTO_RECOVERY_KEY, else asked on the terminal.
fn recovery_key() -> Result<RecoveryKey> {
    let text = match std::env::var("SOTTO_RECOVERY_KEY") {
        Ok(k) => k,
        Err(_) if std::io::stdin().is_terminal() => {
            rpassword::prompt_password("Recovery key: ").context("cannot read the recovery key")?
        }
        Err(_) => bail!("set SOTTO_RECOVERY_KEY or run in a terminal to be asked for the recovery key"),
    };
    Ok(text.parse()?)
}

/// Show a new vault's recovery key, once, on stderr (stdout stays the command's output).
fn show_new_recovery_key(key: &RecoveryKey) {
    eprintln!(
        "sotto: your notes are encrypted. Recovery key (shown once, write it down and keep it apart from this computer):\n\n    {key}\n\n\
         It sets a new passphrase if you forget yours: `sotto vault recover`. `sotto vault recovery-key` shows it again while you know the passphrase."
    );
}

/// `sotto vault …`: how the notes are unlocked.
#[derive(Subcommand)]
pub enum VaultCommand {
    /// Keep the key in the OS keyring so notes open without the passphrase (which keeps working).
    /// Linux: the desktop's Secret Service, else the kernel keyring (cleared at reboot).
    KeyringOn,
    /// Remove the key from the OS keyring.
    KeyringOff,
    /// Change the passphrase (the new one is read from $SOTTO_NEW_PASSPHRASE or typed twice).
    Passphrase,
    /// Print the recovery key (after unlocking); a vault made before recovery keys gets one now.
    RecoveryKey,
    /// Forgot the passphrase: set a new one with the recovery key ($SOTTO_RECOVERY_KEY or a
    /// prompt; the new passphrase from $SOTTO_NEW_PASSPHRASE or typed twice).
    Recover,
}

/// Run a `vault` subcommand.
pub fn vault_cmd(command: VaultCommand, dir: &Path) -> Result<bool> {
    match command {
        VaultCommand::KeyringOn => {
            let store = vault::enable_keyring(dir, &by_passphrase(passphrase("Passphrase: ")?))?;
            eprintln!("sotto: the notes' key is now in {store}");
        }
        VaultCommand::KeyringOff => vault::disable_keyring(dir)?,
        VaultCommand::Passphrase => {
            let old = passphrase("Current passphrase: ")?;
            // Checked before the new one is asked for.
            vault::check(dir, &by_passphrase(old.clone()))?;
            let new = new_passphrase("SOTTO_NEW_PASSPHRASE", "New passphrase: ")?;
            vault::change_passphrase(dir, &old, &new)?;
        }
        VaultCommand::RecoveryKey => {
            let key = with_credential(dir, |credential| Ok(vault::recovery_key(dir, credential)?))?;
            println!("{key}");
        }
        VaultCommand::Recover => {
            let key = recovery_key()?;
            vault::check(dir, &Credential::RecoveryKey(key.clone()))?;
            let new = new_passphrase("SOTTO_NEW_PASSPHRASE", "New passphrase: ")?;
            vault::recover(dir, &key, &new)?;
            eprintln!(
                "sotto: the new passphrase is set (the old one no longer opens the notes; the recovery key still does)"
            );
        }
    }
    Ok(true)
}

/// The MiniLM files in the model dirs, if installed.
fn embedder_files() -> Option<EmbedderFiles> {
    super::dirs().embedder_files()
}

/// Unlock `dir` with `unlock`, given a credential: $SOTTO_PASSPHRASE; else the OS keyring if
/// the user turned it on (where it fails — no entry, no keyring service, a key that does not
/// open this vault — a warning, then the passphrase); else a prompt (on a data dir without notes,
/// for a new passphrase, typed twice). The keyring is read once.
fn with_credential<T>(dir: &Path, unlock: impl Fn(&Credential) -> Result<T>) -> Result<T> {
    if std::env::var_os("SOTTO_PASSPHRASE").is_none() && vault::keyring_enabled(dir) {
        match unlock(&Credential::Keyring) {
            Ok(unlocked) => return Ok(unlocked),
            Err(e) if keyring_failed(&e) => tracing::warn!("{e}"),
            Err(e) => return Err(e),
        }
    }
    if std::env::var_os("SOTTO_PASSPHRASE").is_none() && vault::read(dir)?.is_none() && !dir.join(DB_FILE).exists() {
        if std::io::stdin().is_terminal() {
            eprintln!("sotto: no notes in {} yet; choose a passphrase to encrypt them.", dir.display());
        }
        return unlock(&by_passphrase(new_passphrase("SOTTO_PASSPHRASE", "New passphrase for Sotto's notes: ")?));
    }
    unlock(&by_passphrase(passphrase("Passphrase for Sotto's notes: ")?))
}

/// Whether `e` says the keyring could not unlock (so the passphrase is asked for instead).
fn keyring_failed(e: &anyhow::Error) -> bool {
    let vault = e.downcast_ref::<vault::VaultError>().or_else(|| match e.downcast_ref::<NotesError>() {
        Some(NotesError::Vault(v)) => Some(v),
        _ => None,
    });
    matches!(vault, Some(vault::VaultError::Keyring(_) | vault::VaultError::NotInKeyring(_)))
}

/// Unlock the library of `dir` (see `with_credential`); a new library's recovery key is shown once.
pub fn open(dir: &Path, with_embedder: bool) -> Result<Library> {
    let files = if with_embedder { embedder_files() } else { None };
    let opened = with_credential(dir, |credential| Ok(Library::unlock(dir, credential, files.as_ref())?))?;
    if let Some(key) = &opened.recovery_key {
        show_new_recovery_key(key);
    }
    Ok(opened.library)
}

/// Run a `note` subcommand.
pub fn note(command: NoteCommand, dir: &Path) -> Result<bool> {
    match command {
        NoteCommand::Add(args) => {
            let new = if let Some(text) = args.text {
                NewNote { body: text, source: Some(Source::Text), ..NewNote::default() }
            } else if let Some(file) = args.file {
                NewNote { body: read_text(&file)?, source: Some(Source::Text), ..NewNote::default() }
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
        NoteCommand::List(args) => {
            let descending = match args.order {
                Some(order) => order == Order::Desc,
                None => args.sort != SortArg::Title,
            };
            let options = ListOptions {
                sort: args.sort.into(),
                descending,
                limit: args.limit,
                offset: args.offset,
                tag: args.tag,
            };
            let notes = open_recovering(dir, false)?.list_notes(&options)?;
            if args.json {
                println!("{}", serde_json::to_string(&notes)?);
            } else {
                for n in notes {
                    let tags: String = n.tags.iter().map(|t| format!("  #{t}")).collect();
                    println!("{:>6}  {:<9} {}{tags}", n.id, format!("{:?}", n.source).to_lowercase(), n.title);
                }
            }
            Ok(true)
        }
        NoteCommand::Edit(args) => {
            let body = match (args.text, args.file) {
                (Some(text), _) => Some(text),
                (None, Some(file)) => Some(read_text(&file)?),
                (None, None) => None,
            };
            open(dir, true)?.edit(args.id, &NoteEdit { title: args.title, body })?;
            Ok(true)
        }
        NoteCommand::Tag { id, add, remove, json } => {
            let tags = open(dir, false)?.retag(id, &add, &remove)?;
            if json {
                println!("{}", serde_json::to_string(&tags)?);
            } else {
                for t in tags {
                    println!("{t}");
                }
            }
            Ok(true)
        }
        NoteCommand::Tags { json } => {
            let tags = open(dir, false)?.tags()?;
            if json {
                let list: Vec<_> = tags.iter().map(|(t, n)| serde_json::json!({ "tag": t, "notes": n })).collect();
                println!("{}", serde_json::to_string(&list)?);
            } else {
                for (t, n) in tags {
                    println!("{n:>6}  {t}");
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

/// A UTF-8 text file's content; an error names the first bad byte.
fn read_text(file: &Path) -> Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow!("{}: not UTF-8 text (invalid byte at offset {})", file.display(), e.utf8_error().valid_up_to())
    })
}

fn load_default_model() -> Result<Transcriber> {
    let model = super::dirs()
        .default_model()
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
    let mode = SearchMode::from(args.mode);
    if mode == SearchMode::Meaning && embedder_files().is_none() {
        bail!("search by meaning needs the MiniLM model (run `sotto models fetch minilm-l6-v2`)");
    }
    let hits = open(dir, true)?.search(&args.query, mode, args.limit)?;
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
    let out = sotto::export::note(&note, args.format.into());
    print!("{out}");
    Ok(true)
}
