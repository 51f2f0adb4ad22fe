import AsyncIO
import Foundation

extension SweepEvent {
    /// The line `sweep` shows for this event: the note itself, `[3/64] NAME trial 1/3 ...` when a run
    /// starts, or `[3/64] NAME trial 1: 1.234 GiB/s | best read 1.23, write 0.98 | ETA 2m5s` when it ends.
    public var progressText: String {
        switch self {
        case .note(let text):
            return text
        case let .starting(index, total, _, name, trial, trials):
            return "[\(index)/\(total)] \(name) trial \(trial)/\(trials) ..."
        case let .finished(index, total, _, name, trial, gibps, error, eta, best):
            let speed = gibps.map { String(format: "%.3f GiB/s", $0) } ?? "FAILED: \(error ?? "")"
            let bestText = [IOOperation.read, .write].compactMap { op in
                best[op].map { String(format: "%@ %.2f", op.rawValue, $0.gibps) }
            }.joined(separator: ", ")
            let etaText = eta.map(Self.duration) ?? "?"
            return "[\(index)/\(total)] \(name) trial \(trial): \(speed) | best \(bestText) | ETA \(etaText)"
        }
    }

    /// Whether this event reports a failed run.
    public var isFailure: Bool {
        if case .finished(_, _, _, _, _, _, let error, _, _) = self { return error != nil }
        return false
    }

    /// Seconds as `45s`, `2m5s` or `1h3m` (rounded to whole seconds).
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}

extension SweepOptions {
    /// The line `sweep` shows before it starts: configurations, operations, trials, size, folders, logs.
    public func headerLine(configurations: Int) -> String {
        let budget = budgetRuns.map { "\($0) runs" } ?? "half a fixed 3-trial sweep's runs"
        let schedule = race == nil ? "\(trials) trial(s)" : "racing (at most \(maxTrials) trials each, \(budget) in all)"
        return "sweep: \(configurations) configurations × \(read && write ? 2 : 1) "
            + "operation(s) × \(schedule), io_size \(ByteSize.compact(ioSize)) per task, "
            + "folders \(nvmeDirs.joined(separator: ", ")), logs in \(logDir); target \(target.summary)"
            + (write ? "; writes: \(writeMode.summary)" : "")
    }
}

extension SweepSummary {
    /// The line `sweep` shows at the end: runs, time spent where, and logs kept from before.
    var line: String {
        String(format: "sweep: %d run(s) in %.1f s (I/O %.1f s, removing old write files %.1f s; "
               + "tool overhead %.1f ms per run)",
               runsDone, wallSeconds, ioSeconds, removalSeconds, overheadPerRunMillis)
            + (skipped > 0 ? ", \(skipped) complete log(s) kept from before" : "")
            + String(format: "; wrote %.1f GiB to the drive", Double(writtenBytes) / Double(1 << 30))
    }

    /// One warning per failed configuration, except the failure that stopped the sweep (that one is
    /// `abortError(logDir:)`, and is not said twice).
    var failureWarnings: [String] {
        failed.filter { $0.error != aborted }.map { "configuration \($0.name) failed: \($0.error)" }
    }

    /// How the race went (nothing for a fixed schedule).
    var raceLines: [String] { race?.lines ?? [] }

    /// The error of a sweep in which every configuration failed (each is listed by
    /// `failureWarnings`); nil when at least one has a result.
    var allFailedError: BenchError? {
        guard logs > 0, failed.count == logs, aborted == nil else { return nil }
        return .runtime("every configuration failed (\(logs) of \(logs)): no result to report; "
            + "the failures are listed above and in the logs in \(logDir)")
    }

    /// The error of a sweep that stopped early (ENOSPC, EIO, ...), saying that the logs in `logDir`
    /// are kept and the same command resumes; nil when the sweep ran to the end.
    func abortError(logDir: String) -> BenchError? {
        aborted.map { aborted in
            .runtime("sweep stopped: \(aborted); logs of finished configurations are kept "
                + "in \(logDir); fix the cause and run the same command again to resume")
        }
    }

    /// What the command shows when the sweep is over: the lines for stderr (the summary and the race),
    /// one warning per failed configuration, and the error that ends the command — a device error
    /// that stopped the sweep, or every configuration failed — or nil.
    public var outcome: (lines: [String], warnings: [String], error: BenchError?) {
        ([line] + raceLines, failureWarnings, abortError(logDir: logDir) ?? allFailedError)
    }
}
