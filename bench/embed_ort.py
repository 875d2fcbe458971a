#!/usr/bin/env python3
"""onnxruntime side of bench/embed: a worker driven by bench/embed.rs over stdin/stdout.

It embeds as Sotto's `Embedder` did before it moved to one text per call: the same tokenizer.json through the `tokenizers`
package (truncation to 256 tokens), texts tokenised once, sorted by token count and run in calls
of at most `--tokens` tokens (rows x longest, padded to the call's longest), `last_hidden_state`
mean-pooled over the attention mask and L2-normalised in numpy. Other policies on request (fixed
batch sizes, equal-length calls). Sessions use one intra-op and one inter-op thread, sequential
execution.

Protocol: one JSON object per line each way. The first line out is {"ready": ...}; then each
request {"cmd": ...} gets one reply. Commands:

  ids                         token ids of the corpus and of the latency sentence
  latency  model runs warmup  per-run wall ns of embedding the latency sentence, + CPU ns total
  throughput model [batch N | tokens N [exact]]  wall and CPU ns of one pass over the corpus
  embed    model out          writes the corpus embeddings (float32, row-major) to `out`
  profile  model runs         per-op-type time from onnxruntime's profiler (separate session)
  variants runs               latency/throughput of fp32 at other graph optimisation levels
  quit
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

# Set from --tokens: the token budget per call (bench/embed.rs TOKEN_BUDGET).
TOKENS = 512
MAX_TOKENS = 256
# Set from --threads: onnxruntime's intra-op threads (Sotto runs as many calls at once).
THREADS = 1


def session(path, level=ort.GraphOptimizationLevel.ORT_ENABLE_ALL, profile_dir=None):
    so = ort.SessionOptions()
    so.intra_op_num_threads = THREADS
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = level
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if profile_dir:
        so.enable_profiling = True
        so.profile_file_prefix = os.path.join(profile_dir, "ort")
    return ort.InferenceSession(path, sess_options=so, providers=["CPUExecutionProvider"])


class Embedder:
    def __init__(self, sess, tokenizer, unpadded):
        self.sess = sess
        self.tok = tokenizer
        self.unpadded = unpadded
        self.inputs = [i.name for i in sess.get_inputs()]

    def run_encodings(self, encs):
        seq = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), seq), dtype=np.int64)
        mask = np.zeros((len(encs), seq), dtype=np.int64)
        types = np.zeros((len(encs), seq), dtype=np.int64)
        for r, e in enumerate(encs):
            n = len(e.ids)
            ids[r, :n], mask[r, :n], types[r, :n] = e.ids, e.attention_mask, e.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self.sess.run(["last_hidden_state"], {k: feed[k] for k in self.inputs})[0]
        m = mask.astype(np.float32)[:, :, None]
        v = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)

    def embed(self, texts, batch=None, tokens=None, exact=False):
        out = [None] * len(texts)
        if batch is None and tokens is None:
            tokens = TOKENS
        if tokens is None:
            # Sotto's policy before 0d46aba: sort by byte length (stable), `batch` texts per call.
            order = sorted(range(len(texts)), key=lambda i: len(texts[i].encode()))
            for k in range(0, len(order), batch):
                group = order[k : k + batch]
                encs = self.tok.encode_batch([texts[i] for i in group], add_special_tokens=True)
                for i, v in zip(group, self.run_encodings(encs)):
                    out[i] = v
        else:
            # Token budget: tokenise once, sort by token count, fill calls up to `tokens`
            # (with `exact`, only texts of equal token count share a call: no padding).
            encs = self.unpadded.encode_batch(texts, add_special_tokens=True)
            order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))
            start = 0
            while start < len(order):
                end = start + 1
                while (
                    end < len(order)
                    and (end + 1 - start) * len(encs[order[end]].ids) <= tokens
                    and (not exact or len(encs[order[end]].ids) == len(encs[order[start]].ids))
                ):
                    end += 1
                group = order[start:end]
                for i, v in zip(group, self.run_encodings([encs[i] for i in group])):
                    out[i] = v
                start = end
        return np.stack(out).astype(np.float32)


def op_profile(path, prof_dir, tokenizer, work):
    """Per-op-type time (µs) of the profiled session over `work()`; also the op types run."""
    sess = session(path, profile_dir=prof_dir)
    emb = Embedder(sess, *tokenizer)
    work(emb)
    trace = sess.end_profiling()
    with open(trace) as f:
        events = json.load(f)
    os.remove(trace)
    by_op = {}
    for e in events:
        if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
            continue
        op = e.get("args", {}).get("op_name", "?")
        by_op[op] = by_op.get(op, 0) + e.get("dur", 0)
    return by_op


def main():
    global TOKENS, THREADS
    ap = argparse.ArgumentParser()
    ap.add_argument("--fp32", required=True)
    ap.add_argument("--int8", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--corpus", required=True, help="JSON: {sentences: [...], latency: str}")
    ap.add_argument("--tokens", type=int, default=TOKENS, help="token budget per call")
    ap.add_argument("--threads", type=int, default=THREADS, help="intra-op threads")
    args = ap.parse_args()
    TOKENS, THREADS = args.tokens, args.threads

    corpus = json.load(open(args.corpus))
    sentences, latency_text = corpus["sentences"], corpus["latency"]

    tokenizer = Tokenizer.from_file(args.tokenizer)
    # As Sotto: the shipped file pads/truncates to 128; pad to the batch's longest, cut at 256.
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    unpadded = Tokenizer.from_str(tokenizer.to_str())
    tokenizer.enable_padding()
    toks = (tokenizer, unpadded)

    load_ms = {}
    embedders = {}
    for name, path in (("fp32", args.fp32), ("int8", args.int8)):
        t = time.perf_counter()
        embedders[name] = Embedder(session(path), *toks)
        load_ms[name] = (time.perf_counter() - t) * 1e3
    paths = {"fp32": args.fp32, "int8": args.int8}

    def reply(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    import tokenizers

    reply(
        {
            "ready": True,
            "load_ms": load_ms,
            "versions": {
                "onnxruntime": ort.__version__,
                "numpy": np.__version__,
                "tokenizers": tokenizers.__version__,
                "python": sys.version.split()[0],
            },
            "providers": embedders["fp32"].sess.get_providers(),
        }
    )

    for line in sys.stdin:
        req = json.loads(line)
        cmd = req["cmd"]
        if cmd == "quit":
            break
        if cmd == "ids":
            t = tokenizer.encode_batch(sentences)
            reply(
                {
                    "corpus": [e.ids[: sum(e.attention_mask)] for e in t],
                    "latency": tokenizer.encode(latency_text).ids,
                }
            )
        elif cmd == "latency":
            emb = embedders[req["model"]]
            for _ in range(req.get("warmup", 0)):
                emb.embed([latency_text])
            times = []
            c0 = time.process_time_ns()
            for _ in range(req["runs"]):
                t = time.perf_counter_ns()
                emb.embed([latency_text])
                times.append(time.perf_counter_ns() - t)
            reply({"wall_ns": times, "cpu_ns": time.process_time_ns() - c0})
        elif cmd == "throughput":
            emb = embedders[req["model"]]
            c0, t0 = time.process_time_ns(), time.perf_counter_ns()
            emb.embed(sentences, batch=req.get("batch"), tokens=req.get("tokens"), exact=req.get("exact", False))
            reply({"wall_ns": time.perf_counter_ns() - t0, "cpu_ns": time.process_time_ns() - c0})
        elif cmd == "embed":
            embedders[req["model"]].embed(sentences).tofile(req["out"])
            reply({"ok": True})
        elif cmd == "profile":
            runs = req.get("runs", 50)
            with tempfile.TemporaryDirectory() as d:
                lat = op_profile(
                    paths[req["model"]], d, toks, lambda e: [e.embed([latency_text]) for _ in range(runs)]
                )
                thr = op_profile(paths[req["model"]], d, toks, lambda e: e.embed(sentences))
            reply({"latency_us": lat, "latency_runs": runs, "throughput_us": thr})
        elif cmd == "variants":
            # How much of onnxruntime's speed comes from its graph fusions: the same fp32 file
            # with fusions off (BASIC: constant folding and redundant-node removal only).
            out = {}
            for label, level in (
                ("ORT_DISABLE_ALL", ort.GraphOptimizationLevel.ORT_DISABLE_ALL),
                ("ORT_ENABLE_BASIC", ort.GraphOptimizationLevel.ORT_ENABLE_BASIC),
                ("ORT_ENABLE_ALL", ort.GraphOptimizationLevel.ORT_ENABLE_ALL),
            ):
                emb = Embedder(session(paths[req.get("model", "fp32")], level), *toks)
                for _ in range(5):
                    emb.embed([latency_text])
                times = []
                for _ in range(req["runs"]):
                    t = time.perf_counter_ns()
                    emb.embed([latency_text])
                    times.append(time.perf_counter_ns() - t)
                t0, c0 = time.perf_counter_ns(), time.process_time_ns()
                emb.embed(sentences)
                out[label] = {
                    "latency_wall_ns": times,
                    "throughput_wall_ns": time.perf_counter_ns() - t0,
                    "throughput_cpu_ns": time.process_time_ns() - c0,
                }
            reply(out)
        else:
            reply({"error": f"unknown command {cmd}"})


if __name__ == "__main__":
    main()
