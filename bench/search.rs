//! Notes search benchmark: synthetic notes in a real encrypted store (SQLCipher + FTS5), insert
//! rates, index load, and hybrid query latency (keyword + meaning fused by RRF, as
//! `sotto::notes::Library::search` does) at several library sizes. Run through `bench/search`;
//! see bench/README.md.
//!
//!   cargo bench --bench search -- [--sizes 10000,100000] [--queries 240] [--limit 10]
//!       [--batch-compare 10000] [--name search-latest] [--out bench/results]

#[path = "common.rs"]
mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use rusqlite::params;
use serde_json::json;
use sotto::notes::EMBED_MODEL_ID;
use sotto::store::vector::{FlatIndex, VectorIndex, reciprocal_rank_fusion};
use sotto::store::{DB_FILE, NewNote, Source, Store, StoreError};
use sotto::text::Embedder;

use common::*;

const SEED: u64 = 7;
const DIM: usize = 384;
/// Made-up lowercase words after the real ones: a long Zipf tail, as real vocabularies have.
const TAIL_WORDS: usize = 5000;
const PASSPHRASE: &str = "correct horse battery staple";

// ------------------------------------------------------------------------------------------
// Synthetic notes and queries.

/// Content word `rank` of the extended vocabulary (real words first, then made-up ones).
fn vocab(rank: usize) -> String {
    if rank < CONTENT_WORDS.len() { CONTENT_WORDS[rank].to_string() } else { name(rank * 7 + 1).to_lowercase() }
}

fn vocab_len() -> usize {
    CONTENT_WORDS.len() + TAIL_WORDS
}

fn note_word(rng: &mut Rng) -> String {
    let r = rng.f64();
    if r < 0.40 {
        FUNCTION_WORDS[rng.zipf(FUNCTION_WORDS.len(), 1.0)].to_string()
    } else if r < 0.88 {
        vocab(rng.zipf(vocab_len(), 1.0))
    } else if r < 0.96 {
        VERBS[rng.below(VERBS.len())].to_string()
    } else {
        name(rng.zipf(NAMES, 1.1))
    }
}

fn words(rng: &mut Rng, n: usize) -> Vec<String> {
    (0..n).map(|_| note_word(rng)).collect()
}

fn capitalise(s: &str) -> String {
    let mut cs = s.chars();
    cs.next().map(|f| f.to_uppercase().collect::<String>() + cs.as_str()).unwrap_or_default()
}

/// Note `i`: same `i`, same note. Titles of 2–6 words; bodies of 10–400 words (median ~45),
/// sentences of 4–16 words; a third are dictations.
fn note(i: usize) -> NewNote {
    let mut rng = Rng::new(SEED ^ (i as u64).wrapping_mul(0x9E37_79B9));
    let title_words = rng.range(2, 6);
    let title = capitalise(&words(&mut rng, title_words).join(" "));
    let r = rng.f64();
    let len = if r < 0.5 {
        rng.range(10, 40)
    } else if r < 0.85 {
        rng.range(41, 120)
    } else {
        rng.range(121, 400)
    };
    let mut body = String::new();
    let mut left = len;
    while left > 0 {
        let n = rng.range(4, 16).min(left);
        let ws = words(&mut rng, n);
        if !body.is_empty() {
            body.push(' ');
        }
        body.push_str(&capitalise(&ws.join(" ")));
        body.push('.');
        left -= n;
    }
    NewNote {
        title,
        body,
        source: Some(if i.is_multiple_of(3) { Source::Dictation } else { Source::Text }),
        ..Default::default()
    }
}

/// A pseudo-random unit vector for note `i` (its "embedding").
fn note_vector(i: usize) -> Vec<f32> {
    let mut rng = Rng::new(0xE0BE_D000 ^ i as u64);
    let mut v: Vec<f32> = (0..DIM).map(|_| rng.normal() as f32).collect();
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}

/// What users type: words (frequent ones more often), names, prefixes, a phrase from a note.
fn queries(n: usize, notes: usize) -> Vec<(String, &'static str)> {
    let mut rng = Rng::new(SEED + 1);
    let content = |rng: &mut Rng| vocab(rng.zipf(vocab_len(), 1.0));
    (0..n)
        .map(|_| {
            let r = rng.f64();
            if r < 0.35 {
                (format!("{} {}", content(&mut rng), content(&mut rng)), "two words")
            } else if r < 0.55 {
                (content(&mut rng), "one word")
            } else if r < 0.70 {
                (
                    format!("{} {} {}", VERBS[rng.below(VERBS.len())], content(&mut rng), content(&mut rng)),
                    "three words",
                )
            } else if r < 0.85 {
                (format!("{} {}", name(rng.zipf(NAMES, 1.1)), content(&mut rng)), "name + word")
            } else if r < 0.95 {
                let w = content(&mut rng);
                let cut = w.char_indices().nth(rng.range(3, 5)).map_or(w.len(), |(i, _)| i);
                (format!("{}*", &w[..cut]), "prefix")
            } else {
                // Two adjacent words of an existing note, as a quoted phrase.
                let body = note(rng.below(notes)).body;
                let ws: Vec<&str> = body.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
                let k = rng.below(ws.len().saturating_sub(1).max(1));
                (format!("\"{} {}\"", ws[k], ws.get(k + 1).unwrap_or(&"")), "phrase")
            }
        })
        .collect()
}

// ------------------------------------------------------------------------------------------
// A bench-only exact scan, to show what FlatIndex::search could cost: 8 independent
// accumulators (the compiler may not reorder float sums, so one accumulator never vectorises),
// a note's chunks are contiguous (no HashMap), and a partial selection instead of a full sort.

struct FastFlat {
    data: Vec<f32>,
    owners: Vec<i64>,
}

fn dot8(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + ra.iter().zip(rb).map(|(x, y)| x * y).sum::<f32>()
}

impl FastFlat {
    fn search(&self, q: &[f32], limit: usize) -> Vec<(i64, f32)> {
        let mut best: Vec<(i64, f32)> = Vec::with_capacity(self.owners.len());
        for (row, &o) in self.data.chunks_exact(q.len()).zip(&self.owners) {
            let s = dot8(row, q);
            match best.last_mut() {
                Some(last) if last.0 == o => last.1 = last.1.max(s),
                _ => best.push((o, s)),
            }
        }
        let cmp = |a: &(i64, f32), b: &(i64, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if best.len() > limit {
            best.select_nth_unstable_by(limit, cmp);
            best.truncate(limit);
        }
        best.sort_by(cmp);
        best
    }
}

// ------------------------------------------------------------------------------------------

fn file_mb(dir: &Path) -> f64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|s| std::fs::metadata(dir.join(format!("{DB_FILE}{s}"))).ok())
        .map(|m| m.len() as f64 / 1048576.0)
        .sum()
}

#[derive(Default)]
struct Stage {
    keyword: Vec<f64>,
    embed: Vec<f64>,
    vector: Vec<f64>,
    fuse_fetch: Vec<f64>,
    total: Vec<f64>,
    total_no_embed: Vec<f64>,
    fast_vector: Vec<f64>,
    kw_hits: Vec<f64>,
    /// Queries where the bench-only scan's top `limit` differs from FlatIndex's.
    fast_disagree: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let root = repo_root();
    let sizes: Vec<usize> = args
        .value("--sizes")
        .unwrap_or_else(|| "10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().context("--sizes: numbers"))
        .collect::<Result<_>>()?;
    let n_queries = args.num("--queries", 240);
    let limit = args.num("--limit", 10).max(1);
    let batch_compare = args.num("--batch-compare", 10_000);
    let name = args.value("--name").unwrap_or_else(|| "search-latest".into());
    let out_dir = args.path("--out", &root.join("bench/results"));
    let models = args.path("--models", &models_dir());
    if sizes.windows(2).any(|w| w[0] >= w[1]) {
        bail!("--sizes must increase");
    }
    let load_start = loadavg();
    let started = utc_now();
    eprintln!("==> load average {load_start}");

    let embedder =
        Embedder::load(&models.join("all-MiniLM-L6-v2.onnx"), &models.join("all-MiniLM-L6-v2.tokenizer.json"))
            .context("run models/fetch-fixtures")?;

    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("lib");
    std::fs::create_dir_all(&dir)?;
    let t = Instant::now();
    let key = sotto::vault::unlock(&dir, PASSPHRASE)?;
    let unlock_ms = ms(t.elapsed());
    let mut store = Store::open(&dir.join(DB_FILE), &key)?;

    let qs = queries(n_queries, sizes[0]);
    let mut fast = FastFlat { data: Vec::new(), owners: Vec::new() };
    let mut have = 0usize;
    let mut ids: Vec<i64> = Vec::new();
    let mut per_size = Vec::new();
    let mut md_build = String::new();
    let mut stages: Vec<(usize, Stage)> = Vec::new();

    for &size in &sizes {
        // ---- insert notes: Store::add_note, one transaction per note (what the app does)
        let notes: Vec<NewNote> = (have..size).map(note).collect();
        let words: usize = notes.iter().map(|n| n.body.split_whitespace().count()).sum();
        let t = Instant::now();
        for n in &notes {
            ids.push(store.add_note(n)?);
        }
        let add_s = t.elapsed().as_secs_f64();
        drop(notes);
        // ---- vectors: Store::put_embeddings, one transaction per note
        let vectors: Vec<Vec<f32>> = (have..size).map(note_vector).collect();
        let t = Instant::now();
        for (i, v) in (have..size).zip(&vectors) {
            store.put_embeddings(ids[i], EMBED_MODEL_ID, std::slice::from_ref(v))?;
        }
        let put_s = t.elapsed().as_secs_f64();
        for (i, v) in (have..size).zip(vectors) {
            fast.data.extend(v);
            fast.owners.push(ids[i]);
        }
        let added = size - have;
        have = size;
        // ---- the index as Library::open builds it: every vector read back, FlatIndex::upsert per note
        let t = Instant::now();
        let stored = store.embeddings(EMBED_MODEL_ID)?;
        let read_ms = ms(t.elapsed());
        let t = Instant::now();
        let mut index = FlatIndex::new();
        let mut by_note: Vec<(i64, Vec<Vec<f32>>)> = Vec::new();
        for (id, v) in stored {
            match by_note.last_mut() {
                Some((last, vs)) if *last == id => vs.push(v),
                _ => by_note.push((id, vec![v])),
            }
        }
        for (id, vs) in by_note {
            index.upsert(id, vs);
        }
        let upsert_ms = ms(t.elapsed());
        let db_mb = file_mb(&dir);
        eprintln!(
            "==> {size} notes: add {:.0}/s, put_embeddings {:.0}/s, read vectors {read_ms:.0} ms, index build {upsert_ms:.0} ms, db {db_mb:.0} MB (load {})",
            added as f64 / add_s,
            added as f64 / put_s,
            loadavg()
        );

        // ---- hybrid queries, as Library::search(query, Hybrid, limit)
        let mut st = Stage::default();
        for (q, _) in &qs {
            let t0 = Instant::now();
            let kw = match store.keyword_search(q, limit * 4) {
                Ok(h) => h,
                Err(StoreError::EmptyQuery) => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            let t1 = Instant::now();
            let qv = embedder.embed(&[q.as_str()])?.remove(0);
            let t2 = Instant::now();
            let mv = index.search(&qv, limit * 4);
            let t3 = Instant::now();
            let fused = reciprocal_rank_fusion(&[kw.iter().map(|h| h.id).collect(), mv.iter().map(|h| h.0).collect()]);
            let mut out = Vec::new();
            for (id, score) in fused.into_iter().take(limit) {
                let note = store.note(id)?;
                let snippet = kw
                    .iter()
                    .find(|h| h.id == id)
                    .map(|h| h.snippet.clone())
                    .unwrap_or_else(|| note.body.chars().take(120).collect());
                out.push((id, note.title, score, snippet));
            }
            let t4 = Instant::now();
            std::hint::black_box(&out);
            // The bench-only scan, timed apart (not part of the hybrid total); same top ids?
            let t5 = Instant::now();
            let fv = fast.search(&qv, limit * 4);
            let fast_ms = ms(t5.elapsed());
            // Summation order differs, so near-ties may swap: compare the top `limit` as sets.
            let top = |v: &[(i64, f32)]| {
                let mut ids: Vec<i64> = v.iter().take(limit).map(|x| x.0).collect();
                ids.sort_unstable();
                ids
            };
            st.fast_disagree += usize::from(top(&fv) != top(&mv));
            st.keyword.push(ms(t1 - t0));
            st.embed.push(ms(t2 - t1));
            st.vector.push(ms(t3 - t2));
            st.fuse_fetch.push(ms(t4 - t3));
            st.total.push(ms(t4 - t0));
            st.total_no_embed.push(ms(t4 - t0) - ms(t2 - t1));
            st.fast_vector.push(fast_ms);
            st.kw_hits.push(kw.len() as f64);
        }
        eprintln!(
            "==> {size} notes: {} queries, hybrid p50 {:.1} ms (load {})",
            qs.len(),
            median(&st.total),
            loadavg()
        );
        per_size.push(json!({
            "notes": size, "added": added, "body_words": words,
            "add_note_per_s": added as f64 / add_s, "add_note_s": add_s,
            "put_embeddings_per_s": added as f64 / put_s, "put_embeddings_s": put_s,
            "index_read_vectors_ms": read_ms, "index_build_upsert_ms": upsert_ms, "db_mb": db_mb,
            "query_ms": {
                "keyword": st.keyword, "embed": st.embed, "vector": st.vector, "fuse_fetch": st.fuse_fetch,
                "total": st.total, "total_no_embed": st.total_no_embed, "bench_fast_vector": st.fast_vector,
            },
            "keyword_hits": st.kw_hits, "bench_fast_vector_top_disagreements": st.fast_disagree,
        }));
        md_build += &format!(
            "| {} | {} | {:.0} | {:.0} | {read_ms:.0} | {upsert_ms:.0} | {db_mb:.0} |\n",
            size,
            if have == added { format!("0 → {size}") } else { format!("{} → {size}", size - added) },
            added as f64 / add_s,
            added as f64 / put_s,
        );
        stages.push((size, st));
    }
    drop(store);

    // ---- the same notes in batched transactions, straight SQL on the same schema (what a
    // Store::add_notes(&[NewNote]) could do): FTS5 triggers included.
    let mut batch_json = json!(null);
    if batch_compare > 0 {
        let bdir = tmp.path().join("batch");
        std::fs::create_dir_all(&bdir)?;
        let key = sotto::vault::unlock(&bdir, PASSPHRASE)?;
        let bstore = Store::open(&bdir.join(DB_FILE), &key)?;
        let conn = bstore.connection();
        let notes: Vec<NewNote> = (0..batch_compare).map(note).collect();
        let mut rates = serde_json::Map::new();
        for per_tx in [100usize, 1000] {
            conn.execute_batch("DELETE FROM embeddings; DELETE FROM notes;")?;
            let t = Instant::now();
            for chunk in notes.chunks(per_tx) {
                conn.execute_batch("BEGIN IMMEDIATE")?;
                {
                    let mut ins = conn.prepare_cached(
                        "INSERT INTO notes (created_at, updated_at, title, body, source) VALUES (?1, ?1, ?2, ?3, ?4)",
                    )?;
                    for n in chunk {
                        let src = if n.source == Some(Source::Dictation) { "dictation" } else { "text" };
                        ins.execute(params![1_700_000_000i64, n.title, n.body, src])?;
                    }
                }
                conn.execute_batch("COMMIT")?;
            }
            let add = batch_compare as f64 / t.elapsed().as_secs_f64();
            let first: i64 = conn.query_row("SELECT min(id) FROM notes", [], |r| r.get(0))?;
            let t = Instant::now();
            for chunk in (0..batch_compare).collect::<Vec<_>>().chunks(per_tx) {
                conn.execute_batch("BEGIN IMMEDIATE")?;
                {
                    let mut ins = conn.prepare_cached(
                        "INSERT INTO embeddings (note_id, chunk, model_id, dim, vector) VALUES (?1, 0, ?2, ?3, ?4)",
                    )?;
                    for &i in chunk {
                        let blob: Vec<u8> = note_vector(i).iter().flat_map(|x| x.to_le_bytes()).collect();
                        ins.execute(params![first + i as i64, EMBED_MODEL_ID, DIM as i64, blob])?;
                    }
                }
                conn.execute_batch("COMMIT")?;
            }
            let put = batch_compare as f64 / t.elapsed().as_secs_f64();
            rates.insert(format!("{per_tx}_per_tx"), json!({"notes_per_s": add, "vectors_per_s": put}));
        }
        batch_json = json!({"notes": batch_compare, "rates": rates});
    }

    // ---- report
    let load_end = loadavg();
    let mut md = format!(
        "# bench/search — {started}, sotto {}, load average {load_start} (start) / {load_end} (end), {} CPUs\n\n",
        commit(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    md += &format!(
        "Synthetic notes (seeded; bodies 10–400 words, a Zipf vocabulary of {} words + {NAMES} names) in a real \
         SQLCipher store with FTS5 (temp dir, WAL, synchronous=NORMAL); one pseudo-random unit vector \
         (384-d) per note through `put_embeddings` and a `FlatIndex`. Vault unlock (Argon2id): {unlock_ms:.0} ms.\n\n",
        vocab_len()
    );
    md += "### Building the library\n\n\
           | notes | inserted | `add_note` notes/s (1 tx each) | `put_embeddings` notes/s (1 tx each) | read all vectors ms | FlatIndex build (upsert per note) ms | db MB |\n\
           |---:|---|---:|---:|---:|---:|---:|\n";
    md += &md_build;
    if let Some(r) = batch_json.get("rates") {
        md += &format!(
            "\nBatched, same schema and triggers (raw SQL in transactions, {batch_compare} notes, fresh store): \
             100 per tx {:.0} notes/s + {:.0} vectors/s; 1000 per tx {:.0} notes/s + {:.0} vectors/s.\n",
            r["100_per_tx"]["notes_per_s"].as_f64().unwrap_or(f64::NAN),
            r["100_per_tx"]["vectors_per_s"].as_f64().unwrap_or(f64::NAN),
            r["1000_per_tx"]["notes_per_s"].as_f64().unwrap_or(f64::NAN),
            r["1000_per_tx"]["vectors_per_s"].as_f64().unwrap_or(f64::NAN),
        );
    }
    md += &format!(
        "\n### Hybrid query latency ({} queries, limit {limit}: keyword top {} + vector top {} → RRF → fetch {limit} notes)\n\n| stage |",
        qs.len(),
        limit * 4,
        limit * 4
    );
    for (size, _) in &stages {
        md += &format!(" {size} p50 ms | {size} p95 ms |");
    }
    md += "\n|---|";
    md += &"---:|---:|".repeat(stages.len());
    md += "\n";
    type Column = fn(&Stage) -> &Vec<f64>;
    let rows: [(&str, Column); 8] = [
        ("`keyword_search` (FTS5 bm25)", |s: &Stage| &s.keyword),
        ("query embedding (`Embedder::embed`, fp32)", |s: &Stage| &s.embed),
        ("`FlatIndex::search`", |s: &Stage| &s.vector),
        ("RRF + fetch notes", |s: &Stage| &s.fuse_fetch),
        ("**hybrid total**", |s: &Stage| &s.total),
        ("hybrid without the embedding", |s: &Stage| &s.total_no_embed),
        ("(bench-only vectorised flat scan, not in the total)", |s: &Stage| &s.fast_vector),
        ("keyword hits returned (count)", |s: &Stage| &s.kw_hits),
    ];
    for (label, f) in rows {
        md += &format!("| {label} |");
        for (_, st) in &stages {
            let v = f(st);
            let (a, b) = (median(v), percentile(v, 95.0));
            if label.contains("count") {
                md += &format!(" {a:.0} | {b:.0} |");
            } else {
                md += &format!(" {a:.2} | {b:.2} |");
            }
        }
        md += "\n";
    }
    let mut kinds: HashMap<&str, usize> = HashMap::new();
    for (_, k) in &qs {
        *kinds.entry(k).or_default() += 1;
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort();
    md += &format!(
        "\nQuery mix: {}. Queries run one after another on one thread, each once per size. \
         The bench-only scan's top {limit} differed from `FlatIndex`'s (float near-ties) in {} queries.\n",
        kinds.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", "),
        stages
            .iter()
            .map(|(size, st)| format!("{}/{} at {size}", st.fast_disagree, st.total.len()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Keyword cost by query kind: single common words match most notes and bm25 scores them all.
    md += "\n`keyword_search` p50 / max ms by query kind:\n\n| kind | queries |";
    for (size, _) in &stages {
        md += &format!(" {size} p50 | {size} max |");
    }
    md += "\n|---|---:|";
    md += &"---:|---:|".repeat(stages.len());
    md += "\n";
    for (kind, count) in &kinds {
        md += &format!("| {kind} | {count} |");
        for (_, st) in &stages {
            let v: Vec<f64> = qs.iter().zip(&st.keyword).filter(|((_, k), _)| k == kind).map(|(_, &t)| t).collect();
            md += &format!(" {:.2} | {:.1} |", median(&v), v.iter().cloned().fold(0.0, f64::max));
        }
        md += "\n";
    }
    print!("{md}");
    let json = json!({
        "meta": {
            "started": started, "commit": commit(), "loadavg_start": load_start, "loadavg_end": load_end,
            "seed": SEED, "dim": DIM, "vocabulary": vocab_len(), "names": NAMES, "limit": limit,
            "unlock_ms": unlock_ms,
        },
        "queries": qs.iter().map(|(q, k)| json!({"q": q, "kind": k})).collect::<Vec<_>>(),
        "sizes": per_size,
        "batched_insert": batch_json,
    });
    save(&out_dir, &name, &md, &json)?;
    eprintln!("==> saved {}/{name}.{{md,json}}", out_dir.display());
    Ok(())
}
