import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes logs that DeepSpeed's parser and `LogParser` both read.
public enum LogWriter {
    /// The first line of every aio-bench log.
    public static let formatLine = "aio-bench log format 1"

    /// The text of a log (see `SweepLog` for the layout). Line breaks inside values become spaces.
    /// When `log.summary` is empty, the four closing lines come from the median trial.
    public static func format(_ log: SweepLog) -> String {
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
    public static func format(operation: SweepOperation, configuration: SweepConfiguration, engine: String? = nil,
                              ioSize: Int? = nil, trials: [LogTrial], notes: [String] = [],
                              error: String? = nil) -> String {
        format(SweepLog(operation: operation, configuration: configuration, engine: engine, ioSize: ioSize,
                        notes: notes, trialResults: trials, error: error))
    }

    /// Writes `text` to `path` atomically: a temporary file (mode 0600) in the same folder is written,
    /// flushed to disk and renamed over `path`, so a reader sees the old file or the whole new one.
    ///
    /// - Throws: `BenchError.runtime` naming the path and errno; the temporary file is removed.
    public static func write(_ text: String, toFile path: String) throws(BenchError) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let temporary = (folder as NSString).appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        // Registered while it exists, so SIGINT/SIGTERM (see `ScratchFiles`) never leaves a
        // half-written temporary file next to the logs.
        let (fd, code) = ScratchFiles.shared.creating { () -> (Int32, Int32) in
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return (fd, errno) }
            ScratchFiles.shared.add(file: temporary)
            return (fd, 0)
        }
        guard fd >= 0 else {
            errno = code
            throw failure("create a temporary file in \(folder) for", path)
        }
        var closed = false
        defer {
            if !closed { close(fd) }
            ScratchFiles.shared.forget(file: temporary)
        }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                let error = failure("write", temporary)
                unlink(temporary)
                throw error
            }
            offset += written
        }
        bytes.removeAll()
        guard fsync(fd) == 0 else {
            let error = failure("fsync", temporary)
            unlink(temporary)
            throw error
        }
        closed = true
        guard close(fd) == 0 else {
            let error = failure("close", temporary)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = failure("rename \(temporary) to", path)
            unlink(temporary)
            throw error
        }
        let directory = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    private static func failure(_ operation: String, _ path: String) -> BenchError {
        let code = errno
        return .runtime("cannot \(operation) \(path): \(String(cString: strerror(code))) (errno \(code))")
    }

    private static func oneLine(_ text: String) -> String {
        text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// `write(2)`, reachable from inside `LogWriter` whose own `write` would hide it.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}
