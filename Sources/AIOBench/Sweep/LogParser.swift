import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Python's way of printing values

/// Values printed the way Python 3 prints them, so that `parse` output matches DeepSpeed's
/// `parse_aio_stats.py` character for character.
public enum PythonRepr {
    /// `repr(x)` of a Python float: the shortest text that reads back as the same double, in fixed
    /// notation when the decimal exponent is from -4 to 15 (`0.0001`, `1000000000000000.0`) and in
    /// scientific notation otherwise (`1e-05`, `1e+16`, `1.5e+300`); `inf`, `-inf`, `nan`, `-0.0`.
    public static func float(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        let sign = value < 0 ? "-" : ""
        // Swift's description is also the shortest round-trip text; take its digits and exponent.
        let text = value.magnitude.description
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts[0]
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let pieces = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = String(pieces[0])
        let fraction = pieces.count > 1 ? String(pieces[1]) : ""
        var digits = Array(whole + fraction)
        var point = whole.count + exponent  // value = 0.<digits> * 10^point
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        if digits.isEmpty { return sign + "0.0" }
        if point > -4 && point <= 16 {
            if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + String(digits) }
            if point >= digits.count {
                return sign + String(digits) + String(repeating: "0", count: point - digits.count) + ".0"
            }
            return sign + String(digits[..<point]) + "." + String(digits[point...])
        }
        let power = point - 1
        let head = String(digits[0]) + (digits.count > 1 ? "." + String(digits[1...]) : "")
        let powerText = String(abs(power))
        return sign + head + "e" + (power < 0 ? "-" : "+") + (powerText.count < 2 ? "0" : "") + powerText
    }

    /// `repr(s)` of a Python str: single quotes unless the text holds `'` and no `"`, backslash escapes
    /// for the quote, backslash, `\t`, `\n`, `\r` and other control characters.
    public static func string(_ value: String) -> String {
        let quote: Character = value.contains("'") && !value.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default:
                if Character(scalar) == quote {
                    out += "\\" + String(quote)
                } else if scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) {
                    out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append(quote)
        return out
    }

    /// Python's `'%W.Pf' % value`: fixed notation with `precision` decimals, right-aligned to `width`.
    public static func fixed(_ value: Double, width: Int = 5, precision: Int = 2) -> String {
        let body: String
        if value.isNaN {
            body = "nan"
        } else if value.isInfinite {
            body = value < 0 ? "-inf" : "inf"
        } else {
            body = String(format: "%.\(precision)f", value)
        }
        return String(repeating: " ", count: max(0, width - body.count)) + body
    }
}

// MARK: - DeepSpeed's key of a log file

/// One field of a log key: what DeepSpeed's `extract_value` makes of one `_`-separated piece of a name.
public enum LogKeyField: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// A number: from `t<N>`, `d<N>`, `p<N>` or `bs<N>[K|M|G]` (in bytes).
    case int(Int)
    /// Any other piece, kept as written (`read`, `block`, `ftd1`).
    case string(String)
    /// A piece DeepSpeed fails to convert (it prints `None`), e.g. `dX`.
    case none

    /// Converts one piece of a name the way DeepSpeed 0.19's `extract_value` does, except that `bs<N>G`
    /// and `bs<N>T` become bytes (DeepSpeed gives up on them).
    public init(piece: String) {
        if piece.hasPrefix("ds") {
            self = .string(piece)
            return
        }
        guard let first = piece.first else {
            self = .none
            return
        }
        if "tdp".contains(first) {
            self = Self.pythonInt(piece.dropFirst()).map(Self.int) ?? .none
            return
        }
        if piece.hasPrefix("bs") {
            let body = piece.dropFirst(2)
            let units: [(Character, Int)] = [("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)]
            for (unit, scale) in units where body.last == unit {
                let number = body.prefix { $0 != unit }
                guard let value = Self.pythonInt(number) else {
                    self = .none
                    return
                }
                let (product, overflow) = value.multipliedReportingOverflow(by: scale)
                self = overflow ? .none : .int(product)
                return
            }
            self = Self.pythonInt(body).map(Self.int) ?? .none
            return
        }
        self = .string(piece)
    }

    /// Python's repr of the field: `'read'`, `128`, `None`.
    public var description: String {
        switch self {
        case .int(let value): String(value)
        case .string(let text): PythonRepr.string(text)
        case .none: "None"
        }
    }

    /// Python orders numbers and strings only among themselves; here `None` < numbers < strings.
    public static func < (lhs: LogKeyField, rhs: LogKeyField) -> Bool {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): a < b
        case (.string(let a), .string(let b)): Array(a.unicodeScalars.map(\.value))
            .lexicographicallyPrecedes(b.unicodeScalars.map(\.value))
        default: lhs.rank < rhs.rank
        }
    }

    private var rank: Int {
        switch self {
        case .none: 0
        case .int: 1
        case .string: 2
        }
    }

    /// Python's `int(text)` for plain decimal text: optional spaces and sign, digits, single underscores
    /// between digits.
    private static func pythonInt(_ text: Substring) -> Int? {
        var body = Substring(String(text).trimmingWhitespace())
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            body.removeFirst()
        }
        guard let first = body.first, first.isASCII, first.isNumber, let last = body.last, last.isASCII,
              last.isNumber, !body.contains("__")
        else { return nil }
        let digits = body.filter { $0 != "_" }
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits) else { return nil }
        return negative ? -value : value
    }
}

/// DeepSpeed's key of a log: the file stem split on `_`, each piece converted (`LogKeyField`), printed as
/// a Python tuple: `('read', 'block', 'overlap', 'ftd1', 128, 1048576, 1)`.
public struct LogKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The converted pieces, in order.
    public var fields: [LogKeyField]

    /// Creates a key from its fields.
    public init(fields: [LogKeyField]) {
        self.fields = fields
    }

    /// The key of a file name (a path is cut to its last component), like DeepSpeed's `get_file_key`:
    /// the extension is removed as `os.path.splitext` does, the rest split on `_`.
    public init(fileName: String) {
        let base = fileName.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? fileName
        var stem = base
        if let dot = base.lastIndex(of: "."), base[..<dot].contains(where: { $0 != "." }) {
            stem = String(base[..<dot])
        }
        fields = stem.split(separator: "_", omittingEmptySubsequences: false).map { LogKeyField(piece: String($0)) }
    }

    /// The Python tuple repr: `('read', 'block', 128)`; a one-field key prints `('read',)`.
    public var description: String {
        "(" + fields.map(\.description).joined(separator: ", ") + (fields.count == 1 ? ",)" : ")")
    }

    /// Python's tuple order: field by field, a shorter prefix first.
    public static func < (lhs: LogKey, rhs: LogKey) -> Bool {
        lhs.fields.lexicographicallyPrecedes(rhs.fields)
    }
}

// MARK: - One log

/// The result of one trial (one timed loop) of a configuration. Speeds are GiB/s (bytes / 1024^3 / s),
/// which DeepSpeed prints as "GB/sec".
public struct LogTrial: Hashable, Sendable, Codable {
    /// The operation time alone, in seconds (DeepSpeed's task latency).
    public var taskLatency: Double
    /// The operation speed in GiB/s.
    public var taskSpeed: Double
    /// The time including the barrier, in seconds (DeepSpeed's E2E latency).
    public var e2eLatency: Double
    /// The end-to-end speed in GiB/s: the number the tuner ranks by.
    public var e2eSpeed: Double

    /// Creates a trial from its four numbers.
    public init(taskLatency: Double, taskSpeed: Double, e2eLatency: Double, e2eSpeed: Double) {
        self.taskLatency = taskLatency
        self.taskSpeed = taskSpeed
        self.e2eLatency = e2eLatency
        self.e2eSpeed = e2eSpeed
    }

    /// Creates a trial from the bytes moved and the two latencies; speed = bytes / latency / 1024^3.
    public init(bytes: Int, taskLatency: Double, e2eLatency: Double) {
        let gib = Double(bytes) / Double(1 << 30)
        self.init(taskLatency: taskLatency, taskSpeed: gib / taskLatency, e2eLatency: e2eLatency,
                  e2eSpeed: gib / e2eLatency)
    }
}

/// DeepSpeed's four closing lines of a log; each is nil when the log lacks it.
public struct LogSummary: Hashable, Sendable, Codable {
    /// `Task <Op> Latency = <x> sec`.
    public var taskLatency: Double?
    /// `Task <Op> Speed = <x> GB/sec`.
    public var taskSpeed: Double?
    /// `E2E <Op> Latency = <x> sec`.
    public var e2eLatency: Double?
    /// `E2E <Op> Speed = <x> GB/sec`: DeepSpeed's metric (`read_speed` / `write_speed`).
    public var e2eSpeed: Double?

    /// Creates a summary.
    public init(taskLatency: Double? = nil, taskSpeed: Double? = nil, e2eLatency: Double? = nil,
                e2eSpeed: Double? = nil) {
        self.taskLatency = taskLatency
        self.taskSpeed = taskSpeed
        self.e2eLatency = e2eLatency
        self.e2eSpeed = e2eSpeed
    }

    /// The summary of one trial.
    public init(_ trial: LogTrial) {
        self.init(taskLatency: trial.taskLatency, taskSpeed: trial.taskSpeed, e2eLatency: trial.e2eLatency,
                  e2eSpeed: trial.e2eSpeed)
    }

    /// Whether none of the four lines is there.
    public var isEmpty: Bool { taskLatency == nil && taskSpeed == nil && e2eLatency == nil && e2eSpeed == nil }
}

/// The content of one log: what `LogWriter` writes and `LogParser` reads back. A DeepSpeed log yields only
/// `summary` (everything else it prints is ignored).
///
/// aio-bench's logs look like this (header, notes, trials, then DeepSpeed's four lines of the median trial):
///
/// ```
/// aio-bench log format 1
/// # speeds are bytes / 1024^3 / sec, printed as "GB/sec" like DeepSpeed (GiB/s); the last four lines ...
/// operation: read
/// config: block_size=1M queue_depth=32 single_submit=false sequential_requests=false io_parallel=1 ...
/// engine: io_uring
/// io_size: 268435456
/// note: huge pages: yes
/// trial 1/3: read 1.1552252388228905 GB/sec in 0.21640801429748535 sec (task 1.155660673684257 GB/sec in ...
/// Task Read Latency = 0.21632647514343262 sec
/// Task Read Speed = 1.155660673684257 GB/sec
/// E2E Read Latency = 0.21640801429748535 sec
/// E2E Read Speed = 1.1552252388228905 GB/sec
/// ```
///
/// A failed configuration has an `error: <text>` line instead of trials and the four lines.
public struct SweepLog: Hashable, Sendable {
    /// The operation (`operation:` line, else the op of the four lines found).
    public var operation: SweepOperation?
    /// The configuration that ran (`config:` line).
    public var configuration: SweepConfiguration?
    /// The engine that actually ran (`engine:` line), which may differ from the one asked for.
    public var engine: String?
    /// Bytes per task and operation (`io_size:` line).
    public var ioSize: Int?
    /// Free-form one-line notes (`note:` lines), in order.
    public var notes: [String]
    /// The trials (`trial i/n:` lines), in the order they ran.
    public var trialResults: [LogTrial]
    /// Why the configuration failed (`error:` line), or nil.
    public var error: String?
    /// DeepSpeed's four closing lines.
    public var summary: LogSummary
    /// Lines that looked like ours or DeepSpeed's but could not be read (never written).
    public var warnings: [String]

    /// Creates log content.
    public init(operation: SweepOperation? = nil, configuration: SweepConfiguration? = nil, engine: String? = nil,
                ioSize: Int? = nil, notes: [String] = [], trialResults: [LogTrial] = [], error: String? = nil,
                summary: LogSummary = LogSummary(), warnings: [String] = []) {
        self.operation = operation
        self.configuration = configuration
        self.engine = engine
        self.ioSize = ioSize
        self.notes = notes
        self.trialResults = trialResults
        self.error = error
        self.summary = summary
        self.warnings = warnings
    }

    /// The end-to-end speed of every trial in GiB/s, in order.
    public var trials: [Double] { trialResults.map(\.e2eSpeed) }

    /// DeepSpeed's metric: the `E2E <Op> Speed` value, or nil when the line is missing.
    public var metric: Double? { summary.e2eSpeed }

    /// The speeds to rank by: the trials, or the metric alone for a log without trial lines.
    public var samples: [Double] {
        if !trials.isEmpty { return trials }
        return metric.map { [$0] } ?? []
    }

    /// The trial the four closing lines describe: the median by end-to-end speed (the lower of the two
    /// middle trials for an even count).
    public static func medianTrial(_ trials: [LogTrial]) -> LogTrial? {
        guard !trials.isEmpty else { return nil }
        let sorted = trials.sorted { $0.e2eSpeed < $1.e2eSpeed }
        return sorted[(sorted.count - 1) / 2]
    }
}

// MARK: - Logs of a folder

/// One parsed log file of a folder.
public struct LogRecord: Hashable, Sendable {
    /// The path of the file.
    public var path: String
    /// The file name taken apart: operation and configuration.
    public var name: SweepLogName
    /// DeepSpeed's key of the file name.
    public var key: LogKey
    /// The content.
    public var log: SweepLog

    /// Creates a record.
    public init(path: String, name: SweepLogName, log: SweepLog) {
        self.path = path
        self.name = name
        self.key = LogKey(fileName: name.fileName)
        self.log = log
    }

    /// The operation the file name says.
    public var operation: SweepOperation { name.operation }
    /// The configuration the file name says.
    public var configuration: SweepConfiguration { name.configuration }
    /// DeepSpeed's metric, or nil when the log has none (a missing result).
    public var metric: Double? { log.metric }

    /// DeepSpeed's `parse` line: `('read', 'block', 'overlap', 'ftd1', 128, 1048576, 1) = 1.1552252388228905`,
    /// `= None` for a missing result.
    public var deepSpeedLine: String {
        "\(key) = \(metric.map(PythonRepr.float) ?? "None")"
    }
}

/// A file of a log folder that is not a log.
public struct SkippedLogFile: Hashable, Sendable {
    /// The path of the file.
    public var path: String
    /// Why it was skipped.
    public var reason: String

    /// Creates an entry.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// The logs of a log folder.
public struct LogFolder: Hashable, Sendable {
    /// The folder asked for.
    public var path: String
    /// Every log, sorted by DeepSpeed's key (reads before writes); includes logs without a result.
    public var records: [LogRecord]
    /// Files that are not logs: other extensions, folders, names that do not parse, unreadable files.
    public var skipped: [SkippedLogFile]

    /// Creates a folder result; records are sorted by key.
    public init(path: String, records: [LogRecord], skipped: [SkippedLogFile]) {
        self.path = path
        self.records = records.sorted { ($0.key, $0.path) < ($1.key, $1.path) }
        self.skipped = skipped
    }

    /// The logs of one operation, sorted by key.
    public func records(for operation: SweepOperation) -> [LogRecord] {
        records.filter { $0.operation == operation }
    }

    /// Logs without DeepSpeed's metric line (failed or unfinished configurations).
    public var missing: [LogRecord] { records.filter { $0.metric == nil } }

    /// DeepSpeed's `parse` output for one operation: one `<key> = <metric>` line per log, sorted by key.
    public func deepSpeedLines(for operation: SweepOperation) -> [String] {
        records(for: operation).map(\.deepSpeedLine)
    }
}

// MARK: - Parser

/// Reads logs: aio-bench's own and DeepSpeed's.
public enum LogParser {
    /// The largest file taken for a log; bigger files are skipped.
    public static let maximumLogBytes = 16 << 20

    /// Parses the text of one log. The operation picks which of DeepSpeed's lines count (`E2E Read Speed`
    /// or `E2E Write Speed`); without it the `operation:` line decides, else the first of the two found.
    /// Unknown lines are ignored; the first line with a given prefix wins, as in DeepSpeed's parser.
    public static func parse(_ text: String, operation: SweepOperation? = nil) -> SweepLog {
        var log = SweepLog()
        var summaries: [SweepOperation: LogSummary] = [:]
        var firstSummary: SweepOperation?
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let line = String(rawLine)
            if let op = SweepOperation.allCases.first(where: { line.hasPrefix("Task \($0.title) ") })
                ?? SweepOperation.allCases.first(where: { line.hasPrefix("E2E \($0.title) ") }) {
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
                log.operation = SweepOperation(rawValue: value)
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
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .usage("log folder \(path) does not exist")
        }
        guard isDirectory.boolValue else { throw .usage("log folder \(path) is not a folder") }
        var folders: [String] = []
        for operation in SweepOperation.allCases {
            let sub = (path as NSString).appendingPathComponent(operation.logFolderName)
            var subIsDirectory: ObjCBool = false
            if manager.fileExists(atPath: sub, isDirectory: &subIsDirectory), subIsDirectory.boolValue {
                folders.append(sub)
            }
        }
        if folders.isEmpty { folders = [path] }
        var records: [LogRecord] = []
        var skipped: [SkippedLogFile] = []
        for folder in folders {
            let names: [String]
            do {
                names = try manager.contentsOfDirectory(atPath: folder).sorted()
            } catch {
                throw .usage("log folder \(folder) cannot be read: \(reason(folder))")
            }
            for name in names {
                let file = (folder as NSString).appendingPathComponent(name)
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
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: file, isDirectory: &isDirectory) else {
            return .skipped(SkippedLogFile(path: file, reason: "not a regular file"))
        }
        if isDirectory.boolValue { return .skipped(SkippedLogFile(path: file, reason: "a folder")) }
        guard name.hasSuffix(".txt") else {
            return .skipped(SkippedLogFile(path: file, reason: "not a .txt file"))
        }
        guard let logName = SweepLogName(fileName: name) else {
            return .skipped(SkippedLogFile(path: file, reason: "name is not <op>_<single|block>_"
                + "<sequential|overlap>_ftd<F>_d<Q>_bs<B>_p<P>.txt"))
        }
        if let size = (try? manager.attributesOfItem(atPath: file))?[.size] as? NSNumber,
           size.intValue > maximumLogBytes {
            return .skipped(SkippedLogFile(path: file, reason: "larger than \(ByteSize.compact(maximumLogBytes))"))
        }
        guard let data = manager.contents(atPath: file) else {
            return .skipped(SkippedLogFile(path: file, reason: "cannot be read: \(reason(file))"))
        }
        let log = parse(String(decoding: data, as: UTF8.self), operation: logName.operation)
        return .log(LogRecord(path: file, name: logName, log: log))
    }

    private static func reason(_ path: String) -> String {
        access(path, R_OK) == 0 ? "unknown error" : String(cString: strerror(errno))
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
              SweepOperation(rawValue: words[2]) != nil,
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
        return SweepConfiguration(blockSize: blockSize, blockSizeText: blockText, queueDepth: depth,
                                  singleSubmit: single, sequentialRequests: sequential, ioParallel: parallel,
                                  tasksPerFolder: tasks, folderCount: folders, engine: values["engine"])
    }
}

// MARK: - Writer

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
