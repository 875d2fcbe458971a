//! Voice commands on the labelled set `tests/data/commands.tsv` (224 utterances, said on Monday
//! 2026-12-07 08:30 in New York), by the rules alone and with the real MiniLM embedder; then
//! commands carried out on a real encrypted library.

mod common;

use std::collections::BTreeMap;

use common::*;
use jiff::ZonedDateTime;
use sotto::assistant::{Assistant, Intent, Outcome, Parsed, format_due};
use sotto::notes::Library;
use sotto::store::ReminderState;
use sotto::text::Embedder;
use sotto::text::wer::normalize;

struct Row {
    intent: Intent,
    text: String,
    due: Option<String>,
    slot: Option<String>,
}

fn rows() -> Vec<Row> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/commands.tsv");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let opt = |i: usize| f.get(i).filter(|s| !s.is_empty()).map(|s| s.to_string());
            Row { intent: f[0].parse().unwrap(), text: f[1].to_string(), due: opt(2), slot: opt(3) }
        })
        .collect()
}

fn now() -> ZonedDateTime {
    "2026-12-07T08:30:00[America/New_York]".parse().expect("the time zone database (Debian tzdata)")
}

fn embedder() -> Embedder {
    let files = minilm();
    Embedder::load(&files.onnx, &files.tokenizer).unwrap()
}

/// Intent accuracy, exact due times among reminders with one, slot accuracy, and the
/// confusion matrix (printed).
fn evaluate(assistant: &Assistant, label: &str) -> (f64, f64, f64, usize) {
    let rows = rows();
    let mut confusion: BTreeMap<(Intent, Intent), usize> = BTreeMap::new();
    let (mut right, mut due_right, mut dues, mut slot_right, mut slots, mut hijacked) = (0, 0, 0, 0, 0, 0);
    for row in &rows {
        let p: Parsed = assistant.parse(&row.text, &now());
        *confusion.entry((row.intent, p.intent)).or_default() += 1;
        if p.intent == row.intent {
            right += 1;
        } else {
            eprintln!("[{label}] {:?}: expected {}, got {} ({:.2})", row.text, row.intent, p.intent, p.confidence);
        }
        if row.intent == Intent::None && p.intent != Intent::None {
            hijacked += 1;
        }
        if row.intent == Intent::CreateReminder {
            dues += 1;
            let got = p.slots.due.as_ref().map(format_due);
            if got == row.due {
                due_right += 1;
            } else {
                eprintln!("[{label}] {:?}: due {:?}, got {got:?}", row.text, row.due);
            }
        }
        if let Some(slot) = &row.slot {
            slots += 1;
            let got = p.slots.text.as_ref().or(p.slots.query.as_ref());
            if got.is_some_and(|g| normalize(g) == normalize(slot)) {
                slot_right += 1;
            } else {
                eprintln!("[{label}] {:?}: slot {slot:?}, got {got:?}", row.text);
            }
        }
    }
    eprintln!("[{label}] confusion (rows: expected, columns: got):");
    eprintln!("{:>16} {}", "", Intent::ALL.map(|i| format!("{:>8.8}", i.as_str())).join(" "));
    for e in Intent::ALL {
        let cells = Intent::ALL.map(|g| format!("{:>8}", confusion.get(&(e, g)).copied().unwrap_or(0)));
        eprintln!("{:>16} {}", e.as_str(), cells.join(" "));
    }
    let n = rows.len() as f64;
    let (intents, due, slot) = (right as f64 / n, due_right as f64 / dues as f64, slot_right as f64 / slots as f64);
    eprintln!(
        "[{label}] {} utterances: intents {:.1}%, due times {:.1}% of {dues}, slots {:.1}% of {slots}, dictation taken for a command {hijacked}",
        rows.len(),
        intents * 100.0,
        due * 100.0,
        slot * 100.0
    );
    (intents, due, slot, hijacked)
}

#[test]
fn the_labelled_set_by_rules_alone() {
    assert!(rows().len() >= 200);
    let (intents, due, slot, hijacked) = evaluate(&Assistant::rules_only(), "rules");
    assert!(intents >= 0.95, "intents {intents:.3}");
    assert!(due >= 0.95, "due times {due:.3}");
    assert!(slot >= 0.9, "slots {slot:.3}");
    assert_eq!(hijacked, 0, "plain dictation must stay dictation");
}

#[test]
fn the_labelled_set_with_the_embedder() {
    let assistant = Assistant::with_embedder(embedder()).unwrap();
    let (intents, due, _, hijacked) = evaluate(&assistant, "rules+embedder");
    assert!(intents >= 0.95, "intents {intents:.3}");
    assert!(due >= 0.95, "due times {due:.3}");
    assert_eq!(hijacked, 0, "plain dictation must stay dictation");
    // Commands the rules do not know, found by meaning.
    for (text, intent) in [
        ("is there anything in my notes about the boiler", Intent::SearchNotes),
        ("what do I have to remember tomorrow", Intent::ListReminders),
        ("quit reminding me about the dentist", Intent::CancelReminder),
    ] {
        let p = assistant.parse(text, &now());
        assert_eq!(p.intent, intent, "{text}: {p:?}");
        assert_eq!(Assistant::rules_only().parse(text, &now()).intent, Intent::None, "no rule knows {text:?}");
        assert!(
            p.confidence != Assistant::rules_only().parse("remind me at 5 to go", &now()).confidence,
            "by meaning: {p:?}"
        );
    }
    let p = assistant.parse("is there anything in my notes about the boiler", &now());
    assert_eq!(p.slots.query.as_deref(), Some("the boiler"));
}

#[test]
fn commands_are_carried_out_on_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(dir.path(), "pass phrase", Some(&minilm())).unwrap();
    let assistant = Assistant::with_embedder(embedder()).unwrap();
    let run = |text: &str| assistant.perform(&library, &assistant.parse(text, &now()));

    let Outcome::ReminderCreated { reminder } = run("Remind me to call Ana at 5 pm").unwrap() else { panic!() };
    assert_eq!(reminder.text, "call Ana");
    assert_eq!(reminder.due_at, now().with().hour(17).minute(0).build().unwrap().timestamp().as_second());
    run("Remind me to water the plants tomorrow morning").unwrap();
    let Outcome::NoteCreated { id } = run("Take a note: the boiler needs a service in spring").unwrap() else {
        panic!()
    };
    let Outcome::Found { hits } = run("Search my notes for the boiler").unwrap() else { panic!() };
    assert_eq!(hits.first().map(|h| h.id), Some(id));
    let Outcome::Reminders { reminders } = run("What are my reminders?").unwrap() else { panic!() };
    assert_eq!(reminders.len(), 2);
    // Matched by meaning: "phone" for "call", "flowers" for "plants".
    let Outcome::ReminderCancelled { reminder } = run("Cancel the reminder about watering the flowers").unwrap() else {
        panic!()
    };
    assert_eq!((reminder.text.as_str(), reminder.state), ("water the plants", ReminderState::Cancelled));
    assert!(matches!(
        run("Cancel the reminder about the tax return"),
        Err(sotto::assistant::AssistantError::NoSuchReminder(_))
    ));
    assert!(matches!(run("Remind me to buy milk"), Err(sotto::assistant::AssistantError::NoTime)));
    assert!(matches!(run("I'll call Ana at 5 pm"), Ok(Outcome::Dictation)));
    assert_eq!(library.reminders(Some(ReminderState::Pending)).unwrap().len(), 1);
}

/// `text` spoken by espeak-ng (Debian), as a 16 kHz WAV in `dir`.
fn spoken(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let raw = dir.join(format!("{name}-22k.wav"));
    let ok =
        std::process::Command::new("espeak-ng").args(["-v", "en-us", "-s", "150", "-w"]).arg(&raw).arg(text).status();
    assert!(ok.is_ok_and(|s| s.success()), "espeak-ng (models/fetch-fixtures installs it)");
    let samples = sotto::audio::load_file(&raw).unwrap();
    let wav = dir.join(format!("{name}.wav"));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav, spec).unwrap();
    for s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    wav
}

#[test]
fn a_spoken_command_becomes_a_stored_reminder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let wav = spoken(dir.path(), "milk", "Remind me in twenty minutes to buy some milk.");
    let before = jiff::Timestamp::now().as_second();
    let out = sotto_notes(&["assistant", "run", "--audio", wav.to_str().unwrap(), "--json"], &data, "pass phrase");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["parsed"]["intent"], "create_reminder", "{json}");
    let out = sotto_notes(&["reminders", "list", "--json"], &data, "pass phrase");
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let [reminder] = list.as_array().unwrap().as_slice() else { panic!("{list}") };
    assert_eq!(reminder["text"], "buy some milk");
    let due = reminder["due_at"].as_i64().unwrap() - before;
    assert!((1195..=1260).contains(&due), "due in {due} s, not 20 min");
}

#[test]
fn the_custom_vocabulary_corrects_a_misheard_word_on_a_real_clip() {
    // LibriVox (Sense and Sensibility): "he was not an ill disposed young man".
    let (path, _) = librivox().into_iter().find(|(p, _)| p.to_string_lossy().contains("0880")).unwrap();
    let audio = sotto::audio::load_file(&path).unwrap();
    let rules =
        sotto::assistant::cleanup::CleanupRules { vocabulary: vec!["ill-disposed".into()], ..Default::default() };
    let hear = |prompt: Option<String>| {
        let options = sotto::asr::TranscribeOptions { threads: 1, initial_prompt: prompt, ..Default::default() };
        text_of(&transcriber().transcribe(&audio, &options).unwrap()).to_lowercase()
    };
    let (without, with) = (hear(None), hear(rules.prompt()));
    eprintln!("without the vocabulary: {without:?}\nwith it: {with:?}");
    assert!(!without.contains("ill-disposed") && !without.contains("ill disposed"), "misheard without it: {without:?}");
    assert!(with.contains("ill-disposed"), "{with:?}");
}

#[test]
fn the_custom_vocabulary_spells_a_name_right() {
    let dir = tempfile::tempdir().unwrap();
    let wav = spoken(dir.path(), "name", "Send the contract to Rui Quintela tomorrow.");
    let audio = sotto::audio::load_file(&wav).unwrap();
    let rules =
        sotto::assistant::cleanup::CleanupRules { vocabulary: vec!["Rui Quintela".into()], ..Default::default() };
    let hear = |prompt: Option<String>| {
        let options = sotto::asr::TranscribeOptions { threads: 1, initial_prompt: prompt, ..Default::default() };
        text_of(&transcriber().transcribe(&audio, &options).unwrap())
    };
    let (without, with) = (hear(None), hear(rules.prompt()));
    eprintln!("without the vocabulary: {without:?}\nwith it: {with:?}");
    assert!(!without.contains("Quintela"), "the name is misheard without it: {without:?}");
    assert!(with.contains("Rui Quintela"), "{with:?}");
}
