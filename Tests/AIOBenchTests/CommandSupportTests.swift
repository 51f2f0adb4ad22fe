import AsyncIO
import Foundation
import Testing

@testable import AIOBench

/// The library side of the commands: what `aio-bench` used to compute itself and now only prints.
@Suite("Command support")
struct CommandSupportTests {
    /// A fresh folder under the temporary directory, removed by the caller.
    func scratchFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.path + "/aio-cmd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    // MARK: - fio

    @Test func fioEquivalentOfKnobs() throws {
        let knobs = HandleConfig(blockSize: 7 << 10, queueDepth: 16, overlapEvents: false, intraOpParallelism: 3,
                               engine: .null, engineOptions: EngineOptions(uring: URingOptions(sqpoll: true)))
        let fio = try FioEquivalent(directory: "/d", operation: .read, ioSize: 1000 << 20, config: knobs)
        #expect(fio.engine == .null)
        #expect(fio.sizePerJob == (1000 << 20) / 3)
        #expect(fio.queueDepth == 16 && fio.blockSize == 7 << 10 && fio.intraOpParallelism == 3)
        let warnings = fio.differences(ioSize: 1000 << 20, config: knobs)
        #expect(warnings.count == 4)
        #expect(warnings[0].hasPrefix("--io_size 1048576000 is not a multiple of --io_parallel 3"))
        #expect(warnings[1].contains("is not a multiple of --block_size 7168"))
        #expect(warnings[2].contains("--sequential_requests"))
        #expect(warnings[3].hasPrefix("--sqpoll"))
        let even = try FioEquivalent(directory: "/d", operation: .write, ioSize: 4 << 20, config: HandleConfig(queueDepth: 32))
        #expect(even.differences(ioSize: 4 << 20, config: HandleConfig(queueDepth: 32)).isEmpty)
    }

    @Test func fioEquivalentRefusesKnobsThatDoNotFit() {
        let message = "--io_parallel 8 must be between 1 and 4 (the number of 1M blocks in --io_size 4M)"
        #expect(throws: BenchError.usage(message)) {
            try FioEquivalent(directory: "/d", operation: .read, ioSize: 4 << 20, config: HandleConfig(queueDepth: 32, intraOpParallelism: 8))
        }
    }

    @Test func fioEngineOfEachEngine() {
        #expect(FioEquivalent.Engine(resolving: .null) == .null)
        #expect(FioEquivalent.Engine(resolving: .posix) == .psync)
        #expect(FioEquivalent.Engine.allCases.contains(FioEquivalent.Engine(resolving: .auto)))
    }

    @Test func crossCheckLine() {
        let both = FioCrossCheck.Comparison(operation: .read, aioBenchGiBps: 2.5, fioGiBps: 2, engine: .ioUring)
        #expect(both.ratio == 1.25)
        #expect(both.line == "cross-check read: aio-bench 2.500 GiB/s, fio 2.000 GiB/s, ratio 1.250 (fio io_uring)")
        let none = FioCrossCheck.Comparison(operation: .write, aioBenchGiBps: 1, fioGiBps: 0, engine: .psync)
        #expect(none.line == "cross-check write: aio-bench 1.000 GiB/s, fio 0.000 GiB/s, ratio 0.000 (fio psync)")
    }

    // MARK: - Checks before a run

    @Test func directIOPolicy() throws {
        #expect(throws: BenchError.usage("folder '/proc' does not support direct I/O (O_DIRECT): "
            + "use --buffered, or a folder on a disk file system")) {
            try DirectIOPolicy.check(folders: ["/proc"])
        }
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        guard let align = IOFile.directIOAlignment(folder: folder) else { return }
        try DirectIOPolicy.check(folders: [folder], blockSize: align * 4)
        #expect(throws: BenchError.usage("--block_size \(align + 1) is not a multiple of \(align), "
            + "the direct I/O alignment of '\(folder)'")) {
            try DirectIOPolicy.check(folders: [folder], blockSize: align + 1)
        }
        var plan = BenchPlan(targets: [BenchTarget(folder: folder)], ioSize: 4 << 20)
        try plan.checkBeforeRun(config: HandleConfig(blockSize: align + 1, queueDepth: 32, engine: .null))
        plan.buffered = true
        try plan.checkBeforeRun(config: HandleConfig(blockSize: align + 1, queueDepth: 32))
        var options = SweepOptions(nvmeDirs: ["/proc"])
        #expect(throws: BenchError.self) { try options.checkDirectIO() }
        options.buffered = true
        try options.checkDirectIO()
    }

    @Test func benchTargets() throws {
        #expect(try BenchTarget.targets(folder: "/a", mapping: []) == [BenchTarget(folder: "/a")])
        #expect(try BenchTarget.targets(folder: nil, mapping: ["/a:1", "/b:c:2"])
            == [BenchTarget(folder: "/a", deviceID: 1), BenchTarget(folder: "/b:c", deviceID: 2)])
        #expect(throws: BenchError.usage("give either --folder or --folder_to_device_mapping, not both")) {
            try BenchTarget.targets(folder: "/a", mapping: ["/a:0"])
        }
        let none = "no folder given: use --folder DIR or --folder_to_device_mapping DIR:ID ..."
        #expect(throws: BenchError.usage(none)) {
            try BenchTarget.targets(folder: nil, mapping: [])
        }
    }

    @Test func outputPath() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try OutputPath.checkWritable(folder + "/report.html", flag: "--output")
        #expect(throws: BenchError.usage("--csv is empty: give a file name")) {
            try OutputPath.checkWritable("", flag: "--csv")
        }
        #expect(throws: BenchError.usage("--report '\(folder)' is a folder: give a file name")) {
            try OutputPath.checkWritable(folder, flag: "--report")
        }
        #expect(throws: BenchError.usage("--json '\(folder)/no/x.json': folder '\(folder)/no' does not exist")) {
            try OutputPath.checkWritable(folder + "/no/x.json", flag: "--json")
        }
    }

    // MARK: - Text

    @Test func oneLine() {
        #expect(ConsoleText.oneLine("a\nb\rc\td\u{1b}e\u{7f}") == "a\\nb\\rc\\td\\u{1b}e\\u{7f}")
        #expect(ConsoleText.oneLine("ünïcødé") == "ünïcødé")
    }

    @Test func utf8Arguments() throws {
        try ConsoleText.checkUTF8([Array("io".utf8), Array("ü".utf8), []])
        #expect(throws: BenchError.usage("argument 2 is not valid UTF-8: 'd\\xff\\xa'; aio-bench takes file and "
            + "folder names as UTF-8: rename it, or pass a symbolic link with a UTF-8 name")) {
            try ConsoleText.checkUTF8([Array("io".utf8), [0x64, 0xFF, 0x0A]])
        }
    }

    @Test func sweepProgressText() {
        #expect(SweepEvent.duration(44.6) == "45s")
        #expect(SweepEvent.duration(125) == "2m5s")
        #expect(SweepEvent.duration(3780) == "1h3m")
        let starting = SweepEvent.starting(index: 3, total: 64, operation: .read, name: "n", trial: 1, trials: 3)
        #expect(starting.progressText == "[3/64] n trial 1/3 ...")
        #expect(!starting.isFailure)
        let done = SweepEvent.finished(index: 3, total: 64, operation: .read, name: "n", trial: 1, gibps: 1.2345,
                                       error: nil, etaSeconds: 125, best: [.read: ("n", 1.2345), .write: ("m", 0.5)])
        #expect(done.progressText == "[3/64] n trial 1: 1.234 GiB/s | best read 1.23, write 0.50 | ETA 2m5s")
        let failed = SweepEvent.finished(index: 4, total: 64, operation: .write, name: "m", trial: 2, gibps: nil,
                                         error: "EIO", etaSeconds: nil, best: [:])
        #expect(failed.progressText == "[4/64] m trial 2: FAILED: EIO | best  | ETA ?")
        #expect(failed.isFailure)
        #expect(SweepEvent.note("hello").progressText == "hello")
    }

    @Test func sweepHeaderAndSummary() {
        var options = SweepOptions(nvmeDirs: ["/a", "/b"])
        options.ioSize = 1 << 20
        options.trials = 2
        #expect(options.headerLine(configurations: 8) == "sweep: 8 configurations × 2 operation(s) × 2 trial(s), "
            + "io_size 1M per task, folders /a, /b, logs in _aio_bench_logs; target native (swift-aio's fastest path: "
            + "io_uring when it works, huge-page buffers); writes: overwrite in place (ds_io: the file is removed once, "
            + "before the first loop)")
        let summary = SweepSummary(
            runsDone: 4, skipped: 1, failed: [("x", "EIO on /a"), ("y", "bad")], wallSeconds: 2, ioSeconds: 1,
            removalSeconds: 0.5, logDir: "logs", aborted: "EIO on /a")
        #expect(summary.line == "sweep: 4 run(s) in 2.0 s (I/O 1.0 s, removing old write files 0.5 s; "
            + "tool overhead 125.0 ms per run), 1 complete log(s) kept from before; wrote 0.0 GiB to the drive")
        #expect(summary.failureWarnings == ["configuration y failed: bad"])
        #expect(summary.abortError(logDir: "logs") == .runtime("sweep stopped: EIO on /a; logs of finished "
            + "configurations are kept in logs; fix the cause and run the same command again to resume"))
    }
}
