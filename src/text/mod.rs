//! Text: sentence embeddings (tract-onnx) and word error rate for judging transcripts.

pub mod embed;
#[cfg(target_arch = "x86_64")]
pub mod gemm;
#[cfg(target_arch = "x86_64")]
pub mod linear;
pub mod wer;

pub use embed::{Chunk, EmbedError, Embedder, Precision, cosine};
