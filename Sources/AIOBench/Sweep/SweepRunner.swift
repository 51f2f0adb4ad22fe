import AsyncIO
import Foundation

/// Runs a sweep in-process: the cartesian product of the sweep space, read sweep then write
/// sweep, `trials` rounds over all configurations, one log per configuration and operation with
/// DeepSpeed's names. Resumes an interrupted sweep and refuses to mix with a different one.
public final class SweepRunner {
    /// The options.
    let options: SweepOptions
    /// The sweep space (folder count applied).
    public let space: SweepSpace
    let onEvent: @Sendable (SweepEvent) -> Void
    /// The job's ranks when the sweep runs across them (`ClusterSweep`); nil on one node.
    var cluster: ClusterSweep?

    /// Checks the options and reads the sweep config; throws one usage line on a bad value.
    public init(options: SweepOptions, onEvent: @escaping @Sendable (SweepEvent) -> Void = { _ in })
        throws(BenchError) {
        guard options.read || options.write else {
            throw .usage("--no_read and --no_write together leave nothing to measure: drop one of them")
        }
        guard !options.nvmeDirs.isEmpty else { throw .usage("--nvme_dir needs at least one folder") }
        for dir in options.nvmeDirs { try BenchPlan.checkFolder(dir, flag: "nvme_dir") }
        guard options.trials >= 1, options.trials <= 1000 else {
            throw .usage("--trials \(options.trials) must be between 1 and 1000")
        }
        guard options.loops >= 1 else { throw .usage("--loops \(options.loops) must be at least 1") }
        guard options.warmupLoops >= 0 else { throw .usage("--warmup_loops must be 0 or more") }
        try SweepRunner.checkLogDir(options.logDir)
        let base = try options.sweepConfig.map { path throws(BenchError) in
            try SweepSpace(contentsOfFile: path)
        } ?? SweepSpace.deepSpeedDefault
        self.space = try base.withFolderCount(options.nvmeDirs.count)
        _ = try options.target.engine(asked: options.engine)
        for case let engine? in space.engines { _ = try options.target.engine(asked: engine, flag: "sweep config engine") }
        try options.target.check(options.writeMode)
        self.options = options
        self.onEvent = onEvent
    }

    static func checkLogDir(_ dir: String) throws(BenchError) {
        if let status = try? FileSystem.status(of: dir) {
            guard status.kind == .directory else {
                throw .usage("--log_dir '\(dir)' is not a folder: give a folder (it is created if missing)")
            }
            guard FileSystem.isAccessible(dir, [.write, .execute]) else {
                throw .usage("--log_dir '\(dir)' is not writable")
            }
            return
        }
        let parent = PathName.parent(of: dir)
        let p = parent.isEmpty ? "." : parent
        guard (try? FileSystem.status(of: p))?.kind == .directory else {
            throw .usage("--log_dir '\(dir)' cannot be created: '\(p)' is not an existing folder")
        }
        guard FileSystem.isAccessible(p, [.write, .execute]) else {
            throw .usage("--log_dir '\(dir)' cannot be created: '\(p)' is not writable")
        }
    }

    // MARK: running

    struct Job {
        var operation: IOOperation
        var configuration: SweepConfiguration
        /// The configuration's index in the sweep space (read and write share it).
        var configIndex: Int
        var name: String
        var path: String
        var trials: [LogTrial]
        var engine: String?
        var error: String?
        /// Racing: the round after which the configuration left the race.
        var leftAfter: Int?
        /// Racing: the verdict at the end (leader, equivalent, undecided).
        var verdict: String?
    }

    /// What one sweep run keeps track of besides the jobs.
    struct Tally {
        var ioSeconds = 0.0
        var removalSeconds = 0.0
        var runsDone = 0
        var runIndex = 0
        var totalRuns = 0
        var aborted: String?
        var fallbackNotes: Set<String> = []
        var best: [IOOperation: (name: String, gibps: Double)] = [:]
        /// Bytes written to the drives (warm-up loops included).
        var writtenBytes = 0
    }

    /// Runs (or resumes) the sweep: a fixed number of rounds (`--trials`), or a race.
    public func run() throws(BenchError) -> SweepSummary {
        let wallStart = monotonicNanos()
        // From the start: SIGINT/SIGTERM then removes test files and half-written logs and exits
        // with 128 + the signal number, even before the first configuration runs.
        ScratchFiles.shared.installSignalHandlers()
        try prepareLogDir()
        let configurations = space.configurations
        var jobs: [Job] = []
        var skipped = 0
        for op in [IOOperation.read, .write] where op == .read ? options.read : options.write {
            for (index, config) in configurations.enumerated() {
                let name = space.logFileName(for: config, operation: op)
                let path = PathName.join(logFolder(op), name)
                var trials: [LogTrial] = []
                var engine: String?
                if let text = try? FileSystem.text(of: path, limit: LogParser.maximumLogBytes) {
                    let log = LogParser.parse(text, operation: op)
                    if log.error == nil {
                        trials = log.trialResults
                        engine = log.engine
                    }
                }
                if options.race == nil && trials.count >= options.trials {
                    skipped += 1
                    continue
                }
                if options.race != nil && !trials.isEmpty { skipped += 1 }
                jobs.append(Job(operation: op, configuration: config, configIndex: index, name: name, path: path,
                                trials: trials, engine: engine))
            }
        }
        if skipped > 0 {
            onEvent(.note("resuming: \(skipped) configuration log(s) in \(options.logDir) are kept"))
        }
        var runners: [Int: BenchRunner] = [:]
        defer { for r in runners.values { r.cleanup() } }
        let flushMethod = options.flushPageCache ? PageCacheFlush.available : nil
        if let flushMethod { onEvent(.note("page cache: dropped before each configuration via \(flushMethod)")) }

        var tally = Tally()
        let loopStart = monotonicNanos()
        var raceSummary: RaceSummary?
        if let race = options.race {
            raceSummary = try runRace(race, jobs: &jobs, runners: &runners, flush: flushMethod, tally: &tally,
                                      wallStart: wallStart, loopStart: loopStart)
        } else {
            tally.totalRuns = jobs.reduce(0) { $0 + options.trials - $1.trials.count }
            roundLoop: for round in 1...options.trials {
                for j in jobs.indices where jobs[j].trials.count < round && jobs[j].error == nil {
                    try runTrial(&jobs[j], runners: &runners, flush: flushMethod, tally: &tally, loopStart: loopStart)
                    if tally.aborted != nil { break roundLoop }
                }
            }
        }
        let failed = jobs.compactMap { job in job.error.map { (job.name, $0) } }
        var summary = SweepSummary(runsDone: tally.runsDone, skipped: skipped, failed: failed,
                                   wallSeconds: Double(monotonicNanos() - wallStart) / 1e9, ioSeconds: tally.ioSeconds,
                                   removalSeconds: tally.removalSeconds,
                                   logDir: options.logDir, aborted: tally.aborted, logs: jobs.count)
        summary.race = raceSummary
        if let raceSummary { try recordRace(raceSummary) }
        // The logs were written without a flush each (one costs a journal commit): flush them once.
        do {
            try FileSystem.syncFileSystem(containing: options.logDir)
        } catch {
            throw .runtime("cannot flush the logs in \(options.logDir): \(error.reasonWithNumber)", cause: error)
        }
        summary.writtenBytes = tally.writtenBytes
        return summary
    }

    /// Runs one trial of `job` and writes its log.
    func runTrial(_ job: inout Job, runners: inout [Int: BenchRunner], flush: PageCacheFlush?,
                          tally: inout Tally, loopStart: UInt64) throws(BenchError) {
        tally.runIndex += 1
        onEvent(.starting(index: tally.runIndex, total: max(tally.totalRuns, tally.runIndex), operation: job.operation,
                          name: job.name, trial: job.trials.count + 1, trials: options.race == nil
                            ? options.trials : options.maxTrials))
        var speed: Double?
        var failure: String?
        do {
            let trialKey = "\(job.name)#\(job.trials.count + 1)"
            func measure() throws(BenchError) -> BenchResult {
                // A simulated device's noise follows the trial, so a resumed race meets the same.
                if options.engine == .sim { SimulatedDevice.beginNoiseStream(Self.stableHash(trialKey)) }
                return try measureTrial(job.operation, job.configuration, runners: &runners, flush: flush)
            }
            // Across ranks, every rank runs the trial and the result is the job's.
            let result: BenchResult
            if let cluster {
                result = try cluster.trial(job.operation, configuration: job.configIndex, measure)
            } else {
                result = try measure()
            }
            tally.ioSeconds += result.ioSeconds
            if job.operation == .write {
                tally.writtenBytes += result.ioSize * result.tasks * (result.loops + options.warmupLoops)
            }
            tally.removalSeconds += result.removalSeconds
            job.trials.append(LogTrial(bytes: result.ioSize * result.tasks * result.loops,
                                       taskLatency: result.taskLatency, e2eLatency: result.e2eLatency))
            job.engine = result.config.engine.rawValue
            if !result.engineFallbacks.isEmpty {
                let text = "engine \(result.config.engine.rawValue) (skipped "
                    + result.engineFallbacks.joined(separator: "; ") + ")"
                if tally.fallbackNotes.insert(text).inserted { onEvent(.note(text)) }
            }
            speed = result.e2eSpeed
            if result.e2eSpeed > (tally.best[job.operation]?.gibps ?? -1) {
                tally.best[job.operation] = (job.name, result.e2eSpeed)
            }
        } catch {
            failure = error.description
            job.error = failure
            if error.isDeviceFailure { tally.aborted = error.description }
        }
        tally.runsDone += 1
        try writeLog(job)
        let elapsed = Double(monotonicNanos() - loopStart) / 1e9
        let remaining = max(0, tally.totalRuns - tally.runIndex)
        let eta = elapsed / Double(tally.runIndex) * Double(remaining)
        onEvent(.finished(index: tally.runIndex, total: max(tally.totalRuns, tally.runIndex), operation: job.operation,
                          name: job.name, trial: job.trials.count, gibps: speed, error: failure, etaSeconds: eta,
                          best: tally.best))
    }

    func writeLog(_ job: Job) throws(BenchError) {
        let text = LogWriter.format(
            operation: job.operation, configuration: job.configuration, engine: job.engine,
            ioSize: options.ioSize, trials: job.trials,
            notes: logNotes(job.operation, trials: job.trials.count, leftAfter: job.leftAfter) + [job.verdict].compactMap { $0 },
            error: job.error)
        try LogWriter.write(text, toFile: job.path, durable: false)
    }

    /// The `note:` lines of a log: trials done (and when the configuration left the race), the target,
    /// and the write mode of write logs.
    private func logNotes(_ operation: IOOperation, trials: Int, leftAfter: Int?) -> [String] {
        var notes = [options.race == nil ? "trials \(trials) of \(options.trials)" : "trials \(trials) (racing)",
                     "target: \(options.target.summary)"]
        if let leftAfter { notes.append("\(Race.leftNotePrefix) \(leftAfter)") }
        if operation == .write { notes.append("write mode: \(options.writeMode.summary)") }
        if let cluster { notes.append(cluster.logNote) }
        return notes
    }

    /// Runs one trial of `configuration` with the runner for its task count (made on first use), after
    /// dropping the page cache when asked.
    /// FNV-1a of `text`: the same in every process (Swift's `hashValue` is seeded per process).
    static func stableHash(_ text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    func measureTrial(_ operation: IOOperation, _ configuration: SweepConfiguration, runners: inout [Int: BenchRunner],
                      flush: PageCacheFlush?) throws(BenchError) -> BenchResult {
        let runner: BenchRunner
        if let existing = runners[configuration.tasksPerFolder] {
            runner = existing
        } else {
            runner = try makeRunner(configuration)
            runners[configuration.tasksPerFolder] = runner
        }
        flush?.drop(files: runnerFiles(runner))
        return try runner.run(operation, config: handleConfig(for: configuration), recordLatency: false)
    }

    private func makeRunner(_ config: SweepConfiguration) throws(BenchError) -> BenchRunner {
        var plan = BenchPlan(targets: options.nvmeDirs.enumerated().map { BenchTarget(folder: $1, deviceID: $0) },
                             ioSize: options.ioSize)
        plan.tasksPerFolder = config.tasksPerFolder
        plan.loops = options.loops
        plan.warmupLoops = options.warmupLoops
        plan.buffered = options.buffered
        plan.target = options.target
        plan.writeMode = options.writeMode
        plan.readSubfolder = IOOperation.read.ioFolderName
        plan.writeSubfolder = IOOperation.write.ioFolderName
        if let cluster { plan.firstTask = cluster.coordinator.rank * plan.taskCount }
        let runner = try BenchRunner(plan: plan)
        cluster?.prepare(runner)
        return runner
    }

    private func runnerFiles(_ runner: BenchRunner) -> [String] {
        (0..<runner.plan.taskCount).map { runner.dataFile(task: $0, operation: .read) }
    }

    private func handleConfig(for config: SweepConfiguration) -> HandleConfig { options.handleConfig(for: config) }
}
