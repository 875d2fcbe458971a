//! Validation of whisper.cpp ggml model files before whisper.cpp sees them: its loader trusts
//! the file and can crash on a truncated or foreign one.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read};
use std::path::Path;

use super::AsrError;

const GGML_MAGIC: u32 = 0x6767_6d6c;
/// whisper.cpp stores `ftype + 1000 * quantization_version` in the ftype field.
const QNT_VERSION_FACTOR: i32 = 1000;

/// What the header of a valid ggml Whisper model says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// Vocabulary size; multilingual models have 51865 or more.
    pub n_vocab: i32,
    /// Encoder context in 20 ms frames (1500 = 30 s).
    pub n_audio_ctx: i32,
    /// Encoder width.
    pub n_audio_state: i32,
    /// Encoder layers: 4 tiny, 6 base, 12 small, 24 medium, 32 large.
    pub n_audio_layer: i32,
    /// Decoder layers.
    pub n_text_layer: i32,
    /// Mel bands (80, or 128 for large-v3).
    pub n_mels: i32,
    /// Weight type (0 f32, 1 f16, 7 q5_1, 8 q8_0, ...).
    pub ftype: i32,
    /// Number of weight tensors in the file.
    pub tensors: usize,
    /// File size in bytes.
    pub bytes: u64,
}

impl ModelInfo {
    /// Whether the model knows languages other than English.
    pub fn is_multilingual(&self) -> bool {
        self.n_vocab >= 51865
    }

    /// The conventional size name ("tiny", "base", ...).
    pub fn size_name(&self) -> &'static str {
        match (self.n_audio_layer, self.n_text_layer) {
            (4, _) => "tiny",
            (6, _) => "base",
            (12, _) => "small",
            (24, _) => "medium",
            (32, 4) => "large-v3-turbo",
            (32, _) => "large",
            _ => "unknown",
        }
    }
}

/// The mel filter bank stored in a model file: `n_mel` rows of `n_bins` weights.
pub(crate) struct MelBank {
    pub n_mel: usize,
    pub n_bins: usize,
    pub weights: Vec<f32>,
}

/// Walk a ggml Whisper file's header, vocabulary and every tensor header, checking that each
/// tensor's data lies inside the file and the file ends where the last tensor does.
pub fn inspect(path: &Path) -> Result<ModelInfo, AsrError> {
    inspect_with_bank(path).map(|(info, _)| info)
}

/// [`inspect`], also returning the file's mel filter bank.
pub(crate) fn inspect_with_bank(path: &Path) -> Result<(ModelInfo, MelBank), AsrError> {
    let bad = |detail: String| AsrError::InvalidModel { path: path.to_path_buf(), detail };
    let file = File::open(path).map_err(|source| AsrError::ModelIo { path: path.to_path_buf(), source })?;
    let bytes = file.metadata().map_err(|source| AsrError::ModelIo { path: path.to_path_buf(), source })?.len();
    let mut r = Reader { inner: BufReader::new(file), pos: 0, len: bytes };

    let magic = r.u32().map_err(|_| bad("too short to be a model file".into()))?;
    if magic != GGML_MAGIC {
        return Err(bad("not a whisper.cpp ggml model (wrong magic number)".into()));
    }
    let mut h = [0i32; 11];
    for v in &mut h {
        *v = r.i32().map_err(|_| bad("the header is cut short".into()))?;
    }
    let [
        n_vocab,
        n_audio_ctx,
        n_audio_state,
        n_audio_head,
        n_audio_layer,
        n_text_ctx,
        n_text_state,
        n_text_head,
        n_text_layer,
        n_mels,
        ftype,
    ] = h;
    let in_range = |v: i32, lo: i32, hi: i32| (lo..=hi).contains(&v);
    let plausible = in_range(n_vocab, 1, 1 << 20)
        && in_range(n_audio_ctx, 1, 1 << 14)
        && in_range(n_audio_state, 1, 1 << 14)
        && in_range(n_audio_head, 1, 256)
        && in_range(n_audio_layer, 1, 256)
        && in_range(n_text_ctx, 1, 1 << 14)
        && in_range(n_text_state, 1, 1 << 14)
        && in_range(n_text_head, 1, 256)
        && in_range(n_text_layer, 1, 256)
        && in_range(n_mels, 1, 512)
        && ftype >= 0;
    if !plausible {
        return Err(bad(format!("implausible hyper-parameters {h:?}")));
    }
    let ftype = ftype % QNT_VERSION_FACTOR;

    let truncated = |what: &str| bad(format!("the file is truncated ({what} is cut short; {bytes} bytes in all)"));
    let mel_n = r.i32().map_err(|_| truncated("the mel filter bank"))?;
    let mel_fft = r.i32().map_err(|_| truncated("the mel filter bank"))?;
    if !in_range(mel_n, 1, 512) || !in_range(mel_fft, 1, 8192) {
        return Err(bad("corrupt mel filter bank".into()));
    }
    if r.pos + mel_n as u64 * mel_fft as u64 * 4 > bytes {
        return Err(truncated("the mel filter bank"));
    }
    let mut raw = vec![0u8; mel_n as usize * mel_fft as usize * 4];
    r.read(&mut raw).map_err(|_| truncated("the mel filter bank"))?;
    let bank = MelBank {
        n_mel: mel_n as usize,
        n_bins: mel_fft as usize,
        weights: raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
    };

    let vocab = r.i32().map_err(|_| truncated("the vocabulary"))?;
    if !in_range(vocab, 0, 1 << 20) {
        return Err(bad("corrupt vocabulary size".into()));
    }
    for _ in 0..vocab {
        let len = r.u32().map_err(|_| truncated("the vocabulary"))?;
        if len > 4096 {
            return Err(bad("corrupt vocabulary entry".into()));
        }
        r.skip(len as u64).map_err(|_| truncated("the vocabulary"))?;
    }

    let mut tensors = 0usize;
    while r.pos < bytes {
        let n_dims = r.i32().map_err(|_| truncated("a tensor header"))?;
        let name_len = r.i32().map_err(|_| truncated("a tensor header"))?;
        let ttype = r.i32().map_err(|_| truncated("a tensor header"))?;
        if !in_range(n_dims, 1, 4) || !in_range(name_len, 1, 256) {
            return Err(bad(format!("corrupt tensor header at byte {}", r.pos)));
        }
        let mut elements: u64 = 1;
        let mut ne0 = 0u64;
        for d in 0..n_dims {
            let ne = r.i32().map_err(|_| truncated("a tensor header"))?;
            if !in_range(ne, 1, 1 << 24) {
                return Err(bad(format!("corrupt tensor shape at byte {}", r.pos)));
            }
            if d == 0 {
                ne0 = ne as u64;
            }
            elements = elements.saturating_mul(ne as u64);
        }
        let mut name = vec![0u8; name_len as usize];
        r.read(&mut name).map_err(|_| truncated("a tensor name"))?;
        let (block, block_bytes) = type_block(ttype)
            .ok_or_else(|| bad(format!("tensor {} has unknown type {ttype}", String::from_utf8_lossy(&name))))?;
        if !ne0.is_multiple_of(block) {
            return Err(bad(format!(
                "tensor {} has a row size not divisible by its block",
                String::from_utf8_lossy(&name)
            )));
        }
        let data = elements / block * block_bytes;
        if r.pos + data > bytes {
            return Err(bad(format!(
                "the file is truncated: tensor {} needs {data} bytes at byte {} but the file has {bytes}",
                String::from_utf8_lossy(&name),
                r.pos
            )));
        }
        r.skip(data).map_err(|_| truncated("tensor data"))?;
        tensors += 1;
    }
    if tensors == 0 {
        return Err(bad("the file has no weights (truncated after the vocabulary)".into()));
    }
    let info =
        ModelInfo { n_vocab, n_audio_ctx, n_audio_state, n_audio_layer, n_text_layer, n_mels, ftype, tensors, bytes };
    Ok((info, bank))
}

/// (elements per block, bytes per block) of the ggml types whisper.cpp files use.
fn type_block(ttype: i32) -> Option<(u64, u64)> {
    Some(match ttype {
        0 => (1, 4),      // f32
        1 | 30 => (1, 2), // f16, bf16
        2 => (32, 18),    // q4_0
        3 => (32, 20),    // q4_1
        6 => (32, 22),    // q5_0
        7 => (32, 24),    // q5_1
        8 => (32, 34),    // q8_0
        10 => (256, 84),  // q2_k
        11 => (256, 110), // q3_k
        12 => (256, 144), // q4_k
        13 => (256, 176), // q5_k
        14 => (256, 210), // q6_k
        20 => (32, 18),   // iq4_nl
        _ => return None,
    })
}

struct Reader {
    inner: BufReader<File>,
    pos: u64,
    len: u64,
}

impl Reader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
        self.inner.read_exact(buf)?;
        self.pos += buf.len() as u64;
        Ok(())
    }
    fn u32(&mut self) -> std::io::Result<u32> {
        let mut b = [0u8; 4];
        self.read(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn i32(&mut self) -> std::io::Result<i32> {
        Ok(self.u32()? as i32)
    }
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        if self.pos + n > self.len {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        self.inner.seek_relative(n as i64)?;
        self.pos += n;
        Ok(())
    }
}
