import AIOBench
import ArgumentParser
import AsyncIO

/// `--engine`, `--request_merging` and the simulated device's `--sim_model`, shared by `io`, `fio-equivalent`, `sweep`
/// and `tune`.
struct EngineChoice: ParsableArguments {
    @Option(name: .customLong("engine"),
            help: .abstract("One of \(EngineName.accepted).", default: EngineKind.auto),
            transform: EngineKind.parser)
    var engine = EngineKind.auto

    @Option(name: [.customLong("sim_model"), .customLong("sim-model")],
            help: "--engine sim: the device model (JSON; see the README).")
    var simModel: String?

    @Option(name: [.customLong("request_merging"), .customLong("request-merging")],
            help: .abstract("io_uring and kernel AIO: whether the block layer may merge a batch's neighbouring "
                + "requests into larger ones: auto (requests of 128K and more reach the device whole), allowed "
                + "(one submit call per batch, as DeepSpeed), avoided.", default: RequestMerging.auto))
    var requestMerging = RequestMerging.auto

    /// The simulated device's model when `--engine sim`, else nil (see `SimulationModelFile.forEngine`).
    func simulation() throws -> SimulatedDevice? {
        try SimulationModelFile.forEngine(engine, model: simModel)
    }
}

/// `--fresh_file_each_loop`, shared by `io`, `sweep` and `tune`.
struct WriteModeFlag: ParsableArguments {
    @Flag(name: [.customLong("fresh_file_each_loop"), .customLong("fresh-file-each-loop")],
          help: ArgumentHelp("Writes: remove and create the file before every loop (allocating writes) "
            + "instead of ds_io's overwrite in place."))
    var freshFileEachLoop = false

    /// The write mode the flag selects.
    var writeMode: WriteMode { freshFileEachLoop ? .freshFileEachLoop : .overwrite }
}
