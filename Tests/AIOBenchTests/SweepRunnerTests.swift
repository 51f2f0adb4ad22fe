@testable import AIOBench
import AsyncIO
import Foundation
import Testing

/// A folder under the temporary directory, removed afterwards.
private final class TempDir: @unchecked Sendable {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "swift-aio-sweep-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func sub(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

private func writeConfig(_ dir: TempDir, _ json: String) -> String {
    let file = dir.sub("sweep.json")
    _ = FileManager.default.createFile(atPath: file, contents: Data(json.utf8))
    return file
}

private func smallOptions(_ dir: TempDir, trials: Int = 2) -> SweepOptions {
    var o = SweepOptions(nvmeDirs: [dir.path])
    o.sweepConfig = writeConfig(dir, #"{"block_size": ["64K"], "queue_depth": [4], "io_parallel": [1, 2]}"#)
    o.ioSize = 1 << 20
    o.trials = trials
    o.logDir = dir.sub("_aio_bench_logs")
    return o
}

@Suite("Sweep runner")
struct SweepRunnerTests {
    @Test("a two-point sweep writes one complete log per configuration and operation, and cleans up")
    func endToEnd() throws {
        let dir = TempDir()
        let summary = try SweepRunner(options: smallOptions(dir)).run()
        #expect(summary.runsDone == 8)
        #expect(summary.failed.isEmpty)
        let folder = try LogParser.parseFolder(dir.sub("_aio_bench_logs"))
        let names = folder.records.map(\.name.fileName).sorted()
        #expect(names == [
            "read_block_overlap_ftd1_d4_bs64K_p1.txt", "read_block_overlap_ftd1_d4_bs64K_p2.txt",
            "write_block_overlap_ftd1_d4_bs64K_p1.txt", "write_block_overlap_ftd1_d4_bs64K_p2.txt",
        ])
        for record in folder.records {
            #expect(record.log.trialResults.count == 2)
            #expect((record.metric ?? 0) > 0)
        }
        let result = try ParamGenerator.generate(folder)
        #expect(result.aioJSON().contains("\"block_size\": 65536"))
        // Test files and their folders are gone; only the logs remain.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(left == ["_aio_bench_logs", "sweep.json"])
    }

    @Test("re-running the same sweep resumes: complete logs are kept, missing ones are run")
    func resume() throws {
        let dir = TempDir()
        let options = smallOptions(dir, trials: 1)
        _ = try SweepRunner(options: options).run()
        let again = try SweepRunner(options: options).run()
        #expect(again.runsDone == 0)
        #expect(again.skipped == 4)
        try FileManager.default.removeItem(atPath: dir.sub("_aio_bench_logs/_aio_bench_write_logs/write_block_overlap_ftd1_d4_bs64K_p2.txt"))
        let third = try SweepRunner(options: options).run()
        #expect(third.runsDone == 1)
        #expect(third.skipped == 3)
    }

    @Test("a sweep with different parameters refuses to mix with old logs unless forced")
    func manifestRefusal() throws {
        let dir = TempDir()
        var options = smallOptions(dir, trials: 1)
        _ = try SweepRunner(options: options).run()
        options.ioSize = 2 << 20
        let error = #expect(throws: BenchError.self) { try SweepRunner(options: options).run() }
        #expect(error?.description.contains("io_size") == true)
        #expect(error?.exitCode == 64)
        options.force = true
        let forced = try SweepRunner(options: options).run()
        #expect(forced.runsDone == 4)
    }

    @Test("a sweep resumed with other request merging refuses the old logs, naming it")
    func mergingRefusal() throws {
        let dir = TempDir()
        var options = smallOptions(dir, trials: 1)
        _ = try SweepRunner(options: options).run()
        options.engineOptions.requestMerging = .avoided
        let error = #expect(throws: BenchError.self) { try SweepRunner(options: options).run() }
        #expect(error?.description.contains("request_merging was auto, now avoided") == true, "\(error?.description ?? "")")
        options.engineOptions.requestMerging = .auto
        #expect(try SweepRunner(options: options).run().runsDone == 0)
    }

    @Test("a configuration that fails is logged with its error and the sweep goes on")
    func failureLogged() throws {
        let dir = TempDir()
        var options = smallOptions(dir, trials: 1)
        // 1000 bytes is not a multiple of the direct I/O alignment: that configuration fails.
        options.sweepConfig = writeConfig(dir, #"{"block_size": [1000, "64K"], "queue_depth": [2]}"#)
        let summary = try SweepRunner(options: options).run()
        #expect(summary.failed.count == 2)
        #expect(summary.failed.allSatisfy { $0.error.contains("alignment") })
        let folder = try LogParser.parseFolder(options.logDir)
        #expect(folder.records.filter { $0.log.error != nil }.count == 2)
        #expect(folder.records.filter { $0.metric != nil }.count == 2)
    }

    @Test("a one-sided sweep still generates a configuration")
    func oneSided() throws {
        let dir = TempDir()
        var options = smallOptions(dir, trials: 1)
        options.write = false
        _ = try SweepRunner(options: options).run()
        let result = try ParamGenerator.generate(try LogParser.parseFolder(options.logDir))
        #expect(result.objective == .read)
    }

    @Test("a damaged manifest is named as damaged, with the parser's reason and how to start afresh")
    func damagedManifest() throws {
        let dir = TempDir()
        var options = smallOptions(dir, trials: 1)
        options.logDir = dir.sub("logs")
        try FileManager.default.createDirectory(atPath: options.logDir, withIntermediateDirectories: true)
        try "{\"io_size\": ".write(toFile: options.logDir + "/manifest.json", atomically: true, encoding: .utf8)
        let e = #expect(throws: BenchError.self) { try SweepRunner(options: options).run() }
        #expect(e?.description.contains("manifest.json is damaged (") == true, "\(String(describing: e))")
        #expect(e?.description.contains("--force to start afresh") == true)
        #expect(e?.description.contains("\n") == false)
    }

    @Test("bad sweep inputs are one usage line each")
    func badInputs() throws {
        let dir = TempDir()
        var options = smallOptions(dir)
        options.read = false
        options.write = false
        #expect(throws: BenchError.self) { try SweepRunner(options: options) }
        #expect(throws: BenchError.self) { try SweepRunner(options: SweepOptions(nvmeDirs: [dir.sub("missing")])) }
        var logIsFile = smallOptions(dir)
        logIsFile.logDir = dir.sub("sweep.json")
        let e = #expect(throws: BenchError.self) { try SweepRunner(options: logIsFile) }
        #expect(e?.description.contains("not a folder") == true)
        var badJSON = smallOptions(dir)
        badJSON.sweepConfig = writeConfig(dir, #"{"queue_depth": ["deep"]}"#)
        #expect(throws: BenchError.self) { try SweepRunner(options: badJSON) }
        for e in [try? SweepRunner(options: options)] { #expect(e == nil) }
    }
}

/// Racing through the sweep runner on a simulated device.
@Suite("Sweep runner: racing on a simulated device")
struct SweepRaceTests {
    static let model = SimulatedDevice(
        seed: 5, noise: 0.01,
        read: .init(defaultGiBps: 0.8, speeds: [.init(blockSize: 256 << 10, queueDepth: 8, gibps: 1.2)]),
        write: .init(defaultGiBps: 0.8, speeds: [.init(blockSize: 256 << 10, queueDepth: 8, gibps: 1.2)]))

    fileprivate func options(_ dir: TempDir) -> SweepOptions {
        var o = SweepOptions(nvmeDirs: [dir.path])
        o.sweepConfig = writeConfig(dir, #"{"block_size": ["128K", "256K"], "queue_depth": [4, 8], "io_parallel": [1, 2]}"#)
        // Writes only: a simulated write moves nothing, so its time is the model's even in a slow
        // (sanitized, loaded) build, where filling a read's pattern could take longer than the model says.
        // Operations of 64 MiB take 52–80 ms of model time, far above the tool's own cost per run and a
        // loaded machine's scheduling delays (at 16 MiB, a sanitized build's delays could move a run by 10 %).
        o.read = false
        o.ioSize = 64 << 20
        o.warmupLoops = 0
        o.engine = .sim
        o.engineOptions.simulation = Self.model
        o.race = Race()
        o.objective = .write
        o.logDir = dir.sub("_aio_bench_logs")
        return o
    }

    @Test("the race finds the fast configuration, marks the logs, and every configuration has a complete log")
    func race() throws {
        let dir = TempDir()
        let summary = try SweepRunner(options: options(dir)).run()
        let race = try #require(summary.race)
        #expect(race.runs <= race.fixedRuns)
        #expect(summary.raceLines.first?.hasPrefix("race: 8 configurations, ") == true, "\(summary.raceLines)")
        let folder = try LogParser.parseFolder(dir.sub("_aio_bench_logs"))
        #expect(folder.records.count == 8)
        #expect(folder.records.allSatisfy { !$0.log.trialResults.isEmpty && $0.log.error == nil })
        #expect(folder.records.contains { $0.log.notes.contains(Race.leaderNote) })
        let result = try ParamGenerator.generate(folder)
        #expect(result.best.configuration.blockSize == 256 << 10 && result.best.configuration.queueDepth == 8)
        // 256K/qd 8 is as fast at io_parallel 1 as at 2, so the race may end on a winner, on an equivalence
        // set, or (on a loaded machine) with configurations it could not decide: the note must say which.
        func marked(_ note: String) -> Set<SweepConfiguration> {
            Set(folder.records.filter { $0.log.notes.contains(note) }.map(\.configuration.tuningIdentity))
        }
        let equivalent = marked(Race.equivalentNote)
        let expected = !equivalent.isEmpty
            ? "the race showed \(equivalent.count + 1) configurations within its margin of the best"
            : "the race's pick"
        #expect(result.notes.contains { $0.hasPrefix(expected) }, "\(result.notes)")
        // The report greys the configurations that left the race, one cell per operation each.
        let left = folder.records.filter { $0.log.notes.contains { $0.hasPrefix(Race.leftNotePrefix) } }.count
        #expect(left > 0, "a 1.5× faster configuration at 1 % noise sends others out")
        let html = ReportBuilder.build(folder: folder, machine: [], device: nil).html
        #expect(html.components(separatedBy: " data-left=\"").count - 1 == left)
        // The manifest keeps what the race concluded; the report opens with it and its effects chart.
        let manifest = ReportBuilder.manifest(logDir: dir.sub("_aio_bench_logs"))
        let record = try #require(RaceRecord(json: manifest?["race"]))
        #expect(record.lines == summary.raceLines)
        #expect(record.effects.count == 3, "block size, queue depth, io_parallel: \(record.effects)")
        let decision = try #require(html.range(of: "<section class=\"decision\">"))
        let firstCard = try #require(html.range(of: "class=\"card\""))
        #expect(decision.lowerBound < firstCard.lowerBound, "the report opens with the recommendation")
        #expect(html.components(separatedBy: "<g class=\"effect\"").count - 1 == record.effects.count)
        // A resume with every log in place replays the rounds and prints the same.
        let again = try SweepRunner(options: options(dir)).run()
        #expect(again.runsDone == 0)
        #expect(again.raceLines == summary.raceLines)
    }

    @Test("a run budget stops the race and says so; the same command then resumes it to a decision")
    func budgetAndResume() throws {
        let dir = TempDir()
        var first = options(dir)
        first.budgetRuns = 9  // round 1 takes 8 runs; round 2 would need at least 2 more
        let stopped = try #require(try SweepRunner(options: first).run().race)
        #expect(stopped.stopReason.contains("budget"), "\(stopped.stopReason)")
        #expect(stopped.runs <= 12)
        let resumed = try SweepRunner(options: options(dir)).run()
        #expect(resumed.skipped > 0)
        let race = try #require(resumed.race)
        #expect(race.runs <= race.fixedRuns)
        let result = try ParamGenerator.generate(try LogParser.parseFolder(dir.sub("_aio_bench_logs")))
        #expect(result.best.configuration.blockSize == 256 << 10 && result.best.configuration.queueDepth == 8)
    }
}
