//! Sentence embeddings with tract-onnx: all-MiniLM-L6-v2 (or any BERT-style ONNX with
//! `input_ids`/`attention_mask`/`token_type_ids` inputs and a `[batch, seq, dim]` first output),
//! mean pooling over real tokens and L2 normalisation done here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokenizers::{Encoding, Tokenizer, TruncationParams};
use tract_onnx::prelude::*;

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

/// Longest input in tokens (sentence-transformers' limit for MiniLM).
pub const MAX_TOKENS: usize = 256;
/// Tokens (rows × padded length) per inference call. Measured by bench/embed: a token budget
/// beat fixed batch sizes (1.3x the throughput of batches of 16): attention cost grows with
/// length squared, so long texts go alone and short ones go many at a time.
const TOKEN_BUDGET: usize = 512;

/// A text embedding model; cheap to share between threads.
pub struct Embedder {
    plan: Arc<TypedRunnableModel>,
    tokenizer: Tokenizer,
    /// The same vocabulary without truncation or padding, to find chunk boundaries.
    splitter: Tokenizer,
    dim: usize,
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
    /// Load an ONNX model and its `tokenizer.json`; one plan with symbolic batch and length.
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
        let inputs = model.inputs.len();
        for i in 0..inputs {
            model
                .set_input_fact(i, InferenceFact::dt_shape(i64::datum_type(), [batch.to_dim(), seq.to_dim()]))
                .map_err(|e| model_err(&e))?;
        }
        let typed = model.into_optimized().map_err(|e| model_err(&e))?;
        let dim = typed
            .output_fact(0)
            .ok()
            .and_then(|f| match f.shape.last()? {
                TDim::Val(n) if *n > 0 => Some(*n as usize),
                _ => None,
            })
            .ok_or_else(|| model_err(&"the first output is not [batch, seq, dim]"))?;
        let plan = typed.into_runnable().map_err(|e| model_err(&e))?;
        Ok(Self { plan, tokenizer, splitter, dim })
    }

    /// Token ids the model sees for `text` (with [CLS]/[SEP], truncated to [`MAX_TOKENS`]).
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        let encoding = self.tokenizer.encode(text, true).map_err(|e| EmbedError::Run(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Vector length.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Embed each text (first [`MAX_TOKENS`] tokens) into a unit vector; batches by similar length.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings =
            self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| EmbedError::Run(e.to_string()))?;
        // Sorted by length, so each batch pads little (padding is wasted compute).
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encodings[i].get_ids().len());
        let mut out = vec![Vec::new(); texts.len()];
        let mut start = 0;
        while start < order.len() {
            let mut end = start + 1;
            while end < order.len() && (end - start + 1) * encodings[order[end]].get_ids().len() <= TOKEN_BUDGET {
                end += 1;
            }
            let group = &order[start..end];
            let batch: Vec<&Encoding> = group.iter().map(|&i| &encodings[i]).collect();
            for (&i, v) in group.iter().zip(self.run(&batch)?) {
                out[i] = v;
            }
            start = end;
        }
        Ok(out)
    }

    /// Split a long text into overlapping windows of at most [`MAX_TOKENS`] tokens and embed each.
    pub fn embed_chunks(&self, text: &str) -> Result<Vec<Chunk>, EmbedError> {
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
        let pieces: Vec<&str> = spans.iter().map(|&(a, b)| &text[a..b]).collect();
        let vectors = self.embed(&pieces)?;
        Ok(spans.into_iter().zip(vectors).map(|((start, end), vector)| Chunk { start, end, vector }).collect())
    }

    /// One inference over encodings padded to the longest of them.
    fn run(&self, encodings: &[&Encoding]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let run_err = |e: &dyn std::fmt::Display| EmbedError::Run(e.to_string());
        let rows = encodings.len();
        let seq = encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0i64; rows * seq];
        let mut mask = vec![0i64; rows * seq];
        let mut types = vec![0i64; rows * seq];
        for (r, e) in encodings.iter().enumerate() {
            for (c, ((&id, &m), &t)) in e.get_ids().iter().zip(e.get_attention_mask()).zip(e.get_type_ids()).enumerate()
            {
                ids[r * seq + c] = id as i64;
                mask[r * seq + c] = m as i64;
                types[r * seq + c] = t as i64;
            }
        }
        let tensor = |v: Vec<i64>| -> Result<TValue, EmbedError> {
            Ok(Tensor::from_shape(&[rows, seq], &v).map_err(|e| run_err(&e))?.into_tvalue())
        };
        let inputs: TVec<TValue> = [ids, mask.clone(), types]
            .into_iter()
            .take(self.plan.model().inputs.len())
            .map(tensor)
            .collect::<Result<_, _>>()?;
        let outputs = self.plan.run(inputs).map_err(|e| run_err(&e))?;
        let hidden = outputs[0].to_plain_array_view::<f32>().map_err(|e| run_err(&e))?;
        let dim = self.dim;
        let mut vectors = Vec::with_capacity(rows);
        for r in 0..rows {
            let mut v = vec![0f32; dim];
            let mut count = 0f32;
            for c in 0..seq {
                if mask[r * seq + c] == 0 {
                    continue;
                }
                count += 1.0;
                for (d, slot) in v.iter_mut().enumerate() {
                    *slot += hidden[[r, c, d]];
                }
            }
            let count = count.max(1.0);
            let norm = v.iter().map(|x| (x / count) * (x / count)).sum::<f32>().sqrt().max(1e-12);
            vectors.push(v.into_iter().map(|x| x / count / norm).collect());
        }
        Ok(vectors)
    }
}

/// Cosine similarity of two unit vectors (their dot product).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
