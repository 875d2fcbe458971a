"""Every exported function and method, called with input it cannot use: each answers with a
typed SottoError, never a panic (uniffi's InternalError) and never a crash of the process."""

import inspect

import pytest

from conftest import FIXTURES, MODELS

# Calls that take nothing a caller could get wrong; they are still made below, in states
# (locked, ended, cancelled) where a careless implementation would panic.
NO_INPUT = {
    "version",
    "this_device",
    "Cancel.new",
    "Cancel.cancel",
    "ModelCatalog.embedded",
    "ModelCatalog.variants",
    "Transcriber.describe",
    "Notes.lock",
    "Notes.is_locked",
    "Notes.take_recovery_key",
    "DictationSession.stop",
    "DictationSession.cancel",
    "DictationSession.join",
}


def exported(sotto):
    """'function' and 'Class.method' for everything the bindings export (constructors too)."""
    names = set()
    for name, value in vars(sotto).items():
        if name.startswith("_") or getattr(value, "__module__", None) != "sotto":
            continue
        if inspect.isfunction(value):
            names.add(name)
        # Objects, not the Rust side of foreign traits (…Impl: listeners are the caller's).
        elif inspect.isclass(value) and hasattr(value, "_uniffi_clone_handle") and not name.endswith("Impl"):
            for member, attr in vars(value).items():
                if member == "__init__":
                    if "no default constructor" not in inspect.getsource(attr):
                        names.add(f"{name}.new")
                elif not member.startswith("_") and (callable(attr) or isinstance(attr, classmethod)):
                    names.add(f"{name}.{member}")
    return names


def bad_calls(sotto, tmp_path, transcriber):
    """For each export, calls with bad input and the error each must raise."""
    E = sotto.SottoError
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00not a model at all" * 100)
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes((FIXTURES / "jfk.wav").read_bytes()[:30])
    text = tmp_path / "text.wav"
    text.write_text("this is not audio\n" * 50)
    notes = sotto.Notes.unlock(str(tmp_path / "data"), "correct horse battery", None)
    catalog = sotto.ModelCatalog.embedded()
    phone = sotto.DeviceInfo(
        platform=sotto.DevicePlatform.IOS, total_ram_mb=4096, available_ram_mb=2000, cores=6,
        cpu_features=["neon"], on_battery=True, accelerators=["cpu", "ane"],
    )

    class Quiet(sotto.DictationListener):
        def on_event(self, event):
            pass

    class NoProgress(sotto.FetchListener):
        def on_progress(self, done, total):
            pass

        def on_retry(self, attempt, reason):
            pass

    session = sotto.DictationSession.start(transcriber, sotto.DictationOptions(), None, Quiet())
    opts = sotto.DictationOptions
    return {
        "Transcriber.new": [
            (lambda: sotto.Transcriber(str(tmp_path / "missing.bin"), None), E.Model),
            (lambda: sotto.Transcriber(str(junk), None), E.Model),
            (lambda: sotto.Transcriber("", None), E.Model),
            (lambda: sotto.Transcriber(str(MODELS / "ggml-tiny.en.bin"), str(junk)), E.Model),
        ],
        "Transcriber.transcribe_file": [
            (lambda: transcriber.transcribe_file(str(tmp_path / "missing.wav"), None), E.Audio),
            (lambda: transcriber.transcribe_file(str(truncated), None), E.Audio),
            (lambda: transcriber.transcribe_file(str(text), None), E.Audio),
            (lambda: transcriber.transcribe_file(str(FIXTURES / "jfk.wav"), "xx"), E.InvalidInput),
            (lambda: transcriber.transcribe_file(str(FIXTURES / "jfk.wav"), "de"), E.InvalidInput),
        ],
        "Transcriber.transcribe_pcm": [
            (lambda: transcriber.transcribe_pcm([], 16000, 1, None), E.Audio),
            (lambda: transcriber.transcribe_pcm([0.0] * 160, 0, 1, None), E.InvalidInput),
            (lambda: transcriber.transcribe_pcm([0.0] * 160, 16000, 0, None), E.InvalidInput),
            (lambda: transcriber.transcribe_pcm([0.0] * 161, 16000, 2, None), E.InvalidInput),
            (lambda: transcriber.transcribe_pcm([0.0] * 160, 4_000_000, 1, None), E.InvalidInput),
        ],
        "DictationSession.start": [
            (lambda: sotto.DictationSession.start(transcriber, opts(stop_after_silence_ms=0), None, Quiet()), E.InvalidInput),
            (lambda: sotto.DictationSession.start(transcriber, opts(language="xx"), None, Quiet()), E.InvalidInput),
            (lambda: sotto.DictationSession.start(transcriber, opts(), locked(sotto, tmp_path), Quiet()), E.Locked),
        ],
        "DictationSession.listen": [
            (lambda: sotto.DictationSession.listen(transcriber, opts(stop_after_silence_ms=0), None, Quiet()), E.InvalidInput),
        ],
        "DictationSession.feed": [
            (lambda: session.feed([0.0] * 160, 0, 1), E.InvalidInput),
            (lambda: session.feed([0.0] * 160, 16000, 0), E.InvalidInput),
            (lambda: session.feed([0.0] * 3, 16000, 2), E.InvalidInput),
            (lambda: ended(session).feed([0.0] * 160, 16000, 1), E.Ended),
        ],
        "Notes.unlock": [
            (lambda: sotto.Notes.unlock("", "pass phrase", None), E.InvalidInput),
            (lambda: sotto.Notes.unlock(str(tmp_path / "other"), "", None), E.InvalidInput),
            (lambda: sotto.Notes.unlock(str(tmp_path / "data"), "wrong", None), E.WrongPassphrase),
            (lambda: sotto.Notes.unlock(str(junk), "pass phrase", None), E.Storage),
        ],
        "Notes.open_with_key": [
            (lambda: sotto.Notes.open_with_key(str(tmp_path / "k"), b"short", None), E.InvalidInput),
            (lambda: sotto.Notes.open_with_key("", bytes(32), None), E.InvalidInput),
            (lambda: sotto.Notes.open_with_key(str(tmp_path / "data"), bytes(32), None), E.WrongPassphrase),
        ],
        "Notes.add": [
            (lambda: notes.add("", "   ", []), E.InvalidInput),
            (lambda: notes.add("t", "body", ["\x07bell"]), E.InvalidInput),
            (lambda: locked(sotto, tmp_path).add("t", "body", []), E.Locked),
        ],
        "Notes.list": [(lambda: locked(sotto, tmp_path).list(), E.Locked)],
        "Notes.get": [(lambda: notes.get(-1), E.NotFound), (lambda: notes.get(2**62), E.NotFound)],
        "Notes.edit": [
            (lambda: notes.edit(12345, "t", None), E.NotFound),
            (lambda: notes.edit(notes.add("t", "body", []), None, "  "), E.InvalidInput),
        ],
        "Notes.delete": [(lambda: notes.delete(12345), E.NotFound)],
        "Notes.search": [
            (lambda: notes.search("", sotto.SearchMode.HYBRID, 5), E.InvalidInput),
            (lambda: notes.search("   ", sotto.SearchMode.KEYWORD, 5), E.InvalidInput),
            (lambda: notes.search("milk", sotto.SearchMode.KEYWORD, 0), E.InvalidInput),
        ],
        "ModelCatalog.parse": [
            (lambda: sotto.ModelCatalog.parse(""), E.Model),
            (lambda: sotto.ModelCatalog.parse("schema = 99\nmodels = []\n"), E.Model),
            (lambda: sotto.ModelCatalog.parse("not toml ]]]"), E.Model),
        ],
        "ModelCatalog.recommend": [
            (lambda: catalog.recommend(with_(phone, cores=0), None), E.InvalidInput),
            (lambda: catalog.recommend(with_(phone, accelerators=["warp-drive"]), None), E.InvalidInput),
        ],
        "ModelCatalog.fetch": [
            (lambda: catalog.fetch("no-such-model", "f16", str(tmp_path / "m"), NoProgress(), None), E.NotFound),
            (lambda: catalog.fetch("whisper-tiny.en", "f99", str(tmp_path / "m"), NoProgress(), None), E.NotFound),
            (lambda: catalog.fetch("whisper-tiny.en", "f16", "", NoProgress(), None), E.InvalidInput),
        ],
        "CommandParser.new": [
            (lambda: sotto.CommandParser(sotto.EmbedderPaths(onnx=str(junk), tokenizer=str(junk))), E.Model),
            (lambda: sotto.CommandParser(sotto.EmbedderPaths(onnx="", tokenizer="")), E.Model),
        ],
        "CommandParser.parse": [
            (lambda: sotto.CommandParser(None).parse("remind me at 5", "yesterday-ish"), E.InvalidInput),
            (lambda: sotto.CommandParser(None).parse("remind me at 5", ""), E.InvalidInput),
        ],
    }


def locked(sotto, tmp_path):
    notes = sotto.Notes.unlock(str(tmp_path / "locked"), "correct horse battery", None)
    notes.lock()
    return notes


def ended(session):
    session.stop()
    session.join()
    return session


def with_(record, **changes):
    import copy

    out = copy.copy(record)
    for k, v in changes.items():
        setattr(out, k, v)
    return out


def test_every_export_answers_bad_input_with_a_typed_error(sotto, transcriber, tmp_path):
    calls = bad_calls(sotto, tmp_path, transcriber)
    missing = exported(sotto) - set(calls) - NO_INPUT
    assert not missing, f"exports without a bad-input case here: {sorted(missing)}"
    unknown = set(calls) - exported(sotto)
    assert not unknown, f"cases for functions the bindings do not export: {sorted(unknown)}"
    for name, cases in calls.items():
        for i, (call, error) in enumerate(cases):
            try:
                call()
            except sotto.InternalError as e:  # a panic in Rust
                pytest.fail(f"{name} case {i}: panicked: {e}")
            except sotto.SottoError as e:
                assert isinstance(e, error), f"{name} case {i}: {e!r}, expected {error.__name__}"
                assert e.detail.strip(), f"{name} case {i}: an empty message"
            else:
                pytest.fail(f"{name} case {i}: no error, expected {error.__name__}")


def test_calls_without_input_are_safe_in_every_state(sotto, transcriber, tmp_path):
    assert sotto.version()
    sotto.this_device()
    cancel = sotto.Cancel()
    cancel.cancel()
    cancel.cancel()
    assert sotto.ModelCatalog.embedded().variants()
    assert transcriber.describe()
    notes = sotto.Notes.unlock(str(tmp_path / "d"), "correct horse battery", None)
    notes.lock()
    notes.lock()
    assert notes.is_locked() and notes.take_recovery_key() is None

    class Quiet(sotto.DictationListener):
        def on_event(self, event):
            pass

    session = sotto.DictationSession.start(transcriber, sotto.DictationOptions(), None, Quiet())
    session.stop()
    session.cancel()
    session.join()
    # After the end: each is a no-op, not an error or a crash.
    session.stop()
    session.cancel()
    session.join()


def test_a_listener_that_raises_does_not_stop_the_session(sotto, transcriber):
    from conftest import read_wav, words

    class Raising(sotto.DictationListener):
        def __init__(self):
            self.finals = []

        def on_event(self, event):
            if event.is_final():
                self.finals.append(event.segment.text)
            raise RuntimeError("a bug in the app's listener")

    listener = Raising()
    session = sotto.DictationSession.start(transcriber, sotto.DictationOptions(partial_every_ms=0), None, listener)
    samples, rate, channels = read_wav(FIXTURES / "jfk.wav")
    session.feed(samples, rate, channels)
    session.stop()
    session.join()
    assert "country" in words(" ".join(listener.finals))
