// The native API through the generated Kotlin bindings (gen/kotlin), on the JVM with JNA: the
// exact binding code an Android app uses, against the Linux build of the library. Run by
// tests/ffi/kotlin/run; each check prints its name, the first failure exits non-zero.

import java.io.File
import java.util.concurrent.CountDownLatch
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import javax.sound.sampled.AudioSystem
import uniffi.sotto.*

val cache = File(System.getenv("SOTTO_CACHE") ?: "${System.getProperty("user.home")}/.cache/sotto")
val models = File(cache, "models")
val fixtures = File(cache, "fixtures")
const val JFK = "and so my fellow americans ask not what your country can do for you ask what you can do for your country"

class Check(val name: String, val body: () -> Unit)

fun expect(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

inline fun <reified E : SottoException> expectError(what: String, call: () -> Unit) {
    try {
        call()
    } catch (e: SottoException) {
        expect(e is E) { "$what: ${e::class.simpleName} (${e.message}), expected ${E::class.simpleName}" }
        return
    }
    throw AssertionError("$what: no error, expected ${E::class.simpleName}")
}

fun words(text: String): List<String> =
    text.lowercase().map { if (it.isLetterOrDigit() || it.isWhitespace()) it else ' ' }.joinToString("")
        .split(Regex("\\s+")).filter { it.isNotEmpty() }

/** Interleaved samples, rate and channels of a 16-bit little-endian WAV file. */
fun readWav(file: File): Triple<List<Float>, UInt, UShort> {
    AudioSystem.getAudioInputStream(file).use { input ->
        val format = input.format
        val bytes = input.readAllBytes()
        val samples = ArrayList<Float>(bytes.size / 2)
        for (i in 0 until bytes.size / 2) {
            val v = (bytes[2 * i].toInt() and 0xff) or (bytes[2 * i + 1].toInt() shl 8)
            samples.add(v.toShort() / 32768f)
        }
        return Triple(samples, format.sampleRate.toInt().toUInt(), format.channels.toUShort())
    }
}

/** A listener as an Android app writes one: it hands events over, here to a list. */
class Collector : DictationListener {
    val events = CopyOnWriteArrayList<DictationEvent>()
    val stopped = CountDownLatch(1)
    override fun onEvent(event: DictationEvent) {
        events.add(event)
        if (event is DictationEvent.Stopped) stopped.countDown()
    }
}

fun main() {
    val transcriber = Transcriber(File(models, "ggml-tiny.en.bin").path, File(models, "silero_vad_16k_sequence.onnx").path)
    val jfk = File(fixtures, "jfk.wav")
    val work = kotlin.io.path.createTempDirectory("sotto-kotlin").toFile()
    val checks = listOf(
        Check("a file is transcribed with timestamps") {
            val segments = transcriber.transcribeFile(jfk.path, null)
            expect(words(segments.joinToString(" ") { it.text }) == JFK.split(" ")) { "heard: $segments" }
            expect(segments.last().endMs > 9000uL) { "end ${segments.last().endMs}" }
        },
        Check("a session streams partials then finals to a Kotlin listener") {
            val listener = Collector()
            val session = DictationSession.start(transcriber, DictationOptions(partialEveryMs = 500uL), null, listener)
            val (samples, rate, channels) = readWav(jfk)
            // 100 ms pieces at four times real time, as a microphone's callback would give them
            // (faster, the session catches up in one piece and has no pause for live text).
            samples.chunked(1600 * channels.toInt()).forEach { session.feed(it, rate, channels); Thread.sleep(25) }
            session.stop()
            expect(listener.stopped.await(60, TimeUnit.SECONDS)) { "no Stopped within 60 s" }
            session.join()
            val events = listener.events
            expect(events.first() is DictationEvent.Ready) { "first: ${events.first()}" }
            expect(events.any { it is DictationEvent.Level }) { "no level events" }
            val partials = events.filterIsInstance<DictationEvent.Partial>()
            val finals = events.filterIsInstance<DictationEvent.Final>()
            expect(partials.isNotEmpty()) { "no partials" }
            expect(words(finals.joinToString(" ") { it.segment.text }) == JFK.split(" ")) { "finals: $finals" }
            expect(events.indexOf(partials.first()) < events.indexOf(finals.first())) { "a partial before the final" }
            val last = events.last()
            expect(last is DictationEvent.Stopped && last.reason == DictationStop.REQUESTED) { "last: $last" }
            expectError<SottoException.Ended>("feed after the end") { session.feed(listOf(0f), 16000u, 1u.toUShort()) }
        },
        Check("notes are added, found by words and by meaning, edited, deleted and locked") {
            val embedder = EmbedderPaths(File(models, "all-MiniLM-L6-v2.onnx").path, File(models, "all-MiniLM-L6-v2.tokenizer.json").path)
            val data = File(work, "data").path
            val notes = Notes.unlock(data, "correct horse battery", embedder)
            expect(notes.takeRecoveryKey()?.count { it == '-' } == 7) { "a recovery key" }
            val groceries = notes.add("", "Buy oat milk, lemons and basil at the market", listOf("errands"))
            val trip = notes.add("Trip", "The flight to Lisbon leaves at nine on Friday", listOf())
            expect(notes.list().map { it.id } == listOf(trip, groceries)) { "list: ${notes.list()}" }
            expect(notes.search("lemons", SearchMode.KEYWORD, 5u).map { it.id } == listOf(groceries)) { "keyword" }
            expect(notes.search("airplane journey to Portugal", SearchMode.MEANING, 1u).map { it.id } == listOf(trip)) { "meaning" }
            expect(notes.edit(trip, null, "The train to Porto leaves at ten").body.contains("Porto")) { "edit" }
            notes.delete(groceries)
            expectError<SottoException.NotFound>("a deleted note") { notes.get(groceries) }
            notes.lock()
            expectError<SottoException.Locked>("locked notes") { notes.list() }
            expectError<SottoException.WrongPassphrase>("a wrong passphrase") { Notes.unlock(data, "wrong horse", null) }
        },
        Check("a command is understood with its time") {
            val parsed = CommandParser(null).parse("Remind me to call Ana at 5 pm", "2026-12-07T08:30:00-05:00[America/New_York]")
            expect(parsed.intent == "create_reminder" && parsed.text == "call Ana") { "$parsed" }
            expect(parsed.due == "2026-12-07T17:00:00-05:00") { "due ${parsed.due}" }
        },
        Check("the recommender answers for a phone") {
            val phone = DeviceInfo(DevicePlatform.ANDROID, 3072uL, 1200uL, 8u, listOf("neon", "dotprod"), true, listOf("cpu", "nnapi"))
            val choice = ModelCatalog.embedded().recommend(phone, null)
            expect(choice != null && choice.model.startsWith("whisper-") && choice.reason.isNotEmpty()) { "$choice" }
        },
        Check("bad input gets typed errors") {
            expectError<SottoException.Model>("a missing model") { Transcriber(File(work, "missing.bin").path, null) }
            expectError<SottoException.Audio>("a missing file") { transcriber.transcribeFile(File(work, "missing.wav").path, null) }
            expectError<SottoException.InvalidInput>("rate 0") { transcriber.transcribePcm(listOf(0f), 0u, 1u.toUShort(), null) }
            expectError<SottoException.InvalidInput>("a short key") { Notes.openWithKey(File(work, "k").path, ByteArray(5), null) }
            expectError<SottoException.InvalidInput>("a bad time") { CommandParser(null).parse("remind me at 5", "soon") }
            expectError<SottoException.NotFound>("an unknown variant") {
                ModelCatalog.embedded().fetch("whisper-tiny.en", "f99", work.path, object : FetchListener {
                    override fun onProgress(done: ULong, total: ULong?) {}
                    override fun onRetry(attempt: UInt, reason: String) {}
                }, null)
            }
        },
    ) + KeyboardTests.checks(transcriber, jfk)

    var failed = 0
    for (check in checks) {
        try {
            check.body()
            println("ok   ${check.name}")
        } catch (e: Throwable) {
            failed++
            println("FAIL ${check.name}: ${e.message}")
        }
    }
    work.deleteRecursively()
    println("${checks.size - failed} passed, $failed failed")
    kotlin.system.exitProcess(if (failed == 0) 0 else 1)
}
