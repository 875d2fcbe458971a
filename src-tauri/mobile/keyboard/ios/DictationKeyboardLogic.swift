// The iOS dictation keyboard's logic, in plain Swift (no UIKit): the same states as Android's
// DictationKeyboardLogic.kt. Not compiled here (no Swift toolchain on the build machines).
//
// iOS gives keyboard extensions no microphone and ~48 MB of memory, so the keyboard does not
// transcribe: it hands off to the Sotto app (HandOff below), which records and transcribes with
// the bindings (DictationSession.listen) in its background audio session and posts partials and
// finals through the App Group; the keyboard shows partials as marked text and inserts finals.
import Foundation

/// Where the text goes: the host app's field, through the text document proxy.
public protocol TextTarget: AnyObject {
    /// Show `text` as replaceable marked text (empty: remove it).
    func setMarked(_ text: String)
    /// Insert `text` at the cursor, replacing the marked text.
    func insert(_ text: String)
    /// The character before the cursor, not counting marked text; nil at the start.
    var characterBeforeCursor: Character? { get }
}

/// What the keyboard shows.
public enum KeyboardState: Equatable {
    case idle
    case starting
    case listening(levelDb: Float)
    case partial(text: String, levelDb: Float)
    case committing
    case failed(message: String)
}

/// What the app reports through the App Group (the bindings' DictationEvent, as the app relays it).
public enum HandOffEvent: Equatable {
    case ready
    case level(Float)
    case partial(String)
    case final(String)
    case failed(String)
    case stopped
}

/// Starts and stops dictation in the containing app.
public protocol HandOff: AnyObject {
    func start(_ deliver: @escaping (HandOffEvent) -> Void) throws
    func stop()
    func cancel()
}

public final class DictationKeyboardLogic {
    public private(set) var state: KeyboardState = .idle { didSet { onState(state) } }
    private let target: TextTarget
    private let handOff: HandOff
    private let onState: (KeyboardState) -> Void
    private var marked = ""

    public init(target: TextTarget, handOff: HandOff, onState: @escaping (KeyboardState) -> Void = { _ in }) {
        self.target = target
        self.handOff = handOff
        self.onState = onState
    }

    /// The mic button: start, or stop when listening.
    public func micPressed() {
        switch state {
        case .idle, .failed:
            state = .starting
            do {
                try handOff.start { [weak self] event in DispatchQueue.main.async { self?.handle(event) } }
            } catch {
                state = .failed(message: "\(error)")
            }
        case .starting, .listening, .partial:
            state = .committing
            handOff.stop()
        case .committing:
            break
        }
    }

    /// Drop what is still being spoken; inserted text stays.
    public func cancel() {
        setMarked("")
        handOff.cancel()
    }

    /// An event from the app, on the main thread.
    public func handle(_ event: HandOffEvent) {
        switch event {
        case .ready:
            if state == .starting { state = .listening(levelDb: -90) }
        case .level(let db):
            if case .listening = state { state = .listening(levelDb: db) }
            if case .partial(let text, _) = state { state = .partial(text: text, levelDb: db) }
        case .partial(let text):
            setMarked(spaced(text))
            if state != .committing { state = .partial(text: text, levelDb: level) }
        case .final(let text):
            let words = text.trimmingCharacters(in: .whitespaces)
            if words.isEmpty { setMarked("") } else { target.insert(spaced(words)); marked = "" }
            if state != .committing { state = .listening(levelDb: level) }
        case .failed(let message):
            state = .failed(message: message)
        case .stopped:
            setMarked("")
            if case .failed = state { return }
            state = .idle
        }
    }

    private var level: Float {
        switch state {
        case .listening(let db), .partial(_, let db): return db
        default: return -90
        }
    }

    private func setMarked(_ text: String) {
        if text.isEmpty && marked.isEmpty { return }
        marked = text
        target.setMarked(text)
    }

    /// A space before the words unless at the start, after a space, or before punctuation.
    private func spaced(_ text: String) -> String {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let before = target.characterBeforeCursor, !before.isWhitespace else { return t }
        if let first = t.first, ".,;:!?)".contains(first) { return t }
        return " " + t
    }
}
