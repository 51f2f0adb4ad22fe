@testable import AIOBench
import Foundation
import Testing

/// A configuration for generator tests: io_parallel, queue depth and block size in MiB.
private func config(p: Int = 1, d: Int = 32, mib: Int = 1, single: Bool = false, sequential: Bool = false)
    -> SweepConfiguration {
    SweepConfiguration(blockSize: mib << 20, queueDepth: d, singleSubmit: single, overlapEvents: !sequential,
                       intraOpParallelism: p)
}

/// The usage message of a generator call that should fail.
private func usageMessage(_ body: () throws(BenchError) -> TuningResult) -> String? {
    do {
        _ = try body()
        return nil
    } catch {
        guard case .usage(let text) = error else { return "not a usage error: \(error)" }
        return text
    }
}

@Suite("ParamGenerator")
struct ParamGeneratorTests {
    @Test("a race's sole survivor is its winner; a leader with undecided rivals says how many and why it was chosen")
    func raceLeaderNotes() throws {
        let fast = config(p: 2)
        let reads = [fast: [2.0, 2.1], config(): [1.9, 2.05], config(d: 8): [1.0]]
        let writes = [fast: [3.0, 3.1], config(): [2.9, 3.05], config(d: 8): [1.5]]
        let won = try ParamGenerator.generate(readSamples: reads, writeSamples: writes, raceDecided: [fast])
        #expect(won.best.configuration == fast)
        #expect(won.notes.contains("the race's pick: no other configuration was shown within its margin of the best"), "\(won.notes)")
        let led = try ParamGenerator.generate(readSamples: reads, writeSamples: writes, raceDecided: [fast],
                                              raceUndecided: 1)
        #expect(led.best.configuration == fast, "the leader, not the cheaper undecided one")
        #expect(led.notes.contains { $0.hasPrefix("the race's leader, the best score measured: 1 other configuration was "
                                                 + "neither shown slower nor shown equivalent") }, "\(led.notes)")
        #expect(!led.notes.contains { $0.contains("winner") })
        // Equivalent configurations and undecided ones: the cheapest of the equivalent, and the open count.
        let both = try ParamGenerator.generate(readSamples: reads, writeSamples: writes,
                                               raceDecided: [fast, config()], raceUndecided: 2)
        #expect(both.best.configuration == config(), "the cheaper of the two equivalent")
        #expect(both.notes.contains { $0.hasPrefix("the race showed 2 configurations within its margin of the best")
            && $0.hasSuffix("; 2 other configurations were neither shown slower nor shown equivalent within the budget"
                + " (more trials, or --budget, would decide)") }, "\(both.notes)")
    }

    @Test("objective sum over the fixture logs: DeepSpeed's choice and line")
    func fixtureSum() throws {
        let folder = try LogParser.parseFolder(SweepFixtures.deepSpeedLogs)
        let result = try ParamGenerator.generate(folder, objective: .sum)
        #expect(result.performanceLine == "Best performance (GB/sec): read =  1.88, write =  4.51")
        #expect(result.best.configuration == config(p: 4, d: 32, mib: 8, single: true, sequential: true))
        #expect(result.tied.count == 1)
        #expect(result.aioJSON() == """
            {
                "aio": {
                    "block_size": 8388608,
                    "queue_depth": 32,
                    "intra_op_parallelism": 4,
                    "single_submit": true,
                    "overlap_events": false,
                    "use_gds": false
                }
            }
            """)
    }

    /// The full run: 64 read and 64 write logs of DeepSpeed's default grid, one trial each.
    ///
    /// DeepSpeed printed `read =  1.88, write =  4.51` for `single_sequential_ftd1_d32_bs8M_p4`
    /// (stdout-tail.txt). Under `sum` that configuration's 6.3916 GB/s is strictly the highest (next is
    /// `..._bs8M_p2` at 6.3237), and with one trial per log every score range is a single point, so there is
    /// no tie and the cheaper-is-better rule cannot change the choice: the answer must be DeepSpeed's.
    /// Under `time` (1/read + 1/write) the p2 configuration wins instead: 0.7407 s per GiB each way against
    /// 0.7531 for p4 — half the threads and faster overall, because its read is faster.
    @Test("the full DeepSpeed run: sum gives DeepSpeed's 1.88 / 4.51; time prefers p2")
    func fullFixture() throws {
        let folder = try LogParser.parseFolder(try SweepFixtures.requireFullDeepSpeedLogs())
        let sum = try ParamGenerator.generate(folder, objective: .sum)
        #expect(sum.performanceLine == "Best performance (GB/sec): read =  1.88, write =  4.51")
        #expect(sum.best.configuration == config(p: 4, d: 32, mib: 8, single: true, sequential: true))
        #expect(sum.best == sum.topScorer)
        #expect(sum.tied.count == 1)
        #expect(sum.ranked.count == 64)
        #expect(sum.notes.isEmpty)
        let time = try ParamGenerator.generate(folder)
        #expect(time.objective == .time)
        #expect(time.best.configuration == config(p: 2, d: 32, mib: 8, single: true, sequential: true))
        #expect(time.performanceLine == "Best performance (GB/sec): read =  1.95, write =  4.37")
        let read = try ParamGenerator.generate(folder, objective: .read)
        #expect(read.best.configuration == config(p: 4, d: 32, mib: 8, sequential: true))
        #expect(read.performanceLine == "Best performance (GB/sec): read =  2.10, write =  2.78")
        let write = try ParamGenerator.generate(folder, objective: .write)
        #expect(write.best.configuration == sum.best.configuration)
    }

    @Test("the objectives choose differently", arguments: [
        (TuningObjective.sum, 1), (.time, 2), (.read, 1), (.write, 3),
    ])
    func objectives(objective: TuningObjective, expectedParallel: Int) throws {
        // p1: very fast read, slow write; p2: balanced; p3: fastest write.
        let reads = [config(p: 1): [10.0], config(p: 2): [4.0], config(p: 3): [1.0]]
        let writes = [config(p: 1): [1.0], config(p: 2): [4.0], config(p: 3): [5.0]]
        let result = try ParamGenerator.generate(readSamples: reads, writeSamples: writes, objective: objective)
        #expect(result.best.configuration.intraOpParallelism == expectedParallel)
        #expect(result.objective == objective)
        #expect(result.ranked.count == 3)
        if objective == .time {
            #expect(result.best.score == 0.5)
            #expect(result.ranked.map(\.configuration.intraOpParallelism) == [2, 1, 3])
        }
    }

    @Test("scores use the median of the trials")
    func median() throws {
        // p8 has the higher mean (4.0) and maximum, p1 the higher median.
        let reads = [config(p: 8): [1.0, 9.0, 2.0], config(p: 1): [3.0, 3.0, 3.1]]
        let result = try ParamGenerator.generate(readSamples: reads, writeSamples: [:], objective: .read)
        #expect(result.topScorer.configuration.intraOpParallelism == 1)
        #expect(result.best == result.topScorer)
        #expect(result.best.readMedian == 3.0)
        #expect(result.best.score == 3.0)
        #expect(result.ranked.map(\.score) == [3.0, 2.0])
        #expect(ParamGenerator.median([1, 2, 3, 4]) == 2)  // the lower middle value (Median)
        #expect(ParamGenerator.median([]) == nil)
    }

    @Test("overlapping trial ranges are a tie, won by the cheapest")
    func ties() throws {
        let reads = [
            config(p: 8, d: 128, mib: 8): [2.00, 2.10, 2.20],  // top median
            config(p: 1, d: 128, mib: 8): [1.90, 2.05, 2.15],  // overlaps, fewer threads
            config(p: 1, d: 32, mib: 8): [1.95, 2.00, 2.02],   // overlaps, fewer threads and lower depth
            config(p: 1, d: 32, mib: 1): [1.50, 1.60, 1.99],   // below the top's range: not tied
        ]
        let result = try ParamGenerator.generate(readSamples: reads, writeSamples: [:], objective: .read)
        #expect(result.topScorer.configuration == config(p: 8, d: 128, mib: 8))
        #expect(result.best.configuration == config(p: 1, d: 32, mib: 8))
        #expect(result.tied.map(\.configuration) == [config(p: 1, d: 32, mib: 8), config(p: 1, d: 128, mib: 8),
                                                     config(p: 8, d: 128, mib: 8)])
        #expect(result.notes.contains { $0.contains("3 configurations are tied") })
        #expect(result.performanceLine == "Best performance (GB/sec): read =  2.00, write =   n/a")
    }

    @Test("ties under sum and time use the combined range; block size breaks ties last")
    func combinedTies() throws {
        let reads = [config(p: 2, mib: 8): [2.0, 2.4], config(p: 2, mib: 1): [1.9, 2.1]]
        let writes = [config(p: 2, mib: 8): [4.0, 4.4], config(p: 2, mib: 1): [4.0, 4.2]]
        for objective in [TuningObjective.sum, .time] {
            let result = try ParamGenerator.generate(readSamples: reads, writeSamples: writes, objective: objective)
            #expect(result.topScorer.configuration.blockSize == 8 << 20)
            #expect(result.best.configuration.blockSize == 1 << 20)
            #expect(result.tied.count == 2)
        }
        let apart = [config(p: 2, mib: 8): [5.0, 5.1], config(p: 2, mib: 1): [1.9, 2.1]]
        let result = try ParamGenerator.generate(readSamples: apart, writeSamples: writes, objective: .sum)
        #expect(result.best.configuration.blockSize == 8 << 20)
        #expect(result.tied.count == 1)
    }

    @Test("only configurations measured both ways compete under time and sum")
    func bothSides() throws {
        let reads = [config(p: 1): [1.0], config(p: 2): [50.0]]
        let writes = [config(p: 1): [1.0], config(p: 4): [50.0]]
        let result = try ParamGenerator.generate(readSamples: reads, writeSamples: writes, objective: .sum)
        #expect(result.best.configuration.intraOpParallelism == 1)
        #expect(result.ranked.count == 1)
        #expect(result.notes.contains("2 configurations measured for only one of read and write were left out"))
    }

    @Test("a one-sided sweep falls back to that side's objective", arguments: [TuningObjective.time, .sum])
    func oneSided(objective: TuningObjective) throws {
        let writes = [config(p: 1): [3.0], config(p: 2): [4.0]]
        let result = try ParamGenerator.generate(readSamples: [:], writeSamples: writes, objective: objective)
        #expect(result.requestedObjective == objective)
        #expect(result.objective == .write)
        #expect(result.best.configuration.intraOpParallelism == 2)
        #expect(result.notes.first?.contains("only write results were found (a --no_read sweep?)") == true)
        #expect(result.performanceLine == "Best performance (GB/sec): read =   n/a, write =  4.00")
        let reads = try ParamGenerator.generate(readSamples: writes, writeSamples: [:], objective: objective)
        #expect(reads.objective == .read)
    }

    @Test("nothing to choose from is a usage error")
    func nothing() {
        let reads = [config(p: 1): [1.0]]
        let writes = [config(p: 2): [1.0]]
        let noOverlap = usageMessage { () throws(BenchError) in
            try ParamGenerator.generate(readSamples: reads, writeSamples: writes, objective: .time)
        }
        #expect(noOverlap?.contains("no configuration has both") == true)
        #expect(noOverlap?.contains("--objective read or --objective write") == true)
        let empty = usageMessage { () throws(BenchError) in
            try ParamGenerator.generate(readSamples: [:], writeSamples: [:])
        }
        #expect(empty?.contains("no results") == true)
        let wrongSide = usageMessage { () throws(BenchError) in
            try ParamGenerator.generate(readSamples: [:], writeSamples: writes, objective: .read)
        }
        #expect(wrongSide?.contains("objective read needs read results") == true)
        let zeros = usageMessage { () throws(BenchError) in
            try ParamGenerator.generate(readSamples: [config(): [0, .nan]], writeSamples: [:], objective: .read)
        }
        #expect(zeros?.contains("no results") == true)
    }

    @Test("logs: trials count, missing results are noted, 1M matches 1048576")
    func fromRecords() throws {
        func record(_ name: String, _ log: SweepLog) throws -> LogRecord {
            LogRecord(path: "/logs/" + name, name: try #require(SweepLogName(fileName: name)), log: log)
        }
        let trials = [LogTrial(taskLatency: 1, taskSpeed: 1, e2eLatency: 1, e2eSpeed: 1.5),
                      LogTrial(taskLatency: 1, taskSpeed: 1, e2eLatency: 1, e2eSpeed: 2.5),
                      LogTrial(taskLatency: 1, taskSpeed: 1, e2eLatency: 1, e2eSpeed: 2.0)]
        let reads = [
            try record("read_block_overlap_ftd1_d32_bs1M_p1.txt",
                       SweepLog(trialResults: trials, summary: LogSummary(trials[2]))),
            try record("read_block_overlap_ftd1_d32_bs1M_p2.txt", SweepLog(error: "ENOSPC")),
        ]
        let writes = [
            try record("write_block_overlap_ftd1_d32_bs1048576_p1.txt", SweepLog(summary: LogSummary(e2eSpeed: 3))),
        ]
        let result = try ParamGenerator.generate(reads: reads, writes: writes, objective: .sum)
        #expect(result.best.read == [1.5, 2.5, 2.0])
        #expect(result.best.write == [3])
        #expect(result.best.score == 5)
        #expect(result.best.scoreRange == 4.5...5.5)
        #expect(result.notes.first == "1 log has no result and was left out: read_block_overlap_ftd1_d32_bs1M_p2.txt")
    }

    @Test("settings DeepSpeed's runtime lacks are noted")
    func runtimeNotes() throws {
        let special = SweepConfiguration(tasksPerFolder: 2, engine: .uring)
        let result = try ParamGenerator.generate(readSamples: [special: [1]], writeSamples: [special: [1]])
        #expect(result.notes.count == 2)
        #expect(result.notes[0].contains("2 tasks per folder"))
        #expect(result.notes[1].contains("engine io_uring"))
    }

    @Test("the aio JSON is what DeepSpeed's runtime reads: real booleans and integers")
    func aioJSON() throws {
        let text = ParamGenerator.aioJSON(for: config(p: 1, d: 8, mib: 1), useGDS: true)
        #expect(text == """
            {
                "aio": {
                    "block_size": 1048576,
                    "queue_depth": 8,
                    "intra_op_parallelism": 1,
                    "single_submit": false,
                    "overlap_events": true,
                    "use_gds": true
                }
            }
            """)
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let aio = try #require(object?["aio"] as? [String: Any])
        #expect(aio.count == 6)
        #expect(aio["block_size"] as? Int == 1048576)
        #expect(aio["single_submit"] as? Bool == false)
        #expect(aio["overlap_events"] as? Bool == true)
        #expect(aio["overlap_events"] as? String == nil)
    }

    @Test("the performance line", arguments: [
        (1.8820454924822354, 4.50955819424315, "Best performance (GB/sec): read =  1.88, write =  4.51"),
        (12.345, 0.004, "Best performance (GB/sec): read = 12.35, write =  0.00"),
        (123.456, 2.675, "Best performance (GB/sec): read = 123.46, write =  2.67"),
    ])
    func performanceLine(read: Double, write: Double, expected: String) {
        #expect(ParamGenerator.performanceLine(read: read, write: write) == expected)
    }
}
