import AIOBench
import ArgumentParser
import AsyncIO

/// The flags of `sweep` and `tune` (DeepSpeed's ds_nvme_tune spelling, kebab-case aliases).
struct SweepArguments: ParsableArguments {
    @Option(name: [.customLong("nvme_dir"), .customLong("nvme-dir")], parsing: .upToNextOption,
            help: "Folders on the devices to measure (one task per folder).")
    var nvmeDir: [String] = []

    @Option(name: [.customLong("sweep_config"), .customLong("sweep-config")],
            help: "JSON sweep space (default: DeepSpeed 0.19's 64-point grid).")
    var sweepConfig: String?

    @Flag(name: [.customLong("no_read"), .customLong("no-read")], help: "Skip the read sweep.")
    var noRead = false

    @Flag(name: [.customLong("no_write"), .customLong("no-write")], help: "Skip the write sweep.")
    var noWrite = false

    @Option(name: [.customLong("io_size"), .customLong("io-size")], parsing: .unconditional,
            help: .abstract("Bytes per task per loop.", default: SweepArguments.defaultIOSize),
            transform: ByteCount.parser("--io_size"))
    var ioSize = SweepArguments.defaultIOSize

    @Flag(name: [.customLong("flush_page_cache"), .customLong("flush-page-cache")],
          help: "Drop the page cache before each configuration.")
    var flushPageCache = false

    @Option(name: [.customLong("log_dir"), .customLong("log-dir")], help: "Log folder.")
    var logDir = "_aio_bench_logs"

    @Option(name: .customLong("loops"), parsing: .unconditional, help: "Measured loops per trial.")
    var loops = 1

    @Option(name: [.customLong("warmup_loops"), .customLong("warmup-loops")], parsing: .unconditional, help: "Untimed loops per trial.")
    var warmupLoops = 1

    @Option(name: .customLong("trials"), parsing: .unconditional,
            help: ArgumentHelp("A fixed number of trials per configuration, interleaved round-robin, instead of "
                + "racing (the default)."))
    var trials: Int?

    @Option(name: .customLong("confidence"), parsing: .unconditional,
            help: ArgumentHelp("Racing: the confidence of the statement made about the pick (default 0.95). "
                + "Round 1 runs every configuration (a half fraction of a grid over 96, chosen so every knob "
                + "effect and two-knob interaction stays estimable); after each round one linear model of log "
                + "speed (knob effects, the interactions BIC keeps, a round effect, and an effect of its own for "
                + "any configuration whose runs disagree with its knobs) pools every run, and Hsu's multiple "
                + "comparisons with the best (Dunnett's critical value) bound how far each configuration can be "
                + "from the best; only configurations that could still be within --tolerance run again."))
    var confidence: Double?

    @Option(name: .customLong("tolerance"), parsing: .unconditional,
            help: ArgumentHelp("Racing: the indifference zone, a fraction of the best's speed (default 0.03): the race "
                + "stops when a configuration is shown within it; the cheapest so shown is picked."))
    var tolerance: Double?

    @Option(name: [.customLong("max_trials"), .customLong("max-trials")], parsing: .unconditional,
            help: "Racing: the most trials of one configuration (default 10).")
    var maxTrials: Int?

    @Option(name: .customLong("budget"), parsing: .unconditional,
            help: ArgumentHelp("Racing: stop after this much time (90s, 20m, 1h); by default after half a fixed "
                + "3-trial sweep's runs. It always ends with a pick and the smallest margin the runs support."))
    var budget: String?

    @OptionGroup var engineChoice: EngineChoice

    @Option(name: .customLong("target"),
            help: ArgumentHelp("deepspeed: measure what DeepSpeed's runtime does (kernel AIO, 4 KiB-page pinned "
                + "buffers, ds_io's write mode; tune's default); native: swift-aio's fastest path (sweep's default)."))
    var target: MeasurementTarget?

    @OptionGroup var writeModeFlag: WriteModeFlag

    @Flag(name: .customLong("force"), help: "Start afresh even if the log folder holds a different sweep.")
    var force = false

    @Flag(name: .customLong("buffered"), help: "Use the page cache instead of O_DIRECT.")
    var buffered = false

    @Flag(name: .customLong("verbose"), help: "Print one line per configuration run, with its speed.")
    var verbose = false

    @Flag(name: .customLong("quiet"), help: "Print only the result.")
    var quiet = false

    @Flag(name: .customLong("mpi"),
          help: "Run as one rank of an MPI job (mpirun, srun): every configuration on all ranks at once; rank 0 logs.")
    var mpi = false

    @Flag(name: .customLong("gpu"), help: "DeepSpeed: GPU buffers (needs CUDA; not supported here).")
    var gpu = false

    @Flag(name: [.customLong("gds"), .customLong("use_gds")],
          help: "DeepSpeed: GPUDirect Storage (not supported here).")
    var gds = false

    /// ds_nvme_tune's size: 400 MiB per task per loop.
    static let defaultIOSize = ByteCount(bytes: 400 << 20)

    /// The sweep these flags describe, on `defaultDirs` when no `--nvme_dir` is given.
    func options(defaultDirs: [String], defaultTarget: MeasurementTarget = .native,
                 objective: TuningObjective = .time) throws -> SweepOptions {
        if gpu { try GPUSupport.refuse("--gpu") }
        if gds { try GPUSupport.refuse("--gds") }
        let dirs = nvmeDir.isEmpty ? defaultDirs : nvmeDir
        if dirs.isEmpty {
            throw BenchError.usage("--nvme_dir is required: give one or more folders on the devices to measure")
        }
        var o = SweepOptions(nvmeDirs: dirs)
        o.sweepConfig = sweepConfig
        o.read = !noRead
        o.write = !noWrite
        o.ioSize = ioSize.bytes
        o.flushPageCache = flushPageCache
        o.logDir = logDir
        o.loops = loops
        o.warmupLoops = warmupLoops
        if let trials {
            let racing = [("--confidence", confidence != nil), ("--tolerance", tolerance != nil),
                          ("--max_trials", maxTrials != nil), ("--budget", budget != nil)].filter(\.1).map(\.0)
            if let flag = racing.first {
                throw BenchError.usage("\(flag) steers the race, and --trials \(trials) asks for a fixed schedule "
                    + "instead: drop one of them")
            }
            o.trials = trials  // a fixed schedule: options race only when asked to
        } else {
            try o.useRace(confidence: confidence ?? 0.95, tolerance: tolerance ?? 0.03, maxTrials: maxTrials ?? 10,
                          budget: budget, objective: objective)
        }
        o.engine = engineChoice.engine
        o.engineOptions.simulation = try engineChoice.simulation()
        o.engineOptions.requestMerging = engineChoice.requestMerging
        o.force = force
        o.buffered = buffered
        o.target = target ?? defaultTarget
        o.writeMode = writeModeFlag.writeMode
        return o
    }

    /// Runs the sweep with progress on stderr; returns the summary.
    func runSweep(defaultDirs: [String], defaultTarget: MeasurementTarget = .native,
                  objective: TuningObjective = .time) throws -> SweepSummary {
        let options = try options(defaultDirs: defaultDirs, defaultTarget: defaultTarget, objective: objective)
        let progress = Progress(quiet: quiet, verbose: verbose)
        let runner = try SweepRunner(options: options) { event in progress.show(event) }
        try options.checkDirectIO()
        if !quiet { progress.line(options.headerLine(configurations: runner.space.count)) }
        let summary = try runner.run()
        try conclude(summary, progress: progress)
        return summary
    }

    /// Prints the sweep's outcome lines and warnings; throws its error when configurations failed.
    func conclude(_ summary: SweepSummary, progress: Progress) throws {
        progress.finish()
        let outcome = summary.outcome
        if !quiet { for line in outcome.lines { progress.line(line) } }
        for warning in outcome.warnings { warn(warning) }
        if let error = outcome.error { throw error }
    }
}
