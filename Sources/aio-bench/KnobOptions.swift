import AIOBench
import ArgumentParser
import AsyncIO

/// The five engine knobs and engine options, shared by `io` and `fio-equivalent`.
struct KnobOptions: ParsableArguments {
    @Option(name: [.customLong("block_size"), .customLong("block-size")],
            parsing: .unconditional,
            help: .abstract("Bytes per request (K/M/G).", default: KnobOptions.defaultBlockSize),
            transform: ByteCount.parser("--block_size"))
    var blockSize = KnobOptions.defaultBlockSize

    @Option(name: [.customLong("queue_depth"), .customLong("queue-depth")],
            parsing: .unconditional, help: "Requests in flight per worker.")
    var queueDepth = BenchPlan.defaultQueueDepth

    @Flag(name: [.customLong("single_submit"), .customLong("single-submit")], help: "One submit call per request.")
    var singleSubmit = false

    @Flag(name: [.customLong("sequential_requests"), .customLong("sequential-requests")],
          help: "Wait for each batch before the next (no overlap).")
    var sequentialRequests = false

    @Option(name: [.customLong("io_parallel"), .customLong("io-parallel")],
            parsing: .unconditional, help: "Workers per task.")
    var ioParallel = 1

    @OptionGroup var engineChoice: EngineChoice

    @Flag(name: .customLong("sqpoll"), help: "io_uring: kernel thread polls the submission queue.")
    var sqpoll = false

    @Flag(name: [.customLong("no_register"), .customLong("no-register")],
          help: "io_uring: do not register buffers and files.")
    var noRegister = false

    @Flag(name: [.customLong("register_files"), .customLong("register-files")],
          help: "io_uring: also register the file descriptors (fixed files).")
    var registerFiles = false

    /// ds_io's block size: 1 MiB.
    static let defaultBlockSize = ByteCount(bytes: 1 << 20)

    /// The handle configuration these flags give.
    func make() throws -> HandleConfig {
        var config = HandleConfig(
            blockSize: blockSize.bytes, queueDepth: queueDepth,
            singleSubmit: singleSubmit, overlapEvents: !sequentialRequests, intraOpParallelism: ioParallel,
            engine: engineChoice.engine,
            engineOptions: EngineOptions(
                uring: URingOptions(sqpoll: sqpoll, registerResources: !noRegister, registerFiles: registerFiles),
                requestMerging: engineChoice.requestMerging))
        config.engineOptions.simulation = try engineChoice.simulation()
        return config
    }
}
