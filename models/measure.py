"""Measure model variants present in $SOTTO_CACHE/models; see models/measure."""

import argparse
import json
import os
import statistics
import subprocess
import tomllib
from pathlib import Path

CACHE = Path(os.environ.get("SOTTO_CACHE", Path.home() / ".cache/sotto"))
FIX = CACHE / "fixtures"
START, END = "<!-- measured:start -->", "<!-- measured:end -->"


def clips():
    out = [(FIX / "jfk.wav", (FIX / "jfk.txt").read_text().strip())]
    for line in (FIX / "librivox/transcripts.tsv").read_text().splitlines():
        if line.strip():
            name, text = line.split("\t", 1)
            out.append((FIX / "librivox" / name, text))
    return out


def run(sotto, model, threads, clip, fast):
    args = [sotto, "transcribe", str(clip), "--model", str(model), "--threads", str(threads), "--format", "json", "--timings"]
    if fast:
        args.append("--fast")
    p = subprocess.run(args, capture_output=True, text=True, check=True)
    timing = json.loads(p.stderr.strip().splitlines()[-1])
    text = " ".join(s["text"] for s in json.loads(p.stdout))
    return timing, text


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sotto", required=True)
    ap.add_argument("--readme", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    manifest = tomllib.loads((Path(__file__).parent / "manifest.toml").read_text())
    rows = []
    for m in manifest["models"]:
        for v in m["variants"]:
            path = CACHE / "models" / v["file"]
            if not path.exists():
                continue
            if m["kind"] == "embedder":
                tok = CACHE / "models" / "all-MiniLM-L6-v2.tokenizer.json"
                ref = Path(__file__).resolve().parent.parent / "tests/data/minilm_reference.json"
                runs = [json.loads(subprocess.run([a.sotto, "embed-check", str(path), str(tok), str(ref)], capture_output=True, text=True, check=True).stdout) for _ in range(a.repeat)]
                rows.append(
                    f"| {m['id']} | {v['id']} | {path.stat().st_size / 1e6:.1f} | {statistics.median(r['load_ms'] for r in runs):.0f} | "
                    f"{statistics.median(r['sentences_per_s'] for r in runs):.0f} sentences/s | cosine ≥ {min(r['min_cosine'] for r in runs):.4f} to the fp32 reference | tract, {'short texts packed' if runs[0].get('packed') else 'one text per call'} |"
                )
                continue
            if m["kind"] != "whisper":
                continue
            for fast in (False, True):
                loads, rtfs, hyps, refs = [], [], [], []
                for clip, ref in clips():
                    times = []
                    for _ in range(a.repeat):
                        t, text = run(a.sotto, path, a.threads, clip, fast)
                        times.append(t)
                    loads.append(statistics.median(t["load_ms"] for t in times))
                    rtfs.append(statistics.median(t["transcribe_ms"] for t in times) / times[0]["audio_ms"])
                    hyps.append(text)
                    refs.append(ref)
                wer = float(subprocess.run([a.sotto, "wer", " ".join(refs), " ".join(hyps)], capture_output=True, text=True, check=True).stdout)
                mode = "fitted window (`--fast`)" if fast else "30 s window"
                rows.append(
                    f"| {m['id']} | {v['id']} | {path.stat().st_size / 1e6:.1f} | {statistics.median(loads):.0f} | "
                    f"{statistics.mean(rtfs):.3f} | {wer * 100:.1f} | {mode} |"
                )
    table = "\n".join(
        [
            START,
            f"Measured by `models/measure` ({a.threads} thread, median of {a.repeat}; RTF = transcribe time / audio length, "
            "mean over jfk + 5 LibriVox clips; WER over the same 6 clips as one corpus; embedders: 256 sentences, "
            "cosine to an independent float64 forward pass). Variants not listed are not on this machine "
            "(no hub access here).",
            "",
            "| model | variant | MB | load ms | RTF (whisper) / speed (embedder) | WER % (whisper) / accuracy (embedder) | mode |",
            "|---|---|--:|--:|--:|--:|---|",
            *rows,
            END,
        ]
    )
    readme = Path(a.readme)
    text = readme.read_text()
    if START in text:
        text = text[: text.index(START)] + table + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## Measured variants\n\n" + table + "\n"
    readme.write_text(text)
    print(table)


if __name__ == "__main__":
    main()
