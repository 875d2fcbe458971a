//! Sentence embeddings with tract-onnx: all-MiniLM-L6-v2 (or any BERT-style ONNX with
//! `input_ids`/`attention_mask`/`token_type_ids` inputs and a `[batch, seq, dim]` first output),
//! mean pooling over real tokens and L2 normalisation done here.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokenizers::{Encoding, Tokenizer, TruncationParams};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::array::Gather;

/// Why the embedder could not load or run.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The ONNX file is missing, unreadable or not runnable by tract.
    #[error("embedding model {path}: {detail}")]
    Model {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// The tokenizer file is missing or invalid.
    #[error("tokenizer {path}: {detail}")]
    Tokenizer {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// Inference failed.
    #[error("embedding failed: {0}")]
    Run(String),
}

/// The vectors of one call's texts, in order.
type CallResult = Result<Vec<Vec<f32>>, EmbedError>;

/// Longest input in tokens (sentence-transformers' limit for MiniLM).
pub const MAX_TOKENS: usize = 256;

/// Tokens one packed call may carry. Measured on short notes (~15 tokens): 1.3x faster packed by
/// 96 than one per call (each call streams all the weights once), 1.15x by 32; 96 and 128 were
/// level on both short and mixed notes, and attention grows with the square of the call.
const PACK_TOKENS: usize = 96;

/// Additive attention bias between tokens of different texts in one packed call: the exporter's
/// own mask value (models/make_minilm_onnx.py), so a text alone gets exactly the unpacked math.
const OTHER_TEXT_BIAS: f32 = -10000.0;

/// A text embedding model; cheap to share between threads.
pub struct Embedder {
    plan: Arc<TypedRunnableModel>,
    /// What each plan input is fed with, in order.
    feeds: Vec<Feed>,
    tokenizer: Tokenizer,
    /// The same vocabulary without truncation or padding, to find chunk boundaries.
    splitter: Tokenizer,
    dim: usize,
    /// Attention heads: the packed bias is given per head (see `packable`).
    heads: usize,
    /// Calls of one `embed` run at once, each on its own thread.
    threads: usize,
}

/// Names of the matmul kernels an optimised tract model runs its products on, sorted (tract
/// lists them in each product's `info()`: "... with [vector kernel, matrix kernel]").
pub fn matmul_kernels(model: &TypedModel) -> Vec<String> {
    let mut names: Vec<String> = model
        .nodes()
        .iter()
        .filter(|n| n.op().name() == "OptMatMul")
        .flat_map(|n| n.op().info().unwrap_or_default())
        .filter_map(|line| Some(line.split_once(" with [")?.1.trim_end_matches(']').to_string()))
        .flat_map(|list| list.split(", ").map(str::to_string).collect::<Vec<_>>())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// One input of the plan.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Feed {
    /// Token ids, `[1, seq]`.
    Ids,
    /// Ones over real tokens, `[1, seq]` (unpacked plans only).
    Mask,
    /// Segment ids, `[1, seq]`.
    Types,
    /// Each token's position within its own text, `[seq]` (packed plans only).
    Positions,
    /// 0 between tokens of the same text, [`OTHER_TEXT_BIAS`] otherwise, `[1, heads, seq, seq]`.
    Bias,
}

/// One piece of a long text and its vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// Byte offset of the piece in the original text.
    pub start: usize,
    /// Byte offset just past the piece.
    pub end: usize,
    /// Unit-length embedding.
    pub vector: Vec<f32>,
}

impl Embedder {
    /// Load an ONNX model and its `tokenizer.json`; one plan for any number of texts per call.
    ///
    /// Measured by bench/embed: a plan with the batch fixed at 1 lets tract pre-pack the weights
    /// and drop the broadcasts a symbolic batch needs, 1.2x (13 tokens) to 1.5x (128 tokens)
    /// faster per text than the symbolic-batch plan, and with no padding nothing is wasted.
    /// Graphs from models/make_minilm_onnx.py are rewired so that several short texts share one
    /// sequence (see `packable`); other BERT-style graphs run one text per call.
    pub fn load(onnx: &Path, tokenizer: &Path) -> Result<Self, EmbedError> {
        let model_err =
            |e: &dyn std::fmt::Display| EmbedError::Model { path: onnx.to_path_buf(), detail: e.to_string() };
        if !onnx.is_file() {
            return Err(model_err(&"file not found"));
        }
        let mut tokenizer = Tokenizer::from_file(tokenizer)
            .map_err(|e| EmbedError::Tokenizer { path: tokenizer.to_path_buf(), detail: e.to_string() })?;
        let mut splitter = tokenizer.clone();
        splitter.with_padding(None);
        splitter
            .with_truncation(None)
            .map_err(|e| EmbedError::Tokenizer { path: onnx.to_path_buf(), detail: e.to_string() })?;
        // The shipped tokenizer.json pads and truncates to 128; batches are padded here instead.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| EmbedError::Tokenizer { path: onnx.to_path_buf(), detail: e.to_string() })?;

        let mut model = tract_onnx::onnx().model_for_path(onnx).map_err(|e| model_err(&e))?;
        let batch = model.sym("batch");
        let seq = model.sym("seq");
        // Every call has tokens ([CLS] and [SEP] at least). Without this bound tract cannot show
        // that `seq` x 384 elements make an add worth its fast path, and leaves each residual add
        // on its generic broadcasting one: ~10 % of a call, measured; the numbers are identical.
        model.symbols.add_assertion("seq >= 1").map_err(|e| model_err(&e))?;
        let inputs = model.inputs.len();
        for i in 0..inputs {
            model
                .set_input_fact(i, InferenceFact::dt_shape(i64::datum_type(), [batch.to_dim(), seq.to_dim()]))
                .map_err(|e| model_err(&e))?;
        }
        // The batch is fixed after typing: some exported graphs (onnxruntime's int8 quantizer)
        // name the batch axis in their shape annotations, which a concrete input fact contradicts.
        let typed = model
            .into_typed()
            .and_then(|m| m.set_symbols(&std::iter::once((batch, TDim::Val(1))).collect()))
            .map_err(|e| model_err(&e))?;
        let (typed, feeds, heads) = match packable(&typed).map_err(|e| model_err(&e))? {
            Some((packed, heads)) => {
                // `run` makes every packed call at least 2 tokens long. Told so, tract proves that
                // the [1, heads, seq, seq] bias add is worth its unicast fast path; left generic,
                // that add cost 12 % of a 64-token call (measured).
                for assertion in ["seq >= 2", "seq * seq >= 4"] {
                    packed.symbols.add_assertion(assertion).map_err(|e| model_err(&e))?;
                }
                (packed, vec![Feed::Ids, Feed::Types, Feed::Positions, Feed::Bias], heads)
            }
            None => {
                let feeds = typed
                    .input_outlets()
                    .map_err(|e| model_err(&e))?
                    .iter()
                    .enumerate()
                    .map(|(i, o)| match typed.node(o.node).name.as_str() {
                        "attention_mask" => Feed::Mask,
                        "token_type_ids" => Feed::Types,
                        "input_ids" => Feed::Ids,
                        _ => [Feed::Ids, Feed::Mask, Feed::Types][i.min(2)],
                    })
                    .collect();
                (typed, feeds, 1)
            }
        };
        let typed = typed.into_optimized().map_err(|e| model_err(&e))?;
        // Pooling reads the output as [1, seq, dim]: any other shape is refused here, where it is a
        // typed error, rather than found by an out-of-bounds index at the first note.
        let dim = typed
            .output_fact(0)
            .ok()
            .and_then(|f| match f.shape.dims() {
                [batch, tokens, TDim::Val(n)] if *batch == TDim::Val(1) && *tokens == seq.to_dim() && *n > 0 => {
                    Some(*n as usize)
                }
                _ => None,
            })
            .ok_or_else(|| model_err(&"the first output is not [batch, seq, dim] (one vector per token)"))?;
        let plan = typed.into_runnable().map_err(|e| model_err(&e))?;
        Ok(Self { plan, feeds, tokenizer, splitter, dim, heads, threads: 1 })
    }

    /// Token ids the model sees for `text` (with [CLS]/[SEP], truncated to [`MAX_TOKENS`]).
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        let encoding = self.tokenizer.encode(text, true).map_err(|e| EmbedError::Run(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Whether one call carries several short texts (graphs from models/make_minilm_onnx.py).
    pub fn packs_texts(&self) -> bool {
        self.feeds.contains(&Feed::Bias)
    }

    /// Names of the matmul kernels tract chose for this plan's products, sorted (for benchmarks
    /// and diagnostics).
    pub fn matmul_kernels(&self) -> Vec<String> {
        matmul_kernels(self.plan.model())
    }

    /// Vector length.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Let one [`Embedder::embed`] run up to `threads` of its calls at once (one text, or one
    /// pack of short ones, per call): re-indexing many notes scales with the cores, and every
    /// vector is the same as with one thread.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Embed each text (first [`MAX_TOKENS`] tokens) into a unit vector.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings =
            self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| EmbedError::Run(e.to_string()))?;
        // Shortest first, each call filled up to the budget; a longer text runs alone (every text,
        // on a plan that cannot pack).
        let budget = if self.packs_texts() { PACK_TOKENS } else { 0 };
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| encodings[i].get_ids().len());
        let mut calls = Vec::new();
        let mut start = 0;
        while start < order.len() {
            let mut end = start + 1;
            let mut tokens = encodings[order[start]].get_ids().len();
            while let Some(&next) = order.get(end) {
                tokens += encodings[next].get_ids().len();
                if tokens > budget {
                    break;
                }
                end += 1;
            }
            calls.push(&order[start..end]);
            start = end;
        }
        let run = |call: &[usize]| self.run(&call.iter().map(|&i| &encodings[i]).collect::<Vec<_>>());
        let vectors: Vec<CallResult> = if self.threads > 1 && calls.len() > 1 {
            // Each worker takes the next call not yet taken; the plan is shared, its state is not.
            let next = AtomicUsize::new(0);
            let slots: Vec<Mutex<Option<CallResult>>> = calls.iter().map(|_| Mutex::new(None)).collect();
            std::thread::scope(|scope| {
                for _ in 0..self.threads.min(calls.len()) {
                    scope.spawn(|| {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(call) = calls.get(i) else { break };
                            *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(run(call));
                        }
                    });
                }
            });
            slots
                .into_iter()
                .map(|slot| slot.into_inner().unwrap_or_else(|e| e.into_inner()).expect("every call ran"))
                .collect()
        } else {
            calls.iter().map(|call| run(call)).collect()
        };
        let mut out = vec![Vec::new(); texts.len()];
        for (call, vectors) in calls.iter().zip(vectors) {
            for (&i, v) in call.iter().zip(vectors?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// Split a long text into overlapping windows of at most [`MAX_TOKENS`] tokens and embed each.
    pub fn embed_chunks(&self, text: &str) -> Result<Vec<Chunk>, EmbedError> {
        Ok(self.embed_chunks_of(&[text])?.remove(0))
    }

    /// [`Embedder::embed_chunks`] for several texts at once, so that short ones share calls.
    pub fn embed_chunks_of(&self, texts: &[&str]) -> Result<Vec<Vec<Chunk>>, EmbedError> {
        let spans: Vec<Vec<(usize, usize)>> = texts.iter().map(|t| self.spans(t)).collect::<Result<_, _>>()?;
        let pieces: Vec<&str> =
            texts.iter().zip(&spans).flat_map(|(t, s)| s.iter().map(move |&(a, b)| &t[a..b])).collect();
        let mut vectors = self.embed(&pieces)?.into_iter();
        Ok(spans
            .into_iter()
            .map(|s| {
                s.into_iter().zip(&mut vectors).map(|((start, end), vector)| Chunk { start, end, vector }).collect()
            })
            .collect())
    }

    /// Byte ranges of a text's overlapping windows of at most [`MAX_TOKENS`] tokens.
    fn spans(&self, text: &str) -> Result<Vec<(usize, usize)>, EmbedError> {
        let encoding = self.splitter.encode(text, false).map_err(|e| EmbedError::Run(e.to_string()))?;
        let offsets = encoding.get_offsets();
        let window = MAX_TOKENS - 2;
        let stride = window * 3 / 4;
        let mut spans = Vec::new();
        let mut start = 0;
        while start < offsets.len() || spans.is_empty() {
            let end = (start + window).min(offsets.len());
            let (a, b) = match (offsets.get(start), offsets.get(end.saturating_sub(1))) {
                (Some(a), Some(b)) => (a.0, b.1),
                _ => (0, text.len()),
            };
            spans.push((a, b));
            if end >= offsets.len() {
                break;
            }
            start += stride;
        }
        Ok(spans)
    }

    /// [`Self::run_plan`], with a panic inside the model's kernels (a graph that indexes past a
    /// table, say) turned into an error: the caller may be the notes worker or an app task.
    fn run(&self, texts: &[&Encoding]) -> Result<Vec<Vec<f32>>, EmbedError> {
        // Each call runs on a state of its own: a panic leaves nothing shared half-changed.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run_plan(texts))).unwrap_or_else(|panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(EmbedError::Run(format!("the model panicked: {why}")))
        })
    }

    /// One inference over the texts' tokens laid end to end (one text unless the plan is packed),
    /// each text mean-pooled over its own tokens and normalised.
    fn run_plan(&self, texts: &[&Encoding]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let run_err = |e: &dyn std::fmt::Display| EmbedError::Run(e.to_string());
        // Token ranges of each text in the sequence (an empty encoding still gets one slot).
        let mut spans = Vec::with_capacity(texts.len());
        let mut seq = 0;
        for e in texts {
            let len = e.get_ids().len().max(1);
            spans.push(seq..seq + len);
            seq += len;
        }
        // Packed plans are promised 2 tokens at least: a lone 1-token text gets an isolated pad.
        let mut blocks = spans.clone();
        if self.packs_texts() && seq < 2 {
            blocks.push(seq..2);
            seq = 2;
        }
        let row = |get: fn(&Encoding) -> &[u32]| -> Result<TValue, EmbedError> {
            let mut data = vec![0i64; seq];
            for (e, span) in texts.iter().zip(&spans) {
                for (slot, &x) in data[span.clone()].iter_mut().zip(get(e)) {
                    *slot = x as i64;
                }
            }
            Ok(Tensor::from_shape(&[1, seq], &data).map_err(|e| run_err(&e))?.into_tvalue())
        };
        let inputs: TVec<TValue> = self
            .feeds
            .iter()
            .map(|feed| match feed {
                Feed::Ids => row(Encoding::get_ids),
                Feed::Mask => row(Encoding::get_attention_mask),
                Feed::Types => row(Encoding::get_type_ids),
                Feed::Positions => {
                    let data: Vec<i64> = blocks.iter().flat_map(|s| 0..s.len() as i64).collect();
                    Ok(Tensor::from_shape(&[seq], &data).map_err(|e| run_err(&e))?.into_tvalue())
                }
                Feed::Bias => {
                    let mut data = vec![OTHER_TEXT_BIAS; seq * seq];
                    for block in &blocks {
                        for r in block.clone() {
                            data[r * seq + block.start..r * seq + block.end].fill(0.0);
                        }
                    }
                    // The same for every head: a per-head bias is what tract adds on its fast path.
                    let data = data.repeat(self.heads);
                    Ok(Tensor::from_shape(&[1, self.heads, seq, seq], &data).map_err(|e| run_err(&e))?.into_tvalue())
                }
            })
            .collect::<Result<_, _>>()?;
        let outputs = self.plan.run(inputs).map_err(|e| run_err(&e))?;
        let hidden = outputs[0].to_plain_array_view::<f32>().map_err(|e| run_err(&e))?;
        Ok(spans
            .into_iter()
            .map(|span| {
                // Unit length only matters, so the sum needs no division by the token count.
                let mut v = vec![0f32; self.dim];
                for c in span {
                    for (d, slot) in v.iter_mut().enumerate() {
                        *slot += hidden[[0, c, d]];
                    }
                }
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                v.into_iter().map(|x| x / norm).collect()
            })
            .collect())
    }
}

/// Rewire a graph made by models/make_minilm_onnx.py so that one call carries several texts:
/// positions come from a `position_ids` input (each text counts from 0) instead of 0..seq, and
/// the attention mask from an `attention_bias` input `[1, heads, seq, seq]` that keeps each text's
/// tokens to themselves. Inputs become input_ids, token_type_ids, position_ids, attention_bias;
/// only `last_hidden_state` is kept (pooling is done per text here). Returns the new graph and
/// its number of attention heads; `None` for other graphs and for dynamically quantized ones.
fn packable(model: &TypedModel) -> TractResult<Option<(TypedModel, usize)>> {
    let find = |name: &str| model.nodes().iter().find(|n| n.name == name).map(|n| n.id);
    let (Some(pos), Some(ids), Some(types)) = (find("emb.pos"), find("input_ids"), find("token_type_ids")) else {
        return Ok(None);
    };
    // Each layer adds the mask (`mask.*`, [1, 1, 1, seq] once typed) to its scores in `L{n}.scores`.
    let is_mask = |o: &OutletId| model.node(o.node).name.starts_with("mask.");
    let scores: Vec<usize> = model
        .nodes()
        .iter()
        .filter(|n| n.name.ends_with(".scores") && n.inputs.len() == 2 && n.inputs.iter().any(is_mask))
        .map(|n| n.id)
        .collect();
    // Dynamic quantization takes its scale over a whole call: packed, a text's vector would
    // depend on its neighbours (cosine 0.992 to itself alone, measured with the int8 variant).
    let quantized = model.nodes().iter().any(|n| n.op().name().contains("DynamicQuantize"));
    let table = model.node(pos).inputs[0];
    if quantized || model.outlet_fact(table)?.rank() != 2 || scores.is_empty() {
        return Ok(None);
    }
    // The bias is given per head, as the scores are ([1, heads, seq, seq]): an add of equal
    // shapes has a fast path.
    let Some(heads) = model.outlet_fact(OutletId::new(scores[0], 0))?.shape[1].as_i64() else {
        return Ok(None);
    };
    let mut m = model.clone();
    let seq = m.symbols.sym("seq").to_dim();
    let positions = m.add_source("position_ids", i64::fact([seq.clone()]))?;
    let bias = m.add_source("attention_bias", f32::fact([1.to_dim(), heads.to_dim(), seq.clone(), seq]))?;

    let mut patch = TypedModelPatch::default();
    let t = patch.tap_model(&m, table)?;
    let p = patch.tap_model(&m, positions)?;
    let gathered = patch.wire_node("emb.pos.packed", Gather::new(0), &[t, p])?[0];
    patch.shunt_outside(&m, OutletId::new(pos, 0), gathered)?;
    patch.apply(&mut m)?;
    // The old mask was [1, 1, 1, seq]: each consumer is rebuilt on the square bias instead.
    for id in scores {
        let node = m.node(id);
        let mut patch = TypedModelPatch::default();
        let inputs = node
            .inputs
            .iter()
            .map(|i| if is_mask(i) { patch.tap_model(&m, bias) } else { patch.tap_model(&m, *i) })
            .collect::<TractResult<TVec<_>>>()?;
        let out = patch.wire_node(format!("{}.packed", node.name), node.op.clone(), &inputs)?[0];
        patch.shunt_outside(&m, OutletId::new(id, 0), out)?;
        patch.apply(&mut m)?;
    }
    let last_hidden = m.outputs[0];
    m.select_output_outlets(&[last_hidden])?;
    m.set_input_outlets(&[OutletId::new(ids, 0), OutletId::new(types, 0), positions, bias])?;
    // Drops what only the old mask and the pooled output used, the attention_mask input with them.
    Ok(Some((m.into_decluttered()?, heads as usize)))
}

/// Cosine similarity of two unit vectors (their dot product).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
