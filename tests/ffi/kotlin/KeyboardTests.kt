// The dictation keyboard's state machine (src-tauri/mobile/keyboard/android/DictationKeyboardLogic.kt)
// on the JVM: against a scripted session, then against a real one transcribing real speech.

import app.sotto.keyboard.DictationKeyboardLogic
import app.sotto.keyboard.KeyboardState
import app.sotto.keyboard.TextTarget
import java.io.File
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import uniffi.sotto.*

/** A text field: committed text, and the composing region after it. */
class Field(initial: String = "") : TextTarget {
    var committed = initial
    var shown = ""
    val composed = mutableListOf<String>()
    override fun setComposing(text: String) {
        shown = text
        if (text.isNotEmpty()) composed.add(text)
    }
    override fun commit(text: String) {
        committed += text
        shown = ""
    }
    override fun charBeforeCursor(): Char? = committed.lastOrNull()
}

/** A session that records what the keyboard asked of it. */
class ScriptedSession : DictationSessionInterface {
    val calls = mutableListOf<String>()
    override fun cancel() { calls.add("cancel") }
    override fun feed(samples: List<Float>, sampleRate: UInt, channels: UShort) {}
    override fun join() {}
    override fun stop() { calls.add("stop") }
}

fun seg(text: String) = Segment(0uL, 1000uL, text)

object KeyboardTests {
    fun checks(transcriber: Transcriber, jfk: File): List<Check> = listOf(
        Check("keyboard: partials compose, finals commit, stop ends in idle") {
            val field = Field()
            val session = ScriptedSession()
            val states = mutableListOf<KeyboardState>()
            val logic = DictationKeyboardLogic(field, { session }, { states.add(it) })
            logic.onMicPressed()
            expect(logic.state == KeyboardState.Starting) { "${logic.state}" }
            logic.onEvent(DictationEvent.Ready(null))
            logic.onEvent(DictationEvent.Level(-30f, -20f))
            expect(logic.state == KeyboardState.Listening(-30f)) { "${logic.state}" }
            logic.onEvent(DictationEvent.Partial(seg("hello")))
            logic.onEvent(DictationEvent.Partial(seg("hello wor")))
            expect(field.shown == "hello wor" && field.committed == "") { "composing ${field.shown}" }
            expect(logic.state == KeyboardState.Partial("hello wor", -30f)) { "${logic.state}" }
            logic.onEvent(DictationEvent.Final(seg("Hello world.")))
            expect(field.committed == "Hello world." && field.shown == "") { "committed ${field.committed}" }
            expect(logic.state is KeyboardState.Listening) { "${logic.state}" }
            logic.onEvent(DictationEvent.Partial(seg("how are")))
            expect(field.shown == " how are") { "a space after the sentence: '${field.shown}'" }
            logic.onMicPressed()
            expect(logic.state == KeyboardState.Committing && session.calls == listOf("stop")) { "${logic.state} ${session.calls}" }
            logic.onEvent(DictationEvent.Final(seg("How are you?")))
            logic.onEvent(DictationEvent.Stopped(3000uL, DictationStop.REQUESTED))
            expect(field.committed == "Hello world. How are you?") { "committed '${field.committed}'" }
            expect(logic.state == KeyboardState.Idle && field.shown == "") { "${logic.state}" }
            expect(states.first() == KeyboardState.Starting && states.last() == KeyboardState.Idle) { "$states" }
        },
        Check("keyboard: spacing follows the field's text and punctuation") {
            val field = Field("Dear Ana,")
            val logic = DictationKeyboardLogic(field, { ScriptedSession() })
            logic.onMicPressed()
            logic.onEvent(DictationEvent.Final(seg("thanks for the call")))
            logic.onEvent(DictationEvent.Final(seg(", really")))
            logic.onEvent(DictationEvent.Final(seg("   ")))
            expect(field.committed == "Dear Ana, thanks for the call, really") { "'${field.committed}'" }
            val empty = Field("")
            val first = DictationKeyboardLogic(empty, { ScriptedSession() })
            first.onMicPressed()
            first.onEvent(DictationEvent.Final(seg("Start")))
            expect(empty.committed == "Start") { "no space at the start: '${empty.committed}'" }
        },
        Check("keyboard: cancel drops the words being spoken, keeps committed ones") {
            val field = Field()
            val session = ScriptedSession()
            val logic = DictationKeyboardLogic(field, { session })
            logic.onMicPressed()
            logic.onEvent(DictationEvent.Ready(null))
            logic.onEvent(DictationEvent.Final(seg("Keep this.")))
            logic.onEvent(DictationEvent.Partial(seg("not this")))
            logic.cancel()
            expect(field.shown == "" && session.calls == listOf("cancel")) { "${field.shown} ${session.calls}" }
            logic.onEvent(DictationEvent.Stopped(2000uL, DictationStop.CANCELLED))
            expect(field.committed == "Keep this." && logic.state == KeyboardState.Idle) { "'${field.committed}' ${logic.state}" }
        },
        Check("keyboard: a microphone that fails shows why, and the next press tries again") {
            var tries = 0
            val field = Field()
            val logic = DictationKeyboardLogic(field, {
                tries++
                if (tries == 1) throw SottoException.Microphone("no input device") else ScriptedSession()
            })
            logic.onMicPressed()
            expect(logic.state == KeyboardState.Failed("detail=no input device")) { "${logic.state}" }
            logic.onMicPressed()
            expect(logic.state == KeyboardState.Starting && tries == 2) { "${logic.state}" }
            logic.onEvent(DictationEvent.Final(seg("Heard.")))
            logic.onEvent(DictationEvent.Error("device_lost", "the microphone went away"))
            logic.onEvent(DictationEvent.Stopped(900uL, DictationStop.INPUT_LOST))
            expect(logic.state == KeyboardState.Failed("the microphone went away")) { "the failure stays: ${logic.state}" }
            expect(field.committed == "Heard.") { "committed text stays" }
        },
        Check("keyboard: a real session's speech lands in the field") {
            val field = Field("Quote: ")
            val stopped = CountDownLatch(1)
            var real: DictationSession? = null
            val logic = DictationKeyboardLogic(field, { listener ->
                DictationSession.start(transcriber, DictationOptions(partialEveryMs = 500uL), null, object : DictationListener {
                    override fun onEvent(event: DictationEvent) {
                        // The phone posts to its main thread; here one lock stands for it.
                        synchronized(field) { listener.onEvent(event) }
                        if (event is DictationEvent.Stopped) stopped.countDown()
                    }
                }).also { real = it }
            })
            synchronized(field) { logic.onMicPressed() }
            val (samples, rate, channels) = readWav(jfk)
            samples.chunked(1600).forEach { real!!.feed(it, rate, channels); Thread.sleep(25) }
            synchronized(field) { logic.onMicPressed() }
            expect(stopped.await(60, TimeUnit.SECONDS)) { "no Stopped" }
            real!!.join()
            synchronized(field) {
                expect(field.committed.startsWith("Quote: ")) { field.committed }
                expect(words(field.committed.removePrefix("Quote: ")) == JFK.split(" ")) { "field: ${field.committed}" }
                expect(field.composed.isNotEmpty()) { "live text was shown while speaking" }
                expect(field.shown == "" && logic.state == KeyboardState.Idle) { "${logic.state}" }
            }
        },
    )
}
