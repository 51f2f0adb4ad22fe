import ArgumentParser

/// `aio-bench sweep`: DeepSpeed's perf_run_sweep, in-process and resumable.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run every configuration of a sweep space; one DeepSpeed-format log each (resumable).")

    @OptionGroup var sweep: SweepArguments

    func run() throws {
        if sweep.mpi { return try sweep.runAcrossRanks(defaultDirs: []) }
        _ = try sweep.runSweep(defaultDirs: [])
    }
}
