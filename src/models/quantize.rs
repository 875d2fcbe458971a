//! ggml quantization of whisper.cpp model files (f16 → q8_0 / q5_1 / q5_0 / q4_0 / bf16), through ggml's own
//! `ggml_quantize_chunk`, mirroring whisper.cpp's `quantize` tool: every 2-D weight matrix is
//! quantized except the conv biases and positional embeddings, which stay f32.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use whisper_rs::whisper_rs_sys as sys;

/// A ggml quantization type Sotto ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantType {
    /// 8-bit, blocks of 32 (34 bytes): near-lossless.
    Q8_0,
    /// 5-bit with offset, blocks of 32 (24 bytes).
    Q5_1,
    /// 5-bit, blocks of 32 (22 bytes).
    Q5_0,
    /// bfloat16: CPUs with AVX512-BF16 multiply it natively, two products per lane where f16 is
    /// widened to f32 first. The decoder's per-token matrices go to q8_0 (see
    /// [`QuantType::per_token`]).
    Bf16,
    /// 4-bit, blocks of 32 (18 bytes): smallest and fastest (ggml repacks it for its int8
    /// kernels at load), at a measurable cost in accuracy.
    Q4_0,
}

impl QuantType {
    /// Every type, in the order the CLI lists them.
    pub const ALL: [QuantType; 5] =
        [QuantType::Q8_0, QuantType::Q5_1, QuantType::Q5_0, QuantType::Bf16, QuantType::Q4_0];

    /// The type named `name` (as [`QuantType::name`] spells it, any case).
    pub fn from_name(name: &str) -> Option<QuantType> {
        QuantType::ALL.into_iter().find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// The name used in file names and the manifest.
    pub fn name(self) -> &'static str {
        match self {
            QuantType::Q8_0 => "q8_0",
            QuantType::Q5_1 => "q5_1",
            QuantType::Q5_0 => "q5_0",
            QuantType::Bf16 => "bf16",
            QuantType::Q4_0 => "q4_0",
        }
    }
    /// The type of the decoder matrices read for every token (see [`is_per_token`]): q8_0 in bf16
    /// files, else the file's type.
    ///
    /// Each decoded token multiplies by all of them, the 51,864 x 384 token embedding included:
    /// 56 MB in bf16, read from memory for every token; 30 MB in q8_0, which stays in cache.
    /// bf16 pays off where many columns share a weight (the encoder). Loading such a file needs
    /// Sotto's whisper.cpp (crates/whisper-rs-sys/sotto).
    pub fn per_token(self) -> QuantType {
        match self {
            QuantType::Bf16 => QuantType::Q8_0,
            other => other,
        }
    }

    fn ggml_type(self) -> sys::ggml_type {
        match self {
            QuantType::Q8_0 => sys::ggml_type_GGML_TYPE_Q8_0,
            QuantType::Q5_1 => sys::ggml_type_GGML_TYPE_Q5_1,
            QuantType::Q5_0 => sys::ggml_type_GGML_TYPE_Q5_0,
            QuantType::Bf16 => sys::ggml_type_GGML_TYPE_BF16,
            QuantType::Q4_0 => sys::ggml_type_GGML_TYPE_Q4_0,
        }
    }
    fn ggml_ftype(self) -> sys::ggml_ftype {
        match self {
            QuantType::Q8_0 => sys::ggml_ftype_GGML_FTYPE_MOSTLY_Q8_0,
            QuantType::Q5_1 => sys::ggml_ftype_GGML_FTYPE_MOSTLY_Q5_1,
            QuantType::Q5_0 => sys::ggml_ftype_GGML_FTYPE_MOSTLY_Q5_0,
            QuantType::Bf16 => sys::ggml_ftype_GGML_FTYPE_MOSTLY_BF16,
            QuantType::Q4_0 => sys::ggml_ftype_GGML_FTYPE_MOSTLY_Q4_0,
        }
    }
    /// Bytes per block of `QK` values.
    fn block_bytes(self) -> usize {
        match self {
            QuantType::Bf16 => 2 * QK,
            QuantType::Q8_0 => 34,
            QuantType::Q5_1 => 24,
            QuantType::Q5_0 => 22,
            QuantType::Q4_0 => 18,
        }
    }
}

/// How the manifest says a locally built variant is made (`local:sotto models quantize IN OUT
/// --type T`): the input file name and the target type; `None` for any other variant.
pub fn local_recipe(variant: &super::Variant) -> Option<(String, QuantType)> {
    variant.sources.iter().find_map(|source| {
        let words: Vec<&str> = source.strip_prefix("local:sotto models quantize ")?.split_whitespace().collect();
        match words.as_slice() {
            [input, output, "--type", to] if *output == variant.file => {
                Some((input.to_string(), QuantType::from_name(to)?))
            }
            _ => None,
        }
    })
}

/// Why quantization failed.
#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The input is not an f16/f32 whisper.cpp model.
    #[error("{path}: {detail}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// What quantization did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantizeStats {
    /// Tensors converted.
    pub quantized: usize,
    /// Of those, the decoder's per-token matrices given another type ([`QuantType::per_token`]).
    pub per_token: usize,
    /// Tensors copied unchanged.
    pub kept: usize,
    /// Output size in bytes.
    pub bytes: u64,
}

const GGML_MAGIC: u32 = 0x6767_6d6c;
const QK: usize = 32;
/// Tensors whisper.cpp creates as f32 whatever the file's ftype.
const KEEP: [&str; 4] =
    ["encoder.conv1.bias", "encoder.conv2.bias", "encoder.positional_embedding", "decoder.positional_embedding"];

/// Whether the 2-D weight `name` is read once per decoded token: the decoder's matrices (the
/// token embedding is also its output projection), except cross-attention's keys and values,
/// which are computed once per window from the encoder's output.
pub fn is_per_token(name: &str) -> bool {
    name.starts_with("decoder.") && !name.contains("cross_attn.key") && !name.contains("cross_attn.value")
}

/// Quantize `input` (f16 or f32 ggml) into `output` (written to a temp file, then renamed).
pub fn quantize_file(input: &Path, output: &Path, to: QuantType) -> Result<QuantizeStats, QuantizeError> {
    super::super::asr::inspect(input)
        .map_err(|e| QuantizeError::Input { path: input.to_path_buf(), detail: e.to_string() })?;
    let in_err = |source| QuantizeError::Io { path: input.to_path_buf(), source };
    let tmp = output.with_extension("quantizing");
    let out_err = |source| QuantizeError::Io { path: tmp.clone(), source };
    let mut r = BufReader::new(File::open(input).map_err(in_err)?);
    let mut w = BufWriter::new(File::create(&tmp).map_err(out_err)?);

    let magic = read_u32(&mut r).map_err(in_err)?;
    if magic != GGML_MAGIC {
        return Err(QuantizeError::Input { path: input.into(), detail: "not a ggml model".into() });
    }
    w.write_all(&magic.to_le_bytes()).map_err(out_err)?;
    let mut hparams = [0i32; 11];
    for h in &mut hparams {
        *h = read_u32(&mut r).map_err(in_err)? as i32;
    }
    let ftype = hparams[10] % 1000;
    if ftype != 0 && ftype != 1 {
        return Err(QuantizeError::Input {
            path: input.into(),
            detail: format!("already quantized (ftype {ftype}); start from f16"),
        });
    }
    hparams[10] = to.ggml_ftype() + (sys::GGML_QNT_VERSION * sys::GGML_QNT_VERSION_FACTOR) as i32;
    for h in hparams {
        w.write_all(&h.to_le_bytes()).map_err(out_err)?;
    }
    // Mel filters and vocabulary are copied verbatim.
    let n_mel = read_u32(&mut r).map_err(in_err)?;
    let n_fft = read_u32(&mut r).map_err(in_err)?;
    w.write_all(&n_mel.to_le_bytes()).map_err(out_err)?;
    w.write_all(&n_fft.to_le_bytes()).map_err(out_err)?;
    copy(&mut r, &mut w, n_mel as u64 * n_fft as u64 * 4).map_err(in_err)?;
    let n_vocab = read_u32(&mut r).map_err(in_err)?;
    w.write_all(&n_vocab.to_le_bytes()).map_err(out_err)?;
    for _ in 0..n_vocab {
        let len = read_u32(&mut r).map_err(in_err)?;
        w.write_all(&len.to_le_bytes()).map_err(out_err)?;
        copy(&mut r, &mut w, len as u64).map_err(in_err)?;
    }

    let mut stats = QuantizeStats { quantized: 0, per_token: 0, kept: 0, bytes: 0 };
    loop {
        let n_dims = match read_u32(&mut r) {
            Ok(n) => n as usize,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(in_err(e)),
        };
        let name_len = read_u32(&mut r).map_err(in_err)? as usize;
        let ttype = read_u32(&mut r).map_err(in_err)?;
        let mut ne = vec![0usize; n_dims];
        for d in &mut ne {
            *d = read_u32(&mut r).map_err(in_err)? as usize;
        }
        let mut name = vec![0u8; name_len];
        r.read_exact(&mut name).map_err(in_err)?;
        let elements: usize = ne.iter().product();
        let src_bytes = match ttype {
            0 => elements * 4,
            1 => elements * 2,
            t => {
                return Err(QuantizeError::Input {
                    path: input.into(),
                    detail: format!("tensor type {t} in an f16 model"),
                });
            }
        };
        let mut data = vec![0u8; src_bytes];
        r.read_exact(&mut data).map_err(in_err)?;
        let name_str = String::from_utf8_lossy(&name);
        let quantize = n_dims == 2 && !KEEP.contains(&name_str.as_ref()) && ne[0] % QK == 0;

        let (out_type, out_data) = if quantize {
            let to = if is_per_token(&name_str) && to.per_token() != to {
                stats.per_token += 1;
                to.per_token()
            } else {
                to
            };
            let floats = to_f32(&data, ttype);
            let rows = elements / ne[0];
            let mut q = vec![0u8; rows * ne[0] / QK * to.block_bytes()];
            // SAFETY: `floats` holds rows*ne[0] f32 and `q` is sized for that many blocks of `to`.
            let written = unsafe {
                sys::ggml_quantize_chunk(
                    to.ggml_type(),
                    floats.as_ptr(),
                    q.as_mut_ptr().cast(),
                    0,
                    rows as i64,
                    ne[0] as i64,
                    std::ptr::null(),
                )
            };
            assert_eq!(written, q.len(), "ggml wrote the size it was given room for");
            stats.quantized += 1;
            (to.ggml_type(), q)
        } else {
            stats.kept += 1;
            (ttype, data)
        };
        w.write_all(&(n_dims as u32).to_le_bytes()).map_err(out_err)?;
        w.write_all(&(name_len as u32).to_le_bytes()).map_err(out_err)?;
        w.write_all(&out_type.to_le_bytes()).map_err(out_err)?;
        for d in &ne {
            w.write_all(&(*d as u32).to_le_bytes()).map_err(out_err)?;
        }
        w.write_all(&name).map_err(out_err)?;
        w.write_all(&out_data).map_err(out_err)?;
    }
    let file = w.into_inner().map_err(|e| out_err(e.into_error()))?;
    file.sync_all().map_err(out_err)?;
    stats.bytes = file.metadata().map_err(out_err)?.len();
    drop(file);
    std::fs::rename(&tmp, output).map_err(|source| QuantizeError::Io { path: output.to_path_buf(), source })?;
    Ok(stats)
}

fn to_f32(data: &[u8], ttype: u32) -> Vec<f32> {
    if ttype == 0 {
        return data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    }
    let halves: Vec<u16> = data.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect();
    let mut out = vec![0f32; halves.len()];
    // SAFETY: both buffers hold `halves.len()` elements.
    unsafe { sys::ggml_fp16_to_fp32_row(halves.as_ptr(), out.as_mut_ptr(), halves.len() as i64) };
    out
}

fn read_u32(r: &mut impl Read) -> std::io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn copy(r: &mut impl Read, w: &mut impl Write, n: u64) -> std::io::Result<()> {
    let copied = std::io::copy(&mut r.take(n), w)?;
    if copied != n {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}
