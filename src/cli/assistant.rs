//! `sotto assistant …`: voice commands from text or a recording.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use clap::Subcommand;
use jiff::ZonedDateTime;
use jiff::tz::TimeZone;
use sotto::assistant::{Assistant, Outcome, Parsed, format_due, parse_instant};
use sotto::audio::load_file;
use sotto::text::Embedder;

/// Understand a command, or understand and carry it out.
#[derive(Subcommand)]
pub enum AssistantCommand {
    /// Print what TEXT asks (nothing is saved): intent, slots (text, due, query), confidence.
    Parse {
        /// The utterance, e.g. "remind me to call Ana at 5 pm".
        text: String,
        /// The moment it was said (RFC 3339, e.g. 2026-12-07T08:30:00-05:00) [default: now].
        /// Times are read in the system's time zone ($TZ).
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        /// Print {"intent", "slots": {"text", "due", "query"}, "confidence"}.
        #[arg(long)]
        json: bool,
        /// The rules only, without the embedder's nearest examples.
        #[arg(long)]
        rules_only: bool,
    },
    /// Understand and carry out: save the reminder or note, print the search or the reminders.
    Run {
        /// The utterance.
        #[arg(long, required_unless_present = "audio", conflicts_with = "audio")]
        text: Option<String>,
        /// A recording of it (transcribed first).
        #[arg(long, value_name = "FILE")]
        audio: Option<PathBuf>,
        #[command(flatten)]
        recogniser: super::RecogniserArgs,
        /// Print {"heard", "parsed", "outcome"} as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Run an `assistant` subcommand.
pub fn run(command: AssistantCommand, dir: &Path) -> Result<bool> {
    match command {
        AssistantCommand::Parse { text, now, json, rules_only } => {
            let now = match now {
                Some(s) => parse_now(&s)?,
                None => ZonedDateTime::now(),
            };
            let assistant = if rules_only { Assistant::rules_only() } else { assistant() };
            let parsed = assistant.parse(&text, &now);
            if json {
                println!("{}", serde_json::to_string(&parsed)?);
            } else {
                println!("{}", describe(&parsed));
            }
        }
        AssistantCommand::Run { text, audio, recogniser, json } => {
            let heard = match (text, audio) {
                (Some(t), _) => t,
                (None, Some(file)) => {
                    let model = crate::model_path(recogniser.model.clone())?;
                    let transcriber = sotto::asr::Transcriber::load(&model)?;
                    let samples = load_file(&file).with_context(|| format!("cannot read {}", file.display()))?;
                    let segments = transcriber.transcribe(&samples, &recogniser.options())?;
                    segments.iter().map(|s| s.text.trim()).collect::<Vec<_>>().join(" ")
                }
                (None, None) => unreachable!("clap requires --text or --audio"),
            };
            let assistant = assistant();
            let parsed = assistant.parse(&heard, &ZonedDateTime::now());
            let library = super::notes::open(dir, true)?;
            let outcome = assistant.perform(&library, &parsed)?;
            library.flush()?;
            if json {
                let out = serde_json::json!({ "heard": heard, "parsed": parsed, "outcome": outcome });
                println!("{out}");
            } else {
                eprintln!("heard: {heard}");
                println!("{}", report(&outcome));
            }
        }
    }
    Ok(true)
}

/// The assistant with the embedder where MiniLM is installed (a warning and the rules otherwise).
fn assistant() -> Assistant {
    let Some(files) = super::dirs().embedder_files() else {
        tracing::warn!("no embedding model installed: the assistant uses its rules only");
        return Assistant::rules_only();
    };
    match Embedder::load(&files.onnx, &files.tokenizer).map(Assistant::with_embedder) {
        Ok(Ok(a)) => a,
        Ok(Err(e)) | Err(e) => {
            tracing::warn!("embedding model unusable ({e}): the assistant uses its rules only");
            Assistant::rules_only()
        }
    }
}

/// `--now`: an RFC 3339 instant (read in the system's zone), or jiff's `…[Zone/Name]` form.
fn parse_now(s: &str) -> Result<ZonedDateTime> {
    parse_instant(s).map_err(|e| anyhow!("--now {s:?} is not RFC 3339 (e.g. 2026-12-07T08:30:00-05:00): {e}"))
}

fn describe(p: &Parsed) -> String {
    let mut out = format!("{} ({:.2})", p.intent, p.confidence);
    if let Some(t) = &p.slots.text {
        out += &format!("\n  text:  {t}");
    }
    if let Some(d) = &p.slots.due {
        out += &format!("\n  due:   {} ({})", format_due(d), d.strftime("%A %H:%M"));
    }
    if let Some(q) = &p.slots.query {
        out += &format!("\n  query: {q}");
    }
    out
}

fn report(outcome: &Outcome) -> String {
    let when = |t: i64| {
        jiff::Timestamp::from_second(t)
            .map(|t| t.to_zoned_datetime(TimeZone::system()).strftime("%a %Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|_| t.to_string())
    };
    match outcome {
        Outcome::ReminderCreated { reminder } => {
            format!("reminder {}: {} — {}", reminder.id, reminder.text, when(reminder.due_at))
        }
        Outcome::NoteCreated { id } => format!("note {id} saved"),
        Outcome::Found { hits } if hits.is_empty() => "no note matches".to_string(),
        Outcome::Found { hits } => {
            hits.iter().map(|h| format!("{:>6}  {}  {}", h.id, h.title, h.snippet)).collect::<Vec<_>>().join("\n")
        }
        Outcome::Reminders { reminders } if reminders.is_empty() => "no pending reminders".to_string(),
        Outcome::Reminders { reminders } => reminders
            .iter()
            .map(|r| format!("{:>6}  {}  {}", r.id, when(r.due_at), r.text))
            .collect::<Vec<_>>()
            .join("\n"),
        Outcome::ReminderCancelled { reminder } => format!("reminder {} cancelled: {}", reminder.id, reminder.text),
        Outcome::Dictation => "not a command (plain dictation): nothing done".to_string(),
    }
}
