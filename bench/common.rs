//! Helpers shared by the Rust benches (included with `#[path]`): a seeded PRNG, a vocabulary
//! for synthetic text, statistics, CPU time and run metadata.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// xorshift64* (Vigna): tiny, fast, deterministic across platforms; not for cryptography.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // splitmix64 of the seed, so small seeds still give well-mixed states (never 0).
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }
    /// Uniform in [lo, hi].
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(1e-300);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    /// Index in [0, n) with P(i) ∝ 1/(i+1)^s (Zipf-like), by inverting the continuous CDF.
    pub fn zipf(&mut self, n: usize, s: f64) -> usize {
        let u = self.f64();
        let i = if (s - 1.0).abs() < 1e-9 {
            ((n as f64 + 1.0).powf(u) - 1.0) as usize
        } else {
            let a = 1.0 - s;
            (((((n as f64 + 1.0).powf(a) - 1.0) * u + 1.0).powf(1.0 / a)) - 1.0) as usize
        };
        i.min(n - 1)
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

/// Function words: frequent, as in real notes.
pub const FUNCTION_WORDS: &[&str] = &[
    "the", "a", "to", "and", "of", "in", "for", "on", "with", "at", "by", "from", "about", "after", "before", "it",
    "this", "that", "we", "I", "you", "they", "is", "was", "be", "will", "should", "can", "need", "our", "my", "their",
    "some", "more", "next", "all", "not", "but", "so", "then",
];

/// Content words of everyday notes, most common first (their rank drives the Zipf sampling).
pub const CONTENT_WORDS: &[&str] = &[
    "meeting",
    "call",
    "email",
    "budget",
    "project",
    "team",
    "today",
    "tomorrow",
    "week",
    "plan",
    "review",
    "idea",
    "list",
    "time",
    "report",
    "client",
    "follow",
    "update",
    "draft",
    "notes",
    "morning",
    "afternoon",
    "evening",
    "schedule",
    "deadline",
    "design",
    "launch",
    "order",
    "price",
    "invoice",
    "travel",
    "flight",
    "hotel",
    "train",
    "ticket",
    "doctor",
    "appointment",
    "dentist",
    "school",
    "kids",
    "dinner",
    "lunch",
    "breakfast",
    "groceries",
    "milk",
    "bread",
    "coffee",
    "tea",
    "garden",
    "kitchen",
    "house",
    "rent",
    "car",
    "bike",
    "repair",
    "insurance",
    "bank",
    "payment",
    "tax",
    "refund",
    "contract",
    "lawyer",
    "office",
    "desk",
    "laptop",
    "phone",
    "battery",
    "charger",
    "password",
    "account",
    "website",
    "server",
    "database",
    "backup",
    "release",
    "bug",
    "feature",
    "test",
    "customer",
    "support",
    "ticketing",
    "feedback",
    "survey",
    "interview",
    "hiring",
    "salary",
    "vacation",
    "holiday",
    "birthday",
    "gift",
    "party",
    "wedding",
    "music",
    "concert",
    "movie",
    "book",
    "chapter",
    "podcast",
    "recipe",
    "soup",
    "salad",
    "chicken",
    "pasta",
    "rice",
    "vegetables",
    "fruit",
    "apples",
    "oranges",
    "exercise",
    "run",
    "walk",
    "gym",
    "yoga",
    "swim",
    "sleep",
    "medicine",
    "pharmacy",
    "allergy",
    "weather",
    "rain",
    "snow",
    "summer",
    "winter",
    "spring",
    "autumn",
    "beach",
    "mountain",
    "river",
    "lake",
    "park",
    "city",
    "village",
    "museum",
    "library",
    "station",
    "airport",
    "taxi",
    "bus",
    "parking",
    "map",
    "address",
    "neighbour",
    "friend",
    "family",
    "mother",
    "father",
    "sister",
    "brother",
    "uncle",
    "aunt",
    "cousin",
    "colleague",
    "manager",
    "boss",
    "partner",
    "vendor",
    "supplier",
    "shipment",
    "delivery",
    "package",
    "warehouse",
    "inventory",
    "sales",
    "marketing",
    "campaign",
    "newsletter",
    "slides",
    "presentation",
    "workshop",
    "conference",
    "agenda",
    "minutes",
    "decision",
    "risk",
    "issue",
    "question",
    "answer",
    "problem",
    "solution",
    "estimate",
    "quote",
    "proposal",
    "approval",
    "signature",
    "document",
    "spreadsheet",
    "chart",
    "numbers",
    "quarter",
    "revenue",
    "costs",
    "savings",
    "loan",
    "mortgage",
    "energy",
    "electricity",
    "heating",
    "water",
    "internet",
    "router",
    "printer",
    "paper",
    "pen",
    "notebook",
    "calendar",
    "reminder",
    "alarm",
    "clock",
    "watch",
    "glasses",
    "keys",
    "wallet",
    "umbrella",
    "jacket",
    "shoes",
    "shirt",
    "laundry",
    "cleaning",
    "dishes",
    "trash",
    "recycling",
    "plants",
    "flowers",
    "dog",
    "cat",
    "vet",
    "walkies",
    "piano",
    "guitar",
    "lesson",
    "homework",
    "exam",
    "grades",
    "teacher",
    "class",
    "course",
    "language",
    "spanish",
    "french",
    "german",
    "italian",
    "japanese",
    "translation",
    "photo",
    "camera",
    "video",
    "album",
    "printing",
    "frame",
    "painting",
    "drawing",
    "sketch",
    "architecture",
    "bridge",
    "road",
    "traffic",
    "accident",
    "police",
    "fire",
    "emergency",
    "hospital",
    "nurse",
    "surgery",
    "recovery",
    "checkup",
    "vaccine",
    "blood",
    "pressure",
    "diet",
    "sugar",
    "protein",
    "vitamins",
    "hydration",
    "quiet",
    "urgent",
    "important",
    "later",
    "maybe",
    "finally",
    "quickly",
    "carefully",
    "again",
    "together",
];

/// Verbs used to make note sentences read like notes.
pub const VERBS: &[&str] = &[
    "call", "email", "remind", "book", "buy", "send", "check", "review", "finish", "start", "cancel", "move",
    "discuss", "prepare", "pick up", "drop off", "pay", "fix", "clean", "write", "read", "ask", "tell", "share",
    "schedule", "confirm", "order", "return", "visit", "plan",
];

/// Syllables for made-up names (people, places, products): a long tail of rare words.
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ra", "ten", "vor", "el", "an", "is", "ber", "tor", "sa", "ne", "mar", "lin", "do", "ti", "ve",
    "qu", "zo", "ha", "rek", "sol", "pi", "nu", "gar", "fen", "os", "tia", "bri",
];

/// A made-up proper name from `seed` (same seed, same name).
pub fn name(seed: usize) -> String {
    let n = SYLLABLES.len();
    let (a, b, c) = (seed % n, (seed / n) % n, (seed / n / n) % n);
    let mut s = String::new();
    s.push_str(SYLLABLES[a]);
    s.push_str(SYLLABLES[b]);
    if seed.is_multiple_of(3) {
        s.push_str(SYLLABLES[c]);
    }
    let mut cs = s.chars();
    cs.next().map(|f| f.to_uppercase().collect::<String>() + cs.as_str()).unwrap_or_default()
}

/// How many distinct made-up names the generators use.
pub const NAMES: usize = 5000;

/// One word of running text: mostly function and content words, some verbs and names.
pub fn word(rng: &mut Rng) -> String {
    let r = rng.f64();
    if r < 0.35 {
        FUNCTION_WORDS[rng.zipf(FUNCTION_WORDS.len(), 1.0)].to_string()
    } else if r < 0.85 {
        CONTENT_WORDS[rng.zipf(CONTENT_WORDS.len(), 1.05)].to_string()
    } else if r < 0.95 {
        VERBS[rng.below(VERBS.len())].to_string()
    } else {
        name(rng.zipf(NAMES, 1.1))
    }
}

/// A sentence of `n` words, capitalised, with a full stop (and an occasional comma).
pub fn sentence(rng: &mut Rng, n: usize) -> String {
    let mut s = String::new();
    for i in 0..n.max(1) {
        let mut w = word(rng);
        if i == 0 {
            let mut cs = w.chars();
            w = cs.next().map(|f| f.to_uppercase().collect::<String>() + cs.as_str()).unwrap_or_default();
        } else {
            s.push(if rng.below(12) == 0 { ',' } else { ' ' });
            if s.ends_with(',') {
                s.push(' ');
            }
        }
        s.push_str(&w);
    }
    s.push('.');
    s
}

/// A paragraph of about `words` words, split into sentences of 5–18 words.
pub fn paragraph(rng: &mut Rng, words: usize) -> String {
    let mut left = words.max(1);
    let mut out = Vec::new();
    while left > 0 {
        let n = rng.range(5, 18).min(left);
        out.push(sentence(rng, n));
        left -= n;
    }
    out.join(" ")
}

/// Median of a sample (sorted copy).
pub fn median(xs: &[f64]) -> f64 {
    percentile(xs, 50.0)
}

/// Nearest-rank percentile (p in 0..=100) of a sample.
pub fn percentile(xs: &[f64], p: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// CPU time this thread has run, in ns (`CLOCK_THREAD_CPUTIME_ID`). Time spent descheduled on a
/// busy machine does not count, unlike wall time. (`/proc/thread-self/schedstat` is no substitute:
/// for the running thread it only advances at scheduler ticks, 4 ms here.)
pub fn thread_cpu_ns() -> u64 {
    clock_ns(3)
}

/// CPU time of every thread of this process, in ns (`CLOCK_PROCESS_CPUTIME_ID`): for work that
/// runs on several threads.
#[allow(dead_code)]
pub fn process_cpu_ns() -> u64 {
    clock_ns(2)
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn clock_ns(clock: i32) -> u64 {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec with the C layout of 64-bit Linux.
    if unsafe { clock_gettime(clock, &mut ts) } != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn clock_ns(_: i32) -> u64 {
    0
}

/// The 1/5/15-minute load averages.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The repository root (bench/..).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `git describe`-ish id of the measured code: short commit, `-dirty` when src/ or Cargo.* changed.
pub fn commit() -> String {
    let root = repo_root();
    let out = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(&root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = out(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = out(&["status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock"]).is_some_and(|s| !s.is_empty());
    if dirty { format!("{head}-dirty") } else { head }
}

/// UTC time now, ISO 8601 (via `date`, to avoid a time crate).
pub fn utc_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The model cache: `$SOTTO_CACHE/models` or `~/.cache/sotto/models`.
pub fn models_dir() -> PathBuf {
    let cache = std::env::var_os("SOTTO_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/sotto"));
    cache.join("models")
}

/// Command-line flags of a harness-less bench: `--key value` pairs and bare `--flag`s; cargo's
/// own `--bench` is ignored.
pub struct Args(Vec<String>);

impl Args {
    pub fn parse() -> Self {
        Args(std::env::args().skip(1).filter(|a| a != "--bench").collect())
    }
    pub fn value(&self, key: &str) -> Option<String> {
        self.0.iter().position(|a| a == key).and_then(|i| self.0.get(i + 1).cloned())
    }
    pub fn num(&self, key: &str, default: usize) -> usize {
        self.value(key).map(|v| v.parse().unwrap_or_else(|_| panic!("{key}: not a number: {v}"))).unwrap_or(default)
    }
    pub fn flag(&self, key: &str) -> bool {
        self.0.iter().any(|a| a == key)
    }
    pub fn path(&self, key: &str, default: &Path) -> PathBuf {
        self.value(key).map(PathBuf::from).unwrap_or_else(|| default.to_path_buf())
    }
}

/// Write `name.md` and `name.json` under `dir` (created if missing).
pub fn save(dir: &Path, name: &str, md: &str, json: &serde_json::Value) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(format!("{name}.md")), md)?;
    std::fs::write(dir.join(format!("{name}.json")), serde_json::to_string_pretty(json)? + "\n")
}
