import AsyncIO
import Foundation

/// Writes logs that DeepSpeed's parser and `LogParser` both read.
public enum LogWriter {
    /// The first line of every aio-bench log.
    static let formatLine = "aio-bench log format 1"

    /// The text of a log (see `SweepLog` for the layout). Line breaks inside values become spaces.
    /// When `log.summary` is empty, the four closing lines come from the median trial.
    package static func format(_ log: SweepLog) -> String {
        var lines = [formatLine]
        lines.append("# speeds are bytes / 1024^3 / sec, printed as \"GB/sec\" like DeepSpeed does (GiB/s);"
            + " the last four lines are the median trial")
        if let operation = log.operation { lines.append("operation: \(operation.rawValue)") }
        if let configuration = log.configuration { lines.append("config: \(oneLine(configuration.description))") }
        if let engine = log.engine { lines.append("engine: \(oneLine(engine))") }
        if let ioSize = log.ioSize { lines.append("io_size: \(ioSize)") }
        for note in log.notes { lines.append("note: \(oneLine(note))") }
        let op = (log.operation ?? .read)
        for (index, trial) in log.trialResults.enumerated() {
            lines.append("trial \(index + 1)/\(log.trialResults.count): \(op.rawValue)"
                + " \(PythonRepr.float(trial.e2eSpeed)) GB/sec in \(PythonRepr.float(trial.e2eLatency)) sec"
                + " (task \(PythonRepr.float(trial.taskSpeed)) GB/sec in \(PythonRepr.float(trial.taskLatency)) sec)")
        }
        if let error = log.error { lines.append("error: \(oneLine(error))") }
        var summary = log.summary
        if summary.isEmpty, let median = SweepLog.medianTrial(log.trialResults) { summary = LogSummary(median) }
        let title = op.title
        if let value = summary.taskLatency { lines.append("Task \(title) Latency = \(PythonRepr.float(value)) sec") }
        if let value = summary.taskSpeed { lines.append("Task \(title) Speed = \(PythonRepr.float(value)) GB/sec") }
        if let value = summary.e2eLatency { lines.append("E2E \(title) Latency = \(PythonRepr.float(value)) sec") }
        if let value = summary.e2eSpeed { lines.append("E2E \(title) Speed = \(PythonRepr.float(value)) GB/sec") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The text of a configuration's log: header, notes, one line per trial, then DeepSpeed's four lines
    /// of the median trial (none when there are no trials); `error` adds an `error:` line.
    static func format(operation: IOOperation, configuration: SweepConfiguration, engine: String? = nil,
                              ioSize: Int? = nil, trials: [LogTrial], notes: [String] = [],
                              error: String? = nil) -> String {
        format(SweepLog(operation: operation, configuration: configuration, engine: engine, ioSize: ioSize,
                        notes: notes, trialResults: trials, error: error))
    }

    /// Writes `text` to `path` atomically: a temporary file (mode 0600) in the same folder is written,
    /// flushed to disk and renamed over `path`, so a reader sees the old file or the whole new one.
    ///
    /// - Throws: `BenchError.runtime` naming the path and the kernel's error; the temporary file is removed.
    ///
    /// - Parameter durable: false leaves the flush to the caller (a sweep writes a log after every
    ///   run and flushes them all at its end: see `AtomicFile.commit(durable:)`).
    public static func write(_ text: String, toFile path: String, durable: Bool = true) throws(BenchError) {
        // Registered while it exists, so SIGINT/SIGTERM (see `ScratchFiles`) never leaves a
        // half-written temporary file next to the logs.
        let file: AtomicFile
        do {
            file = try ScratchFiles.shared.creating { () throws(AsyncIOError) -> AtomicFile in
                let file = try AtomicFile(replacing: path)
                ScratchFiles.shared.add(file: file.temporaryPath)
                return file
            }
        } catch {
            let folder = PathName.parent(of: path)
            throw failure("create a temporary file in \(folder) for", path, error)
        }
        defer { ScratchFiles.shared.forget(file: file.temporaryPath) }
        do {
            try file.write(Array(text.utf8))
            try file.commit(durable: durable)
        } catch {
            if error.operation == "rename" {
                throw failure("rename \(file.temporaryPath) to", path, error)
            }
            throw failure(error.operation, file.temporaryPath, error)
        }
    }

    private static func failure(_ operation: String, _ path: String, _ error: AsyncIOError) -> BenchError {
        .runtime("cannot \(operation) \(path): \(error.reasonWithNumber)", cause: error)
    }

    private static func oneLine(_ text: String) -> String {
        text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).joined(separator: " ")
    }
}
