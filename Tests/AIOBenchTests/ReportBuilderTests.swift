import AsyncIO
import Foundation
import Testing

@testable import AIOBench

/// Log folders and devices for the report builder's tests.
enum ReportBuilderSamples {
    /// A log folder in aio-bench's own format: `configurations` read and write logs with three trials each,
    /// speeds `read + i` and `write + i` for the i-th configuration (io_parallel i + 1), plus extra logs.
    static func ownLogs(
        read: Double = 1.0, write: Double = 2.0, count: Int = 7, onlyRead: Bool = false,
        extra: [(IOOperation, SweepConfiguration, String)] = []
    ) throws -> String {
        let dir = try SweepFixtures.temporaryFolder()
        for i in 0..<count {
            let configuration = SweepConfiguration(queueDepth: 32, intraOpParallelism: i + 1)
            for (operation, base) in [(IOOperation.read, read), (.write, write)] {
                if onlyRead, operation == .write { continue }
                let speed = base + Double(i)
                let trials = [speed - 0.1, speed, speed + 0.2].map {
                    LogTrial(bytes: 1 << 30, taskLatency: 1 / $0, e2eLatency: 1 / $0)
                }
                let text = LogWriter.format(
                    operation: operation, configuration: configuration, engine: "io_uring", ioSize: 1 << 30,
                    trials: trials)
                try SweepFixtures.write(
                    text, dir + "/" + operation.logFolderName, configuration.logFileName(operation: operation))
            }
        }
        for (operation, configuration, text) in extra {
            try SweepFixtures.write(
                text, dir + "/" + operation.logFolderName, configuration.logFileName(operation: operation))
        }
        return dir
    }

    /// A device on a PCIe link that carries `gibps` GiB/s.
    static func device(ceilingGiBps gibps: Double?) -> StorageDevice {
        var device = StorageDevice(folder: "/data")
        device.filesystem = "ext4"
        device.blockDevice = "nvme0n1"
        device.wholeDisk = "nvme0n1"
        device.model = "Test NVMe"
        device.ceilingBytesPerSecond = gibps.map { $0 * Double(1 << 30) }
        return device
    }
}

@Suite("ReportBuilder")
struct ReportBuilderTests {
    @Test("DeepSpeed's fixture logs become one row per log, the metric as the one trial")
    func deepSpeedRows() throws {
        let folder = try LogParser.parseFolder(SweepFixtures.deepSpeedLogs)
        let rows = ReportBuilder.rows(folder)
        #expect(rows.count == 8)
        #expect(rows.filter { $0.operation == .read }.count == 4)
        #expect(rows.allSatisfy { $0.trials.count == 1 && $0.error == nil })
        let chosen = try #require(rows.first {
            $0.operation == .write && $0.configuration == "single_sequential_d32_bs8M_p4"
        })
        #expect(abs((chosen.median ?? 0) - 4.51) < 0.01)
    }

    @Test("the full DeepSpeed run: 64 rows per operation, a recommendation, its JSON on the page")
    func fullDeepSpeedRun() throws {
        let folder = try LogParser.parseFolder(try SweepFixtures.requireFullDeepSpeedLogs())
        let report = ReportBuilder.build(folder: folder, machine: ["host: test"], device: nil)
        #expect(report.input.rows(for: .read).count == 64)
        #expect(report.input.rows(for: .write).count == 64)
        let expected = try ParamGenerator.generate(folder, objective: .time).aioJSON()
        #expect(report.input.recommendedJSON == expected)
        let html = report.html
        #expect(html.components(separatedBy: "<td class=\"cell").count - 1 == 128)
        #expect(html.contains("id=\"copy\""))
        #expect(report.notes.isEmpty)
    }

    @Test("failed configurations are kept with their error; logs without a result say why")
    func failedKept() throws {
        let broken = SweepConfiguration(blockSize: 8 << 20, queueDepth: 128, intraOpParallelism: 8)
        let errorLog = LogWriter.format(
            operation: .read, configuration: broken, trials: [], error: "io_uring_enter: EIO on /data/x")
        let unfinished = SweepConfiguration(blockSize: 8 << 20, queueDepth: 128, intraOpParallelism: 4)
        let dir = try ReportBuilderSamples.ownLogs(extra: [
            (.read, broken, errorLog), (.write, unfinished, "aio-bench log format 1\noperation: write\n"),
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = try LogParser.parseFolder(dir)
        let rows = ReportBuilder.rows(folder)
        #expect(rows.count == 16)
        let failed = rows.filter { $0.median == nil }
        #expect(failed.count == 2)
        #expect(failed.contains { $0.operation == .read && $0.error == "io_uring_enter: EIO on /data/x" })
        #expect(failed.contains { $0.operation == .write && ($0.error ?? "").contains("E2E Write Speed") })
        let report = ReportBuilder.build(folder: folder, machine: [], device: nil)
        #expect(report.input.recommendedJSON != nil)
        let html = report.html
        #expect(html.contains("Failed configurations"))
        #expect(html.contains("io_uring_enter: EIO on /data/x"))
        let csv = try ReportExport.rows(fromCSV: ReportExport.csv(report.input.rows))
        #expect(csv.filter { $0.error != nil }.count == 2)
    }

    @Test("our logs: three trials each, medians and the time objective's choice")
    func ownLogs() throws {
        let dir = try ReportBuilderSamples.ownLogs()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = try LogParser.parseFolder(dir)
        let report = ReportBuilder.build(folder: folder, machine: ["host: test"], device: nil)
        let reads = report.input.rows(for: .read)
        #expect(reads.count == 7)
        #expect(reads.allSatisfy { $0.trials.count == 3 })
        #expect(abs((reads[0].median ?? 0) - 1.0) < 1e-9)
        let result = try ParamGenerator.generate(folder, objective: .time)
        #expect(report.input.recommendedJSON == result.aioJSON())
        #expect(report.recommendationNotes.first?.hasPrefix("chosen by least time") == true)
        #expect(report.input.machine.first == "host: test")
        #expect(report.input.machine.contains("engine: io_uring (14 logs)"))
        #expect(report.input.machine.contains("io_size: 1G"))
        #expect(report.input.machine.contains { $0.hasPrefix("report made: ") })
    }

    @Test("no recommendation: the page says why in place of the generic sentence")
    func noRecommendation() throws {
        // Read and write measured on different configurations: the time objective has nothing to compare.
        let writeOnly = SweepConfiguration(blockSize: 8 << 20, queueDepth: 128, intraOpParallelism: 2)
        let trial = LogTrial(bytes: 1 << 30, taskLatency: 0.5, e2eLatency: 0.5)
        let dir = try ReportBuilderSamples.ownLogs(count: 2, onlyRead: true, extra: [
            (.write, writeOnly, LogWriter.format(operation: .write, configuration: writeOnly, trials: [trial])),
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let report = ReportBuilder.build(folder: try LogParser.parseFolder(dir), machine: [], device: nil)
        #expect(report.input.recommendedJSON == nil)
        let reason = try #require(report.recommendationNotes.first)
        #expect(reason.hasPrefix("no recommendation: objective time needs configurations measured for both"))
        let html = report.html
        #expect(html.contains(HTMLReport.escape(reason)))
        #expect(!html.contains("No recommendation: no configuration has both"))
        #expect(!html.contains("id=\"copy\""))
    }

    @Test("a one-sided sweep still gets a recommendation, with the generator's note")
    func oneSided() throws {
        let dir = try ReportBuilderSamples.ownLogs(count: 3, onlyRead: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let report = ReportBuilder.build(folder: try LogParser.parseFolder(dir), machine: [], device: nil)
        #expect(report.input.recommendedJSON != nil)
        #expect(report.recommendationNotes.contains { $0.contains("only read results were found") })
        #expect(report.input.rows(for: .write).isEmpty)
    }

    @Test("device lines: best results against the theoretical and the measured ceiling, suspect flagged")
    func deviceCeilings() throws {
        let dir = try ReportBuilderSamples.ownLogs(read: 1.0, write: 0.5, count: 4)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = try LogParser.parseFolder(dir)
        let probe = ProbeResult(
            folder: "/data", engine: .uring, ioSize: 512 << 20, blockSize: 1 << 20, queueDepth: 64,
            intraOpParallelism: 8, direct: true, readGiBps: 8.0, writeGiBps: 7.0)
        // Best read 4.0, best write 3.5; ceiling 3.0 GiB/s: the best read is above it.
        let report = ReportBuilder.build(
            folder: folder, machine: [], device: ReportBuilderSamples.device(ceilingGiBps: 3.0),
            deviceSource: "/data (first folder in manifest.json)", probe: probe)
        let lines = report.input.device
        #expect(lines.first == "device of: /data (first folder in manifest.json)")
        #expect(lines.contains { $0.hasPrefix("measured ceiling: read 8.00 GiB/s, write 7.00 GiB/s (io_uring,") })
        #expect(lines.contains("best read 4.00 GiB/s: 133 % of the theoretical ceiling,"
            + " 50 % of the measured ceiling (8.00 GiB/s)"))
        #expect(lines.contains("best write 3.50 GiB/s: 117 % of the theoretical ceiling,"
            + " 50 % of the measured ceiling (7.00 GiB/s)"))
        #expect(lines.contains { $0.hasPrefix("SUSPECT: best read ") && $0.contains("page cache") })
        #expect(report.input.deviceCeilingBytesPerSecond == 3.0 * Double(1 << 30))
        #expect(report.html.contains("above the device ceiling"))
    }

    @Test("manifest: folders and probe read loosely; missing or malformed means none")
    func manifest() throws {
        let dir = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(ReportBuilder.manifestFolders(logDir: dir).isEmpty)
        #expect(ReportBuilder.manifestProbe(logDir: dir) == nil)
        let (here, source) = ReportBuilder.deviceFolder(logDir: dir)
        #expect(here == FileManager.default.currentDirectoryPath)
        #expect(source.contains("no manifest.json"))
        try SweepFixtures.write("{not json", dir, "manifest.json")
        #expect(ReportBuilder.manifestFolders(logDir: dir).isEmpty)
        try SweepFixtures.write(#"{"folders": "/a"}"#, dir, "manifest.json")
        #expect(ReportBuilder.manifestFolders(logDir: dir).isEmpty)
        try SweepFixtures.write("""
            {"tool": "aio-bench", "folders": ["/mnt/nvme0", 7, {"folder": "/mnt/nvme1"}, ""],
             "probe": {"read_gibps": 6.5, "write_gibps": 3, "engine": "io_uring", "io_size": 536870912,
                       "block_size": 1048576, "queue_depth": 64, "io_parallel": 8, "direct": true}}
            """, dir, "manifest.json")
        #expect(ReportBuilder.manifestFolders(logDir: dir) == ["/mnt/nvme0", "/mnt/nvme1"])
        let (folder, how) = ReportBuilder.deviceFolder(logDir: dir)
        #expect(folder == "/mnt/nvme0")
        #expect(how == "/mnt/nvme0 (first folder in manifest.json)")
        let probe = try #require(ReportBuilder.manifestProbe(logDir: dir))
        #expect(probe.readGiBps == 6.5 && probe.writeGiBps == 3.0 && probe.config.queueDepth == 64)
        #expect(probe.settings == "io_uring, block 1M, queue depth 64, io_parallel 8, 512M, O_DIRECT")
        try SweepFixtures.write(#"{"probe": {"read_gibps": "fast"}}"#, dir, "manifest.json")
        #expect(ReportBuilder.manifestProbe(logDir: dir) == nil)
    }

    @Test("machine facts: host, kernel, CPUs, memory")
    func machine() {
        let facts = MachineFacts.current()
        #expect(facts.cpuCount >= 1)
        let lines = facts.lines
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("host: "))
        #expect(lines[1].hasPrefix("kernel: Linux "))
        #expect(lines[2].hasPrefix("CPUs: \(facts.cpuCount)"))
        #expect(lines[3].hasPrefix("memory: "))
        let made = MachineFacts(
            hostname: nil, kernel: nil, cpuCount: 2, cpuModel: "AMD EPYC", memoryBytes: 8 << 30,
            availableMemoryBytes: 6 << 30)
        #expect(made.lines == ["host: unknown", "kernel: unknown", "CPUs: 2 × AMD EPYC",
                               "memory: 8 GiB, 6 GiB available"])
    }

    @Test("tune summary: top 5 per operation with spread, recommendation, ceilings, report path")
    func tuneSummary() throws {
        let dir = try ReportBuilderSamples.ownLogs(read: 1.0, write: 0.5, count: 7)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = try LogParser.parseFolder(dir)
        let result = try ParamGenerator.generate(folder, objective: .time)
        let probe = ProbeResult(
            folder: "/data", engine: .uring, ioSize: 1 << 30, blockSize: 1 << 20, queueDepth: 64,
            intraOpParallelism: 8, direct: true, readGiBps: 14.0, writeGiBps: 13.0)
        let lines = ReportBuilder.tuneSummary(
            folder: folder, result: result, device: ReportBuilderSamples.device(ceilingGiBps: 28.0), probe: probe,
            reportPath: "/data/aio-report.html")
        let readHeader = try #require(lines.firstIndex(of: "top 5 read of 7 (median GiB/s, min–max over trials):"))
        #expect(lines[readHeader + 1]
            == "   1.   7.00  (6.90–7.20, 3 trials)  block 1M, qd 32, batch submit, overlap, io_parallel 7")
        #expect(lines[readHeader + 5].hasPrefix("   5.   3.00  (2.90–3.20, 3 trials)"))
        #expect(lines[readHeader + 6] == "top 5 write of 7 (median GiB/s, min–max over trials):")
        #expect(lines.contains { $0.hasPrefix("recommended by least time per GiB read and written") })
        #expect(lines.contains { $0.hasPrefix("device: nvme0n1 (Test NVMe) behind /data; theoretical ceiling: ") })
        #expect(lines.contains("best read 7.00 GiB/s: 25 % of the theoretical ceiling,"
            + " 50 % of the measured ceiling (14.00 GiB/s)"))
        #expect(!lines.contains { $0.contains("SUSPECT") })
        #expect(lines.last == "report: /data/aio-report.html")
    }

    @Test("tune summary after a race: a faster configuration measured once is not listed above those measured twice")
    func tuneSummaryWinnersCurse() throws {
        // 7 configurations with 3 trials each, and one faster with a single trial (one lucky run).
        let lucky = SweepConfiguration(queueDepth: 128, intraOpParallelism: 8)
        let once = [LogTrial(bytes: 1 << 30, taskLatency: 1 / 50.0, e2eLatency: 1 / 50.0)]
        let extra = [IOOperation.read, .write].map { op in
            (op, lucky, LogWriter.format(operation: op, configuration: lucky, engine: "io_uring", ioSize: 1 << 30,
                                         trials: once))
        }
        let dir = try ReportBuilderSamples.ownLogs(read: 1.0, write: 0.5, count: 7, extra: extra)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = ReportBuilder.tuneSummary(folder: try LogParser.parseFolder(dir), result: nil, device: nil,
                                              reportPath: nil)
        let header = try #require(lines.firstIndex(
            of: "top 5 read of 8 measured at least twice (median GiB/s, min–max over trials):"))
        #expect(lines[header + 1].hasPrefix("   1.   7.00  (6.90–7.20, 3 trials)"), "\(lines)")
        #expect(!lines.contains { $0.contains("50.00") })
    }

    @Test("tune summary: figures above the theoretical ceiling are flagged; failures and no choice are said")
    func tuneSummarySuspect() throws {
        let broken = SweepConfiguration(blockSize: 8 << 20, intraOpParallelism: 1)
        let dir = try ReportBuilderSamples.ownLogs(read: 1.0, write: 0.5, count: 3, extra: [
            (.write, broken, LogWriter.format(operation: .write, configuration: broken, trials: [], error: "ENOSPC")),
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = try LogParser.parseFolder(dir)
        let lines = ReportBuilder.tuneSummary(
            folder: folder, result: nil, device: ReportBuilderSamples.device(ceilingGiBps: 2.5), reportPath: nil)
        #expect(lines.contains("top 3 read of 3 (median GiB/s, min–max over trials):"))
        #expect(lines.contains("top 3 write of 4 (median GiB/s, min–max over trials):"))
        #expect(lines.contains {
            $0.hasPrefix("   1.   3.00  ") && $0.hasSuffix("SUSPECT: above the theoretical ceiling")
        })
        #expect(lines.contains("  failed: 1 configuration: block_overlap_d32_bs8M_p1: ENOSPC"))
        #expect(lines.contains("recommended: none (no configuration could be chosen)"))
        #expect(lines.contains { $0.hasPrefix("SUSPECT: 2 results are above the theoretical ceiling of 2.50 GiB/s") })
        #expect(lines.contains { $0.hasPrefix("SUSPECT: ") && $0.contains("page cache") })
        #expect(!lines.contains { $0.hasPrefix("report: ") })
        let none = ReportBuilder.tuneSummary(folder: folder, result: nil, device: nil, reportPath: nil)
        #expect(none.contains("no ceiling known: the results cannot be checked against the hardware's limit"))
    }
}
