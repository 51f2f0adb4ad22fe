import AIOBench
import Foundation

/// Progress on stderr: a live line on a terminal, one line per configuration otherwise.
// @unchecked: `liveShown` is read and written under `lock`; the rest is `let`.
final class Progress: @unchecked Sendable {
    private let quiet: Bool
    private let verbose: Bool
    private let live = ConsoleText.standardErrorIsTerminal
    private let lock = NSLock()
    private var liveShown = false

    init(quiet: Bool, verbose: Bool) {
        self.quiet = quiet
        self.verbose = verbose
    }

    func line(_ text: String) {
        lock.withLock {
            clearLive()
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    func finish() { lock.withLock { clearLive() } }

    private func clearLive() {
        if liveShown {
            FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
            liveShown = false
        }
    }

    func show(_ event: SweepEvent) {
        guard !quiet else { return }
        switch event {
        case .note:
            line(event.progressText)
        case .starting:
            if live { rewrite(event.progressText) }
        case .finished:
            if live && !verbose && !event.isFailure {
                rewrite(event.progressText)
            } else {
                line(event.progressText)
            }
        }
    }

    /// Replaces the live line with `text`.
    private func rewrite(_ text: String) {
        lock.withLock {
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(text)".utf8))
            liveShown = true
        }
    }
}
