"""Sotto vs. pywhispercpp vs. faster-whisper: speed, memory and accuracy on the same weights.

Run through bench/asr, which prepares the fixtures, the release binary and the bench venv and then
runs this file with the venv's Python. See bench/README.md for what is measured and why.

Every (system, audio set, repeat) is one child process, so the child's ru_maxrss from os.wait4 is
that system's peak RSS alone. Repeats go round-robin (repeat 1 of everything, then repeat 2, ...)
with the system order rotated each time, so a burst of load on this shared machine lands on
different systems rather than all on one.
"""

import argparse
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import wave
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SR = 16000

# ---------------------------------------------------------------- the 60 s dictation clip
# jfk + the five LibriVox clips, with pauses a person dictating might leave. Fixed numbers rather
# than a random draw, so the clip is the same file on every machine and run.
PAUSES_S = [4.0, 3.0, 5.0, 3.5, 4.5]  # between consecutive clips
LEAD_S = 1.5                           # silence before the first word
TOTAL_S = 60.0                         # padded with silence at the end up to this length
# A constant noise floor (white, -60 dBFS RMS, fixed seed) so the pauses are a quiet room rather
# than digital zeros, which would make any voice-activity detector's job trivial.
NOISE_DBFS = -60.0
NOISE_SEED = 1961
CLIP_NAME = "dictation60"


@dataclass
class AudioSet:
    name: str
    title: str
    files: list                 # WAV paths
    refs: list                  # reference text per file
    audio_ms: float = 0.0


@dataclass
class System:
    id: str
    label: str
    peer: bool                  # False: a Sotto CLI mode
    args: list                  # sotto flags, or worker arguments
    note: str = ""
    skip: str = ""              # non-empty: not run, and why
    weights: str = ""           # Sotto only: e.g. "bf16" runs the bf16 copy of the ggml file


@dataclass
class Run:
    system: str
    set: str
    rep: int
    rc: int
    wall_ms: float              # whole child process, spawn to exit
    cpu_ms: float               # child user + system CPU time
    maxrss_kb: int
    load_ms: float = float("nan")
    transcribe_ms: float = float("nan")
    import_ms: float = float("nan")   # peers: Python imports before the model load
    baseline_rss_kb: int = 0          # peers: RSS after imports, before the model
    texts: list = field(default_factory=list)
    error: str = ""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_wav_s16(path):
    with wave.open(str(path), "rb") as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (SR, 1, 2):
            sys.exit(f"{path}: expected 16 kHz mono s16")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def wav_bytes(pcm):
    """A canonical WAV (44-byte header, no metadata), built in memory to compare before writing."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.astype("<i2").tobytes())
    return buf.getvalue()


def write_if_changed(path, data):
    """Idempotent output: keep the file (and its mtime) when the bytes are already right."""
    if path.exists() and path.read_bytes() == data:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def build_clip(parts, out_dir):
    """Join (wav, ref) parts with the fixed pauses; returns (wav path, reference text)."""
    assert len(PAUSES_S) == len(parts) - 1
    total = int(TOTAL_S * SR)
    rng = np.random.default_rng(NOISE_SEED)
    mix = rng.standard_normal(total) * (10 ** (NOISE_DBFS / 20) * 32768)
    pos = int(LEAD_S * SR)
    for i, (wav, _) in enumerate(parts):
        pcm = read_wav_s16(wav).astype(np.float64)
        if pos + len(pcm) > total:
            sys.exit(f"the clip's parts and pauses exceed {TOTAL_S} s; adjust PAUSES_S")
        mix[pos:pos + len(pcm)] += pcm
        pos += len(pcm) + (int(PAUSES_S[i] * SR) if i < len(PAUSES_S) else 0)
    pcm = np.clip(np.round(mix), -32768, 32767).astype(np.int16)
    out_dir.mkdir(parents=True, exist_ok=True)
    wav_path = out_dir / f"{CLIP_NAME}.wav"
    ref = " ".join(r for _, r in parts)
    write_if_changed(wav_path, wav_bytes(pcm))
    write_if_changed(out_dir / f"{CLIP_NAME}.txt", (ref + "\n").encode())
    return wav_path, ref


def audio_sets(cache):
    fix = cache / "fixtures"
    jfk = (fix / "jfk.wav", (fix / "jfk.txt").read_text().strip())
    libri = []
    for line in (fix / "librivox" / "transcripts.tsv").read_text().splitlines():
        name, text = line.split("\t", 1)
        libri.append((fix / "librivox" / name, text.strip()))
    libri.sort()
    clip = build_clip([jfk] + libri, cache / "bench")
    sets = [
        AudioSet("jfk", "jfk.wav", [jfk[0]], [jfk[1]]),
        AudioSet("librivox", "LibriVox, 5 clips as a corpus", *map(list, zip(*libri))),
        AudioSet(CLIP_NAME, f"dictation clip with pauses ({CLIP_NAME}.wav)", [clip[0]], [clip[1]]),
    ]
    for s in sets:
        s.audio_ms = sum(len(read_wav_s16(f)) for f in s.files) * 1000 / SR
    return sets


def systems(ggml, ct2):
    fw_assets = None
    spec = importlib.util.find_spec("faster_whisper")
    if spec and spec.submodule_search_locations:
        fw_assets = Path(list(spec.submodule_search_locations)[0]) / "assets"
    vad_onnx = fw_assets / "silero_vad_v6.onnx" if fw_assets else None
    vad_skip = ""
    if not (vad_onnx and vad_onnx.is_file()):
        vad_skip = "faster-whisper wheel has no assets/silero_vad_v6.onnx (would need a download)"
    elif importlib.util.find_spec("onnxruntime") is None:
        vad_skip = "onnxruntime missing (faster-whisper's VAD needs it)"
    fw = ["faster-whisper", "--model", str(ct2)]
    return [
        System("sotto", "Sotto full-file", False, []),
        System("sotto-fast", "Sotto --fast", False, ["--fast"]),
        System("sotto-vad", "Sotto --vad (speech only)", False, ["--vad"]),
        System("sotto-stream", "Sotto --stream (live, per utterance)", False, ["--stream"]),
        System("sotto-vad-bf16", "Sotto --vad, bf16 weights", False, ["--vad"],
               "the same weights rounded to bfloat16, the decoder's per-token matrices in q8_0 "
               "(`sotto models quantize --type bf16`), the variant Sotto picks on CPUs with AVX512-BF16", skip=bf16_skip(), weights="bf16"),
        System("sotto-vad-q4_0", "Sotto --vad, q4_0 weights", False, ["--vad"],
               "the same weights quantized to 4 bits (`sotto models quantize --type q4_0`): a third of "
               "the size; ggml repacks them at load for its int8 kernels", weights="q4_0"),
        System("pywhispercpp", "pywhispercpp", True, ["pywhispercpp", "--model", str(ggml)],
               "same ggml file; greedy best_of=1 (its default greedy best_of is 5); print_progress off"),
        System("fw-int8", "faster-whisper int8", True, fw + ["--compute-type", "int8"],
               "beam_size=1, best_of=1 (defaults 5, 5)"),
        System("fw-f32", "faster-whisper float32", True, fw + ["--compute-type", "float32"],
               "beam_size=1, best_of=1 (defaults 5, 5)"),
        System("fw-int8-vad", "faster-whisper int8 + vad_filter", True,
               fw + ["--compute-type", "int8", "--vad"],
               "vad_filter=True: Silero VAD v6 from the wheel, on onnxruntime", skip=vad_skip),
    ]


def bf16_skip():
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    return "" if "avx512_bf16" in flags else "this CPU has no AVX512-BF16 (bf16 would run emulated)"


def quant_copy(args, kind):
    """The `kind` (bf16, q4_0, ...) copy of --ggml next to it, made by Sotto's converter when
    missing or older than the converter (whose recipe may have changed)."""
    out = args.ggml.with_name(f"{args.ggml.stem}-{kind}.bin")
    if not out.is_file() or out.stat().st_mtime < args.sotto.stat().st_mtime:
        log(f"making {out.name}")
        subprocess.run([str(args.sotto), "models", "quantize", "--type", kind, str(args.ggml), str(out)],
                       check=True, stdout=subprocess.DEVNULL)
    return out


def child_env(threads):
    # Same thread budget for every library, including any OpenMP/BLAS pools they bring along
    # (pywhispercpp's ggml and CTranslate2 link OpenMP; numpy's BLAS serves faster-whisper's mel).
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env.pop("SOTTO_LOG", None)   # Sotto's default log level: warnings only
    return env


def spawn(cmd, env):
    """Run cmd to completion; returns (rc, stdout, stderr, wall_ms, cpu_ms, maxrss_kb)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        # wait4 rather than p.wait(): it hands back this child's own resource usage.
        _, status, ru = os.wait4(p.pid, 0)
        wall_ms = (time.perf_counter() - t0) * 1000
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (p.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                wall_ms, (ru.ru_utime + ru.ru_stime) * 1000, ru.ru_maxrss)


def run_sotto(sysm, aset, rep, args, env):
    model = quant_copy(args, sysm.weights) if sysm.weights else args.ggml
    cmd = [str(args.sotto), "transcribe", *map(str, aset.files), "--model", str(model),
           "--threads", str(args.threads), "--format", "json", "--timings", *sysm.args]
    rc, out, err, wall, cpu, rss = spawn(cmd, env)
    run = Run(sysm.id, aset.name, rep, rc, wall, cpu, rss)
    if rc != 0:
        run.error = err.strip()[-2000:]
        return run
    try:
        doc = json.loads(out)
        # One file: a list of segments; several: [{"file", "segments"}] in argument order.
        per_file = [d["segments"] for d in doc] if len(aset.files) > 1 else [doc]
        run.texts = [" ".join(s["text"].strip() for s in segs) for segs in per_file]
        timings = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        if len(timings) != len(aset.files):
            raise ValueError(f"expected {len(aset.files)} --timings lines, got {len(timings)}")
        run.load_ms = timings[0]["load_ms"]
        run.transcribe_ms = sum(t["transcribe_ms"] for t in timings)
    except (ValueError, KeyError, TypeError) as e:
        run.rc, run.error = -1, f"cannot parse sotto output: {e}\n{err[-1000:]}"
    return run


def run_peer(sysm, aset, rep, args, env):
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [sys.executable, str(HERE / "asr_worker.py"), *sysm.args, "--out", str(result),
               "--threads", str(args.threads), *map(str, aset.files)]
        rc, _out, err, wall, cpu, rss = spawn(cmd, env)
        run = Run(sysm.id, aset.name, rep, rc, wall, cpu, rss)
        if rc != 0 or not result.exists():
            run.rc, run.error = rc or -1, err.strip()[-2000:]
            return run
        doc = json.loads(result.read_text())
    run.load_ms, run.import_ms = doc["load_ms"], doc["import_ms"]
    run.baseline_rss_kb = doc["baseline_rss_kb"]
    run.transcribe_ms = sum(f["transcribe_ms"] for f in doc["files"])
    run.texts = [f["text"] for f in doc["files"]]
    return run


class Scorer:
    """WER by `sotto wer`, so every system is scored by the one normaliser Sotto ships."""

    def __init__(self, sotto):
        self.sotto = sotto
        self.cache = {}

    def __call__(self, ref, hyp):
        if (ref, hyp) not in self.cache:
            out = subprocess.run([str(self.sotto), "wer", ref, hyp], check=True,
                                 capture_output=True, text=True).stdout
            self.cache[(ref, hyp)] = float(out.strip())
        return self.cache[(ref, hyp)]


def median(xs):
    xs = [x for x in xs if x == x]   # drop NaN
    return statistics.median(xs) if xs else float("nan")


def summarise(sets, syss, runs, score):
    rows = []
    for aset in sets:
        # Corpus WER: references and hypotheses concatenated in the same file order, scored once
        # (= total edits / total reference words, up to alignment across file boundaries).
        ref = " ".join(aset.refs)
        for sysm in syss:
            mine = [r for r in runs if r.system == sysm.id and r.set == aset.name]
            ok = [r for r in mine if r.rc == 0]
            row = {"set": aset.name, "system": sysm.id, "label": sysm.label, "peer": sysm.peer,
                   "runs": len(ok), "failed": len(mine) - len(ok), "skip": sysm.skip}
            if ok:
                hyps = [" ".join(r.texts) for r in ok]
                row.update(
                    load_ms=median(r.load_ms for r in ok),
                    transcribe_ms=median(r.transcribe_ms for r in ok),
                    transcribe_ms_all=[round(r.transcribe_ms, 1) for r in ok],
                    wall_ms=median(r.wall_ms for r in ok),
                    cpu_ms=median(r.cpu_ms for r in ok),
                    maxrss_mb=median(r.maxrss_kb for r in ok) / 1024,
                    import_ms=median(r.import_ms for r in ok),
                    baseline_rss_mb=median(r.baseline_rss_kb for r in ok) / 1024 if sysm.peer else None,
                    wer=median(score(ref, h) for h in hyps),
                    distinct_transcripts=len(set(hyps)),
                    hypothesis=hyps[0],
                )
                row["rtf"] = row["transcribe_ms"] / aset.audio_ms
            rows.append(row)
        # Sotto's rows against pywhispercpp and against the fastest peer row of this set.
        mine = [r for r in rows if r["set"] == aset.name]
        peers = [r for r in mine if r["peer"] and "transcribe_ms" in r]
        pw = next((r for r in peers if r["system"] == "pywhispercpp"), None)
        fastest = min(peers, key=lambda r: r["transcribe_ms"], default=None)
        for r in mine:
            if r["peer"] or "transcribe_ms" not in r:
                continue
            if pw:
                r["vs_pywhispercpp"] = r["transcribe_ms"] / pw["transcribe_ms"]
            if fastest:
                r["vs_fastest_peer"] = r["transcribe_ms"] / fastest["transcribe_ms"]
                r["fastest_peer"] = fastest["system"]
    return rows


def fmt(x, spec):
    return "–" if x is None or x != x else format(x, spec)


def checks(sets, by):
    """Sotto's performance targets, stated against this run's medians."""
    def tx(set_name, system):
        r = by.get((set_name, system))
        return r.get("transcribe_ms") if r else None

    out = []
    for aset in sets:
        s, pw = tx(aset.name, "sotto"), tx(aset.name, "pywhispercpp")
        if s and pw:
            out.append(f"- {aset.name}: Sotto full-file / pywhispercpp = {s / pw:.2f} "
                       f"(target ≤ 1.03: {'met' if s / pw <= 1.03 else 'missed'}).")
        wer = [by.get((aset.name, i), {}).get("wer") for i in ("sotto", "sotto-fast")]
        if None not in wer:
            out.append(f"- {aset.name}: Sotto WER {wer[0] * 100:.1f}% full-file vs "
                       f"{wer[1] * 100:.1f}% with --fast.")
    clip = next((a.name for a in sets if a.name == CLIP_NAME), None)
    if clip:
        fw = [(t, i) for t, i in ((tx(clip, i), i) for i in ("fw-int8", "fw-f32", "fw-int8-vad")) if t]
        fastest = min(fw)[1] if fw else None

        def wer_of(system):
            w = by.get((clip, system), {}).get("wer")
            return "–" if w is None or w != w else f"{w * 100:.1f}%"

        for mode in ("sotto-vad", "sotto-stream", "sotto-vad-bf16", "sotto-vad-q4_0"):
            s, pw = tx(clip, mode), tx(clip, "pywhispercpp")
            if s and pw and fw:
                a, b = pw / s, min(fw)[0] / s
                out.append(f"- {clip}: speed-up of {by[(clip, mode)]['label']} = {a:.2f}x over "
                           f"pywhispercpp, {b:.2f}x over the fastest faster-whisper row (target ≥ 1.5x "
                           f"over both: {'met' if min(a, b) >= 1.5 else 'missed'}); WER {wer_of(mode)} "
                           f"(f16 --vad {wer_of('sotto-vad')}, {by[(clip, fastest)]['label']} "
                           f"{wer_of(fastest)}).")
    return ["", "## Checks", ""] + out if out else []


def markdown(meta, sets, syss, rows):
    lines = [
        "# ASR benchmark: Sotto vs. pywhispercpp vs. faster-whisper",
        "",
        f"Whisper tiny.en, the same weights for every system (ggml f16 converted from the CTranslate2 "
        f"files that faster-whisper loads directly). {meta['threads']} thread(s) each, greedy decoding, "
        f"median of {meta['repeat']} runs. {meta['date']}; {meta['cpu']}, {meta['cores']} cores, "
        f"load average {meta['loadavg_start'][0]:.2f} at start, {meta['loadavg_end'][0]:.2f} at end. "
        f"Sotto {meta['sotto_commit']}, whisper.cpp {meta['sotto_whisper_cpp']} (Sotto) / "
        f"{meta['pywhispercpp_whisper_cpp']} (pywhispercpp).",
        "",
        "transcribe = one transcription call on audio already in memory (model loaded; Sotto: its "
        "`--timings` transcribe_ms); process = the whole child process, start to exit (Python imports "
        "included for the peers), and its user + system CPU time, which a busy machine disturbs less "
        "than wall time when each system runs one thread; RTF = transcribe / audio duration; "
        "× columns = Sotto's transcribe time over the peer's (< 1: Sotto is faster).",
    ]
    by = {(r["set"], r["system"]): r for r in rows}
    for aset in sets:
        mine = [by[(aset.name, s.id)] for s in syss]
        fastest = next((r["fastest_peer"] for r in mine if r.get("fastest_peer")), None)
        fastest_label = next((s.label for s in syss if s.id == fastest), "–")
        lines += [
            "",
            f"## {aset.title}: {aset.audio_ms / 1000:.1f} s of audio, {len(aset.files)} file(s)",
            "",
            f"Fastest peer: {fastest_label}.",
            "",
            "| system | load ms | transcribe ms | process ms | process CPU ms | RTF | peak RSS MB | WER % "
            "| × pywhispercpp | × fastest peer |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for r in mine:
            if r["skip"]:
                lines.append(f"| {r['label']} | skipped: {r['skip']} ||||||||| ")
                continue
            if "transcribe_ms" not in r:
                lines.append(f"| {r['label']} | failed in all {r['failed']} runs ||||||||| ")
                continue
            wer = fmt(r["wer"] * 100, ".1f") + ("*" if r["distinct_transcripts"] > 1 else "")
            lines.append(
                f"| {r['label']} | {fmt(r['load_ms'], '.0f')} | {fmt(r['transcribe_ms'], '.0f')} | "
                f"{fmt(r['wall_ms'], '.0f')} | {fmt(r['cpu_ms'], '.0f')} | {fmt(r['rtf'], '.3f')} | "
                f"{fmt(r['maxrss_mb'], '.0f')} | "
                f"{wer} | {fmt(r.get('vs_pywhispercpp'), '.2f')} | {fmt(r.get('vs_fastest_peer'), '.2f')} |")
    lines += checks(sets, by)
    lines += ["", "Settings:", ""]
    for s in syss:
        if s.note:
            lines.append(f"- {s.label}: {s.note}.")
    lines += [
        "- Sotto: greedy best_of=1, no_context, suppress_blank and suppress_nst on (pywhispercpp's "
        "default leaves suppress_nst off); `--fast` shrinks the encoder window to the audio; "
        "`--vad` cuts the pauses out with Sotto's energy VAD and packs the speech into fitted windows "
        "(src/asr/speech.rs); `--stream` feeds the file as a live stream in 100 ms chunks and "
        "transcribes each utterance when its pause closes it, with a fitted window (src/asr/stream.rs).",
        "- faster-whisper keeps its other defaults (condition_on_previous_text=True, temperature "
        "fallback).",
        "- Peak RSS of the peers includes the Python interpreter and their imports "
        f"(~{meta.get('peer_baseline_rss_mb', float('nan')):.0f} MB before any model is loaded).",
        "- `*` after a WER: the transcript differed between repeats (median WER shown).",
    ]
    return "\n".join(lines) + "\n"


def rounded(x):
    """Floats cut to 4 decimals (1 from 10 up), NaN to null: the JSON is for reading and diffs."""
    if isinstance(x, float):
        return None if x != x else round(x, 4 if abs(x) < 10 else 1)
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [rounded(v) for v in x]
    return x


def git(*args):
    try:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def sotto_commit():
    """HEAD, with -dirty when the sources the binary is built from have uncommitted changes."""
    head = git("rev-parse", "--short", "HEAD") or "?"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src", "Cargo.toml", "Cargo.lock")
    return head + ("-dirty" if dirty else "")


def cargo_lock_version(crate):
    try:
        lock = tomllib.loads((ROOT / "Cargo.lock").read_text())
        return next(p["version"] for p in lock["package"] if p["name"] == crate)
    except (OSError, StopIteration, KeyError):
        return "?"


def sotto_whisper_cpp(sys_version):
    # whisper-rs-sys vendors whisper.cpp; its CMakeLists.txt names the version.
    cargo_home = Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")
    pattern = f"registry/src/*/whisper-rs-sys-{sys_version}/whisper.cpp/CMakeLists.txt"
    for cmake in sorted(cargo_home.glob(pattern)):
        for line in cmake.read_text().splitlines():
            if line.startswith('project("whisper.cpp" VERSION'):
                return line.split("VERSION", 1)[1].strip(" )")
    return "?"


def pywhispercpp_whisper_cpp():
    # The wheel vendors libwhisper.so.<version>; the file name is the only place it says which.
    spec = importlib.util.find_spec("pywhispercpp")
    libs = Path(list(spec.submodule_search_locations)[0]).parent / "pywhispercpp.libs"
    for f in sorted(libs.glob("libwhisper-*.so.*")):
        return f.name.split(".so.", 1)[1]
    return "?"


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sotto", type=Path, required=True, help="release sotto binary")
    p.add_argument("--ggml", type=Path, required=True, help="ggml tiny.en model")
    p.add_argument("--ct2", type=Path, required=True, help="CTranslate2 tiny.en directory")
    p.add_argument("--threads", type=int, default=1, help="threads for every system (default 1)")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement; median reported")
    p.add_argument("--sets", default="", help="comma-separated subset of: jfk,librivox," + CLIP_NAME)
    p.add_argument("--systems", default="", help="comma-separated subset of system ids")
    p.add_argument("--out-dir", type=Path, default=HERE / "results")
    p.add_argument("--name", default="asr-latest", help="result file stem in --out-dir")
    args = p.parse_args()
    if args.threads < 1 or args.repeat < 1:
        p.error("--threads and --repeat must be >= 1")

    cache = Path(os.environ.get("SOTTO_CACHE") or Path.home() / ".cache" / "sotto")
    sets = audio_sets(cache)
    syss = systems(args.ggml, args.ct2)
    if args.sets:
        keep = args.sets.split(",")
        sets = [s for s in sets if s.name in keep]
    if args.systems:
        keep = args.systems.split(",")
        syss = [s for s in syss if s.id in keep]
    if not sets or not syss:
        p.error("nothing to run after --sets/--systems filtering")

    # The tree is read before the runs: it is what bench/asr just built (others may commit meanwhile).
    commit = sotto_commit()
    sotto_sha = sha256(args.sotto)
    loadavg_start = os.getloadavg()
    if loadavg_start[0] > 0.5 * (os.cpu_count() or 1) + args.threads:
        log(f"warning: load average {loadavg_start[0]:.2f}: other work will skew the timings")
    env = child_env(args.threads)
    runnable = [s for s in syss if not s.skip]
    for s in syss:
        if s.skip:
            log(f"skipping {s.id}: {s.skip}")
    runs = []
    for rep in range(args.repeat):
        order = runnable[rep % len(runnable):] + runnable[:rep % len(runnable)]
        for aset in sets:
            for sysm in order:
                run = (run_peer if sysm.peer else run_sotto)(sysm, aset, rep, args, env)
                runs.append(run)
                if run.rc != 0:
                    log(f"[{rep + 1}/{args.repeat}] {aset.name:<11} {sysm.id:<18} FAILED rc={run.rc}: "
                        f"{run.error.splitlines()[-1] if run.error else ''}")
                else:
                    log(f"[{rep + 1}/{args.repeat}] {aset.name:<11} {sysm.id:<18} "
                        f"transcribe {run.transcribe_ms:7.0f} ms  process {run.wall_ms:7.0f} ms  "
                        f"{run.maxrss_kb / 1024:4.0f} MB")

    rows = summarise(sets, syss, runs, Scorer(args.sotto))
    baselines = [r["baseline_rss_mb"] for r in rows if r.get("baseline_rss_mb")]
    ct2_bin = args.ct2 / "model.bin"
    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "threads": args.threads,
        "repeat": args.repeat,
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "loadavg_start": loadavg_start,
        "loadavg_end": os.getloadavg(),
        "python": platform.python_version(),
        "sotto_commit": commit + ("" if sotto_commit() == commit else " (tree changed during the run)"),
        "sotto_binary_sha256": sotto_sha,
        "sotto_whisper_rs_sys": cargo_lock_version("whisper-rs-sys"),
        "sotto_whisper_cpp": sotto_whisper_cpp(cargo_lock_version("whisper-rs-sys")),
        "pywhispercpp_whisper_cpp": pywhispercpp_whisper_cpp(),
        "packages": {n: importlib.metadata.version(n) for n in
                     ("pywhispercpp", "faster-whisper", "ctranslate2", "onnxruntime", "numpy")},
        "ggml_model": {"file": args.ggml.name, "sha256": sha256(args.ggml)},
        "ct2_model": {"file": str(ct2_bin.relative_to(cache)) if ct2_bin.is_relative_to(cache)
                      else str(ct2_bin), "sha256": sha256(ct2_bin)},
        "peer_baseline_rss_mb": median(baselines),
        "clip": {"pauses_s": PAUSES_S, "lead_s": LEAD_S, "total_s": TOTAL_S,
                 "noise_dbfs": NOISE_DBFS, "noise_seed": NOISE_SEED,
                 "sha256": sha256(cache / "bench" / f"{CLIP_NAME}.wav")},
        "sets": {s.name: {"audio_ms": s.audio_ms, "files": [f.name for f in s.files],
                          "reference": " ".join(s.refs)} for s in sets},
        "systems": {s.id: {"label": s.label, "args": [a if not a.startswith("/") else Path(a).name
                                                      for a in s.args],
                           "note": s.note, "skip": s.skip} for s in syss},
    }
    md = markdown(meta, sets, syss, rows)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    # Raw runs without transcripts (those are in the summary rows): the file stays small.
    raw = [{k: v for k, v in vars(r).items() if k != "texts"} for r in runs]
    doc = rounded({"meta": meta, "summary": rows, "runs": raw})
    (args.out_dir / f"{args.name}.json").write_text(json.dumps(doc, indent=1) + "\n")
    (args.out_dir / f"{args.name}.md").write_text(md)
    print(md, end="")
    log(f"wrote {args.out_dir / (args.name + '.md')} and .json")
    return 1 if any(r.rc != 0 for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
