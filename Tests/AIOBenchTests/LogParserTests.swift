import AsyncIO
@testable import AIOBench
import Foundation
import Testing

@Suite("LogParser")
struct LogParserTests {
    @Test("Python's float repr", arguments: [
        (1.1552252388228905, "1.1552252388228905"), (4.50955819424315, "4.50955819424315"), (1e16, "1e+16"),
        (1e15, "1000000000000000.0"), (0.0001, "0.0001"), (0.000123, "0.000123"), (0.00001, "1e-05"),
        (3e-05, "3e-05"), (100.0, "100.0"), (1234.5, "1234.5"), (-2.5, "-2.5"), (0.1, "0.1"),
        (Double.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        (0.0, "0.0"), (-0.0, "-0.0"),
        (Double.infinity, "inf"), (-Double.infinity, "-inf"), (Double.nan, "nan"),
        (123456789012345680.0, "1.2345678901234568e+17"), (12345678901234567.0, "1.2345678901234568e+16"),
        (2.5e-07, "2.5e-07"), (1e22, "1e+22"), (1e100, "1e+100"), (9007199254740993.0, "9007199254740992.0"),
    ])
    func pythonFloat(value: Double, expected: String) {
        #expect(PythonRepr.float(value) == expected)
    }

    @Test("Python's str repr", arguments: [
        ("read", "'read'"), ("it's", "\"it's\""), ("a\\b", "'a\\\\b'"), ("x\"y", "'x\"y'"),
        ("both'\"", "'both\\'\"'"), ("tab\t", "'tab\\t'"), ("\u{01}", "'\\x01'"), ("\u{7F}", "'\\x7f'"), ("é", "'é'"),
    ])
    func pythonString(value: String, expected: String) {
        #expect(PythonRepr.string(value) == expected)
    }

    @Test("Python's %5.2f", arguments: [
        (1.8820454924822354, " 1.88"), (4.50955819424315, " 4.51"), (123.456, "123.46"), (0.005, " 0.01"),
        (2.675, " 2.67"), (Double.infinity, "  inf"),
    ])
    func pythonFixed(value: Double, expected: String) {
        #expect(PythonRepr.fixed(value, width: 5, precision: 2) == expected)
    }

    @Test("DeepSpeed's key of a file name, printed as a Python tuple", arguments: [
        ("read_block_overlap_ftd1_d128_bs1M_p1.txt", "('read', 'block', 'overlap', 'ftd1', 128, 1048576, 1)"),
        ("/x/y/write_single_sequential_ftd1_d32_bs8M_p4.txt",
         "('write', 'single', 'sequential', 'ftd1', 32, 8388608, 4)"),
        ("read_block_overlap_ftd2_d8_bs128K_p2_t3_eio_uring.txt",
         "('read', 'block', 'overlap', 'ftd2', 8, 131072, 2, 3, 'eio', 'uring')"),
        ("read_block_overlap_ftd1_d8_bs2G_p1.txt", "('read', 'block', 'overlap', 'ftd1', 8, 2147483648, 1)"),
        ("read_block_overlap_ftd1_d8_bs1048576_p1.txt", "('read', 'block', 'overlap', 'ftd1', 8, 1048576, 1)"),
        ("read_dX_bsQ_ds3__x.txt", "('read', None, None, 'ds3', None, 'x')"),
        ("read.txt", "('read',)"),
        ("notes.tar.gz", "('notes.tar',)"),
    ])
    func key(fileName: String, expected: String) {
        #expect(LogKey(fileName: fileName).description == expected)
    }

    @Test("keys sort as Python sorts tuples")
    func keyOrder() {
        let names = [
            "read_single_overlap_ftd1_d128_bs8M_p8", "read_block_sequential_ftd1_d32_bs8M_p1",
            "read_block_overlap_ftd1_d128_bs1M_p1", "read_block_overlap_ftd1_d32_bs8M_p1",
            "read_block_overlap_ftd1_d32_bs1M_p2",
        ]
        let sorted = names.map { LogKey(fileName: $0 + ".txt") }.sorted().map(\.description)
        // Python 3: sorted([...]) of the same tuples.
        #expect(sorted == [
            "('read', 'block', 'overlap', 'ftd1', 32, 1048576, 2)",
            "('read', 'block', 'overlap', 'ftd1', 32, 8388608, 1)",
            "('read', 'block', 'overlap', 'ftd1', 128, 1048576, 1)",
            "('read', 'block', 'sequential', 'ftd1', 32, 8388608, 1)",
            "('read', 'single', 'overlap', 'ftd1', 128, 8388608, 8)",
        ])
        #expect(LogKey(fields: [.string("a")]) < LogKey(fields: [.string("a"), .int(1)]))
    }

    @Test("a real DeepSpeed log")
    func deepSpeedLog() throws {
        let path = SweepFixtures.deepSpeedLogs + "/_aio_bench_read_logs/read_block_overlap_ftd1_d128_bs1M_p1.txt"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let log = LogParser.parse(text, operation: .read)
        #expect(log.metric == 1.1552252388228905)
        #expect(log.summary == LogSummary(taskLatency: 0.21632647514343262, taskSpeed: 1.155660673684257,
                                          e2eLatency: 0.21640801429748535, e2eSpeed: 1.1552252388228905))
        #expect(log.trials.isEmpty)
        #expect(log.samples == [1.1552252388228905])
        #expect(log.operation == .read)
        #expect(log.configuration == nil)
        #expect(log.warnings.isEmpty)
        // Asked for the other operation's metric, like DeepSpeed searching `E2E Write Speed`: none.
        #expect(LogParser.parse(text, operation: .write).metric == nil)
        // Without an operation, the one whose lines are there.
        #expect(LogParser.parse(text).metric == 1.1552252388228905)
    }

    @Test("DeepSpeed's parser rules: the first metric line wins, CRLF is fine, a missing line is nil")
    func deepSpeedRules() {
        let text = "E2E Read Speed = 2.5 GB/sec\r\nE2E Read Speed = 3.5 GB/sec\r\n"
        #expect(LogParser.parse(text, operation: .read).metric == 2.5)
        #expect(LogParser.parse(" E2E Read Speed = 2.5 GB/sec\n", operation: .read).metric == nil)
        #expect(LogParser.parse("nothing here\n", operation: .read).metric == nil)
        let broken = LogParser.parse("E2E Read Speed = fast GB/sec\n", operation: .read)
        #expect(broken.metric == nil)
        #expect(broken.warnings.count == 1)
        #expect(LogParser.parse("E2E Read Speed\n", operation: .read).metric == nil)
        #expect(LogParser.parse("", operation: .read) == SweepLog(operation: .read))
    }

    static let trials = [
        LogTrial(bytes: 256 << 20, taskLatency: 0.21632647514343262, e2eLatency: 0.21640801429748535),
        LogTrial(bytes: 256 << 20, taskLatency: 0.2, e2eLatency: 0.2001),
        LogTrial(bytes: 256 << 20, taskLatency: 0.25, e2eLatency: 0.2502),
    ]

    @Test("format then parse gives the same log", arguments: [1, 2, 3])
    func roundTrip(trialCount: Int) throws {
        let config = SweepConfiguration(blockSize: 128 << 10, blockSizeText: "128K", queueDepth: 64, singleSubmit: true,
                                        overlapEvents: false, intraOpParallelism: 4, tasksPerFolder: 2, folderCount: 2,
                                        engine: .auto)
        let trials = Array(Self.trials.prefix(trialCount))
        let text = LogWriter.format(operation: .write, configuration: config, engine: "io_uring", ioSize: 256 << 20,
                                    trials: trials, notes: ["huge pages: yes", "page cache dropped: no (not root)"])
        let log = LogParser.parse(text)
        #expect(log.warnings.isEmpty)
        #expect(log.operation == .write)
        #expect(log.configuration == config)
        #expect(log.engine == "io_uring")
        #expect(log.ioSize == 256 << 20)
        #expect(log.notes == ["huge pages: yes", "page cache dropped: no (not root)"])
        #expect(log.trialResults == trials)
        #expect(log.trials == trials.map(\.e2eSpeed))
        #expect(log.error == nil)
        let median = try #require(SweepLog.medianTrial(trials))
        #expect(log.summary == LogSummary(median))
        #expect(LogWriter.format(log) == text)
        // The first log line of a file: DeepSpeed's parser finds the same metric.
        let metricLine = try #require(text.split(separator: "\n").first { $0.hasPrefix("E2E Write Speed") })
        #expect(metricLine == "E2E Write Speed = \(PythonRepr.float(median.e2eSpeed)) GB/sec")
        #expect(text.split(separator: "\n").suffix(4).map { String($0.prefix(16)) }
            == ["Task Write Laten", "Task Write Speed", "E2E Write Latenc", "E2E Write Speed "])
    }

    @Test("the median trial: the middle one, the lower middle for an even count")
    func medianTrial() {
        let speeds = Self.trials.map(\.e2eSpeed)  // 1.155..., 1.249..., 0.999...
        #expect(SweepLog.medianTrial(Self.trials)?.e2eSpeed == speeds[0])
        #expect(SweepLog.medianTrial(Array(Self.trials.prefix(2)))?.e2eSpeed == speeds[0])
        #expect(SweepLog.medianTrial([]) == nil)
        let trial = Self.trials[0]
        #expect(abs(trial.e2eSpeed - 1.1552252388228905) < 1e-9)
    }

    @Test("the exact text of a log")
    func exactText() {
        let trial = LogTrial(taskLatency: 0.21632647514343262, taskSpeed: 1.155660673684257,
                             e2eLatency: 0.21640801429748535, e2eSpeed: 1.1552252388228905)
        let text = LogWriter.format(operation: .read, configuration: SweepConfiguration(), engine: "io_uring",
                                    ioSize: 268435456, trials: [trial])
        #expect(text == """
            aio-bench log format 1
            # speeds are bytes / 1024^3 / sec, printed as "GB/sec" like DeepSpeed does (GiB/s); \
            the last four lines are the median trial
            operation: read
            config: block_size=1M queue_depth=32 single_submit=false sequential_requests=false io_parallel=1 \
            tasks_per_folder=1 folders=1
            engine: io_uring
            io_size: 268435456
            trial 1/1: read 1.1552252388228905 GB/sec in 0.21640801429748535 sec \
            (task 1.155660673684257 GB/sec in 0.21632647514343262 sec)
            Task Read Latency = 0.21632647514343262 sec
            Task Read Speed = 1.155660673684257 GB/sec
            E2E Read Latency = 0.21640801429748535 sec
            E2E Read Speed = 1.1552252388228905 GB/sec

            """)
    }

    @Test("a failed configuration's log")
    func errorLog() {
        let text = LogWriter.format(operation: .write, configuration: SweepConfiguration(), trials: [],
                                    error: "write /mnt/x: No space left on device (errno 28)\nat offset 4096")
        #expect(!text.contains("E2E"))
        let log = LogParser.parse(text, operation: .write)
        #expect(log.error == "write /mnt/x: No space left on device (errno 28) at offset 4096")
        #expect(log.metric == nil)
        #expect(log.samples.isEmpty)
        #expect(log.warnings.isEmpty)
    }

    @Test("malformed lines of our own format are warnings, not crashes")
    func malformed() {
        let text = """
            aio-bench log format 1
            operation: copy
            config: block_size=1M queue_depth=zero
            io_size: lots
            trial 1/3: read fast GB/sec in 0.2 sec (task 1 GB/sec in 0.2 sec)
            trial 2/3: read 1.0 GB/sec
            trial 3/3: read 1.5 GB/sec in 0.2 sec (task 1.6 GB/sec in 0.19 sec)
            E2E Read Speed = 1.5 GB/sec
            """
        let log = LogParser.parse(text)
        #expect(log.warnings.count == 5)
        #expect(log.trials == [1.5])
        #expect(log.configuration == nil)
        #expect(log.operation == .read)
        #expect(log.metric == 1.5)
    }

    @Test("the fixture folder: records, DeepSpeed's parse lines")
    func fixtureFolder() throws {
        let folder = try LogParser.parseFolder(SweepFixtures.deepSpeedLogs)
        #expect(folder.records.count == 8)
        #expect(folder.skipped.isEmpty)
        #expect(folder.missing.isEmpty)
        // What DeepSpeed 0.19.8's parse_aio_stats.py prints for these files (run with Python 3).
        #expect(folder.deepSpeedLines(for: .read) == [
            "('read', 'block', 'overlap', 'ftd1', 128, 1048576, 1) = 1.1552252388228905",
            "('read', 'block', 'sequential', 'ftd1', 32, 1048576, 1) = 2.0966152664917783",
            "('read', 'single', 'sequential', 'ftd1', 32, 8388608, 2) = 1.9535285788806915",
            "('read', 'single', 'sequential', 'ftd1', 32, 8388608, 4) = 1.8820454924822354",
        ])
        #expect(folder.deepSpeedLines(for: .write) == [
            "('write', 'block', 'overlap', 'ftd1', 128, 1048576, 1) = 3.1000396161373676",
            "('write', 'block', 'sequential', 'ftd1', 32, 1048576, 1) = 3.507259852896415",
            "('write', 'single', 'sequential', 'ftd1', 32, 8388608, 2) = 4.370140992994111",
            "('write', 'single', 'sequential', 'ftd1', 32, 8388608, 4) = 4.50955819424315",
        ])
        let record = try #require(folder.records(for: .write).last)
        #expect(record.configuration == SweepConfiguration(blockSize: 8 << 20, blockSizeText: "8M", queueDepth: 32,
                                                           singleSubmit: true, overlapEvents: false, intraOpParallelism: 4))
        #expect(record.path.hasSuffix("/_aio_bench_write_logs/write_single_sequential_ftd1_d32_bs8M_p4.txt"))
        // One operation's folder given directly.
        let reads = try LogParser.parseFolder(SweepFixtures.deepSpeedLogs + "/_aio_bench_read_logs")
        #expect(reads.records.count == 4)
        #expect(reads.records.allSatisfy { $0.operation == .read })
    }

    @Test("the full DeepSpeed run: 128 logs, parse output identical to DeepSpeed's")
    func fullFixtureFolder() throws {
        let folder = try LogParser.parseFolder(try SweepFixtures.requireFullDeepSpeedLogs())
        #expect(folder.records.count == 128)
        #expect(folder.records(for: .read).count == 64)
        #expect(folder.skipped.isEmpty)
        #expect(folder.missing.isEmpty)
        for operation in IOOperation.allCases {
            let expected = try String(contentsOfFile: SweepFixtures.expectedParse
                + "/deepspeed-0.19.8-parse-\(operation.rawValue).txt", encoding: .utf8)
            #expect(folder.deepSpeedLines(for: operation).joined(separator: "\n") + "\n" == expected)
        }
    }

    @Test("stray files are skipped and listed; a log without a result is missing")
    func strayFiles() throws {
        let root = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let reads = root + "/_aio_bench_read_logs"
        try SweepFixtures.write(SweepFixtures.deepSpeedLines(.read, speed: 1.5), reads,
                                "read_block_overlap_ftd1_d32_bs1M_p1.txt")
        try SweepFixtures.write("Traceback (most recent call last):\n", reads,
                                "read_block_overlap_ftd1_d32_bs1M_p2.txt")
        try SweepFixtures.write("notes", reads, "notes.md")
        try SweepFixtures.write("x", reads, "read_garbage.txt")
        try SweepFixtures.write("x", reads, ".read_block_overlap_ftd1_d32_bs1M_p4.txt.12.34.tmp")
        try FileManager.default.createDirectory(atPath: reads + "/old.txt", withIntermediateDirectories: true)
        let folder = try LogParser.parseFolder(root)
        #expect(folder.records.count == 2)
        #expect(folder.missing.map(\.name.fileName) == ["read_block_overlap_ftd1_d32_bs1M_p2.txt"])
        #expect(folder.deepSpeedLines(for: .read) == [
            "('read', 'block', 'overlap', 'ftd1', 32, 1048576, 1) = 1.5",
            "('read', 'block', 'overlap', 'ftd1', 32, 1048576, 2) = None",
        ])
        let skipped = Dictionary(uniqueKeysWithValues: folder.skipped.map {
            (URL(fileURLWithPath: $0.path).lastPathComponent, $0.reason)
        })
        #expect(skipped.count == 4)
        #expect(skipped["notes.md"] == "not a .txt file")
        #expect(skipped["read_garbage.txt"]?.contains("name is not") == true)
        #expect(skipped[".read_block_overlap_ftd1_d32_bs1M_p4.txt.12.34.tmp"] == "not a .txt file")
        #expect(skipped["old.txt"] == "a folder")
    }

    @Test("a folder of logs directly, reads and writes mixed")
    func flatFolder() throws {
        let root = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try SweepFixtures.write(SweepFixtures.deepSpeedLines(.write, speed: 3), root,
                                "write_block_overlap_ftd1_d32_bs1M_p1.txt")
        try SweepFixtures.write(SweepFixtures.deepSpeedLines(.read, speed: 2), root,
                                "read_block_overlap_ftd1_d32_bs1M_p1.txt")
        let folder = try LogParser.parseFolder(root)
        #expect(folder.records.map(\.operation) == [.read, .write])
        #expect(folder.records.map(\.metric) == [2, 3])
    }

    @Test("folders without logs are usage errors")
    func noLogs() throws {
        let root = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: BenchError.self) { try LogParser.parseFolder(root) }
        try SweepFixtures.write("x", root, "readme.md")
        do {
            _ = try LogParser.parseFolder(root)
            Issue.record("expected an error")
        } catch {
            guard case .usage(let text) = error else { throw error }
            #expect(text.contains("holds no logs"))
            #expect(text.contains("1 other file skipped"))
        }
        #expect(throws: BenchError.usage("log folder \(root)/none does not exist")) {
            try LogParser.parseFolder(root + "/none")
        }
        #expect(throws: BenchError.usage("log folder \(root)/readme.md is not a folder")) {
            try LogParser.parseFolder(root + "/readme.md")
        }
    }

    @Test("writing a log atomically: mode 0600, no temporary file left, replaces the old one")
    func atomicWrite() throws {
        let root = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/read_block_overlap_ftd1_d32_bs1M_p1.txt"
        try LogWriter.write("old\n", toFile: path)
        let text = LogWriter.format(operation: .read, configuration: SweepConfiguration(), trials: Self.trials)
        try LogWriter.write(text, toFile: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
        let names = try FileManager.default.contentsOfDirectory(atPath: root)
        #expect(names == ["read_block_overlap_ftd1_d32_bs1M_p1.txt"])
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        let folder = try LogParser.parseFolder(root)
        #expect(folder.records.first?.log.trialResults == Self.trials)
        do {
            try LogWriter.write(text, toFile: root + "/missing/x.txt")
            Issue.record("expected an error")
        } catch {
            guard case .runtime(let message, _) = error else { throw error }
            #expect(message.contains("No such file or directory"))
            #expect(message.contains(root + "/missing/"))
        }
    }
}
