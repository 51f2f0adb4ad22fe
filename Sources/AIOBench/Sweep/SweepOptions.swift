import AsyncIO

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
    /// Trials per configuration with a fixed schedule (`--trials N`), run round-robin over the
    /// configurations; the largest number of trials any configuration gets when racing.
    public var trials = 3
    /// Adaptive trials: the race's decision rule (what `sweep` and `tune` use unless `--trials N`);
    /// nil runs the fixed `trials` schedule.
    var race: Race?
    /// Racing: the most trials one configuration gets (`--max_trials`).
    var maxTrials = 10
    /// Racing: the most runs the whole race may spend; nil is half what a fixed 3-trial sweep spends.
    var budgetRuns: Int?
    /// Racing: the most wall seconds the race may spend (`--budget`); nil for no limit.
    var budgetSeconds: Double?
    /// Racing: the score that races (`time` and `sum` race read and write together).
    var objective: TuningObjective = .time
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

    /// Parses a duration: `90`, `90s`, `20m`, `1h`, `1.5h`.
    ///
    /// - Throws: `BenchError.usage` naming `--budget` and what is allowed.
    static func parseDuration(_ text: String) throws(BenchError) -> Double {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        var number = Substring(text.lowercased())
        var unit = 1.0
        if let last = number.last, let scale = units[last] {
            unit = scale
            number = number.dropLast()
        }
        guard let value = Double(number), value.isFinite else {
            throw .usage("--budget '\(text)' is not a duration: use seconds, or a number with s, m or h (90s, 20m, 1h)")
        }
        guard value > 0 else {
            throw .usage("--budget '\(text)' must be positive: a time the race may spend (90s, 20m, 1h)")
        }
        return value * unit
    }

    /// The handle configuration a sweep point runs with: its knobs, the sweep's engine unless it names
    /// one, and the sweep's engine options.
    func handleConfig(for configuration: SweepConfiguration) -> HandleConfig {
        var knobs = configuration.knobs
        if configuration.engine == nil { knobs.engine = engine }
        knobs.engineOptions = engineOptions
        return knobs
    }

    /// Races instead of the fixed schedule, with the decision rule and limits given (see `Race`).
    ///
    /// - Throws: `BenchError.usage` naming `--confidence`, `--tolerance`, `--max_trials` or `--budget`
    ///   when a value is outside what is allowed.
    public mutating func useRace(confidence: Double, tolerance: Double, maxTrials: Int, budget: String?,
                                 objective: TuningObjective) throws(BenchError) {
        guard confidence > 0.5, confidence < 1 else {
            throw .usage("--confidence \(confidence) must be above 0.5 and below 1 (0.95 is 95 %)")
        }
        guard tolerance >= 0, tolerance < 0.5 else {
            throw .usage("--tolerance \(tolerance) must be at least 0 and below 0.5 (0.03 is 3 %)")
        }
        guard maxTrials >= 2, maxTrials <= 1000 else {
            throw .usage("--max_trials \(maxTrials) must be between 2 and 1000")
        }
        race = Race(confidence: confidence, tolerance: tolerance)
        self.maxTrials = maxTrials
        budgetSeconds = try budget.map { text throws(BenchError) in try SweepOptions.parseDuration(text) }
        self.objective = objective
    }

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
    /// How the race went, when the sweep raced.
    var race: RaceSummary?
    /// The log folder.
    var logDir: String
    /// Whether the sweep stopped early on a device error (ENOSPC, EIO, ...).
    var aborted: String?
    /// Logs (configuration × operation) the sweep covers, done now or before.
    var logs: Int = 0
    /// Bytes the sweep wrote to the drives now (flash wears).
    var writtenBytes = 0

    /// Per configuration run, the seconds outside the I/O loops and file removal (tool overhead), in ms.
    var overheadPerRunMillis: Double {
        runsDone > 0 ? max(0, wallSeconds - ioSeconds - removalSeconds) / Double(runsDone) * 1000 : 0
    }

    /// Per configuration run, the seconds spent removing old write files, in ms.
    var removalPerRunMillis: Double {
        runsDone > 0 ? removalSeconds / Double(runsDone) * 1000 : 0
    }
}
