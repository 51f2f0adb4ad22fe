import AsyncIO
import Foundation

/// Report rows as CSV (RFC 4180) and JSON, and back.
///
/// Both carry one record per configuration and operation with the fields `operation`, `block_size` (bytes),
/// `queue_depth`, `single_submit`, `overlap_events`, `io_parallel`, `trials_gibps`, `median_gibps`,
/// `min_gibps`, `max_gibps` and `error`. The median, minimum and maximum are written for readers and
/// recomputed from the trials when read back. In CSV the trials are one field joined by `;` and a missing
/// error is an empty field (so an empty error reads back as nil).
public enum ReportExport {
    /// The CSV header, in column order.
    static let columns = [
        "operation", "block_size", "queue_depth", "single_submit", "overlap_events", "io_parallel",
        "trials_gibps", "median_gibps", "min_gibps", "max_gibps", "error",
    ]

    // MARK: - CSV

    /// The rows as CSV: a header line, then one line per row; CRLF line ends, fields quoted where RFC 4180
    /// requires (a comma, quote, CR or LF in them), quotes doubled.
    public static func csv(_ rows: [ReportRow]) -> String {
        var lines = [columns.joined(separator: ",")]
        for row in rows {
            let fields = [
                row.operation.rawValue, String(row.blockSize), String(row.queueDepth), String(row.singleSubmit),
                String(row.overlapEvents), String(row.intraOpParallelism),
                row.trials.map { String($0) }.joined(separator: ";"),
                row.median.map { String($0) } ?? "", row.minimum.map { String($0) } ?? "",
                row.maximum.map { String($0) } ?? "", row.error ?? "",
            ]
            lines.append(fields.map(quote).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Reads rows from CSV written by `csv(_:)`: columns are found by their header names (order free, extra
    /// columns ignored); LF or CRLF line ends.
    ///
    /// - Throws: `BenchError.usage` naming the record and field that is wrong.
    static func rows(fromCSV text: String) throws(BenchError) -> [ReportRow] {
        let records = try parseCSV(text)
        guard let header = records.first else { throw .usage("CSV is empty: expected a header line") }
        var index: [String: Int] = [:]
        for (i, name) in header.enumerated() { index[name.trimmingWhitespace()] = i }
        let required = columns.filter { !["median_gibps", "min_gibps", "max_gibps", "error"].contains($0) }
        if let missing = required.first(where: { index[$0] == nil }) {
            throw .usage("CSV header lacks the column '\(missing)': expected \(columns.joined(separator: ","))")
        }
        var rows: [ReportRow] = []
        for (number, record) in records.enumerated().dropFirst() {
            if record == [""] { continue }
            let field = { (name: String) -> String? in
                index[name].flatMap { $0 < record.count ? record[$0] : nil }
            }
            let line = "CSV record \(number + 1)"
            rows.append(try row(line: line) { name throws(BenchError) in
                guard let value = field(name) else { throw .usage("\(line) has no field '\(name)'") }
                return value
            })
        }
        return rows
    }

    /// Builds a row from named text fields (shared by the CSV reader).
    private static func row(line: String, _ field: (String) throws(BenchError) -> String) throws(BenchError)
        -> ReportRow
    {
        func integer(_ name: String) throws(BenchError) -> Int {
            let text = try field(name)
            guard let value = Int(text) else { throw .usage("\(line): \(name) '\(text)' is not a whole number") }
            return value
        }
        func boolean(_ name: String) throws(BenchError) -> Bool {
            let text = try field(name)
            switch text.lowercased() {
            case "true": return true
            case "false": return false
            default: throw .usage("\(line): \(name) '\(text)' is not true or false")
            }
        }
        let opText = try field("operation")
        guard let operation = IOOperation(rawValue: opText) else {
            throw .usage("\(line): operation '\(opText)' is not read or write")
        }
        let trialText = try field("trials_gibps")
        var trials: [Double] = []
        for part in trialText.split(separator: ";", omittingEmptySubsequences: true) {
            guard let value = Double(part.trimmingCharacters(in: .whitespaces)) else {
                throw .usage("\(line): trials_gibps holds '\(part)', not a number")
            }
            trials.append(value)
        }
        let error = (try? field("error")).flatMap { $0.isEmpty ? nil : $0 }
        return ReportRow(
            operation: operation, blockSize: try integer("block_size"), queueDepth: try integer("queue_depth"),
            singleSubmit: try boolean("single_submit"), overlapEvents: try boolean("overlap_events"),
            intraOpParallelism: try integer("io_parallel"), trials: trials, error: error)
    }

    /// One field, quoted when it holds a comma, a quote, CR or LF.
    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" })
        else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Splits CSV text into records of fields (RFC 4180: quoted fields may hold commas, doubled quotes and
    /// line breaks).
    static func parseCSV(_ text: String) throws(BenchError) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var wasQuoted = false
        let bytes = Array(text.utf8)
        var i = 0
        func endField() {
            record.append(String(decoding: field, as: UTF8.self))
            field = []
            wasQuoted = false
        }
        while i < bytes.count {
            let c = bytes[i]
            if quoted {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(c)
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else {
                switch c {
                case UInt8(ascii: "\""):
                    guard field.isEmpty, !wasQuoted else {
                        throw .usage("CSV record \(records.count + 1): a quote inside an unquoted field")
                    }
                    quoted = true
                    wasQuoted = true
                case UInt8(ascii: ","):
                    endField()
                case UInt8(ascii: "\r") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\n"):
                    break
                case UInt8(ascii: "\n"):
                    endField()
                    records.append(record)
                    record = []
                default:
                    guard !wasQuoted else {
                        throw .usage("CSV record \(records.count + 1): text after a closing quote")
                    }
                    field.append(c)
                }
            }
            i += 1
        }
        if quoted { throw .usage("CSV record \(records.count + 1): a quoted field is not closed") }
        if !field.isEmpty || wasQuoted || !record.isEmpty {
            endField()
            records.append(record)
        }
        return records
    }

    // MARK: - JSON

    /// The JSON form of one row.
    private struct Record: Codable {
        var operation: String
        var block_size: Int
        var queue_depth: Int
        var single_submit: Bool
        var overlap_events: Bool
        var io_parallel: Int
        var trials_gibps: [Double]
        var median_gibps: Double?
        var min_gibps: Double?
        var max_gibps: Double?
        var error: String?

        init(_ row: ReportRow) {
            operation = row.operation.rawValue
            block_size = row.blockSize
            queue_depth = row.queueDepth
            single_submit = row.singleSubmit
            overlap_events = row.overlapEvents
            io_parallel = row.intraOpParallelism
            trials_gibps = row.trials
            median_gibps = row.median
            min_gibps = row.minimum
            max_gibps = row.maximum
            error = row.error
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(operation, forKey: .operation)
            try c.encode(block_size, forKey: .block_size)
            try c.encode(queue_depth, forKey: .queue_depth)
            try c.encode(single_submit, forKey: .single_submit)
            try c.encode(overlap_events, forKey: .overlap_events)
            try c.encode(io_parallel, forKey: .io_parallel)
            try c.encode(trials_gibps, forKey: .trials_gibps)
            try c.encode(median_gibps, forKey: .median_gibps)  // null rather than absent
            try c.encode(min_gibps, forKey: .min_gibps)
            try c.encode(max_gibps, forKey: .max_gibps)
            try c.encode(error, forKey: .error)
        }
    }

    /// The rows as a JSON array of objects, keys as in `columns`, trials as an array of numbers, absent values
    /// as `null`. Non-finite speeds are written as the strings `"nan"`, `"inf"`, `"-inf"`.
    public static func json(_ rows: [ReportRow]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let data = try? encoder.encode(rows.map(Record.init)) else { return "[]\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Reads rows from JSON written by `json(_:)`.
    ///
    /// - Throws: `BenchError.usage` when the text is not such an array, naming what is wrong.
    static func rows(fromJSON text: String) throws(BenchError) -> [ReportRow] {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let records: [Record]
        do {
            records = try decoder.decode([Record].self, from: Data(text.utf8))
        } catch let DecodingError.keyNotFound(key, context) {
            throw .usage("JSON record \(context.codingPath.first?.intValue.map { $0 + 1 } ?? 0)"
                + " lacks '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            throw .usage("JSON \(path): \(context.debugDescription)")
        } catch {
            throw .usage("not a JSON array of report rows: \(error)")
        }
        var rows: [ReportRow] = []
        for (i, record) in records.enumerated() {
            guard let operation = IOOperation(rawValue: record.operation) else {
                throw .usage("JSON record \(i + 1): operation '\(record.operation)' is not read or write")
            }
            rows.append(ReportRow(
                operation: operation, blockSize: record.block_size, queueDepth: record.queue_depth,
                singleSubmit: record.single_submit, overlapEvents: record.overlap_events,
                intraOpParallelism: record.io_parallel, trials: record.trials_gibps, error: record.error))
        }
        return rows
    }
}
