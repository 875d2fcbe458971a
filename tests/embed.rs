//! The tract embedder against independent reference vectors (a float64 numpy forward pass).

mod common;

use std::sync::OnceLock;

use common::*;
use sotto::text::{EmbedError, Embedder, cosine};

struct Reference {
    text: String,
    ids: Vec<u32>,
    embedding: Vec<f32>,
}

fn references() -> Vec<Reference> {
    let json: serde_json::Value =
        serde_json::from_str(include_str!("data/minilm_reference.json")).expect("reference JSON");
    json["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Reference {
            text: s["text"].as_str().unwrap().to_string(),
            ids: s["input_ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect(),
            embedding: s["embedding"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect(),
        })
        .collect()
}

fn model_file(name: &str) -> std::path::PathBuf {
    let path = cache().join("models").join(name);
    assert!(path.exists(), "missing {} — run `make fixtures`", path.display());
    path
}

/// The fp32 model as `Embedder::load` runs it.
fn fp32() -> &'static Embedder {
    static E: OnceLock<Embedder> = OnceLock::new();
    E.get_or_init(|| {
        Embedder::load(&model_file("all-MiniLM-L6-v2.onnx"), &model_file("all-MiniLM-L6-v2.tokenizer.json")).unwrap()
    })
}

#[test]
fn matches_the_reference_forward_pass() {
    matches_the_reference(fp32());
}

fn matches_the_reference(embedder: &Embedder) {
    let refs = references();
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    // All at once (packed) and one by one must both match.
    let batched = embedder.embed(&texts).unwrap();
    for (r, v) in refs.iter().zip(&batched) {
        let single = embedder.embed(&[&r.text]).unwrap().remove(0);
        assert_eq!(v.len(), 384);
        assert!(cosine(v, &r.embedding) >= 0.9999, "{:?}: cosine {}", r.text, cosine(v, &r.embedding));
        assert!(cosine(&single, &r.embedding) >= 0.9999, "{:?} alone", r.text);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
    // The tokenizer gives the reference's token ids (longest padding, not the file's fixed 128).
    for r in &refs {
        assert_eq!(embedder.token_ids(&r.text).unwrap(), r.ids, "{:?}", r.text);
    }
    let food = &batched[0];
    assert!((cosine(food, &batched[1]) - 0.7553).abs() < 0.001);
    assert!((cosine(food, &batched[2]) - 0.2474).abs() < 0.001);
}

#[test]
fn packed_texts_embed_as_if_alone() {
    // Short texts share one call; each must see only its own tokens, counted from position 0: a
    // text's vector is the same packed or alone (to 1e-5; tokens seen across texts: cosine 0.78,
    // measured by zeroing the mask).
    assert!(fp32().packs_texts());
    let texts = [
        "Call Ana at five.",
        "The committee postponed the vote on the library budget.",
        "Buy milk, eggs and bread.",
        "Call Ana at five.",
        "",
        "Remind me to water the plants tomorrow morning before work.",
    ];
    let packed = fp32().embed(&texts).unwrap();
    for (t, v) in texts.iter().zip(&packed) {
        let alone = fp32().embed(&[t]).unwrap().remove(0);
        let diff = v.iter().zip(&alone).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(diff < 1e-5, "{t:?}: packed differs from alone by {diff}");
    }
    // The same text at two offsets of one call: the same vector.
    let diff = packed[0].iter().zip(&packed[3]).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(diff < 1e-5, "repeated text differs by {diff}");
    // A text over the packing budget runs alone next to packed ones.
    let long = "The committee reviewed the budget for the new library. ".repeat(12);
    let mixed = fp32().embed(&[texts[0], &long, texts[2]]).unwrap();
    let alone = fp32().embed(&[&long]).unwrap().remove(0);
    assert!(cosine(&mixed[1], &alone) > 0.99999 && cosine(&mixed[0], &packed[0]) > 0.99999);
}

#[test]
fn threads_give_the_same_vectors() {
    // Enough texts of mixed lengths for several packed calls and some texts alone.
    let texts: Vec<String> = (0..60)
        .map(|i| match i % 4 {
            0 => format!("Note {i}: call Ana about the lease."),
            1 => format!("Shopping list {i}: milk, eggs, bread and coffee for the week ahead."),
            2 => format!("Meeting {i}. ") + &"The committee reviewed the library budget in detail. ".repeat(i % 7 + 1),
            _ => String::new(),
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let one = fp32().embed(&refs).unwrap();
    let threaded = Embedder::load(&model_file("all-MiniLM-L6-v2.onnx"), &model_file("all-MiniLM-L6-v2.tokenizer.json"))
        .unwrap()
        .with_threads(3);
    assert_eq!(threaded.embed(&refs).unwrap(), one, "every vector, in order, bit for bit");
}

#[test]
fn int8_variant_runs_in_tract_close_to_fp32() {
    let int8 =
        Embedder::load(&model_file("all-MiniLM-L6-v2-int8.onnx"), &model_file("all-MiniLM-L6-v2.tokenizer.json"))
            .unwrap();
    // Its activations are quantized with a scale taken over the whole call, so packing would make
    // a text's vector depend on its neighbours: one text per call, the same vector in a batch.
    assert!(!int8.packs_texts());
    let refs = references();
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).filter(|t| !t.is_empty()).collect();
    let batch = int8.embed(&texts).unwrap();
    for (r, b) in refs.iter().filter(|r| !r.text.is_empty()).zip(&batch) {
        let q = int8.embed(&[&r.text]).unwrap().remove(0);
        let c = cosine(&q, &r.embedding);
        assert!(c >= 0.99, "{:?}: int8 cosine {c}", r.text);
        assert_eq!(b, &q, "{:?}: int8 in a batch vs alone", r.text);
    }
}

#[test]
fn long_texts_are_split_into_overlapping_chunks() {
    let sentence = "The committee reviewed the budget for the new library and decided to postpone the vote. ";
    let text = sentence.repeat(40); // ~ 640 words, well over 256 tokens
    let chunks = fp32().embed_chunks(&text).unwrap();
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    assert_eq!(chunks[0].start, 0);
    assert_eq!(chunks.last().unwrap().end, text.trim_end().len());
    for w in chunks.windows(2) {
        assert!(w[1].start < w[0].end, "chunks overlap: {:?} {:?}", (w[0].start, w[0].end), (w[1].start, w[1].end));
    }
    // Each chunk is about the same thing as the sentence.
    let one = fp32().embed(&[sentence]).unwrap().remove(0);
    let other = fp32().embed(&["A cat chased a mouse across the garden."]).unwrap().remove(0);
    for c in &chunks {
        let (same, unrelated) = (cosine(&c.vector, &one), cosine(&c.vector, &other));
        assert!(same > 0.6 && unrelated < 0.3, "chunk {}..{}: {same} vs {unrelated}", c.start, c.end);
    }
    // A short text is one chunk covering it all.
    let short = fp32().embed_chunks("Call Ana at five.").unwrap();
    assert_eq!((short.len(), short[0].start, short[0].end), (1, 0, 17));
}

#[test]
fn bad_model_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let tok = model_file("all-MiniLM-L6-v2.tokenizer.json");
    let missing = dir.path().join("none.onnx");
    assert!(matches!(Embedder::load(&missing, &tok), Err(EmbedError::Model { .. })));
    let garbage = write(dir.path(), "garbage.onnx", b"this is not a protobuf");
    assert!(matches!(Embedder::load(&garbage, &tok), Err(EmbedError::Model { .. })));
    let bad_tok = write(dir.path(), "tokenizer.json", b"{\"not\": \"a tokenizer\"}");
    assert!(matches!(
        Embedder::load(&model_file("all-MiniLM-L6-v2.onnx"), &bad_tok),
        Err(EmbedError::Tokenizer { .. })
    ));
}
