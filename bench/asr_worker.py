"""One peer ASR system in its own process, so the parent sees this process's peak RSS alone.

Usage (called by bench/asr.py, not by hand):
    asr_worker.py --out RESULT.json --threads N pywhispercpp   --model GGML_FILE      WAV...
    asr_worker.py --out RESULT.json --threads N faster-whisper --model CT2_DIR
                  --compute-type int8|float32 [--vad] WAV...

Writes {"import_ms", "load_ms", "baseline_rss_kb", "params", "files": [{"file", "audio_ms",
"transcribe_ms", "text"}]} to --out. The result goes to a file, not stdout, so nothing a library
prints can corrupt it.

Timing boundaries match Sotto's --timings: "load" is building the model object (after the Python
imports, reported separately as import_ms); "transcribe" is one call on samples already in memory,
including the library's own feature extraction and, for faster-whisper, draining its lazy segment
generator. WAV decoding is outside both, as Sotto's decode_ms is.
"""

import argparse
import json
import resource
import sys
import time
import wave

import numpy as np


def read_wav(path):
    """16 kHz mono s16 WAV -> float32 in [-1, 1), the input both libraries take."""
    with wave.open(path, "rb") as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (16000, 1, 2):
            sys.exit(f"{path}: expected 16 kHz mono s16")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


def ms_since(t0):
    return (time.perf_counter() - t0) * 1000.0


def run_pywhispercpp(args):
    t0 = time.perf_counter()
    from pywhispercpp.model import Model
    import_ms = ms_since(t0)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Its defaults otherwise, except: no progress printing (it defaults to True and would write
    # to stderr during the timed call), and greedy best_of=1 to match Sotto. pywhispercpp's
    # default strategy is already greedy, but whisper.cpp's greedy default is best_of=5, which
    # matters whenever a segment falls back to temperature sampling.
    params = dict(n_threads=args.threads, print_progress=False, print_realtime=False,
                  print_timestamps=False, greedy={"best_of": 1})
    t0 = time.perf_counter()
    # redirect_whispercpp_logs_to=None: whisper.cpp's load log goes to /dev/null.
    model = Model(args.model, redirect_whispercpp_logs_to=None, **params)
    load_ms = ms_since(t0)

    def transcribe(audio):
        return " ".join(s.text.strip() for s in model.transcribe(audio))

    return import_ms, load_ms, baseline, params, transcribe


def run_faster_whisper(args):
    t0 = time.perf_counter()
    from faster_whisper import WhisperModel
    import_ms = ms_since(t0)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    # num_workers=1: one transcription at a time, as in the other systems.
    model = WhisperModel(args.model, device="cpu", compute_type=args.compute_type,
                         cpu_threads=args.threads, num_workers=1, local_files_only=True)
    load_ms = ms_since(t0)
    # beam_size=1 (its default is 5) and best_of=1 (default 5, used on temperature fallback)
    # = greedy, as Sotto decodes. Everything else stays at faster-whisper's defaults.
    decode = dict(beam_size=1, best_of=1, language="en", vad_filter=args.vad)

    def transcribe(audio):
        segments, _info = model.transcribe(audio, **decode)
        # The generator does the decoding; drain it inside the timed region.
        return " ".join(s.text.strip() for s in segments)

    params = dict(decode, compute_type=args.compute_type, cpu_threads=args.threads)
    return import_ms, load_ms, baseline, params, transcribe


def main():
    p = argparse.ArgumentParser()
    p.add_argument("system", choices=["pywhispercpp", "faster-whisper"])
    p.add_argument("--out", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--compute-type", default="int8")
    p.add_argument("--vad", action="store_true")
    p.add_argument("wavs", nargs="+")
    args = p.parse_args()

    runner = run_pywhispercpp if args.system == "pywhispercpp" else run_faster_whisper
    import_ms, load_ms, baseline, params, transcribe = runner(args)
    files = []
    for path in args.wavs:
        audio = read_wav(path)
        t0 = time.perf_counter()
        text = transcribe(audio)
        files.append({"file": path, "audio_ms": len(audio) / 16.0,
                      "transcribe_ms": ms_since(t0), "text": text})
    with open(args.out, "w") as f:
        json.dump({"import_ms": import_ms, "load_ms": load_ms, "baseline_rss_kb": baseline,
                   "params": params, "files": files}, f)


if __name__ == "__main__":
    main()
