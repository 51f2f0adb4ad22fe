@testable import AIOBench
@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// The request count a benchmark run reports (and its IOPS with it) is the number of requests the
/// engine's queues took, counted by a recording queue over the null engine, for seeded random sizes,
/// block sizes, depths, parallelism and task counts, with and without O_DIRECT.
@Suite("Benchmark request count")
struct BenchRequestCountTests {
    static let seeds: [UInt64] = (0..<6).map { 0xB3AC_4000 &+ $0 }

    /// Buffered, and direct where the temporary folder takes O_DIRECT.
    static let directModes: [Bool] = [false] + (IOFile.directIOAlignment(folder: NSTemporaryDirectory()) != nil
        ? [true] : [])

    @Test("BenchResult.requests equals the requests the queues took", arguments: directModes, seeds)
    func requestsMatchTheQueues(direct: Bool, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let folder = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let ioSize = Int.random(in: 1...(6 << 20), using: &rng)
        var plan = BenchPlan(targets: [BenchTarget(folder: folder)], ioSize: ioSize)
        plan.tasksPerFolder = Int.random(in: 1...2, using: &rng)
        plan.warmupLoops = 0
        plan.loops = Int.random(in: 1...3, using: &rng)
        plan.buffered = !direct
        plan.lockMemory = false
        let blockSize = direct ? 4096 * [1, 2, 16, 64, 256].randomElement(using: &rng)!
            : [1000, 4096, 65_536, 1 << 20].randomElement(using: &rng)!
        let blocks = (plan.ioSize + blockSize - 1) / blockSize
        let recorder = QueueRecorder()
        var options = EngineOptions()
        options.recorder = recorder
        let knobs = HandleConfig(
            blockSize: blockSize, queueDepth: Int.random(in: 1...16, using: &rng),
            singleSubmit: Bool.random(using: &rng), overlapEvents: Bool.random(using: &rng),
            intraOpParallelism: Int.random(in: 1...min(4, blocks), using: &rng), engine: .null, engineOptions: options)
        let operation: IOOperation = Bool.random(using: &rng) ? .read : .write
        let what = "seed \(seed): \(operation.rawValue) of \(plan.ioSize) bytes, \(direct ? "direct" : "buffered"), "
            + "block \(blockSize), depth \(knobs.queueDepth), io_parallel \(knobs.intraOpParallelism), "
            + "\(plan.tasksPerFolder) tasks, \(plan.loops) loops"

        let runner = try BenchRunner(plan: plan)
        defer { runner.cleanup() }
        let result = try runner.run(operation, config: knobs, recordLatency: false)
        let logs = recorder.logs
        #expect(logs.count == plan.taskCount * knobs.intraOpParallelism, "one log per worker of every task: \(what)")
        let taken = logs.reduce(0) { $0 + $1.requests.count }
        #expect(taken > 0, "\(what)")
        #expect(result.requests == taken, "reported \(result.requests), the queues took \(taken): \(what)")
    }
}
