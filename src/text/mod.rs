//! Text: sentence embeddings (tract-onnx) and word error rate for judging transcripts.

pub mod embed;
pub mod wer;

pub use embed::{Chunk, EmbedError, Embedder, cosine};
