import AsyncIO
import Foundation

/// Facts about the machine a report is made on, from `uname`, `gethostname`, `/proc/cpuinfo` and
/// `/proc/meminfo`; what cannot be read stays nil.
public struct MachineFacts: Sendable, Equatable {
    /// The host name.
    var hostname: String?
    /// The kernel: `Linux <release> <machine>`.
    var kernel: String?
    /// The number of CPUs the process may use.
    var cpuCount: Int
    /// The CPU model (`model name` in `/proc/cpuinfo`).
    var cpuModel: String?
    /// `MemTotal` in bytes.
    var memoryBytes: Int?
    /// `MemAvailable` in bytes.
    var availableMemoryBytes: Int?

    /// Creates facts from known values.
    init(
        hostname: String?, kernel: String?, cpuCount: Int, cpuModel: String?, memoryBytes: Int?,
        availableMemoryBytes: Int?
    ) {
        self.hostname = hostname
        self.kernel = kernel
        self.cpuCount = cpuCount
        self.cpuModel = cpuModel
        self.memoryBytes = memoryBytes
        self.availableMemoryBytes = availableMemoryBytes
    }

    /// The facts of this machine.
    public static func current() -> MachineFacts {
        let host: String? = SystemInfo.hostName
        let kernel: String? = "\(SystemInfo.kernelName) \(SystemInfo.kernelRelease) \(SystemInfo.machine)"
        let cpuinfo = (try? FileSystem.text(of: "/proc/cpuinfo")) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { line in line.firstIndex(of: ":").map { line[line.index(after: $0)...] } }
            .map { String($0).trimmingWhitespace() }
        return MachineFacts(
            hostname: host?.isEmpty == false ? host : nil, kernel: kernel,
            cpuCount: SystemInfo.processorCount, cpuModel: model?.isEmpty == false ? model : nil,
            memoryBytes: meminfo("MemTotal"), availableMemoryBytes: meminfo("MemAvailable"))
    }

    /// The facts as lines: `host: ...`, `kernel: ...`, `CPUs: ...`, `memory: ...`.
    public var lines: [String] {
        var lines = ["host: \(hostname ?? "unknown")", "kernel: \(kernel ?? "unknown")"]
        lines.append("CPUs: \(cpuCount)" + (cpuModel.map { " × \($0)" } ?? ""))
        if let memoryBytes {
            lines.append("memory: \(ByteSize.human(memoryBytes))"
                + (availableMemoryBytes.map { ", \(ByteSize.human($0)) available" } ?? ""))
        } else {
            lines.append("memory: unknown")
        }
        return lines
    }

    /// A `/proc/meminfo` value in bytes (`MemTotal:  24683520 kB` → 25275924480), or nil.
    static func meminfo(_ key: String, path: String = "/proc/meminfo") -> Int? {
        guard let text = try? FileSystem.text(of: path) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            let words = line.dropFirst(key.count + 1).split(separator: " ")
            guard let value = words.first.flatMap({ Int($0) }) else { return nil }
            let unit = words.count > 1 ? words[1].lowercased() : ""
            return unit == "kb" ? value * 1024 : value
        }
        return nil
    }
}

/// A report ready to render: the input of `HTMLReport` and what the reader should know about how it was made.
public struct BuiltReport: Sendable, Equatable {
    /// What `HTMLReport.render(_:)` draws.
    public var input: ReportInput
    /// The recommendation explained: the generator's notes, or why there is none.
    public var recommendationNotes: [String]
    /// Other remarks: logs merged into one row, files skipped.
    public var notes: [String]

    /// Creates a built report.
    init(input: ReportInput, recommendationNotes: [String], notes: [String]) {
        self.input = input
        self.recommendationNotes = recommendationNotes
        self.notes = notes
    }

    /// The HTML page (`HTMLReport.render(_:)`) with `recommendationNotes` and `notes` shown under the
    /// recommendation's heading, and the reason in place of the generic sentence when there is no
    /// recommendation.
    public var html: String {
        var html = HTMLReport.render(input)
        let marker = "<h2>Recommended DeepSpeed configuration</h2>\n"
        let generic = "<p>No recommendation: no configuration has both a read and a write result.</p>"
        if input.recommendedJSON == nil, !recommendationNotes.isEmpty,
            let range = html.range(of: marker + generic)
        {
            html.replaceSubrange(range, with: marker)
        }
        let remarks = recommendationNotes + notes
        guard !remarks.isEmpty, let range = html.range(of: marker) else { return html }
        let list = "<ul class=\"notes\">\n"
            + remarks.map { "<li>\(HTMLReport.escape($0))</li>\n" }.joined() + "</ul>\n"
        html.insert(contentsOf: list, at: range.upperBound)
        return html
    }
}

/// Turns a log folder (aio-bench's or DeepSpeed's) and facts about the machine and device into a report and
/// into the terminal summary `tune` prints.
public enum ReportBuilder {
    /// The name of the manifest a sweep writes into its log folder; `"folders": [...]` lists the folders
    /// it measured, and an optional `"probe"` object holds a measured ceiling (`ProbeResult`'s keys in
    /// snake case: `read_gibps`, `write_gibps`, `engine`, `io_size`, `block_size`, `queue_depth`,
    /// `io_parallel`, `direct`).
    static let manifestName = "manifest.json"

    /// One row per log: operation and knobs from the file name, the trials (or DeepSpeed's one metric) in
    /// GiB/s, and for a log without any result its `error:` line or why it has none.
    static func rows(_ folder: LogFolder) -> [ReportRow] {
        folder.records.map { record in
            let configuration = record.configuration
            let samples = record.log.samples
            var error = record.log.error
            if samples.isEmpty, error == nil {
                error = "no result: the log has no \"E2E \(record.operation.title) Speed\" line"
                    + " (unfinished or failed run)"
            }
            var row = ReportRow(
                operation: record.operation == .read ? .read : .write, blockSize: configuration.blockSize,
                queueDepth: configuration.queueDepth, singleSubmit: configuration.singleSubmit,
                overlapEvents: configuration.overlapEvents, intraOpParallelism: configuration.intraOpParallelism,
                trials: samples, error: error)
            row.leftRaceAfter = record.log.notes.lazy.compactMap { note -> Int? in
                guard note.hasPrefix(Race.leftNotePrefix) else { return nil }
                return Int(note.dropFirst(Race.leftNotePrefix.count).trimmingCharacters(in: .whitespaces))
            }.first
            return row
        }
    }

    /// Builds the report of `folder`.
    ///
    /// - Parameters:
    ///   - folder: the parsed log folder.
    ///   - machine: lines about the machine (`MachineFacts.lines`); lines about the logs (counts, engines,
    ///     sizes) and the date are added.
    ///   - device: the device the logs were measured on, or nil when unknown.
    ///   - deviceSource: how the device was found, shown above its description (e.g. "first folder in
    ///     manifest.json").
    ///   - probe: a measured ceiling to compare the best results with.
    ///   - title: the page title; `aio-bench report: <folder>` when nil.
    ///   - date: the time the report is made.
    public static func build(
        folder: LogFolder, machine: [String], device: StorageDevice?, deviceSource: String? = nil,
        probe: ProbeResult? = nil, title: String? = nil, date: Date = Date()
    ) -> BuiltReport {
        let rows = rows(folder)
        var recommendationNotes: [String] = []
        var json: String?
        do {
            let result = try ParamGenerator.generate(folder, objective: .time)
            json = result.aioJSON()
            recommendationNotes.append("chosen by \(result.objective.explanation): \(result.best.configuration)"
                + " (\(speeds(read: result.best.readMedian, write: result.best.writeMedian)))")
            recommendationNotes += result.notes
        } catch {
            recommendationNotes.append("no recommendation: \(error.description)")
        }
        var notes: [String] = []
        var seen: [String: Int] = [:]
        for row in rows { seen["\(row.operation.rawValue) \(row.configuration)", default: 0] += 1 }
        let merged = seen.values.filter { $0 > 1 }.reduce(0, +)
        if merged > 0 {
            notes.append("\(merged) logs share their knobs with another log (they differ in tasks per folder,"
                + " folder count or engine, which the report does not tell apart): their trials are shown together")
        }
        if !folder.skipped.isEmpty {
            notes.append("\(folder.skipped.count) file\(folder.skipped.count == 1 ? " is" : "s are") not a log"
                + " and \(folder.skipped.count == 1 ? "was" : "were") skipped")
        }
        var input = ReportInput(
            title: title ?? "aio-bench report: \(folder.path)", rows: rows, recommendedJSON: json,
            machine: machine + logLines(folder, date: date),
            device: deviceLines(device, source: deviceSource, rows: rows, probe: probe),
            deviceCeilingBytesPerSecond: device?.ceilingBytesPerSecond)
        input.race = RaceRecord(json: manifest(logDir: folder.path)?["race"])
        return BuiltReport(input: input, recommendationNotes: recommendationNotes, notes: notes)
    }

    /// Lines about the logs: where, how many, which engines and sizes, and when the report was made.
    static func logLines(_ folder: LogFolder, date: Date) -> [String] {
        let reads = folder.records(for: .read)
        let writes = folder.records(for: .write)
        var lines = ["logs: \(folder.path): \(reads.count) read, \(writes.count) write"
            + (folder.missing.isEmpty ? "" : ", \(folder.missing.count) without a result")]
        var engines: [String: Int] = [:]
        for record in folder.records { engines[record.log.engine ?? "not recorded", default: 0] += 1 }
        let engineText = engines.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value) logs)" }
        lines.append("engine: " + (Array(engines.keys) == ["not recorded"]
            ? "not recorded (DeepSpeed logs name none)" : engineText.joined(separator: ", ")))
        let sizes = Set(folder.records.compactMap(\.log.ioSize)).sorted()
        if !sizes.isEmpty { lines.append("io_size: " + sizes.map(ByteSize.compact).joined(separator: ", ")) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        lines.append("report made: \(formatter.string(from: date)) by aio-bench \(AIOBenchVersion.current)")
        return lines
    }

    /// The device lines of the report: how it was found, its description, the measured ceiling and the best
    /// results against both ceilings.
    static func deviceLines(_ device: StorageDevice?, source: String?, rows: [ReportRow], probe: ProbeResult?)
        -> [String]
    {
        var lines: [String] = []
        if let source { lines.append("device of: \(source)") }
        if let device { lines += device.summary } else { lines.append("device: unknown") }
        if let probe {
            lines.append(String(format: "measured ceiling: read %.2f GiB/s, write %.2f GiB/s", probe.readGiBps,
                                probe.writeGiBps) + " (\(probe.settings))")
        }
        let input = ReportInput(title: "", rows: rows)
        lines += Probe.ceilingComparison(
            read: input.ranking(for: .read).first?.median, write: input.ranking(for: .write).first?.median,
            device: device, probe: probe, what: "best")
        return lines
    }

    /// `read 1.88, write 4.51 GiB/s`, `read 1.88 GiB/s`.
    static func speeds(read: Double?, write: Double?) -> String {
        let parts = [("read", read), ("write", write)].compactMap { name, value in
            value.map { "\(name) " + String(format: "%.2f", $0) }
        }
        return parts.isEmpty ? "no speeds" : parts.joined(separator: ", ") + " GiB/s"
    }

    // MARK: - Manifest

    /// The manifest of `logDir` as a JSON object, or nil when it is missing or not an object.
    static func manifest(logDir: String) -> [String: Any]? {
        let path = PathName.join(logDir, manifestName)
        guard let bytes = try? FileSystem.contents(of: path, limit: 16 << 20),
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        else { return nil }
        return object
    }

    /// The folders a sweep measured, from `<logDir>/manifest.json`'s `"folders"` array (strings, or objects
    /// with a `"folder"` or `"path"` string); empty when the manifest is missing or malformed.
    static func manifestFolders(logDir: String) -> [String] {
        guard let list = manifest(logDir: logDir)?["folders"] as? [Any] else { return [] }
        return list.compactMap { item in
            if let text = item as? String { return text.isEmpty ? nil : text }
            if let object = item as? [String: Any] {
                return (object["folder"] as? String) ?? (object["path"] as? String)
            }
            return nil
        }
    }

    /// The measured ceiling stored in `<logDir>/manifest.json` under `"probe"`, or nil when there is none or
    /// it lacks `read_gibps` and `write_gibps`.
    public static func manifestProbe(logDir: String) -> ProbeResult? {
        guard let probe = manifest(logDir: logDir)?["probe"] as? [String: Any],
            let read = (probe["read_gibps"] as? NSNumber)?.doubleValue,
            let write = (probe["write_gibps"] as? NSNumber)?.doubleValue, read.isFinite, write.isFinite
        else { return nil }
        func int(_ key: String) -> Int { (probe[key] as? NSNumber)?.intValue ?? 0 }
        return ProbeResult(
            folder: probe["folder"] as? String ?? "",
            engine: (probe["engine"] as? String).flatMap { try? EngineName.parse($0) } ?? .auto,
            ioSize: int("io_size"), blockSize: int("block_size"), queueDepth: int("queue_depth"),
            intraOpParallelism: int("io_parallel"), direct: (probe["direct"] as? Bool) ?? true, readGiBps: read,
            writeGiBps: write)
    }

    /// The folder whose device the report describes, and how it was chosen: the first folder of the
    /// manifest, else the current directory.
    public static func deviceFolder(logDir: String) -> (folder: String, source: String) {
        if let first = manifestFolders(logDir: logDir).first {
            return (first, "\(first) (first folder in \(manifestName))")
        }
        let here = FileSystem.currentDirectory
        return (here, "the current directory \(here) (\(logDir) has no \(manifestName) naming the folders"
            + " measured; the logs may come from another device)")
    }

    // MARK: - Terminal summary

    /// The summary `tune` prints at its end: the `top` fastest configurations per operation with median and
    /// min–max spread, failed configurations, the recommendation, the best results against the device's
    /// theoretical ceiling and the measured one, `SUSPECT:` lines for figures above the theoretical ceiling,
    /// and where the report is. The `{"aio": ...}` JSON itself is not included (`TuneOutput.recommendation`
    /// prints it).
    ///
    /// - Parameters:
    ///   - folder: the parsed log folder of the sweep.
    ///   - result: the generator's choice, or nil when it could not choose.
    ///   - device: the device behind the measured folder, or nil.
    ///   - probe: a measured ceiling, or nil.
    ///   - reportPath: the HTML report written, or nil.
    ///   - top: how many configurations to list per operation.
    public static func tuneSummary(
        folder: LogFolder, result: TuningResult?, device: StorageDevice?, probe: ProbeResult? = nil,
        reportPath: String?, top: Int = 5
    ) -> [String] {
        let input = ReportInput(
            title: "", rows: rows(folder), deviceCeilingBytesPerSecond: device?.ceilingBytesPerSecond)
        var lines: [String] = []
        var suspects: [(IOOperation, ReportRow)] = []
        for operation in IOOperation.allCases {
            let all = input.rows(for: operation)
            guard !all.isEmpty else { continue }
            let ranking = input.ranking(for: operation)
            suspects += ranking.filter(input.isAboveCeiling).map { (operation, $0) }
            // After a race most configurations ran once; the fastest single run is mostly luck (the
            // winner's curse), so the list is of those measured at least twice when there are enough.
            let repeated = ranking.filter { $0.trials.count > 1 }
            let onlyRepeated = repeated.count >= top && repeated.count < ranking.filter { $0.median != nil }.count
            let shown = (onlyRepeated ? repeated : ranking).prefix(max(top, 0))
            lines.append("top \(shown.count) \(operation.rawValue) of \(all.count)"
                + (onlyRepeated ? " measured at least twice" : "") + " (median GiB/s, min–max over trials):")
            for (rank, row) in shown.enumerated() {
                guard let median = row.median, let low = row.minimum, let high = row.maximum else { continue }
                let spread = row.trials.count > 1
                    ? String(format: "%.2f–%.2f, %d trials", low, high, row.trials.count) : "1 trial"
                let flag = input.isAboveCeiling(row) ? "  SUSPECT: above the theoretical ceiling" : ""
                lines.append(String(format: "  %2d. %6.2f  ", rank + 1, median) + "(\(spread))  "
                    + shortLabel(row) + flag)
            }
            let failed = all.filter { $0.median == nil }
            if !failed.isEmpty {
                let names = failed.prefix(3).map { "\($0.configuration): \($0.error ?? "no result")" }
                lines.append("  failed: \(failed.count) configuration\(failed.count == 1 ? "" : "s"): "
                    + names.joined(separator: "; ") + (failed.count > 3 ? "; ..." : ""))
            }
        }
        if let result {
            let best = result.best
            lines.append("recommended by \(result.objective.explanation): \(best.configuration)"
                + " — \(speeds(read: best.readMedian, write: best.writeMedian))")
        } else {
            lines.append("recommended: none (no configuration could be chosen)")
        }
        if let device {
            let name = device.blockDevice.map { "\($0)" + (device.model.map { " (\($0))" } ?? "") }
                ?? device.filesystem ?? "unknown"
            lines.append("device: \(name) behind \(device.folder); theoretical ceiling: \(device.ceiling)")
        }
        if let probe {
            lines.append(String(format: "measured ceiling: read %.2f GiB/s, write %.2f GiB/s", probe.readGiBps,
                                probe.writeGiBps) + " (\(probe.settings))")
        }
        let comparison = Probe.ceilingComparison(
            read: input.ranking(for: .read).first?.median, write: input.ranking(for: .write).first?.median,
            device: device, probe: probe, what: "best")
        lines += comparison.filter { !$0.hasPrefix("SUSPECT:") }
        if comparison.isEmpty {
            lines.append("no ceiling known: the results cannot be checked against the hardware's limit")
        }
        if !suspects.isEmpty, let ceiling = input.ceilingGiBps {
            let names = suspects.prefix(3).map { "\($0.0.rawValue) \($0.1.configuration)" }
            lines.append("SUSPECT: \(suspects.count) result\(suspects.count == 1 ? " is" : "s are") above the"
                + String(format: " theoretical ceiling of %.2f GiB/s", ceiling) + " (" + names.joined(separator: ", ")
                + (suspects.count > 3 ? ", ..." : "") + ")")
            if let fastest = suspects.compactMap({ $0.1.maximum }).max(),
                let warning = device?.suspect(bytesPerSecond: fastest * Double(1 << 30))
            {
                lines.append("SUSPECT: \(warning)")
            }
        }
        if let reportPath { lines.append("report: \(reportPath)") }
        return lines
    }

    /// `block 8M, qd 32, single submit, sequential, io_parallel 4`.
    static func shortLabel(_ row: ReportRow) -> String {
        "block \(ByteSize.compact(row.blockSize)), qd \(row.queueDepth),"
            + " \(row.singleSubmit ? "single" : "batch") submit, \(row.overlapEvents ? "overlap" : "sequential"),"
            + " io_parallel \(row.intraOpParallelism)"
    }
}
