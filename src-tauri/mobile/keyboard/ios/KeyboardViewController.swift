// The iOS keyboard extension: a mic button and a level meter over DictationKeyboardLogic. Not
// compiled here (no Swift toolchain). The extension's target has RequestsOpenAccess = YES (the
// App Group is shared with the app) and stays far below the ~48 MB limit: no model is loaded in it.
import UIKit

final class KeyboardViewController: UIInputViewController {
    private lazy var logic = DictationKeyboardLogic(target: ProxyTarget(self), handOff: AppGroupHandOff(),
                                                    onState: { [weak self] in self?.render($0) })
    private let mic = UIButton(type: .system)
    private let meter = UIProgressView(progressViewStyle: .bar)

    override func viewDidLoad() {
        super.viewDidLoad()
        mic.setImage(UIImage(systemName: "mic.fill"), for: .normal)
        mic.accessibilityLabel = "Dictate"
        mic.addTarget(self, action: #selector(micPressed), for: .touchUpInside)
        let stack = UIStackView(arrangedSubviews: [meter, mic])
        stack.axis = .vertical
        stack.translatesAutoresizingMaskIntoConstraints = false
        view.addSubview(stack)
        NSLayoutConstraint.activate([
            stack.centerXAnchor.constraint(equalTo: view.centerXAnchor),
            stack.centerYAnchor.constraint(equalTo: view.centerYAnchor),
            stack.widthAnchor.constraint(equalTo: view.widthAnchor, multiplier: 0.6),
        ])
    }

    override func viewWillDisappear(_ animated: Bool) {
        logic.cancel()
        super.viewWillDisappear(animated)
    }

    @objc private func micPressed() { logic.micPressed() }

    private func render(_ state: KeyboardState) {
        switch state {
        case .listening(let db), .partial(_, let db): meter.progress = max(0, min(1, (db + 90) / 90))
        default: meter.progress = 0
        }
        mic.isSelected = state != .idle
    }

    private final class ProxyTarget: TextTarget {
        weak var owner: KeyboardViewController?
        init(_ owner: KeyboardViewController) { self.owner = owner }
        func setMarked(_ text: String) {
            owner?.textDocumentProxy.setMarkedText(text, selectedRange: NSRange(location: text.count, length: 0))
        }
        func insert(_ text: String) {
            owner?.textDocumentProxy.unmarkText()
            owner?.textDocumentProxy.insertText(text)
        }
        var characterBeforeCursor: Character? { owner?.textDocumentProxy.documentContextBeforeInput?.last }
    }
}

/// Asks the app to dictate (a Darwin notification through the App Group `group.app.sotto`) and
/// relays what it posts back; the app answers only while it runs (its background audio session).
final class AppGroupHandOff: HandOff {
    private let defaults = UserDefaults(suiteName: "group.app.sotto")
    private var timer: Timer?
    private var seen = 0

    func start(_ deliver: @escaping (HandOffEvent) -> Void) throws {
        post("app.sotto.dictate.start")
        seen = defaults?.integer(forKey: "events.count") ?? 0
        timer = Timer.scheduledTimer(withTimeInterval: 0.05, repeats: true) { [weak self] _ in
            guard let self, let defaults = self.defaults else { return }
            let events = defaults.array(forKey: "events") as? [[String: Any]] ?? []
            let count = defaults.integer(forKey: "events.count")
            for event in events.suffix(max(0, count - self.seen)) {
                deliver(Self.decode(event))
            }
            self.seen = count
        }
    }

    func stop() { post("app.sotto.dictate.stop") }
    func cancel() { post("app.sotto.dictate.cancel"); timer?.invalidate() }

    private func post(_ name: String) {
        CFNotificationCenterPostNotification(CFNotificationCenterGetDarwinNotifyCenter(),
                                             CFNotificationName(name as CFString), nil, nil, true)
    }

    private static func decode(_ e: [String: Any]) -> HandOffEvent {
        switch e["type"] as? String {
        case "ready": return .ready
        case "level": return .level(e["db"] as? Float ?? -90)
        case "partial": return .partial(e["text"] as? String ?? "")
        case "final": return .final(e["text"] as? String ?? "")
        case "error": return .failed(e["message"] as? String ?? "dictation failed")
        default: return .stopped
        }
    }
}
