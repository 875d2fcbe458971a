//! The notes library as the app uses it: edits, tags, pages, settings, reminders, embedder
//! failures and many threads at once. Real SQLCipher files, the real MiniLM embedder, real ONNX
//! graphs for the failures, the real `sotto` binary.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use prost::Message;
use sotto::notes::{EmbedderFiles, Library, NotesError, SearchMode};
use sotto::store::{
    DB_FILE, ListOptions, NewReminder, NoteEdit, ReminderState, Settings, SortBy, Store, StoreError, Theme,
};
use sotto::text::{EmbedError, Embedder};
use sotto::vault::{self, VaultError};
use tract_onnx::pb;

const PASS: &str = "correct horse battery staple";

fn ids(hits: &[sotto::notes::Hit]) -> Vec<i64> {
    hits.iter().map(|h| h.id).collect()
}

#[test]
fn an_edit_moves_keyword_and_meaning_search_to_the_new_text() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(dir.path(), PASS, Some(&minilm())).unwrap();
    let others = [
        "Buy milk, eggs and bread at the grocery store.",
        "The car needs new tires before winter.",
        "Gym plan: squats and a 5 km run.",
    ];
    for b in others {
        lib.add(&text_note(b)).unwrap();
    }
    let id = lib.add(&text_note("Dentist appointment on Tuesday to fix a cavity in my molar.")).unwrap();
    assert_eq!(ids(&lib.search("toothache at the oral surgeon", SearchMode::Meaning, 1).unwrap()), [id]);

    let note = lib
        .edit(
            id,
            &NoteEdit {
                title: Some(String::new()),
                body: Some("Flight to Lisbon leaves at 7 am; pack the passport.".into()),
            },
        )
        .unwrap();
    assert_eq!(note.title, "Flight to Lisbon leaves at 7 am; pack the passport.");
    // Keyword search sees the new words at once and the old ones nowhere.
    assert_eq!(ids(&lib.search("Lisbon", SearchMode::Keyword, 5).unwrap()), [id]);
    assert!(lib.search("dentist molar", SearchMode::Keyword, 5).unwrap().is_empty());
    // Meaning search follows: the new text is found by a paraphrase, the old one no longer.
    assert_eq!(ids(&lib.search("airplane journey to Portugal", SearchMode::Meaning, 1).unwrap()), [id]);
    let old = lib.search("toothache at the oral surgeon", SearchMode::Meaning, 4).unwrap();
    assert_ne!(old[0].id, id, "{old:?}");
    lib.flush().unwrap();
    assert_eq!(lib.indexed_notes().len(), 4);

    // Bad edits are typed errors and change nothing.
    let empty = lib.edit(id, &NoteEdit { body: Some(" \n".into()), ..NoteEdit::default() });
    assert!(matches!(empty, Err(NotesError::Store(StoreError::EmptyNote))), "{empty:?}");
    assert!(matches!(lib.edit(9999, &NoteEdit::default()), Err(NotesError::Store(StoreError::NoSuchNote(9999)))));
    assert!(lib.get(id).unwrap().body.contains("Lisbon"));

    // And the edit survives a reopen with the vectors of the new text.
    drop(lib);
    let lib = Library::open(dir.path(), PASS, Some(&minilm())).unwrap();
    assert_eq!(ids(&lib.search("airplane journey to Portugal", SearchMode::Meaning, 1).unwrap()), [id]);
}

#[test]
fn tags_filter_lists_and_pages_are_stable() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(dir.path(), PASS, None).unwrap();
    let mut work = Vec::new();
    for i in 0..25 {
        let id = lib.add(&text_note(&format!("note number {i:02}"))).unwrap();
        if i % 3 == 0 {
            assert_eq!(lib.retag(id, &["Work".into(), "#q3".into()], &[]).unwrap(), ["q3", "work"]);
            work.push(id);
        }
    }
    assert_eq!(lib.tags().unwrap(), [("q3".to_string(), 9), ("work".to_string(), 9)]);
    lib.retag(work[0], &[], &["q3".into()]).unwrap();
    assert_eq!(lib.tags().unwrap()[0], ("q3".to_string(), 8));

    let tagged = |tag: &str| {
        let o = ListOptions { tag: Some(tag.into()), descending: false, ..ListOptions::default() };
        lib.list_notes(&o).unwrap().into_iter().map(|n| n.id).collect::<Vec<_>>()
    };
    assert_eq!(tagged("WORK"), work);
    assert_eq!(tagged("q3"), work[1..]);
    assert!(tagged("nothing-has-this").is_empty());

    // Pages of every size cover all notes once, in the same order as one big list, even with
    // every note made in the same second (ties go by id).
    for sort in [SortBy::Created, SortBy::Updated, SortBy::Title] {
        for descending in [false, true] {
            let all: Vec<i64> = lib
                .list_notes(&ListOptions { sort, descending, ..ListOptions::default() })
                .unwrap()
                .into_iter()
                .map(|n| n.id)
                .collect();
            assert_eq!(all.len(), 25);
            for size in [1, 4, 7, 25, 100] {
                let mut paged = Vec::new();
                for page in 0..=(25 / size) {
                    let o = ListOptions { sort, descending, limit: Some(size), offset: page * size, tag: None };
                    paged.extend(lib.list_notes(&o).unwrap().into_iter().map(|n| n.id));
                }
                assert_eq!(paged, all, "{sort:?} desc={descending} size={size}");
            }
        }
    }
    let titles: Vec<String> = lib
        .list_notes(&ListOptions { sort: SortBy::Title, descending: false, limit: Some(3), ..ListOptions::default() })
        .unwrap()
        .into_iter()
        .map(|n| n.title)
        .collect();
    assert_eq!(titles, ["note number 00", "note number 01", "note number 02"]);
    let bad = lib.retag(work[1], &["ok".into(), "".into()], &[]);
    assert!(matches!(bad, Err(NotesError::Store(StoreError::BadTag(_)))), "{bad:?}");
    assert_eq!(lib.get(work[1]).unwrap().tags, ["q3", "work"], "a bad tag changes nothing");
}

#[test]
fn settings_survive_reopening_and_are_unreadable_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let marker = "Blue Yeti ZEBRAQUOKKA-4412";
    {
        let lib = Library::open(dir.path(), PASS, None).unwrap();
        assert_eq!(lib.settings().unwrap(), Settings::default());
        lib.set_setting("microphone", serde_json::json!(marker)).unwrap();
        let mut s = lib.set_setting("theme", serde_json::json!("dark")).unwrap();
        s.language = Some("pt".into());
        s.pre_roll_ms = 750;
        lib.save_settings(&s).unwrap();
        let bad = lib.set_setting("pre_roll_ms", serde_json::json!("lots"));
        assert!(matches!(bad, Err(NotesError::Store(StoreError::BadSetting { .. }))), "{bad:?}");
    }
    let lib = Library::open(dir.path(), PASS, None).unwrap();
    let s = lib.settings().unwrap();
    assert_eq!(s.microphone.as_deref(), Some(marker));
    assert_eq!((s.theme, s.language.as_deref(), s.pre_roll_ms), (Theme::Dark, Some("pt"), 750));
    drop(lib);
    for file in walk(dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!bytes.windows(marker.len()).any(|w| w == marker.as_bytes()), "{} holds the marker", file.display());
    }
    assert!(matches!(
        Library::open(dir.path(), "not the passphrase", None),
        Err(NotesError::Vault(VaultError::WrongPassphrase))
    ));
}

#[test]
fn reminders_fall_due_snooze_settle_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    let now = 1_800_000_000;
    let (call, bins, note);
    {
        let lib = Library::open(dir.path(), PASS, None).unwrap();
        note = lib.add(&text_note("Ana's new flat: ask about the lease")).unwrap();
        call =
            lib.add_reminder(&NewReminder { due_at: now - 60, text: "call Ana".into(), note_id: Some(note) }).unwrap();
        bins = lib.add_reminder(&NewReminder { due_at: now + 3600, text: "bins out".into(), note_id: None }).unwrap();
        let due: Vec<i64> = lib.due_reminders(now).unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(due, [call]);
        assert_eq!(lib.snooze_reminder(call, now + 600).unwrap().due_at, now + 600);
        assert!(lib.due_reminders(now).unwrap().is_empty());
    }
    let lib = Library::open(dir.path(), PASS, None).unwrap();
    let due: Vec<i64> = lib.due_reminders(now + 3600).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(due, [call, bins], "snoozed time kept across a reopen");
    assert_eq!(lib.reminder(call).unwrap().note_id, Some(note));
    assert_eq!(lib.complete_reminder(call).unwrap().state, ReminderState::Done);
    assert_eq!(lib.cancel_reminder(bins).unwrap().state, ReminderState::Cancelled);
    assert!(lib.due_reminders(i64::MAX).unwrap().is_empty());
    let again = lib.snooze_reminder(call, now);
    assert!(
        matches!(again, Err(NotesError::Store(StoreError::ReminderNotPending { state: ReminderState::Done, .. }))),
        "{again:?}"
    );
    assert!(matches!(lib.complete_reminder(4242), Err(NotesError::Store(StoreError::NoSuchReminder(4242)))));
    assert_eq!(lib.reminders(None).unwrap().len(), 2);
}

#[test]
fn any_limit_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(dir.path(), PASS, Some(&minilm())).unwrap();
    let a = lib.add(&text_note("apples and pears from the market")).unwrap();
    let b = lib.add(&text_note("pears for the tart")).unwrap();
    for limit in [0, 1, 2, 1 << 40, usize::MAX] {
        for mode in [SearchMode::Keyword, SearchMode::Meaning, SearchMode::Hybrid] {
            let hits = lib.search("pears", mode, limit).unwrap();
            assert_eq!(hits.len(), limit.clamp(1, 2), "{mode:?} limit {limit}");
            assert!(ids(&hits).iter().all(|id| [a, b].contains(id)));
        }
        let o = ListOptions { limit: Some(limit), ..ListOptions::default() };
        assert_eq!(lib.list_notes(&o).unwrap().len(), limit.min(2));
    }
}

// ---- ONNX graphs that make the embedder fail ----

fn value(name: &str, elem_type: pb::tensor_proto::DataType, dims: Option<&[&str]>) -> pb::ValueInfoProto {
    use pb::tensor_shape_proto::{Dimension, dimension::Value};
    let shape = dims.map(|dims| pb::TensorShapeProto {
        dim: dims
            .iter()
            .map(|d| Dimension { value: Some(Value::DimParam(d.to_string())), ..Default::default() })
            .collect(),
    });
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: elem_type as i32,
                shape,
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn int_attr(name: &str, i: Option<i64>, ints: &[i64]) -> pb::AttributeProto {
    use pb::attribute_proto::AttributeType;
    pb::AttributeProto {
        name: name.into(),
        r#type: (if i.is_some() { AttributeType::Int } else { AttributeType::Ints }) as i32,
        i: i.unwrap_or(0),
        ints: ints.to_vec(),
        ..Default::default()
    }
}

/// A BERT-shaped toy: token id → a 4-d row of a 1000-row table. `reduce` sums over the tokens
/// (keeping that axis or not), giving an output that is not one vector per token.
fn toy_onnx(dir: &Path, name: &str, reduce: Option<bool>) -> PathBuf {
    use pb::tensor_proto::DataType;
    let table = pb::TensorProto {
        name: "table".into(),
        dims: vec![1000, 4],
        data_type: DataType::Float as i32,
        float_data: (0..4000).map(|i| (i % 7) as f32 + 1.0).collect(),
        ..Default::default()
    };
    let mut node = vec![pb::NodeProto {
        op_type: "Gather".into(),
        name: "emb".into(),
        input: vec!["table".into(), "input_ids".into()],
        output: vec!["hidden".into()],
        attribute: vec![int_attr("axis", Some(0), &[])],
        ..Default::default()
    }];
    let mut output = "hidden";
    if let Some(keepdims) = reduce {
        node.push(pb::NodeProto {
            op_type: "ReduceSum".into(),
            name: "pool".into(),
            input: vec!["hidden".into()],
            output: vec!["pooled".into()],
            attribute: vec![int_attr("axes", None, &[1]), int_attr("keepdims", Some(keepdims as i64), &[])],
            ..Default::default()
        });
        output = "pooled";
    }
    let model = pb::ModelProto {
        ir_version: 6,
        opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 11 }],
        graph: Some(pb::GraphProto {
            name: name.into(),
            node,
            initializer: vec![table],
            input: vec![value("input_ids", DataType::Int64, Some(&["batch", "seq"]))],
            output: vec![value(output, DataType::Float, None)],
            ..Default::default()
        }),
        ..Default::default()
    };
    let path = dir.join(format!("{name}.onnx"));
    std::fs::write(&path, model.encode_to_vec()).unwrap();
    path
}

#[test]
fn an_embedder_whose_output_is_not_one_vector_per_token_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let tokenizer = minilm().tokenizer;
    // The toy itself loads: the graphs are valid, only their output shapes are wrong.
    Embedder::load(&toy_onnx(dir.path(), "per-token", None), &tokenizer).unwrap();
    for (name, keepdims) in [("pooled", false), ("pooled-keepdims", true)] {
        let onnx = toy_onnx(dir.path(), name, Some(keepdims));
        match Embedder::load(&onnx, &tokenizer) {
            Err(EmbedError::Model { detail, .. }) => assert!(detail.contains("[batch, seq, dim]"), "{detail}"),
            Err(other) => panic!("{name}: {other:?}"),
            Ok(_) => panic!("{name}: loaded"),
        }
        let files = EmbedderFiles { onnx, tokenizer: tokenizer.clone() };
        let data = dir.path().join(name);
        // The library opens (the model loads on first use); that use says what is wrong, and
        // the note is kept and found by keywords.
        let lib = Library::open(&data, PASS, Some(&files)).unwrap();
        let id = lib.add(&text_note("a note to embed")).unwrap();
        let query = lib.search("note", SearchMode::Meaning, 5);
        assert!(matches!(query, Err(NotesError::Embed(EmbedError::Model { .. }))), "{name}: {query:?}");
        assert!(matches!(lib.flush(), Err(NotesError::EmbeddingFailed { notes, .. }) if notes == [id]));
        assert_eq!(ids(&lib.search("note", SearchMode::Keyword, 5).unwrap()), [id]);
    }
}

#[test]
fn the_embedder_loads_on_first_use_and_goes_when_idle() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(dir.path(), PASS, Some(&minilm())).unwrap();
    assert!(!lib.embedder_loaded(), "opening the notes loads no model");
    let cat = lib.add(&text_note("the cat slept on the warm windowsill all afternoon")).unwrap();
    lib.flush().unwrap();
    assert!(lib.embedder_loaded(), "a saved note is embedded");
    assert!(!lib.release_idle_embedder(Duration::from_secs(3600)), "used just now: kept");
    assert!(lib.release_idle_embedder(Duration::ZERO));
    assert!(!lib.embedder_loaded());
    assert_eq!(ids(&lib.search("cat", SearchMode::Keyword, 5).unwrap()), [cat]);
    assert!(!lib.embedder_loaded(), "a keyword search needs no model");
    // Loaded again by the next search by meaning, which still finds the note.
    assert_eq!(ids(&lib.search("a feline napping in the sun", SearchMode::Meaning, 5).unwrap()), [cat]);
    assert!(lib.embedder_loaded());
}

#[test]
fn a_note_the_embedder_fails_on_is_reported_by_flush_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    // Its table has rows for token ids below 1000 only: punctuation embeds, any word makes the
    // model index past the table (a panic inside tract).
    let files = EmbedderFiles { onnx: toy_onnx(dir.path(), "short-table", None), tokenizer: minilm().tokenizer };
    let data = dir.path().join("data");
    let lib = Library::open(&data, PASS, Some(&files)).unwrap();
    let fine = lib.add(&text_note("!!! !!")).unwrap();
    let walrus = lib.add(&text_note("walrus sighting at the pier")).unwrap();
    let started = Instant::now();
    match lib.flush() {
        Err(NotesError::EmbeddingFailed { notes, reason }) => {
            assert_eq!(notes, [walrus], "the other note in the batch still got its vectors");
            assert!(reason.contains("panicked"), "{reason}");
        }
        other => panic!("expected EmbeddingFailed, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    lib.flush().unwrap();
    assert_eq!(lib.indexed_notes(), [fine]);
    // The note is saved and found by keywords; the worker lives on for the next notes.
    assert_eq!(ids(&lib.search("walrus", SearchMode::Keyword, 5).unwrap()), [walrus]);
    let query = lib.search("walrus", SearchMode::Meaning, 5);
    assert!(matches!(query, Err(NotesError::Embed(EmbedError::Run(_)))), "a query is an error too: {query:?}");
    let more = lib.add(&text_note("! !")).unwrap();
    lib.flush().unwrap();
    assert_eq!(lib.indexed_notes(), [fine, more]);
    assert!(matches!(lib.flush(), Ok(())), "each failure is reported once");
    drop(lib);
    // It is tried again at the next open.
    let lib = Library::open(&data, PASS, Some(&files)).unwrap();
    assert!(matches!(lib.flush(), Err(NotesError::EmbeddingFailed { notes, .. }) if notes == [walrus]));
}

// ---- many threads at once ----

const SENTENCES: [&str; 8] = [
    "Dentist appointment on Tuesday to fix a cavity.",
    "Buy milk, eggs and coffee beans.",
    "The car needs an oil change before the trip.",
    "Pay the electricity bill by Friday.",
    "Flight to Lisbon departs at 7 am.",
    "Roast chicken with lemon and rosemary.",
    "Water the tomato plants on the balcony.",
    "Back up the laptop photos to the external drive.",
];

/// A tiny deterministic generator (xorshift), one per thread.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn four_threads_for_twenty_seconds_leave_every_note_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Arc::new(Library::open(dir.path(), PASS, Some(&minilm())).unwrap());
    // Live note ids, and every marker word a note ever had (each used once).
    let live: Arc<Mutex<Vec<i64>>> = Arc::default();
    let markers: Arc<Mutex<HashMap<String, i64>>> = Arc::default();
    let deadline = Instant::now() + Duration::from_secs(20);
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let (lib, live, markers) = (lib.clone(), live.clone(), markers.clone());
            std::thread::spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((t + 1) * 0x1234_5678));
                let mut ops = [0usize; 5];
                let mut n = 0;
                while Instant::now() < deadline {
                    n += 1;
                    // The closing z keeps one marker from being the start of another.
                    let marker = format!("mk{t}x{n}z");
                    let body = format!("{} {marker}", SENTENCES[rng.below(SENTENCES.len())]);
                    let pick = |rng: &mut Rng| {
                        let live = live.lock().unwrap();
                        (!live.is_empty()).then(|| live[rng.below(live.len())])
                    };
                    let op = rng.below(10);
                    match op {
                        0..=2 => {
                            let id = lib.add(&text_note(&body)).unwrap();
                            markers.lock().unwrap().insert(marker, id);
                            live.lock().unwrap().push(id);
                        }
                        3..=4 => {
                            let Some(id) = pick(&mut rng) else { continue };
                            let edit = NoteEdit { title: Some(String::new()), body: Some(body) };
                            match lib.edit(id, &edit) {
                                Ok(_) => {
                                    markers.lock().unwrap().insert(marker, id);
                                }
                                // Deleted by another thread meanwhile.
                                Err(NotesError::Store(StoreError::NoSuchNote(_))) => {}
                                Err(e) => panic!("edit {id}: {e}"),
                            }
                        }
                        5..=7 => {
                            let mode = [SearchMode::Keyword, SearchMode::Meaning, SearchMode::Hybrid][rng.below(3)];
                            let q = SENTENCES[rng.below(SENTENCES.len())];
                            // Racing deletes and edits, a search returns the other hits: never an error.
                            let hits = lib.search(q, mode, 5).unwrap_or_else(|e| panic!("search {q:?}: {e}"));
                            assert!(hits.len() <= 5);
                        }
                        8 => {
                            let id = {
                                let mut live = live.lock().unwrap();
                                if live.is_empty() {
                                    continue;
                                }
                                let i = rng.below(live.len());
                                live.swap_remove(i)
                            };
                            lib.delete(id).unwrap();
                        }
                        _ => {
                            let page = ListOptions { limit: Some(10), offset: rng.below(20), ..ListOptions::default() };
                            lib.list_notes(&page).unwrap();
                            if let Some(id) = pick(&mut rng) {
                                match lib.get(id) {
                                    Ok(_) | Err(NotesError::Store(StoreError::NoSuchNote(_))) => {}
                                    Err(e) => panic!("get {id}: {e}"),
                                }
                            }
                        }
                    }
                    ops[match op {
                        0..=2 => 0,
                        3..=4 => 1,
                        5..=7 => 2,
                        8 => 3,
                        _ => 4,
                    }] += 1;
                }
                ops
            })
        })
        .collect();
    let mut total = [0usize; 5];
    for t in threads {
        for (sum, n) in total.iter_mut().zip(t.join().expect("no thread panicked")) {
            *sum += n;
        }
    }
    eprintln!("adds, edits, searches, deletes, lists: {total:?}");
    assert!(total.iter().all(|&n| n >= 10), "every kind of call ran often: {total:?}");
    lib.flush().unwrap();

    // The table, FTS5 and the vectors agree on every surviving note.
    let key = vault::unlock(dir.path(), PASS).unwrap();
    let store = Store::open(&dir.path().join(DB_FILE), &key).unwrap();
    store.connection().execute_batch("INSERT INTO notes_fts(notes_fts) VALUES ('integrity-check')").unwrap();
    let notes: Vec<i64> = store.list().unwrap().into_iter().map(|n| n.id).collect();
    let mut live = live.lock().unwrap().clone();
    live.sort();
    let mut sorted = notes.clone();
    sorted.sort();
    assert_eq!(sorted, live, "exactly the notes not deleted are left");
    assert!(!notes.is_empty());
    assert_eq!(lib.indexed_notes(), sorted, "the in-memory index holds every note and no deleted one");
    let stored: HashMap<i64, Vec<f32>> =
        store.embeddings(sotto::notes::EMBED_MODEL_ID).unwrap().into_iter().rev().collect();
    assert_eq!(stored.keys().copied().collect::<HashSet<_>>(), sorted.iter().copied().collect::<HashSet<_>>());
    let embedder = Embedder::load(&minilm().onnx, &minilm().tokenizer).unwrap();
    for &id in &notes {
        let note = store.note(id).unwrap();
        let want = embedder.embed(&[format!("{}\n{}", note.title, note.body).as_str()]).unwrap().remove(0);
        let cos = sotto::text::cosine(&stored[&id], &want);
        assert!(cos > 0.999, "note {id}: its vector is of another text (cosine {cos})");
    }
    // Each marker word finds its note if the note still has it, and nothing otherwise.
    for (marker, id) in markers.lock().unwrap().iter() {
        let hits: Vec<i64> = store.keyword_search(marker, 5).unwrap().into_iter().map(|h| h.id).collect();
        let current = store.note(*id).is_ok_and(|n| n.body.contains(marker.as_str()));
        assert_eq!(hits, if current { vec![*id] } else { vec![] }, "{marker}");
    }
}

// ---- the CLI ----

fn sotto(args: &[&str], data: &Path) -> Output {
    sotto_notes(args, data, PASS)
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).unwrap()
}

fn fails_with(o: Output, expect: &str) {
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(expect), "expected {expect:?}: {stderr}");
}

#[test]
fn cli_edits_tags_lists_settings_and_reminders() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let add = |body: &str| stdout(&sotto(&["note", "add", "--text", body], d)).trim().to_string();
    let a = add("Quarterly budget review with finance");
    let b = add("Sourdough: feed the starter tonight");
    let c = add("Anniversary dinner at the Italian place");

    stdout(&sotto(&["note", "edit", &a, "--text", "Quarterly roadmap review with product", "--title", ""], d));
    let hits = json(&sotto(&["search", "roadmap", "--mode", "keyword", "--json"], d));
    assert_eq!(hits[0]["id"].to_string(), a);
    assert_eq!(json(&sotto(&["search", "budget", "--mode", "keyword", "--json"], d)), serde_json::json!([]));
    let hits = json(&sotto(&["search", "plans for the product", "--mode", "meaning", "--json"], d));
    assert_eq!(hits[0]["id"].to_string(), a, "{hits}");
    let nothing = sotto(&["note", "edit", &a], d);
    assert_eq!(nothing.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("--title"));
    fails_with(sotto(&["note", "edit", "999", "--title", "x"], d), "no note 999");

    assert_eq!(stdout(&sotto(&["note", "tag", &b, "--add", "Kitchen", "--add", "#weekend"], d)), "kitchen\nweekend\n");
    stdout(&sotto(&["note", "tag", &c, "--add", "weekend"], d));
    assert_eq!(json(&sotto(&["note", "tag", &b, "--remove", "kitchen", "--json"], d)), serde_json::json!(["weekend"]));
    assert_eq!(json(&sotto(&["note", "tags", "--json"], d)), serde_json::json!([{ "tag": "weekend", "notes": 2 }]));
    fails_with(sotto(&["note", "tag", &b, "--add", " "], d), "bad tag");

    let listed = |args: &[&str]| -> Vec<String> {
        let mut full = vec!["note", "list", "--json"];
        full.extend_from_slice(args);
        json(&sotto(&full, d)).as_array().unwrap().iter().map(|n| n["id"].to_string()).collect()
    };
    assert_eq!(listed(&[]), [c.clone(), b.clone(), a.clone()]);
    assert_eq!(listed(&["--tag", "weekend", "--order", "asc"]), [b.clone(), c.clone()]);
    assert_eq!(listed(&["--sort", "title"]), [c.clone(), a.clone(), b.clone()]);
    assert_eq!(listed(&["--limit", "1", "--offset", "1"]), [b.as_str()]);
    assert_eq!(listed(&["--sort", "updated", "--limit", "18446744073709551615"]).len(), 3);

    assert_eq!(stdout(&sotto(&["settings", "get", "theme"], d)), "system\n");
    stdout(&sotto(&["settings", "set", "theme", "dark"], d));
    stdout(&sotto(&["settings", "set", "pre_roll_ms", "450"], d));
    assert_eq!(stdout(&sotto(&["settings", "get", "theme"], d)), "dark\n");
    let all = json(&sotto(&["settings", "get", "--json"], d));
    assert_eq!((all["theme"].as_str(), all["pre_roll_ms"].as_u64()), (Some("dark"), Some(450)));
    fails_with(sotto(&["settings", "set", "pre_roll_ms", "20000"], d), "setting pre_roll_ms");
    fails_with(sotto(&["settings", "get", "colour"], d), "no setting \"colour\"");

    let r = stdout(&sotto(&["reminder", "add", "call Ana", "--at", "1000", "--note", &b], d)).trim().to_string();
    let later = stdout(&sotto(&["reminder", "add", "renew passport", "--at", "+1d"], d)).trim().to_string();
    let due = json(&sotto(&["reminder", "list", "--due", "--json"], d));
    assert_eq!(due.as_array().unwrap().len(), 1);
    assert_eq!((due[0]["id"].to_string(), due[0]["note_id"].to_string()), (r.clone(), b.clone()));
    stdout(&sotto(&["reminder", "snooze", &r, "--until", "+2h"], d));
    assert_eq!(json(&sotto(&["reminder", "list", "--due", "--json"], d)), serde_json::json!([]));
    stdout(&sotto(&["reminder", "done", &r], d));
    stdout(&sotto(&["reminder", "cancel", &later], d));
    fails_with(sotto(&["reminder", "done", &r], d), "is done, not pending");
    fails_with(sotto(&["reminder", "snooze", "77", "--until", "now"], d), "no reminder 77");
    let all = json(&sotto(&["reminder", "list", "--all", "--json"], d));
    let states: Vec<&str> = all.as_array().unwrap().iter().map(|r| r["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["done", "cancelled"]);
}
