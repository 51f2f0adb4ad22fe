import AsyncIO
/// One parsed log file of a folder.
struct LogRecord: Hashable, Sendable {
    /// The path of the file.
    var path: String
    /// The file name taken apart: operation and configuration.
    var name: SweepLogName
    /// DeepSpeed's key of the file name.
    var key: LogKey
    /// The content.
    var log: SweepLog

    /// Creates a record.
    init(path: String, name: SweepLogName, log: SweepLog) {
        self.path = path
        self.name = name
        self.key = LogKey(fileName: name.fileName)
        self.log = log
    }

    /// The operation the file name says.
    var operation: IOOperation { name.operation }
    /// The configuration the file name says.
    var configuration: SweepConfiguration { name.configuration }
    /// DeepSpeed's metric, or nil when the log has none (a missing result).
    var metric: Double? { log.metric }

    /// DeepSpeed's `parse` line: `('read', 'block', 'overlap', 'ftd1', 128, 1048576, 1) = 1.1552252388228905`,
    /// `= None` for a missing result.
    var deepSpeedLine: String {
        "\(key) = \(metric.map(PythonRepr.float) ?? "None")"
    }
}

/// A file of a log folder that is not a log.
struct SkippedLogFile: Hashable, Sendable {
    /// The path of the file.
    var path: String
    /// Why it was skipped.
    var reason: String

    /// Creates an entry.
    init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// The logs of a log folder.
public struct LogFolder: Hashable, Sendable {
    /// The folder asked for.
    var path: String
    /// Every log, sorted by DeepSpeed's key (reads before writes); includes logs without a result.
    var records: [LogRecord]
    /// Files that are not logs: other extensions, folders, names that do not parse, unreadable files.
    var skipped: [SkippedLogFile]

    /// Creates a folder result; records are sorted by key.
    init(path: String, records: [LogRecord], skipped: [SkippedLogFile]) {
        self.path = path
        self.records = records.sorted { ($0.key, $0.path) < ($1.key, $1.path) }
        self.skipped = skipped
    }

    /// The logs of one operation, sorted by key.
    func records(for operation: IOOperation) -> [LogRecord] {
        records.filter { $0.operation == operation }
    }

    /// Logs without DeepSpeed's metric line (failed or unfinished configurations).
    var missing: [LogRecord] { records.filter { $0.metric == nil } }

    /// DeepSpeed's `parse` output for one operation: one `<key> = <metric>` line per log, sorted by key.
    func deepSpeedLines(for operation: IOOperation) -> [String] {
        records(for: operation).map(\.deepSpeedLine)
    }
}
