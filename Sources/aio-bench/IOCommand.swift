import AIOBench
import ArgumentParser
import AsyncIO

/// `aio-bench io`: one benchmark of one configuration, DeepSpeed's `ds_io`.
///
/// Numeric options parse their next argument unconditionally, so `--io_size -1` reaches the
/// size check and gets its message instead of "missing value".
struct IOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "io",
        abstract: "Measure one configuration (DeepSpeed's ds_io); prints DeepSpeed's four result lines.")

    @Option(name: [.customLong("folder")], help: "Folder to read and write in.")
    var folder: String?

    @Option(name: [.customLong("folder_to_device_mapping"), .customLong("folder-to-device-mapping")],
            parsing: .upToNextOption, help: "DIR:ID pairs; one task per pair.")
    var folderToDeviceMapping: [String] = []

    @Option(name: .customLong("stripe"), parsing: .upToNextOption,
            help: "Folders (one per drive) to stripe one task over, RAID-0 style, instead of --folder.")
    var stripe: [String] = []

    @Option(name: [.customLong("stripe_size"), .customLong("stripe-size")], parsing: .unconditional,
            help: "Bytes per stripe chunk with --stripe, a multiple of --block_size (default 1M).",
            transform: ByteCount.parser("--stripe_size"))
    var stripeSize: ByteCount?

    @Option(name: [.customLong("io_size"), .customLong("io-size")],
            parsing: .unconditional, help: "Bytes per task per loop (K/M/G suffixes).",
            transform: ByteCount.parser("--io_size"))
    var ioSize: ByteCount

    @Flag(name: .customLong("read"), help: "Read (default: write).")
    var read = false

    @Option(name: [.customLong("multi_process"), .customLong("multi-process")],
            parsing: .unconditional, help: "Tasks per --folder.")
    var multiProcess = 1

    @OptionGroup var knobs: KnobOptions

    @Flag(name: .customLong("validate"), help: "Compare the data with an ordinary read afterwards.")
    var validate = false

    @Option(name: .customLong("loops"),
            parsing: .unconditional, help: "Measured loops.")
    var loops = 3

    @Option(name: [.customLong("warmup_loops"), .customLong("warmup-loops")],
            parsing: .unconditional, help: "Untimed loops first.")
    var warmupLoops = 1

    @Flag(name: [.customLong("include_warmup_time"), .customLong("include-warmup-time")])
    var includeWarmupTime = false

    @Flag(name: [.customLong("different_file_each_iteration"), .customLong("different-file-each-iteration")])
    var differentFileEachIteration = false

    @Flag(name: .customLong("handle"), help: "Accepted for older DeepSpeed scripts (the handle is always used).")
    var handle = false

    @Flag(name: .customLong("gpu"), help: "DeepSpeed: GPU buffers (needs CUDA; not supported here).")
    var gpu = false

    @Flag(name: [.customLong("use_gds"), .customLong("use-gds")],
          help: "DeepSpeed: GPUDirect Storage (not supported here).")
    var useGds = false

    @Option(name: .customLong("target"),
            help: ArgumentHelp("deepspeed: measure what DeepSpeed's runtime does (kernel AIO, 4 KiB-page pinned "
                + "buffers, ds_io's write mode); native: swift-aio's fastest path (io_uring, huge pages)."))
    var target: MeasurementTarget = .native

    @Option(name: .customLong("buffer_runs"),
            help: ArgumentHelp("With --target deepspeed: build the buffers of huge-page pieces of this size, the mean "
                + "physical run of a ds_io process's pinned buffer as scripts/buffer-layout.py measures it "
                + "(default 128K).", valueName: "size"))
    var bufferRuns: ByteCount?

    @OptionGroup var writeModeFlag: WriteModeFlag

    @Flag(name: .customLong("slow_bounce_buffer"), help: .hidden)
    var slowBounceBuffer = false

    @Flag(name: .customLong("torch_legacy_save"), help: .hidden)
    var torchLegacySave = false

    @Flag(name: .customLong("use_accelerator_pin_memory"), help: .hidden)
    var useAcceleratorPinMemory = false

    @Flag(name: .customLong("stream"),
          help: "Stream through swift-aio's StreamWriter / StreamReader (bounce buffers of --fast_io_size).")
    var stream = false

    @Option(name: .customLong("fast_io_size"), parsing: .unconditional,
            help: "With --stream: bytes per bounce buffer (default 64M, DeepSpeed's io_buffer_size).")
    var fastIOSize: String?

    @Flag(name: .customLong("stream_async"),
          help: "With --stream --read: read with `for try await` over the StreamReader (its worker threads) instead of its blocking forEachChunk on each task's own thread.")
    var streamAsync = false

    @Flag(name: .customLong("buffered"), help: "Use the page cache instead of O_DIRECT.")
    var buffered = false

    @Flag(name: [.customLong("keep_files"), .customLong("keep-files")], help: "Keep the data files at the end.")
    var keepFiles = false

    @Flag(name: .customLong("json"), help: "Print one JSON document instead of text.")
    var json = false

    @Flag(name: .customLong("mpi"),
          help: "Run as one rank of an MPI job (mpirun, srun): every rank a task; rank 0 prints the job's result.")
    var mpi = false

    func run() throws {
        if mpi { return try runAcrossRanks() }
        let (plan, config) = try prepare(warnings: true)
        try plan.checkBeforeRun(config: config)
        let runner = try BenchRunner(plan: plan)
        let result = try runner.runOnce(read ? .read : .write, config: config)
        if json {
            say(result.json)
            return
        }
        for w in runner.warnings { warn(w) }
        for line in result.summaryLines { say(line) }
        for line in result.deepSpeedLines { say(line) }
        try result.checkValidated()
    }

    /// The plan and configuration the flags give; `warnings` prints the notes on DeepSpeed-only flags.
    func prepare(warnings: Bool) throws -> (BenchPlan, HandleConfig) {
        if gpu { try GPUSupport.refuse("--gpu") }
        if useGds { try GPUSupport.refuse("--use_gds") }
        var plan = BenchPlan(targets: try BenchTarget.targets(folder: folder, mapping: folderToDeviceMapping,
                                                              stripe: stripe),
                             ioSize: ioSize.bytes)
        plan.stripeSize = try BenchPlan.stripeSize(stripeSize?.bytes, folders: stripe)
        plan.tasksPerFolder = multiProcess
        plan.loops = loops
        plan.warmupLoops = warmupLoops
        plan.includeWarmupTime = includeWarmupTime
        plan.differentFileEachIteration = differentFileEachIteration
        plan.validate = validate
        plan.buffered = buffered
        plan.keepFiles = keepFiles
        plan.target = target
        plan.bufferRunBytes = bufferRuns?.bytes
        plan.writeMode = writeModeFlag.writeMode
        if streamAsync && !(stream && read) {
            throw BenchError.usage("--stream_async needs --stream and --read: it chooses how streamed reads are iterated")
        }
        if stream {
            plan.streamBufferSize = try fastIOSize.map { text throws(BenchError) in
                try ByteSize.parse(text, name: "--fast_io_size")
            } ?? StreamWriter.defaultBufferSize
            plan.streamAsync = streamAsync
        }
        let torchFlags: [(TorchOnlyFlag, Bool)] = [
            (.slowBounceBuffer, slowBounceBuffer), (.torchLegacySave, torchLegacySave),
            (.useAcceleratorPinMemory, useAcceleratorPinMemory), (.fastIOSize, fastIOSize != nil && !stream),
        ]
        for (flag, given) in torchFlags where given && warnings { warn(flag.note) }
        return (plan, try knobs.make())
    }
}
