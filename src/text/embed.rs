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
    /// Load an ONNX model and its `tokenizer.json`; one plan for one text of any length.
    ///
    /// Measured by bench/embed: a plan with the batch fixed at 1 lets tract pre-pack the weights
    /// and drop the broadcasts a symbolic batch needs, 1.2x (13 tokens) to 1.5x (128 tokens)
    /// faster per text than the symbolic-batch plan, and per token it beat padded batches of
    /// every size except for texts under ~16 tokens; with no padding the mask is all ones.
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
        // The batch is fixed after typing: some exported graphs (onnxruntime's int8 quantizer)
        // name the batch axis in their shape annotations, which a concrete input fact contradicts.
        let typed = model
            .into_typed()
            .and_then(|m| m.set_symbols(&std::iter::once((batch, TDim::Val(1))).collect()))
            .and_then(|m| m.into_optimized())
            .map_err(|e| model_err(&e))?;
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

    /// Embed each text (first [`MAX_TOKENS`] tokens) into a unit vector.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings =
            self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| EmbedError::Run(e.to_string()))?;
        encodings.iter().map(|e| self.run(e)).collect()
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

    /// One inference over one text's tokens, mean-pooled and normalised.
    fn run(&self, encoding: &Encoding) -> Result<Vec<f32>, EmbedError> {
        let run_err = |e: &dyn std::fmt::Display| EmbedError::Run(e.to_string());
        let ids = encoding.get_ids();
        let seq = ids.len().max(1);
        let column = |v: &[u32]| -> Result<TValue, EmbedError> {
            let mut data: Vec<i64> = v.iter().map(|&x| x as i64).collect();
            data.resize(seq, 0);
            Ok(Tensor::from_shape(&[1, seq], &data).map_err(|e| run_err(&e))?.into_tvalue())
        };
        let inputs: TVec<TValue> = [ids, encoding.get_attention_mask(), encoding.get_type_ids()]
            .into_iter()
            .take(self.plan.model().inputs.len())
            .map(column)
            .collect::<Result<_, _>>()?;
        let outputs = self.plan.run(inputs).map_err(|e| run_err(&e))?;
        let hidden = outputs[0].to_plain_array_view::<f32>().map_err(|e| run_err(&e))?;
        // No padding: every position is a real token.
        let mut v = vec![0f32; self.dim];
        for c in 0..seq {
            for (d, slot) in v.iter_mut().enumerate() {
                *slot += hidden[[0, c, d]];
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        Ok(v.into_iter().map(|x| x / norm).collect())
    }
}

/// Cosine similarity of two unit vectors (their dot product).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
