@testable import AIOBench
import AsyncIO
import Foundation
import Synchronization
import Testing

/// ds_io's workload: the write modes, the measurement targets, and the DeepSpeed cross-check driven
/// by fake `ds_io` scripts.
@Suite("Workload: write modes, targets, DeepSpeed cross-check")
struct WorkloadTests {
    /// The inode of each data file at the start of each loop (nil: no file there yet).
    final class LoopFiles: Sendable {
        let seen = Mutex<[[UInt64?]]>([])
        func record(_ paths: [String]) {
            let inodes = paths.map { path -> UInt64? in
                (try? FileManager.default.attributesOfItem(atPath: path))?[.systemFileNumber] as? UInt64
            }
            seen.withLock { $0.append(inodes) }
        }
    }

    func runWrites(_ mode: WriteMode, runs: Int) throws -> [[UInt64?]] {
        let folder = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var plan = BenchPlan(targets: [BenchTarget(folder: folder)], ioSize: 1 << 20)
        plan.warmupLoops = 1
        plan.loops = 3
        plan.buffered = true
        plan.lockMemory = false
        plan.writeMode = mode
        let runner = try BenchRunner(plan: plan)
        defer { runner.cleanup() }
        let files = LoopFiles()
        runner.loopWillStart = { _, paths in files.record(paths) }
        for _ in 0..<runs {
            _ = try runner.run(.write, config: HandleConfig(blockSize: 64 << 10, queueDepth: 4, engine: .posix),
                               recordLatency: false)
        }
        return files.seen.withLock { $0 }
    }

    @Test("overwrite (ds_io): the warm-up creates the file, every later loop and run finds the same file")
    func overwriteKeepsTheFile() throws {
        let seen = try runWrites(.overwrite, runs: 2)
        #expect(seen.count == 8)
        #expect(seen[0] == [nil], "the first loop (warm-up) starts without a file: it was removed once")
        let first = try #require(seen[1][0], "the warm-up created the file")
        for (loop, inodes) in seen.enumerated().dropFirst() {
            #expect(inodes == [first], "loop \(loop) overwrites the same file in place")
        }
    }

    @Test("fresh file each loop: every loop starts without the file")
    func freshFileEachLoop() throws {
        let seen = try runWrites(.freshFileEachLoop, runs: 2)
        #expect(seen.count == 8)
        #expect(seen.allSatisfy { $0 == [nil] })
    }

    @Test("the deepspeed target: kernel AIO, pinned buffers of 4 KiB mappings laid out as ds_io's; native: huge pages",
          .enabled(if: EngineProbe.probe(.aio).works, "kernel AIO is refused here"))
    func targets() throws {
        let folder = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for target in MeasurementTarget.allCases {
            var plan = BenchPlan(targets: [BenchTarget(folder: folder)], ioSize: 8 << 20)
            plan.loops = 1
            plan.target = target
            plan.buffered = IOFile.directIOAlignment(folder: folder) == nil
            let runner = try BenchRunner(plan: plan)
            defer { runner.cleanup() }
            let result = try runner.run(.write, config: HandleConfig(queueDepth: 8), recordLatency: false)
            #expect(result.target == target)
            #expect(result.summaryLines.contains("target: \(target.summary)"))
            if target == .deepspeed {
                #expect(result.config.engine == .aio)
                #expect(result.hugePageBytes == 0)
                #expect(result.summaryLines.contains { $0.hasPrefix("buffers: ") && $0.contains("no huge pages") })
                #expect(result.pieceBytes == MeasurementTarget.deepspeed.physicalRunBytes)
                #expect(result.footprintBytes == nil)
                #expect(result.summaryLines.contains {
                    $0.hasPrefix("buffers: ") && $0.contains("built of 128 KiB pieces of huge pages") && $0.contains("ds_io's")
                })
            } else {
                #expect(result.config.engine == EngineProbe.resolve(.auto).kind)
                #expect(result.footprintBytes == nil)
                #expect(!result.summaryLines.contains { $0.contains("allocated after") })
            }
        }
    }

    @Test("the deepspeed target says how its buffers' layout compares with ds_io's")
    func layoutComparison() {
        #expect(BenchResult.layoutComparison(runs: 36 << 10, wanted: 36 << 10, attempts: 1) == " (ds_io's: 36 KiB; +0 %)")
        #expect(BenchResult.layoutComparison(runs: 27 << 10, wanted: 36 << 10, attempts: 3)
                    == " (ds_io's: 36 KiB; -25 % after 3 allocations)")
        #expect(BenchResult.layoutComparison(runs: nil, wanted: 36 << 10, attempts: 1).contains("need root"))
    }

    @Test("the deepspeed target holds no footprint for the engines that move no data (null)")
    func noFootprintWithoutData() throws {
        let folder = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var plan = BenchPlan(targets: [BenchTarget(folder: folder)], ioSize: 4 << 20)
        plan.loops = 1
        plan.target = .deepspeed
        let runner = try BenchRunner(plan: plan)
        defer { runner.cleanup() }
        let result = try runner.run(.write, config: HandleConfig(queueDepth: 8, engine: .null), recordLatency: false)
        #expect(result.config.engine == .null)
        #expect(result.footprintBytes == nil)
        #expect(!result.summaryLines.contains { $0.contains("allocated after") })
    }

    @Test("the deepspeed target refuses other engines and allocating writes")
    func deepspeedRefusals() {
        #expect(throws: BenchError.self) { try MeasurementTarget.deepspeed.engine(asked: .uring) }
        #expect(throws: BenchError.self) { try MeasurementTarget.deepspeed.engine(asked: .posix) }
        #expect((try? MeasurementTarget.deepspeed.engine(asked: .auto)) == .aio)
        #expect((try? MeasurementTarget.native.engine(asked: .posix)) == .posix)
        var plan = BenchPlan(targets: [BenchTarget(folder: NSTemporaryDirectory())], ioSize: 1 << 20)
        plan.target = .deepspeed
        plan.writeMode = .freshFileEachLoop
        #expect(throws: BenchError.usage(
            "--fresh_file_each_loop contradicts --target deepspeed, which measures ds_io's write mode "
                + "(overwrite in place): drop one of them")) { try plan.validated() }
    }

    // MARK: - DeepSpeed cross-check with fake ds_io scripts

    func fakeDSIO(_ body: String) throws -> (folder: String, script: String) {
        let folder = try SweepFixtures.temporaryFolder()
        let script = folder + "/ds_io"
        try ("#!/bin/sh\n" + body + "\n").write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: script)
        return (folder, script)
    }

    @Test("ds_io's four lines are parsed and compared; its arguments are ds_io's flags")
    func deepSpeedParsed() throws {
        let (folder, script) = try fakeDSIO("""
            echo "$@" > "$(dirname "$0")/args"
            echo "Task Read Latency = 0.5 sec"; echo "Task Read Speed = 2.0 GB/sec"
            echo "E2E Read Latency = 0.5 sec"; echo "E2E Read Speed = 2.0 GB/sec"
            """)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let check = try #require(try DeepSpeedCrossCheck(explicit: script))
        let config = HandleConfig(blockSize: 1 << 20, queueDepth: 32, singleSubmit: true, overlapEvents: false,
                                  intraOpParallelism: 2)
        let result = try check.compare(.read, config: config, folder: folder, ioSize: 1 << 30, loops: 2,
                                       aioBenchGiBps: 3.0)
        #expect(result.deepSpeedGiBps == 2.0)
        #expect(result.line == "cross-check read: aio-bench 3.000 GiB/s, ds_io 2.000 GiB/s, ratio 1.500 (DeepSpeed)")
        let args = try String(contentsOfFile: folder + "/args", encoding: .utf8)
        #expect(args == "--folder \(folder) --io_size 1073741824 --block_size 1048576 --queue_depth 32 "
            + "--io_parallel 2 --loops 2 --warmup_loops 1 --read --single_submit --sequential_requests\n")
    }

    @Test("a ds_io that crashes, prints nothing usable or hangs is one error naming its last line")
    func deepSpeedFailures() throws {
        let cases: [(String, String)] = [
            ("echo 'Traceback'; echo 'ImportError: no module named torch' >&2; exit 1",
             "cross-check: ds_io failed (exit 1): ImportError: no module named torch"),
            ("echo 'warming up'", "cross-check: ds_io printed no E2E Write Speed line: warming up"),
            ("kill -SEGV $$", "cross-check: ds_io was killed by signal 11"),
            ("sleep 30", "cross-check: ds_io gave no result within"),
        ]
        for (body, expected) in cases {
            let (folder, script) = try fakeDSIO(body)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let check = try #require(try DeepSpeedCrossCheck(explicit: script))
            let error = #expect(throws: BenchError.self) {
                try check.compare(.write, config: HandleConfig(), folder: folder, ioSize: 1 << 20, loops: 1,
                                  aioBenchGiBps: 1, timeout: .milliseconds(500))
            }
            #expect(error?.description.hasPrefix(expected) == true, "\(error?.description ?? "no error")")
        }
    }

    @Test("ds_io missing is a note, a --deepspeed that is no program a usage error")
    func deepSpeedMissing() throws {
        #expect(throws: BenchError.self) { try DeepSpeedCrossCheck(explicit: "/nonexistent/ds_io") }
        #expect(DeepSpeedCrossCheck.notFoundLine.contains("skipped"))
    }
}
