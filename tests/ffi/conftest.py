"""The generated Python bindings (gen/python) loaded against the core's built cdylib.

Run by `make test-ffi`: CARGO_TARGET_DIR holds release/libsotto.so, SOTTO_CACHE the models
and speech fixtures (models/fetch-fixtures)."""

import importlib.util
import os
import pathlib
import shutil
import sys
import wave

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CACHE = pathlib.Path(os.environ.get("SOTTO_CACHE", pathlib.Path.home() / ".cache/sotto"))
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", CACHE / "target"))
MODELS = CACHE / "models"
FIXTURES = CACHE / "fixtures"


@pytest.fixture(scope="session")
def sotto(tmp_path_factory):
    """The `sotto` module of gen/python, loading libsotto.so from beside it, as an app ships it."""
    library = TARGET / "release" / "libsotto.so"
    assert library.is_file(), f"{library}: build it first (gen/generate)"
    package = tmp_path_factory.mktemp("bindings")
    shutil.copy(ROOT / "gen" / "python" / "sotto.py", package / "sotto.py")
    # whisper.cpp's libraries are found through the library's RUNPATH ($ORIGIN): link them all.
    for so in (TARGET / "release").glob("lib*.so"):
        if so.name.startswith(("libsotto", "libwhisper", "libggml")):
            (package / so.name).symlink_to(so)
    spec = importlib.util.spec_from_file_location("sotto", package / "sotto.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["sotto"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def transcriber(sotto):
    return sotto.Transcriber(str(MODELS / "ggml-tiny.en.bin"), str(MODELS / "silero_vad_16k_sequence.onnx"))


@pytest.fixture(scope="session")
def embedder(sotto):
    return sotto.EmbedderPaths(
        onnx=str(MODELS / "all-MiniLM-L6-v2.onnx"), tokenizer=str(MODELS / "all-MiniLM-L6-v2.tokenizer.json")
    )


def read_wav(path):
    """(interleaved float samples, rate, channels) of a 16-bit WAV file."""
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2, path
        frames = w.readframes(w.getnframes())
        rate, channels = w.getframerate(), w.getnchannels()
    ints = memoryview(frames).cast("h")
    return [s / 32768.0 for s in ints], rate, channels


def words(text):
    """Lower-case words without punctuation, for comparing transcripts."""
    return "".join(c if c.isalnum() or c.isspace() else " " for c in text.lower()).split()
