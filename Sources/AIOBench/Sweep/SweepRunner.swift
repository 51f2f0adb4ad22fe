import AsyncIO
import Foundation

/// Everything a sweep needs besides the sweep space.
public struct SweepOptions: Sendable, Equatable {
    /// Folders under test; every configuration runs one task per folder (× tasks per folder).
    public var nvmeDirs: [String]
    /// The sweep-config file (nil: DeepSpeed 0.19's 64-point default grid).
    public var sweepConfig: String?
    /// Run the read sweep.
    public var read = true
    /// Run the write sweep.
    public var write = true
    /// Bytes per task per loop (ds_nvme_tune's default 400M).
    public var ioSize = 400 << 20
    /// Drop the page cache before every configuration.
    public var flushPageCache = false
    /// The log root.
    public var logDir = "_aio_bench_logs"
    /// Measured loops per trial (ds_nvme_tune's default 1).
    public var loops = 1
    /// Untimed loops before each trial (ds_io's default 1).
    public var warmupLoops = 1
    /// Trials per configuration, run round-robin over the configurations.
    public var trials = 3
    /// Engine for configurations that do not name one.
    public var engine: EngineKind = .auto
    /// Engine options for every configuration (the `sim` engine's device model among them).
    public var engineOptions = EngineOptions()
    /// Start afresh even if the log folder holds a different sweep.
    public var force = false
    /// Use the page cache instead of O_DIRECT.
    public var buffered = false
    /// Whose I/O path the sweep measures (`tune` measures DeepSpeed's by default).
    public var target: MeasurementTarget = .native
    /// How write trials treat their file (ds_io's overwrite in place by default).
    public var writeMode: WriteMode = .overwrite

    /// Creates options for the given folders with ds_nvme_tune's defaults.
    public init(nvmeDirs: [String]) { self.nvmeDirs = nvmeDirs }
}

/// What a sweep reports as it goes.
public enum SweepEvent: Sendable {
    /// One line of information (page cache method, resume, engine).
    case note(String)
    /// A configuration is about to run: index (1-based) of total, operation, log name, trial.
    case starting(index: Int, total: Int, operation: IOOperation, name: String, trial: Int, trials: Int)
    /// A configuration finished a trial with this E2E speed (GiB/s) or failed.
    case finished(index: Int, total: Int, operation: IOOperation, name: String, trial: Int, gibps: Double?,
                  error: String?, etaSeconds: Double?, best: [IOOperation: (name: String, gibps: Double)])
}

/// The outcome of a sweep.
public struct SweepSummary: Sendable {
    /// Configuration runs (trials) done now.
    var runsDone: Int
    /// Logs that were already complete and skipped.
    var skipped: Int
    /// Logs of failed configurations with their error.
    var failed: [(name: String, error: String)]
    /// Wall seconds of the whole sweep.
    var wallSeconds: Double
    /// Seconds spent inside timed and warm-up loops (the I/O itself).
    var ioSeconds: Double
    /// Seconds spent removing old write files between loops (device work on `discard` mounts).
    var removalSeconds: Double
    /// The log folder.
    var logDir: String
    /// Whether the sweep stopped early on a device error (ENOSPC, EIO, ...).
    var aborted: String?
    /// Logs (configuration × operation) the sweep covers, done now or before.
    var logs: Int = 0

    /// Per configuration run, the seconds outside the I/O loops and file removal (tool overhead), in ms.
    var overheadPerRunMillis: Double {
        runsDone > 0 ? max(0, wallSeconds - ioSeconds - removalSeconds) / Double(runsDone) * 1000 : 0
    }

    /// Per configuration run, the seconds spent removing old write files, in ms.
    var removalPerRunMillis: Double {
        runsDone > 0 ? removalSeconds / Double(runsDone) * 1000 : 0
    }
}

/// Runs a sweep in-process: the cartesian product of the sweep space, read sweep then write
/// sweep, `trials` rounds over all configurations, one log per configuration and operation with
/// DeepSpeed's names. Resumes an interrupted sweep and refuses to mix with a different one.
public final class SweepRunner {
    /// The options.
    let options: SweepOptions
    /// The sweep space (folder count applied).
    public let space: SweepSpace
    let onEvent: @Sendable (SweepEvent) -> Void

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
        if options.target == .deepspeed, options.writeMode != .overwrite {
            throw .usage("--fresh_file_each_loop contradicts --target deepspeed, which measures ds_io's write mode "
                + "(overwrite in place): drop one of them")
        }
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
        let parent = (dir as NSString).deletingLastPathComponent
        let p = parent.isEmpty ? "." : parent
        guard (try? FileSystem.status(of: p))?.kind == .directory else {
            throw .usage("--log_dir '\(dir)' cannot be created: '\(p)' is not an existing folder")
        }
        guard FileSystem.isAccessible(p, [.write, .execute]) else {
            throw .usage("--log_dir '\(dir)' cannot be created: '\(p)' is not writable")
        }
    }

    // MARK: running

    private struct Job {
        var operation: IOOperation
        var configuration: SweepConfiguration
        var name: String
        var path: String
        var trials: [LogTrial]
        var engine: String?
        var error: String?
    }

    /// Runs (or resumes) the sweep.
    public func run() throws(BenchError) -> SweepSummary {
        let wallStart = monotonicNanos()
        // From the start: SIGINT/SIGTERM then removes test files and half-written logs and exits
        // with 128 + the signal number, even before the first configuration runs.
        ScratchFiles.shared.installSignalHandlers()
        try prepareLogDir()
        var jobs: [Job] = []
        var skipped = 0
        for op in [IOOperation.read, .write] where op == .read ? options.read : options.write {
            for config in space.configurations {
                let name = space.logFileName(for: config, operation: op)
                let path = (logFolder(op) as NSString).appendingPathComponent(name)
                var trials: [LogTrial] = []
                var engine: String?
                if let text = try? FileSystem.text(of: path, limit: LogParser.maximumLogBytes) {
                    let log = LogParser.parse(text, operation: op)
                    if log.error == nil {
                        trials = log.trialResults
                        engine = log.engine
                    }
                }
                if trials.count >= options.trials {
                    skipped += 1
                    continue
                }
                jobs.append(Job(operation: op, configuration: config, name: name, path: path, trials: trials,
                                engine: engine))
            }
        }
        if skipped > 0 {
            onEvent(.note("resuming: \(skipped) configuration log(s) in \(options.logDir) are complete and kept"))
        }
        var runners: [Int: BenchRunner] = [:]
        defer { for r in runners.values { r.cleanup() } }
        let flushMethod = options.flushPageCache ? PageCacheFlush.available : nil
        if let flushMethod { onEvent(.note("page cache: dropped before each configuration via \(flushMethod)")) }

        var ioSeconds = 0.0
        var fallbackNotes: Set<String> = []
        var removalSeconds = 0.0
        var runsDone = 0
        var best: [IOOperation: (name: String, gibps: Double)] = [:]
        let totalRuns = jobs.reduce(0) { $0 + options.trials - $1.trials.count }
        var runIndex = 0
        var aborted: String?
        let loopStart = monotonicNanos()
        roundLoop: for round in 1...options.trials {
            for j in jobs.indices where jobs[j].trials.count < round && jobs[j].error == nil {
                runIndex += 1
                let job = jobs[j]
                onEvent(.starting(index: runIndex, total: totalRuns, operation: job.operation, name: job.name,
                                  trial: job.trials.count + 1, trials: options.trials))
                let runner: BenchRunner
                if let existing = runners[job.configuration.tasksPerFolder] {
                    runner = existing
                } else {
                    runner = try makeRunner(job.configuration)
                    runners[job.configuration.tasksPerFolder] = runner
                }
                flushMethod?.drop(files: runnerFiles(runner))
                let op: IOOperation = job.operation == .read ? .read : .write
                var speed: Double?
                var failure: String?
                do {
                    let result = try runner.run(op, config: handleConfig(for: job.configuration), recordLatency: false)
                    ioSeconds += result.ioSeconds
                    removalSeconds += result.removalSeconds
                    jobs[j].trials.append(LogTrial(bytes: result.ioSize * result.tasks * result.loops,
                                                   taskLatency: result.taskLatency, e2eLatency: result.e2eLatency))
                    jobs[j].engine = result.config.engine.rawValue
                    if !result.engineFallbacks.isEmpty {
                        let text = "engine \(result.config.engine.rawValue) (skipped "
                            + result.engineFallbacks.joined(separator: "; ") + ")"
                        if fallbackNotes.insert(text).inserted { onEvent(.note(text)) }
                    }
                    speed = result.e2eSpeed
                    if speed! > (best[job.operation]?.gibps ?? -1) { best[job.operation] = (job.name, speed!) }
                } catch {
                    failure = error.description
                    jobs[j].error = failure
                    if error.isDeviceFailure {
                        aborted = error.description
                    }
                }
                runsDone += 1
                let text = LogWriter.format(
                    operation: job.operation, configuration: job.configuration, engine: jobs[j].engine,
                    ioSize: options.ioSize, trials: jobs[j].trials,
                    notes: logNotes(job.operation, trials: jobs[j].trials.count), error: jobs[j].error)
                try LogWriter.write(text, toFile: job.path)
                let elapsed = Double(monotonicNanos() - loopStart) / 1e9
                let eta = runIndex < totalRuns ? elapsed / Double(runIndex) * Double(totalRuns - runIndex) : 0
                onEvent(.finished(index: runIndex, total: totalRuns, operation: job.operation, name: job.name,
                                  trial: jobs[j].trials.count, gibps: speed, error: failure, etaSeconds: eta,
                                  best: best))
                if aborted != nil { break roundLoop }
            }
        }
        let failed = jobs.compactMap { job in job.error.map { (job.name, $0) } }
        return SweepSummary(runsDone: runsDone, skipped: skipped, failed: failed,
                            wallSeconds: Double(monotonicNanos() - wallStart) / 1e9, ioSeconds: ioSeconds,
                            removalSeconds: removalSeconds,
                            logDir: options.logDir, aborted: aborted, logs: jobs.count)
    }

    /// The `note:` lines of a log: trials done, the target, and the write mode of write logs.
    private func logNotes(_ operation: IOOperation, trials: Int) -> [String] {
        var notes = ["trials \(trials) of \(options.trials)", "target: \(options.target.summary)"]
        if operation == .write { notes.append("write mode: \(options.writeMode.summary)") }
        return notes
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
        return try BenchRunner(plan: plan)
    }

    private func runnerFiles(_ runner: BenchRunner) -> [String] {
        (0..<runner.plan.taskCount).map { runner.dataFile(task: $0, operation: .read) }
    }

    /// The handle configuration of a sweep point: its knobs, and the sweep's engine unless it names one.
    private func handleConfig(for config: SweepConfiguration) -> HandleConfig {
        var knobs = config.knobs
        if config.engine == nil { knobs.engine = options.engine }
        knobs.engineOptions = options.engineOptions
        return knobs
    }
}
