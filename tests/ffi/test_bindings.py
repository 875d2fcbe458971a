"""The native API through its generated Python bindings: real model, real speech, a real
encrypted store and a real HTTP server on 127.0.0.1 — what a phone app does, from Python."""

import hashlib
import http.server
import threading
import time

import pytest

from conftest import FIXTURES, MODELS, ROOT, read_wav, words

JFK = "and so my fellow americans ask not what your country can do for you ask what you can do for your country"


def test_a_file_is_transcribed_with_timestamps(sotto, transcriber):
    segments = transcriber.transcribe_file(str(FIXTURES / "jfk.wav"), None)
    assert words(" ".join(s.text for s in segments)) == JFK.split()
    assert segments[0].start_ms < 1000 and segments[-1].end_ms > 9000
    assert all(s.start_ms < s.end_ms for s in segments)
    assert "tiny" in transcriber.describe()


def test_samples_at_44k_stereo_are_transcribed(sotto, transcriber):
    samples, rate, channels = read_wav(FIXTURES / "jfk_44k_stereo.wav")
    assert (rate, channels) == (44100, 2)
    segments = transcriber.transcribe_pcm(samples, rate, channels, "en")
    assert words(" ".join(s.text for s in segments)) == JFK.split()


def collect(sotto):
    """A DictationListener (implemented here, in Python) keeping what the session reports."""

    class Collector(sotto.DictationListener):
        def __init__(self):
            self.events = []
            self.stopped = threading.Event()

        def on_event(self, event):
            self.events.append(event)
            if event.is_stopped():
                self.stopped.set()

    return Collector()


def feed_in_chunks(session, path, chunk_ms=100):
    """Pieces at four times real time, as a microphone's callback gives them (all at once, the
    session catches up in one piece and has no pause for live text)."""
    samples, rate, channels = read_wav(path)
    step = rate * channels * chunk_ms // 1000
    for i in range(0, len(samples), step):
        session.feed(samples[i : i + step], rate, channels)
        time.sleep(chunk_ms / 4000)


def test_a_session_streams_partials_then_finals_to_a_python_listener(sotto, transcriber):
    listener = collect(sotto)
    options = sotto.DictationOptions(partial_every_ms=500)
    session = sotto.DictationSession.start(transcriber, options, None, listener)
    feed_in_chunks(session, FIXTURES / "jfk.wav")
    session.stop()
    assert listener.stopped.wait(60), "no Stopped event within 60 s"
    session.join()
    events = listener.events
    assert events[0].is_ready() and events[0].device is None
    assert any(e.is_level() for e in events), "level events for the meter"
    partials = [e for e in events if e.is_partial()]
    finals = [e for e in events if e.is_final()]
    assert partials, "live text while speaking"
    assert finals, "finals"
    assert words(" ".join(f.segment.text for f in finals)) == JFK.split()
    # A partial comes before the final that settles it.
    assert events.index(partials[0]) < events.index(finals[0])
    last = events[-1]
    assert last.is_stopped() and last.reason == sotto.DictationStop.REQUESTED
    assert 10_500 < last.audio_ms < 11_500
    # The session is over: more audio is refused with a typed error.
    with pytest.raises(sotto.SottoError.Ended):
        session.feed([0.0] * 160, 16000, 1)


def test_a_cancelled_session_discards_what_is_pending(sotto, transcriber):
    listener = collect(sotto)
    session = sotto.DictationSession.start(transcriber, sotto.DictationOptions(partial_every_ms=0), None, listener)
    samples, rate, channels = read_wav(FIXTURES / "jfk.wav")
    session.feed(samples[: rate * 2], rate, channels)
    session.cancel()
    assert listener.stopped.wait(30)
    session.join()
    assert listener.events[-1].reason == sotto.DictationStop.CANCELLED
    assert not [e for e in listener.events if e.is_final()]


def test_a_dictation_saved_into_notes_is_a_note_with_its_words(sotto, transcriber, tmp_path):
    notes = sotto.Notes.unlock(str(tmp_path / "data"), "correct horse battery", None)
    listener = collect(sotto)
    session = sotto.DictationSession.start(transcriber, sotto.DictationOptions(), notes, listener)
    feed_in_chunks(session, FIXTURES / "jfk.wav")
    session.stop()
    assert listener.stopped.wait(60)
    session.join()
    saved = [e for e in listener.events if e.is_saved()]
    assert len(saved) == 1, listener.events
    note = notes.get(saved[0].note_id)
    assert note.source == "dictation"
    assert words(note.body) == JFK.split()
    assert note.segments and note.segments[-1].end_ms > 9000
    assert notes.list()[0].duration_ms > 10_000, "the recording is kept with it"


def test_notes_are_added_found_edited_deleted_and_locked(sotto, embedder, tmp_path):
    data = str(tmp_path / "data")
    notes = sotto.Notes.unlock(data, "correct horse battery", embedder)
    key = notes.take_recovery_key()
    assert key and key.count("-") == 7, key
    assert notes.take_recovery_key() is None, "shown once"
    groceries = notes.add("", "Buy oat milk, lemons and basil at the market", ["errands"])
    trip = notes.add("Trip", "The flight to Lisbon leaves at nine on Friday", [])
    assert [n.id for n in notes.list()] == [trip, groceries]
    assert notes.get(groceries).title.startswith("Buy oat milk")
    assert notes.get(groceries).tags == ["errands"]

    keyword = notes.search("lemons", sotto.SearchMode.KEYWORD, 5)
    assert [h.id for h in keyword] == [groceries]
    assert "lemons" in keyword[0].snippet
    # By meaning: no word in common with the note.
    meaning = notes.search("airplane journey to Portugal", sotto.SearchMode.MEANING, 1)
    assert [h.id for h in meaning] == [trip]

    edited = notes.edit(trip, None, "The train to Porto leaves at ten on Saturday")
    assert edited.title == "Trip" and "Porto" in edited.body
    # Hybrid: the keyword match first, then the rest by meaning.
    assert notes.search("Porto", sotto.SearchMode.HYBRID, 5)[0].id == trip
    assert [h.id for h in notes.search("Porto", sotto.SearchMode.KEYWORD, 5)] == [trip]
    notes.delete(groceries)
    with pytest.raises(sotto.SottoError.NotFound):
        notes.get(groceries)

    notes.lock()
    assert notes.is_locked()
    with pytest.raises(sotto.SottoError.Locked):
        notes.list()
    with pytest.raises(sotto.SottoError.WrongPassphrase):
        sotto.Notes.unlock(data, "wrong horse", None)
    again = sotto.Notes.unlock(data, "correct horse battery", None)
    assert [n.id for n in again.list()] == [trip]


def test_a_command_is_understood_with_its_time(sotto):
    parser = sotto.CommandParser(None)
    # The phone's zone comes with the time: 5 pm there.
    parsed = parser.parse("Remind me to call Ana at 5 pm", "2026-12-07T08:30:00-05:00[America/New_York]")
    assert parsed.intent == "create_reminder"
    assert parsed.text == "call Ana"
    assert parsed.due == "2026-12-07T17:00:00-05:00"
    # A bare offset is an instant, read in the system's zone (UTC on the test machines).
    parsed = parser.parse("in ten minutes remind me to check the oven", "2026-12-07T08:30:00-05:00")
    assert parsed.text == "check the oven" and parsed.due.startswith("2026-12-07T13:40:00")
    assert parser.parse("I walked to the station yesterday", None).intent == "none"
    assert parser.parse("search my notes for the Lisbon trip", None).query == "the Lisbon trip"


def test_the_recommender_picks_for_a_phone_and_explains(sotto):
    catalog = sotto.ModelCatalog.embedded()
    variants = catalog.variants()
    assert any(v.model == "whisper-tiny.en" and v.variant == "f16" for v in variants)
    phone = sotto.DeviceInfo(
        platform=sotto.DevicePlatform.ANDROID,
        total_ram_mb=3072,
        available_ram_mb=1200,
        cores=8,
        cpu_features=["neon", "dotprod"],
        on_battery=True,
        accelerators=["cpu", "nnapi"],
    )
    choice = catalog.recommend(phone, None)
    assert choice is not None and choice.model.startswith("whisper-")
    assert choice.reason, "the reason in words"
    here = sotto.this_device()
    assert here.cores >= 1 and here.total_ram_mb > 0 and "cpu" in here.accelerators


class _Serve(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """A real HTTP server on 127.0.0.1 serving tmp_path/www."""
    www = tmp_path / "www"
    www.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Serve(*a, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def mirror_manifest(body, url):
    """Sotto's manifest with tiny.en's f16 served at `url` as `body`."""
    text = (ROOT / "models" / "manifest.toml").read_text()
    start = text.index('id = "whisper-tiny.en"')
    entry = text.index('id = "f16"', start)
    end = text.index("[[models", entry)
    block = text[entry:end]
    lines = []
    for line in block.splitlines():
        if line.startswith("bytes = "):
            line = f"bytes = {len(body)}"
        elif line.startswith("sha256 = "):
            line = f'sha256 = "{hashlib.sha256(body).hexdigest()}"'
        elif line.startswith("sha1 = "):
            continue
        elif line.startswith("sources = "):
            line = f'sources = ["{url}"]'
        lines.append(line)
    return text[:entry] + "\n".join(lines) + "\n" + text[end:]


def test_a_model_is_fetched_verified_with_progress(sotto, server, tmp_path):
    www, base = server
    body = (MODELS / "ggml-tiny.en.bin").read_bytes()
    (www / "tiny.bin").write_bytes(body)
    catalog = sotto.ModelCatalog.parse(mirror_manifest(body, f"{base}/tiny.bin"))

    class Progress(sotto.FetchListener):
        def __init__(self):
            self.seen = []

        def on_progress(self, done, total):
            self.seen.append((done, total))

        def on_retry(self, attempt, reason):
            pass

    progress = Progress()
    dest = tmp_path / "models"
    path = catalog.fetch("whisper-tiny.en", "f16", str(dest), progress, None)
    assert hashlib.sha256(open(path, "rb").read()).digest() == hashlib.sha256(body).digest()
    assert progress.seen and progress.seen[-1] == (len(body), len(body))
    assert [d for d, _ in progress.seen] == sorted(d for d, _ in progress.seen)

    # The wrong bytes behind the URL: a typed error, and nothing installed.
    (www / "tiny.bin").write_bytes(body[: len(body) // 2] + bytes(len(body) - len(body) // 2))
    other = tmp_path / "other"
    with pytest.raises(sotto.SottoError.Download) as e:
        catalog.fetch("whisper-tiny.en", "f16", str(other), progress, None)
    assert "sha" in e.value.detail.lower() or "checksum" in e.value.detail.lower(), e.value.detail
    assert not (other / "ggml-tiny.en.bin").exists()

    # Cancelled before it starts.
    cancel = sotto.Cancel()
    cancel.cancel()
    (www / "tiny.bin").write_bytes(body)
    with pytest.raises(sotto.SottoError.Cancelled):
        catalog.fetch("whisper-tiny.en", "f16", str(tmp_path / "third"), progress, cancel)
