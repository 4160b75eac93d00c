import Foundation
import SluiceSystem
import Synchronization

/// What a run says while it runs: one progress line per phase on standard error (a long run is not silent), and
/// warnings, which are also kept for the report's notes.
final class RunLog: Sendable {
    private let startedNs = Monotonic.nowNs()
    private let warnings = Mutex<[String]>([])

    /// Prints `[  12.3 s] line` on standard error.
    func progress(_ line: String) {
        let seconds = Double(Monotonic.nowNs() &- startedNs) / 1e9
        let text = "[" + String(Int(seconds * 10) / 10) + "." + String(Int(seconds * 10) % 10) + " s] " + line + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Prints a warning on standard error and keeps it for the report.
    func warn(_ text: String) {
        warnings.withLock { $0.append(text) }
        progress("warning: " + text)
    }

    /// Every warning so far.
    var allWarnings: [String] { warnings.withLock { $0 } }
}
