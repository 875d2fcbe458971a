//! Voice notes end to end: real SQLCipher files, the real MiniLM embedder in tract, the CLI.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use sotto::notes::{Library, NotesError, SearchMode};
use sotto::store::{DB_FILE, NewNote, Store, StoreError, migrations};
use sotto::vault::{self, VaultError};

const PASS: &str = "correct horse battery staple";

const CORPUS: [&str; 32] = [
    "Dentist appointment on Tuesday at 3 pm to fix a cavity in my molar.",
    "Buy milk, eggs, bread and coffee beans at the grocery store.",
    "Car needs an oil change and new tires before the winter road trip.",
    "Pay the electricity bill and the internet invoice by Friday.",
    "Flight to Lisbon departs at 7 am; check in online and pack the passport.",
    "Recipe idea: roast chicken with lemon, garlic and rosemary.",
    "Call mom for her birthday and order flowers.",
    "Gym plan: squats, deadlifts and a 5 km run three times a week.",
    "The quarterly sales report is due to the manager next Monday.",
    "Water the tomato plants and repot the basil on the balcony.",
    "Book club is reading a mystery novel set in Victorian London.",
    "The kitchen sink is leaking; call a plumber to replace the pipe.",
    "Learn Spanish verbs: practice the past tense for twenty minutes daily.",
    "Take the dog to the vet for vaccinations and a nail trim.",
    "Password manager: rotate the bank account credentials.",
    "Guitar practice: learn the chords for the new song.",
    "Kids' school pickup moved to 4 pm on Wednesdays.",
    "Renew the driver's license before it expires next month.",
    "Idea for the app: add dark mode and keyboard shortcuts.",
    "Doctor said to take the antibiotics twice a day with food.",
    "Plan a surprise anniversary dinner at the Italian restaurant.",
    "Back up the laptop photos to the external hard drive.",
    "Meditation: ten minutes of breathing exercises every morning.",
    "Lend the ladder to the neighbor and get the drill back.",
    "Investment note: move savings into an index fund.",
    "Concert tickets for the jazz festival go on sale Saturday.",
    "Paint the bedroom walls light blue this weekend.",
    "Team offsite: brainstorm the product roadmap for next year.",
    "Cancel the unused streaming subscription to save money.",
    "Bake sourdough: feed the starter the night before.",
    "Snow is forecast tonight; bring the firewood inside.",
    "Return the library books before the late fee.",
];

/// (query in other words, index of the note it means).
const PARAPHRASES: [(&str, usize); 32] = [
    ("my tooth hurts, see the oral surgeon", 0),
    ("pick up dairy products and a loaf at the supermarket", 1),
    ("vehicle maintenance ahead of the cold season", 2),
    ("utility payments deadline", 3),
    ("airplane journey to Portugal", 4),
    ("cooking poultry with herbs", 5),
    ("gift for my mother's special day", 6),
    ("workout routine with weights and jogging", 7),
    ("revenue numbers for the boss", 8),
    ("gardening chores for vegetables on the terrace", 9),
    ("detective story for the literature circle", 10),
    ("faucet drip needs a repairman", 11),
    ("study a foreign language grammar", 12),
    ("puppy needs shots at the animal clinic", 13),
    ("change login secrets for finances", 14),
    ("strum exercises on my instrument", 15),
    ("collect the children from class", 16),
    ("update my permit to drive before it lapses", 17),
    ("feature request: night theme and hotkeys", 18),
    ("medication schedule from the physician", 19),
    ("romantic meal to celebrate our wedding years", 20),
    ("copy pictures from the computer to a disk", 21),
    ("mindfulness practice at dawn", 22),
    ("borrowed tools to swap with the person next door", 23),
    ("put cash into stocks for retirement", 24),
    ("music show entry passes", 25),
    ("redecorate the sleeping room with a new colour", 26),
    ("company retreat to plan strategy", 27),
    ("stop paying for a video service I never watch", 28),
    ("make a naturally leavened loaf at home", 29),
    ("storm coming, stack logs indoors", 30),
    ("give back what I borrowed to read to avoid a fine", 31),
];

const STOP: [&str; 40] = [
    "a", "an", "the", "to", "for", "of", "and", "on", "in", "at", "my", "with", "from", "by", "is", "i", "it", "what",
    "before", "new", "next", "up", "back", "into", "our", "out", "me", "do", "be", "this", "that", "day", "plan",
    "take", "get", "make", "change", "call", "put", "at",
];

fn content_words(s: &str) -> Vec<String> {
    sotto::text::wer::normalize(s).into_iter().filter(|w| !STOP.contains(&w.as_str())).collect()
}

#[test]
fn search_by_meaning_finds_paraphrases() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(dir.path(), PASS, Some(&minilm())).unwrap();
    let ids: Vec<i64> = CORPUS.iter().map(|b| lib.add(&text_note(b)).unwrap()).collect();
    let (mut first, mut top3) = (0, 0);
    let mut misses = Vec::new();
    for (query, target) in PARAPHRASES {
        let shared: Vec<String> =
            content_words(query).into_iter().filter(|w| content_words(CORPUS[target]).contains(w)).collect();
        assert!(shared.is_empty(), "{query:?} shares {shared:?} with its note");
        let hits = lib.search(query, SearchMode::Meaning, 3).unwrap();
        let rank = hits.iter().position(|h| h.id == ids[target]);
        if rank == Some(0) {
            first += 1;
        } else {
            misses.push((query, rank, hits.first().map(|h| h.title.clone())));
        }
        if rank.is_some() {
            top3 += 1;
        }
    }
    let n = PARAPHRASES.len();
    assert!(first * 10 >= n * 9, "first for {first}/{n}: {misses:#?}");
    assert_eq!(top3, n, "top 3 for {top3}/{n}: {misses:#?}");
    // Hybrid keeps the meaning ranking's hits and is the default everywhere.
    let hybrid = lib.search("puppy needs shots at the animal clinic", SearchMode::Hybrid, 3).unwrap();
    assert_eq!(hybrid[0].id, ids[13]);
}

#[test]
fn keyword_search_handles_phrases_prefixes_unicode_and_junk() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(dir.path(), PASS, None).unwrap();
    let ids: Vec<i64> = CORPUS.iter().map(|b| lib.add(&text_note(b)).unwrap()).collect();
    let cafe = lib.add(&text_note("Meet Zoë at the Café Crème near the Gare du Nord")).unwrap();
    let tokyo = lib.add(&text_note("東京タワーに行った。とても高い！")).unwrap();
    let party = lib.add(&text_note("Party planning 🎉 balloons and cake")).unwrap();
    let kw = |q: &str| lib.search(q, SearchMode::Keyword, 10).unwrap().into_iter().map(|h| h.id).collect::<Vec<_>>();

    assert_eq!(kw("\"oil change\""), vec![ids[2]]);
    assert!(kw("\"change oil\"").is_empty(), "a phrase is words in order");
    assert_eq!(kw("vaccin*"), vec![ids[13]]);
    assert_eq!(kw("cafe creme"), vec![cafe], "accents fold both ways");
    assert_eq!(kw("Zoe"), vec![cafe]);
    assert_eq!(kw("東京"), vec![tokyo]);
    assert_eq!(kw("balloons 🎉"), vec![party]);
    let hit = &lib.search("plumber", SearchMode::Keyword, 1).unwrap()[0];
    assert!(hit.snippet.contains("**plumber**"), "{}", hit.snippet);
    // Operators and SQL are just text: never an error.
    for q in [
        "\"",
        "*",
        "-",
        "OR",
        "milk OR",
        "NOT eggs",
        "'; DROP TABLE notes; --",
        "a\"b",
        "(milk",
        "NEAR(x y)",
        "col:milk",
        "^milk",
    ] {
        lib.search(q, SearchMode::Keyword, 5).unwrap_or_else(|e| panic!("{q:?}: {e}"));
        lib.search(q, SearchMode::Hybrid, 5).unwrap_or_else(|e| panic!("{q:?}: {e}"));
    }
    assert_eq!(lib.list().unwrap().len(), CORPUS.len() + 3, "nothing dropped");
    for empty in ["", "   "] {
        assert!(matches!(lib.search(empty, SearchMode::Keyword, 5), Err(NotesError::Store(StoreError::EmptyQuery))));
    }
}

#[test]
fn nothing_readable_on_disk_and_wrong_passphrase_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let marker = "ZEBRAQUOKKA-7731-marker";
    {
        let lib = Library::open(dir.path(), PASS, Some(&minilm())).unwrap();
        lib.add(&text_note(&format!("Secret plan {marker} for the surprise party"))).unwrap();
        lib.flush().unwrap();
        // Scan while open too: the -wal and -shm files exist now.
        assert_no_plaintext(dir.path(), marker);
        assert_eq!(lib.search(marker, SearchMode::Keyword, 5).unwrap().len(), 1);
    }
    assert_no_plaintext(dir.path(), marker);
    assert!(dir.path().join(DB_FILE).exists());
    match Library::open(dir.path(), "wrong passphrase", None) {
        Err(NotesError::Vault(VaultError::WrongPassphrase)) => {}
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("opened with the wrong passphrase"),
    }
    // The right one still works, and the note is intact.
    let lib = Library::open(dir.path(), PASS, None).unwrap();
    assert!(lib.get(1).unwrap().body.contains(marker));
}

#[test]
fn the_dictation_history_is_kept_encrypted_for_the_days_chosen_and_never_when_off() {
    let dir = tempfile::tempdir().unwrap();
    let marker = "OKAPIHERON-4410-dictated";
    {
        let lib = Library::open(dir.path(), PASS, None).unwrap();
        assert_eq!(lib.settings().unwrap().history_days, 30, "kept a month unless the user says otherwise");
        lib.remember_dictation("first words").unwrap();
        lib.remember_dictation(&format!("then {marker}")).unwrap();
        assert_no_plaintext(dir.path(), marker);
    }
    // A restart keeps them, newest first.
    let lib = Library::open(dir.path(), PASS, None).unwrap();
    let texts: Vec<String> = lib.dictations(5).unwrap().into_iter().map(|d| d.text).collect();
    assert_eq!(texts, [format!("then {marker}"), "first words".to_string()]);
    // Keeping more days forgets nothing; keeping none forgets all and keeps nothing new.
    lib.set_setting("history_days", serde_json::json!(1)).unwrap();
    assert_eq!(lib.prune_dictations().unwrap(), 0);
    lib.set_setting("history_days", serde_json::json!(0)).unwrap();
    assert_eq!(lib.prune_dictations().unwrap(), 2);
    lib.remember_dictation("not kept").unwrap();
    assert!(lib.dictations(5).unwrap().is_empty());
    assert!(lib.set_setting("history_days", serde_json::json!(3651)).is_err(), "ten years at most");
    lib.set_setting("history_days", serde_json::json!(7)).unwrap();
    lib.remember_dictation("kept again").unwrap();
    assert_eq!(lib.clear_dictations().unwrap(), 1);
    assert!(lib.dictations(5).unwrap().is_empty());
}

fn assert_no_plaintext(dir: &Path, marker: &str) {
    let mut files = 0;
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        files += 1;
        for needle in [marker.as_bytes().to_vec(), marker.encode_utf16().flat_map(u16::to_le_bytes).collect()] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{} holds the marker",
                entry.display()
            );
        }
    }
    assert!(files >= 2, "the database and vault.json at least");
}

#[test]
fn migrates_from_every_earlier_version() {
    let latest = 4;
    for version in 1..latest {
        let dir = tempfile::tempdir().unwrap();
        let key = vault::unlock(dir.path(), PASS).unwrap();
        let path = dir.path().join(DB_FILE);
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(key.as_ref()))).unwrap();
            migrations().to_version(&mut conn, version).unwrap();
            conn.execute(
                "INSERT INTO notes (created_at, updated_at, title, body, source) VALUES (1, 1, 'old', 'a note from version one', 'text')",
                [],
            )
            .unwrap();
        }
        let store = Store::open(&path, &key).unwrap();
        assert_eq!(store.schema_version().unwrap(), latest as i64);
        assert_eq!(store.note(1).unwrap().body, "a note from version one");
        assert_eq!(store.keyword_search("version", 5).unwrap()[0].id, 1);
        assert!(store.dictations(5).unwrap().is_empty(), "v4: the dictation history, empty");
    }
}

#[test]
fn a_ten_megabyte_note_is_saved_and_searchable() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Library::open(dir.path(), PASS, Some(&minilm())).unwrap();
    let mut body = "The committee reviewed the library budget and the new reading room. ".repeat(150_000);
    body.push_str("Final remark: flamingo.");
    assert!(body.len() > 10_000_000);
    let id = lib.add(&text_note(&body)).unwrap();
    assert_eq!(lib.search("flamingo", SearchMode::Keyword, 3).unwrap()[0].id, id);
    assert_eq!(lib.search("funding for a public book collection", SearchMode::Meaning, 3).unwrap()[0].id, id);
    assert_eq!(lib.get(id).unwrap().body.len(), body.len());
}

#[test]
fn a_full_disk_fails_the_insert_and_keeps_earlier_notes() {
    let disk = SmallDisk::mount("4m");
    let dir = disk.path();
    let lib = Library::open(dir, PASS, None).unwrap();
    let first = lib.add(&text_note("groceries: apples and pears")).unwrap();
    let second = lib.add(&text_note("call the garage about the brakes")).unwrap();
    let huge = "x".repeat(6 * 1024 * 1024);
    match lib.add(&text_note(&huge)) {
        Err(NotesError::Store(StoreError::DiskFull { .. })) => {}
        other => panic!("expected DiskFull, got {other:?}"),
    }
    drop(lib);
    let lib = Library::open(dir, PASS, None).unwrap();
    assert_eq!(lib.get(first).unwrap().body, "groceries: apples and pears");
    assert_eq!(lib.get(second).unwrap().body, "call the garage about the brakes");
    assert_eq!(lib.list().unwrap().len(), 2);
    // And it recovers once space is back (the failed transaction left nothing behind).
    lib.add(&text_note("after the disk was full")).unwrap();
}

fn sotto(args: &[&str], data: &Path) -> Output {
    sotto_notes(args, data, PASS)
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn cli_audio_note_with_timestamps_found_by_meaning() {
    let data = tempfile::tempdir().unwrap();
    for body in ["Buy milk and eggs", "Renew the car insurance", "Ideas for the garden shed"] {
        stdout(&sotto(&["note", "add", "--text", body], data.path()));
    }
    let id: i64 = stdout(&sotto(&["note", "add", "--audio", fixture("jfk.wav").to_str().unwrap()], data.path()))
        .trim()
        .parse()
        .unwrap();
    let note: serde_json::Value =
        serde_json::from_str(&stdout(&sotto(&["note", "show", &id.to_string(), "--json"], data.path()))).unwrap();
    let segs = note["segments"].as_array().unwrap();
    assert!(segs.len() >= 2);
    let starts: Vec<u64> = segs.iter().map(|s| s["start_ms"].as_u64().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
    assert_eq!(note["source"], "audio");

    let hits: Vec<serde_json::Value> = serde_json::from_str(&stdout(&sotto(
        &["search", "a president asking citizens to serve the nation", "--mode", "meaning", "--json"],
        data.path(),
    )))
    .unwrap();
    assert_eq!(hits[0]["id"].as_i64(), Some(id), "{hits:?}");
    for key in ["id", "title", "score", "snippet"] {
        assert!(hits[0].get(key).is_some(), "{key}");
    }
    let srt = stdout(&sotto(&["export", &id.to_string(), "--format", "srt"], data.path()));
    assert!(srt.starts_with("1\n00:00:00,000 --> "), "{srt}");
    let md = stdout(&sotto(&["export", &id.to_string(), "--format", "md"], data.path()));
    assert!(md.starts_with("# ") && md.contains("## Segments"));
    let list = stdout(&sotto(&["note", "list", "--json"], data.path()));
    assert_eq!(serde_json::from_str::<Vec<serde_json::Value>>(&list).unwrap().len(), 4);
    stdout(&sotto(&["note", "delete", &id.to_string()], data.path()));
    let gone = sotto(&["note", "show", &id.to_string()], data.path());
    assert_eq!(gone.status.code(), Some(1));
}

#[test]
fn cli_bad_input_is_a_one_line_error() {
    let data = tempfile::tempdir().unwrap();
    let bad = write(data.path(), "latin1.txt", b"caf\xe9 cr\xe8me");
    let check = |o: Output, expect: &str| {
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(1), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expect), "expected {expect:?}: {stderr}");
    };
    check(
        sotto(&["note", "add", "--file", bad.to_str().unwrap()], data.path()),
        "not UTF-8 text (invalid byte at offset 3)",
    );
    stdout(&sotto(&["note", "add", "--text", "hello"], data.path()));
    check(sotto(&["search", ""], data.path()), "the search query is empty");
    let mut wrong = Command::new(env!("CARGO_BIN_EXE_sotto"));
    wrong.args(["note", "list"]).env("SOTTO_DATA_DIR", data.path()).env("SOTTO_PASSPHRASE", "nope");
    check(wrong.output().unwrap(), "wrong passphrase");
    let mut none = Command::new(env!("CARGO_BIN_EXE_sotto"));
    none.args(["note", "list"]).env("SOTTO_DATA_DIR", data.path()).env_remove("SOTTO_PASSPHRASE");
    check(none.output().unwrap(), "set SOTTO_PASSPHRASE");
}

#[test]
fn a_second_process_waits_for_the_first() {
    let data = tempfile::tempdir().unwrap();
    stdout(&sotto(&["note", "add", "--text", "first note"], data.path()));
    let key = vault::unlock(data.path(), PASS).unwrap();
    let store = Store::open(&data.path().join(DB_FILE), &key).unwrap();
    // Hold the write lock for a while, as a long import in the app would.
    store.connection().execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sotto"))
        .args(["note", "add", "--text", "second note, written while the first process held the lock"])
        .env("SOTTO_DATA_DIR", data.path())
        .env("SOTTO_PASSPHRASE", PASS)
        .env("SOTTO_MODELS_DIR", cache().join("models"))
        .env_remove("SOTTO_MODEL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Observe the wait: while the lock is held the writer neither gives up nor gets its note in.
    std::thread::sleep(std::time::Duration::from_millis(2000));
    assert!(child.try_wait().unwrap().is_none(), "the second process gave up instead of waiting for the lock");
    assert_eq!(store.list().unwrap().len(), 1, "nothing written past the lock");
    store.connection().execute_batch("COMMIT").unwrap();
    stdout(&child.wait_with_output().unwrap());
    assert_eq!(store.list().unwrap().len(), 2, "the waiting writer got its note in, nothing lost");
}

#[test]
fn cli_keyring_unlock_is_opt_in_and_the_passphrase_keeps_working() {
    let data = tempfile::tempdir().unwrap();
    stdout(&sotto(&["note", "add", "--text", "kept behind the keyring"], data.path()));
    let without_pass = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sotto"))
            .args(args)
            .env("SOTTO_DATA_DIR", data.path())
            .env_remove("SOTTO_PASSPHRASE")
            .output()
            .unwrap()
    };
    assert_eq!(without_pass(&["note", "list"]).status.code(), Some(1), "no passphrase, no keyring: locked");
    stdout(&sotto(&["vault", "keyring-on"], data.path()));
    assert!(stdout(&without_pass(&["note", "list"])).contains("kept behind the keyring"));
    stdout(&sotto(&["vault", "keyring-off"], data.path()));
    assert_eq!(without_pass(&["note", "list"]).status.code(), Some(1));
    assert!(stdout(&sotto(&["note", "list"], data.path())).contains("kept behind the keyring"));
}

#[test]
fn keyword_ranking_is_bm25_with_titles_weighted_four_times() {
    let dir = tempfile::tempdir().unwrap();
    let key = vault::unlock(dir.path(), PASS).unwrap();
    let mut store = Store::open(&dir.path().join(DB_FILE), &key).unwrap();
    for (i, body) in CORPUS.iter().enumerate() {
        // Every third note gets its first word as title too, so title hits compete with body hits.
        let title = if i % 3 == 0 { body.split_whitespace().next().unwrap().to_string() } else { String::new() };
        store.add_note(&NewNote { title, body: body.to_string(), ..NewNote::default() }).unwrap();
    }
    for query in ["the", "call", "to", "a*", "the car"] {
        let hits = store.keyword_search(query, 10).unwrap();
        assert!(!hits.is_empty(), "{query}");
        // The reference: bm25 with the same weights over every match, sorted by SQLite.
        let fts = sotto::store::fts_query(query).unwrap();
        let mut stmt = store
            .connection()
            .prepare(
                "SELECT rowid, -bm25(notes_fts, 4.0, 1.0) FROM notes_fts WHERE notes_fts MATCH ?1
                 ORDER BY bm25(notes_fts, 4.0, 1.0) LIMIT 10",
            )
            .unwrap();
        let want: Vec<(i64, f64)> =
            stmt.query_map([fts], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
        let got: Vec<(i64, f64)> = hits.iter().map(|h| (h.id, h.score)).collect();
        assert_eq!(got.len(), want.len(), "{query}");
        for (g, w) in got.iter().zip(&want) {
            assert!((g.1 - w.1).abs() < 1e-9, "{query}: {got:?} vs {want:?}");
        }
        // Ids may swap only between equal scores.
        let mut g = got.iter().map(|x| x.0).collect::<Vec<_>>();
        let mut w = want.iter().map(|x| x.0).collect::<Vec<_>>();
        g.sort();
        w.sort();
        assert_eq!(g, w, "{query}");
    }
}
