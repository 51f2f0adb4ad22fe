import AsyncIO
import Foundation

/// Reads logs: aio-bench's own and DeepSpeed's.
public enum LogParser {
    /// The largest file taken for a log; bigger files are skipped.
    static let maximumLogBytes = 16 << 20

    /// Parses the text of one log. The operation picks which of DeepSpeed's lines count (`E2E Read Speed`
    /// or `E2E Write Speed`); without it the `operation:` line decides, else the first of the two found.
    /// Unknown lines are ignored; the first line with a given prefix wins, as in DeepSpeed's parser.
    package static func parse(_ text: String, operation: IOOperation? = nil) -> SweepLog {
        var log = SweepLog()
        var summaries: [IOOperation: LogSummary] = [:]
        var firstSummary: IOOperation?
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let line = String(rawLine)
            if let op = IOOperation.allCases.first(where: { line.hasPrefix("Task \($0.title) ") })
                ?? IOOperation.allCases.first(where: { line.hasPrefix("E2E \($0.title) ") }) {
                var summary = summaries[op] ?? LogSummary()
                let number = deepSpeedNumber(line)
                let e2e = line.hasPrefix("E2E")
                let set: (inout LogSummary) -> Void
                if line.hasPrefix("\(e2e ? "E2E" : "Task") \(op.title) Latency") {
                    set = e2e ? { if $0.e2eLatency == nil { $0.e2eLatency = number } }
                        : { if $0.taskLatency == nil { $0.taskLatency = number } }
                } else if line.hasPrefix("\(e2e ? "E2E" : "Task") \(op.title) Speed") {
                    set = e2e ? { if $0.e2eSpeed == nil { $0.e2eSpeed = number } }
                        : { if $0.taskSpeed == nil { $0.taskSpeed = number } }
                } else {
                    continue
                }
                if number == nil { log.warnings.append("line \(lineNumber): no number in '\(line)'") }
                set(&summary)
                summaries[op] = summary
                if firstSummary == nil, !summary.isEmpty { firstSummary = op }
            } else if line.hasPrefix("trial ") {
                if let trial = parseTrial(line) {
                    log.trialResults.append(trial)
                } else {
                    log.warnings.append("line \(lineNumber): cannot read trial line '\(line)'")
                }
            } else if let value = field(line, "operation") {
                log.operation = IOOperation(rawValue: value)
                if log.operation == nil { log.warnings.append("line \(lineNumber): unknown operation '\(value)'") }
            } else if let value = field(line, "config") {
                log.configuration = parseConfiguration(value)
                if log.configuration == nil {
                    log.warnings.append("line \(lineNumber): cannot read configuration '\(value)'")
                }
            } else if let value = field(line, "engine") {
                log.engine = value
            } else if let value = field(line, "io_size") {
                log.ioSize = Int(value)
                if log.ioSize == nil { log.warnings.append("line \(lineNumber): cannot read io_size '\(value)'") }
            } else if let value = field(line, "note") {
                log.notes.append(value)
            } else if let value = field(line, "error") {
                log.error = log.error.map { $0 + "; " + value } ?? value
            }
        }
        let chosen = operation ?? log.operation ?? firstSummary
        if let chosen { log.summary = summaries[chosen] ?? LogSummary() }
        log.operation = log.operation ?? operation ?? firstSummary
        return log
    }

    /// Parses a log folder: `<dir>/_aio_bench_read_logs/` and `<dir>/_aio_bench_write_logs/` when either
    /// exists, else the logs directly in `<dir>`. Each file named like a log is parsed; its operation
    /// and configuration come from its name. Other files are skipped and listed.
    ///
    /// - Throws: `BenchError.usage` when the folder does not exist, cannot be listed or holds no logs.
    public static func parseFolder(_ path: String) throws(BenchError) -> LogFolder {
        guard let status = try? FileSystem.statusIfPresent(of: path) else {
            throw .usage("log folder \(path) does not exist")
        }
        guard status.kind == .directory else { throw .usage("log folder \(path) is not a folder") }
        var folders: [String] = []
        for operation in IOOperation.allCases {
            let sub = PathName.join(path, operation.logFolderName)
            if (try? FileSystem.status(of: sub))?.kind == .directory { folders.append(sub) }
        }
        if folders.isEmpty { folders = [path] }
        var records: [LogRecord] = []
        var skipped: [SkippedLogFile] = []
        for folder in folders {
            let names: [String]
            do {
                names = try FileSystem.contentsOfDirectory(folder).sorted()
            } catch {
                throw .usage("log folder \(folder) cannot be read: \(error.reason)")
            }
            for name in names {
                let file = PathName.join(folder, name)
                switch readLog(file, name: name) {
                case .log(let record): records.append(record)
                case .skipped(let skip): skipped.append(skip)
                }
            }
        }
        guard !records.isEmpty else {
            let others = skipped.isEmpty ? "" : " (\(skipped.count) other file\(skipped.count == 1 ? "" : "s") skipped)"
            throw .usage("log folder \(path) holds no logs: expected files named like"
                + " read_block_overlap_ftd1_d32_bs1M_p1.txt in \(path), \(path)/_aio_bench_read_logs"
                + " or \(path)/_aio_bench_write_logs\(others)")
        }
        return LogFolder(path: path, records: records, skipped: skipped)
    }

    private enum ReadOutcome {
        case log(LogRecord)
        case skipped(SkippedLogFile)
    }

    private static func readLog(_ file: String, name: String) -> ReadOutcome {
        guard let status = try? FileSystem.status(of: file) else {
            return .skipped(SkippedLogFile(path: file, reason: "not a regular file"))
        }
        if status.kind == .directory { return .skipped(SkippedLogFile(path: file, reason: "a folder")) }
        // A named pipe or a device would block or never end: only regular files are read.
        guard status.kind == .regular else {
            return .skipped(SkippedLogFile(path: file, reason: "not a regular file"))
        }
        guard name.hasSuffix(".txt") else {
            return .skipped(SkippedLogFile(path: file, reason: "not a .txt file"))
        }
        guard let logName = SweepLogName(fileName: name) else {
            return .skipped(SkippedLogFile(path: file, reason: "name is not <op>_<single|block>_"
                + "<sequential|overlap>_ftd<F>_d<Q>_bs<B>_p<P>.txt"))
        }
        let tooLarge = SkippedLogFile(path: file, reason: "larger than \(ByteSize.compact(maximumLogBytes))")
        if status.size > maximumLogBytes { return .skipped(tooLarge) }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.contents(of: file, limit: maximumLogBytes)
        } catch {
            // It grew past the limit after the size check.
            if error.code == .fileTooLarge { return .skipped(tooLarge) }
            return .skipped(SkippedLogFile(path: file, reason: "cannot be read: \(error.reason)"))
        }
        let log = parse(String(decoding: bytes, as: UTF8.self), operation: logName.operation)
        return .log(LogRecord(path: file, name: logName, log: log))
    }

    /// `key: value` → value, for aio-bench's own header lines.
    /// Compared on Unicode scalars, not Characters: a value that starts with a combining mark joins the space
    /// before it into one Character, and a Character-wise prefix test would lose the whole line.
    private static func field(_ line: String, _ key: String) -> String? {
        let scalars = line.unicodeScalars
        let prefix = (key + ":").unicodeScalars
        guard scalars.starts(with: prefix) else { return nil }
        var value = scalars.dropFirst(prefix.count)
        guard value.isEmpty || value.first == " " else { return nil }
        while let first = value.first, first.properties.isWhitespace { value.removeFirst() }
        while let last = value.last, last.properties.isWhitespace { value.removeLast() }
        return String(Substring(value))
    }

    /// DeepSpeed's number: the second-to-last whitespace-separated field as a float.
    private static func deepSpeedNumber(_ line: String) -> Double? {
        let fields = line.split(whereSeparator: \.isWhitespace)
        guard fields.count >= 2 else { return nil }
        return Double(fields[fields.count - 2])
    }

    /// `trial 2/3: read 1.15 GB/sec in 0.216 sec (task 1.16 GB/sec in 0.215 sec)`.
    private static func parseTrial(_ line: String) -> LogTrial? {
        let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
        guard words.count == 14, words[0] == "trial", words[1].hasSuffix(":"),
              IOOperation(rawValue: words[2]) != nil,
              words[4] == "GB/sec", words[5] == "in", words[7] == "sec", words[8] == "(task",
              words[10] == "GB/sec", words[11] == "in", words[13] == "sec)"
        else { return nil }
        let counter = words[1].dropLast().split(separator: "/", omittingEmptySubsequences: false)
        guard counter.count == 2, Int(counter[0]) != nil, Int(counter[1]) != nil,
              let e2eSpeed = Double(words[3]), let e2eLatency = Double(words[6]),
              let taskSpeed = Double(words[9]), let taskLatency = Double(words[12])
        else { return nil }
        return LogTrial(taskLatency: taskLatency, taskSpeed: taskSpeed, e2eLatency: e2eLatency, e2eSpeed: e2eSpeed)
    }

    /// The `config:` line: `key=value` words, as `SweepConfiguration.description` writes them.
    private static func parseConfiguration(_ text: String) -> SweepConfiguration? {
        var values: [String: String] = [:]
        for word in text.split(whereSeparator: \.isWhitespace) {
            let pair = word.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, values[String(pair[0])] == nil else { return nil }
            values[String(pair[0])] = String(pair[1])
        }
        let known: Set = ["block_size", "queue_depth", "single_submit", "sequential_requests", "io_parallel",
                          "tasks_per_folder", "folders", "engine"]
        guard Set(values.keys).isSubset(of: known),
              let blockText = values["block_size"], let blockSize = try? ByteSize.parse(blockText),
              let depth = values["queue_depth"].flatMap({ Int($0) }), depth > 0,
              let single = values["single_submit"].flatMap({ Bool($0) }),
              let sequential = values["sequential_requests"].flatMap({ Bool($0) }),
              let parallel = values["io_parallel"].flatMap({ Int($0) }), parallel > 0,
              let tasks = values["tasks_per_folder"].flatMap({ Int($0) }), tasks > 0,
              let folders = values["folders"].flatMap({ Int($0) }), folders > 0
        else { return nil }
        let engine: EngineKind
        if let name = values["engine"] {
            guard let kind = try? EngineName.parse(name) else { return nil }
            engine = kind
        } else {
            engine = .auto
        }
        return SweepConfiguration(blockSize: blockSize, blockSizeText: blockText, queueDepth: depth,
                                  singleSubmit: single, overlapEvents: !sequential, intraOpParallelism: parallel,
                                  tasksPerFolder: tasks, folderCount: folders, engine: engine)
    }
}
