// The dictation keyboard's logic, in plain Kotlin (no Android classes): compiled and unit-tested
// on the JVM with the bindings (tests/ffi/kotlin), driven on the phone by SottoInputMethodService.
//
// idle ──mic──▶ starting ──Ready──▶ listening ──Partial──▶ partial ──Final──▶ listening …
//   ▲                                   │ stop                 │ stop
//   └──────────── Stopped ◀──── committing ◀───────────────────┘
// A partial is shown as composing text (underlined, replaceable); a final is committed once and
// never taken back; cancel drops the composing text. Errors leave what was committed.
package app.sotto.keyboard

import uniffi.sotto.DictationEvent
import uniffi.sotto.DictationListener
import uniffi.sotto.DictationSessionInterface
import uniffi.sotto.SottoException

/** Where the text goes: the focused field, through the input connection. */
interface TextTarget {
    /** Show `text` as the replaceable composing region (empty: remove it). */
    fun setComposing(text: String)

    /** Commit `text` at the cursor, replacing any composing region. */
    fun commit(text: String)

    /** The character before the cursor, not counting the composing text; null at the start. */
    fun charBeforeCursor(): Char?
}

/** What the keyboard shows. */
sealed class KeyboardState {
    /** The mic button, ready. */
    object Idle : KeyboardState()

    /** Opening the microphone; the button shows progress. */
    object Starting : KeyboardState()

    /** Listening, nothing heard yet in this utterance; `levelDb` drives the meter. */
    data class Listening(val levelDb: Float) : KeyboardState()

    /** Live text of the utterance being spoken. */
    data class Partial(val text: String, val levelDb: Float) : KeyboardState()

    /** Stop pressed: waiting for the last final. */
    object Committing : KeyboardState()

    /** Something failed; committed text stays. `message` is for people. */
    data class Failed(val message: String) : KeyboardState()
}

/**
 * The state machine. `start` opens a session (on the phone: `DictationSession.listen` with the
 * app's model) and gives it the listener; the platform calls [onEvent] on its main thread.
 */
class DictationKeyboardLogic(
    private val target: TextTarget,
    private val start: (DictationListener) -> DictationSessionInterface,
    private val onState: (KeyboardState) -> Unit = {},
) {
    var state: KeyboardState = KeyboardState.Idle
        private set
    private var session: DictationSessionInterface? = null
    private var composing = ""

    /** The mic button: start listening, or stop when listening (toggle). */
    fun onMicPressed() {
        when (state) {
            is KeyboardState.Idle, is KeyboardState.Failed -> begin()
            is KeyboardState.Listening, is KeyboardState.Partial, is KeyboardState.Starting -> stop()
            is KeyboardState.Committing -> {}
        }
    }

    /** Stop: pending speech becomes a final, then the keyboard is idle again. */
    fun stop() {
        val s = session ?: return
        move(KeyboardState.Committing)
        s.stop()
    }

    /** Cancel: drop what is still being spoken (committed text stays). */
    fun cancel() {
        val s = session ?: return
        clearComposing()
        s.cancel()
    }

    /** The session's events, delivered on the main thread. */
    fun onEvent(event: DictationEvent) {
        when (event) {
            is DictationEvent.Ready -> if (state == KeyboardState.Starting) move(KeyboardState.Listening(-90f))
            is DictationEvent.Level -> when (val s = state) {
                is KeyboardState.Listening -> move(s.copy(levelDb = event.rmsDb))
                is KeyboardState.Partial -> move(s.copy(levelDb = event.rmsDb))
                else -> {}
            }
            is DictationEvent.Partial -> {
                if (state == KeyboardState.Committing) {
                    // Stop was pressed: the final follows; show the words meanwhile.
                    compose(event.segment.text)
                } else {
                    compose(event.segment.text)
                    move(KeyboardState.Partial(event.segment.text, levelOf(state)))
                }
            }
            is DictationEvent.Final -> {
                commit(event.segment.text)
                if (state !is KeyboardState.Committing) move(KeyboardState.Listening(levelOf(state)))
            }
            is DictationEvent.Error -> move(KeyboardState.Failed(event.message))
            is DictationEvent.Stopped -> {
                clearComposing()
                session = null
                // A failure stays on screen until the next press; otherwise back to the mic.
                if (state !is KeyboardState.Failed) move(KeyboardState.Idle)
            }
            is DictationEvent.DeviceChanged, is DictationEvent.Saved -> {}
        }
    }

    private fun begin() {
        move(KeyboardState.Starting)
        composing = ""
        try {
            session = start(object : DictationListener {
                override fun onEvent(event: DictationEvent) = this@DictationKeyboardLogic.onEvent(event)
            })
        } catch (e: SottoException) {
            session = null
            move(KeyboardState.Failed(e.message ?: "dictation could not start"))
        }
    }

    private fun compose(text: String) {
        composing = spaced(text)
        target.setComposing(composing)
    }

    private fun commit(text: String) {
        val words = text.trim()
        if (words.isEmpty()) {
            clearComposing()
            return
        }
        target.commit(spaced(words))
        composing = ""
    }

    private fun clearComposing() {
        if (composing.isNotEmpty()) {
            composing = ""
            target.setComposing("")
        }
    }

    /** A space before the words unless at the start, after a space, or before punctuation. */
    private fun spaced(text: String): String {
        val t = text.trim()
        val before = target.charBeforeCursor()
        val joins = before == null || before.isWhitespace() || t.firstOrNull()?.let { it in ".,;:!?)" } == true
        return if (joins) t else " $t"
    }

    private fun levelOf(s: KeyboardState) = when (s) {
        is KeyboardState.Listening -> s.levelDb
        is KeyboardState.Partial -> s.levelDb
        else -> -90f
    }

    private fun move(next: KeyboardState) {
        state = next
        onState(next)
    }
}
