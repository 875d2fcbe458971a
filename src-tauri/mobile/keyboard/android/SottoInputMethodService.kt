// The Android dictation keyboard: an InputMethodService over DictationKeyboardLogic and the
// bindings. Not compiled here (no Android SDK on the build machines): its logic is, in
// DictationKeyboardLogic.kt. Declared in the app's manifest (AndroidManifest.ime.xml) with the
// BIND_INPUT_METHOD permission; it needs RECORD_AUDIO, granted in the app.
package app.sotto.keyboard

import android.inputmethodservice.InputMethodService
import android.os.Handler
import android.os.Looper
import android.view.View
import android.widget.Button
import android.widget.ProgressBar
import uniffi.sotto.DictationOptions
import uniffi.sotto.DictationSession
import uniffi.sotto.Transcriber
import java.io.File

class SottoInputMethodService : InputMethodService() {
    private val main = Handler(Looper.getMainLooper())
    private lateinit var logic: DictationKeyboardLogic
    private var transcriber: Transcriber? = null

    override fun onCreate() {
        super.onCreate()
        logic = DictationKeyboardLogic(target = InputTarget(), start = { listener ->
            // The model the app installed (its recommendation for this phone). Loading it takes
            // ~100 ms for tiny/base and is kept while the keyboard lives.
            val model = transcriber ?: Transcriber(modelFile().path, vadFile()?.path).also { transcriber = it }
            DictationSession.listen(model, DictationOptions(), null, MainThreadListener(listener))
        }, onState = ::render)
    }

    override fun onCreateInputView(): View = layoutInflater.inflate(R.layout.keyboard, null).apply {
        findViewById<Button>(R.id.mic).setOnClickListener { logic.onMicPressed() }
        findViewById<Button>(R.id.cancel).setOnClickListener { logic.cancel() }
    }

    override fun onFinishInputView(finishingInput: Boolean) {
        // Leaving the field ends the dictation: what was said so far is committed.
        logic.stop()
        super.onFinishInputView(finishingInput)
    }

    override fun onDestroy() {
        logic.cancel()
        transcriber?.close()
        super.onDestroy()
    }

    private fun render(state: KeyboardState) {
        val view = window?.window?.decorView ?: return
        view.findViewById<ProgressBar>(R.id.level)?.progress = when (state) {
            is KeyboardState.Listening -> (state.levelDb + 90).toInt()
            is KeyboardState.Partial -> (state.levelDb + 90).toInt()
            else -> 0
        }
        view.findViewById<Button>(R.id.mic)?.isActivated = state !is KeyboardState.Idle && state !is KeyboardState.Failed
    }

    private fun modelFile() = File(filesDir, "models").listFiles { f -> f.name.startsWith("ggml-") }!!.first()
    private fun vadFile() = File(filesDir, "models/silero_vad_16k_sequence.onnx").takeIf { it.exists() }

    /** Events arrive on the session's thread; the logic and the input connection live on main. */
    private inner class MainThreadListener(private val inner: uniffi.sotto.DictationListener) : uniffi.sotto.DictationListener {
        override fun onEvent(event: uniffi.sotto.DictationEvent) {
            main.post { inner.onEvent(event) }
        }
    }

    private inner class InputTarget : TextTarget {
        private var composing = 0
        override fun setComposing(text: String) {
            currentInputConnection?.setComposingText(text, 1)
            composing = text.length
        }
        override fun commit(text: String) {
            currentInputConnection?.commitText(text, 1)
            composing = 0
        }
        override fun charBeforeCursor(): Char? {
            val before = currentInputConnection?.getTextBeforeCursor(composing + 1, 0) ?: return null
            return before.dropLast(composing).lastOrNull()
        }
    }
}
