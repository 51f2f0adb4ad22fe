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

    @Option(name: [.customLong("io_size"), .customLong("io-size")],
            parsing: .unconditional, help: "Bytes per task per loop (K/M/G suffixes).")
    var ioSize: String

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

    @Flag(name: [.customLong("use_gds"), .customLong("use-gds")], help: "DeepSpeed: GPUDirect Storage (not supported here).")
    var useGds = false

    @Flag(name: .customLong("slow_bounce_buffer"), help: .hidden)
    var slowBounceBuffer = false

    @Flag(name: .customLong("torch_legacy_save"), help: .hidden)
    var torchLegacySave = false

    @Flag(name: .customLong("use_accelerator_pin_memory"), help: .hidden)
    var useAcceleratorPinMemory = false

    @Option(name: .customLong("fast_io_size"), help: .hidden)
    var fastIOSize: String?

    @Flag(name: .customLong("buffered"), help: "Use the page cache instead of O_DIRECT.")
    var buffered = false

    @Flag(name: [.customLong("keep_files"), .customLong("keep-files")], help: "Keep the data files at the end.")
    var keepFiles = false

    @Flag(name: .customLong("json"), help: "Print one JSON document instead of text.")
    var json = false

    func run() throws {
        if gpu { try GPUSupport.refuse("--gpu") }
        if useGds { try GPUSupport.refuse("--use_gds") }
        if folder != nil && !folderToDeviceMapping.isEmpty {
            throw BenchError.usage("give either --folder or --folder_to_device_mapping, not both")
        }
        var targets: [BenchTarget] = []
        if let folder {
            targets = [BenchTarget(folder: folder)]
        } else if folderToDeviceMapping.isEmpty {
            throw BenchError.usage("no folder given: use --folder DIR or --folder_to_device_mapping DIR:ID ...")
        } else {
            targets = try folderToDeviceMapping.map(BenchTarget.parseMapping)
        }
        var plan = BenchPlan(targets: targets, ioSize: try ByteSize.parse(ioSize, name: "--io_size"))
        plan.tasksPerFolder = multiProcess
        plan.loops = loops
        plan.warmupLoops = warmupLoops
        plan.includeWarmupTime = includeWarmupTime
        plan.differentFileEachIteration = differentFileEachIteration
        plan.validate = validate
        plan.buffered = buffered
        plan.keepFiles = keepFiles
        let benchKnobs = try knobs.make()
        let operation: IOOperation = read ? .read : .write
        try IOCheck.directIO(plan: plan, knobs: benchKnobs)
        let runner = try BenchRunner(plan: plan)
        let result: BenchResult
        do {
            result = try runner.run(operation, knobs: benchKnobs)
        } catch {
            runner.cleanup()  // a failed run leaves nothing behind, even with --keep_files
            throw error
        }
        if !keepFiles { runner.cleanup() }
        if json {
            say(result.json)
            return
        }
        for w in runner.warnings { warn(w) }
        for line in result.summaryLines { say(line) }
        for line in result.deepSpeedLines { say(line) }
        if validate, result.validated == false {
            throw BenchError.runtime("validate: the data read back differs from what was expected")
        }
    }
}

/// The five engine knobs and engine options, shared by `io` and `fio-equivalent`.
struct KnobOptions: ParsableArguments {
    @Option(name: [.customLong("block_size"), .customLong("block-size")],
            parsing: .unconditional, help: "Bytes per request (K/M/G).")
    var blockSize = "1M"

    @Option(name: [.customLong("queue_depth"), .customLong("queue-depth")],
            parsing: .unconditional, help: "Requests in flight per worker.")
    var queueDepth = 32

    @Flag(name: [.customLong("single_submit"), .customLong("single-submit")], help: "One submit call per request.")
    var singleSubmit = false

    @Flag(name: [.customLong("sequential_requests"), .customLong("sequential-requests")],
          help: "Wait for each batch before the next (no overlap).")
    var sequentialRequests = false

    @Option(name: [.customLong("io_parallel"), .customLong("io-parallel")],
            parsing: .unconditional, help: "Workers per task.")
    var ioParallel = 1

    @Option(name: .customLong("engine"), help: "auto, io_uring, aio, posix or null.")
    var engine = "auto"

    @Flag(name: .customLong("sqpoll"), help: "io_uring: kernel thread polls the submission queue.")
    var sqpoll = false

    @Flag(name: [.customLong("no_register"), .customLong("no-register")],
          help: "io_uring: do not register buffers and files.")
    var noRegister = false

    @Flag(name: [.customLong("register_files"), .customLong("register-files")],
          help: "io_uring: also register the file descriptors (fixed files).")
    var registerFiles = false

    func make() throws -> BenchKnobs {
        BenchKnobs(
            blockSize: try ByteSize.parse(blockSize, name: "--block_size"), queueDepth: queueDepth,
            singleSubmit: singleSubmit, overlapEvents: !sequentialRequests, ioParallel: ioParallel,
            engine: try EngineName.parse(engine),
            engineOptions: EngineOptions(sqpoll: sqpoll, registerResources: !noRegister, registerFiles: registerFiles))
    }
}

/// Checks that need the folder's file system before anything is created.
enum IOCheck {
    static func directIO(plan: BenchPlan, knobs: BenchKnobs) throws {
        try plan.validated()
        try knobs.validated(for: plan)
        guard !plan.buffered, knobs.engine != .null else { return }
        for target in plan.targets {
            guard let align = IOFile.directIOAlignment(folder: target.folder) else {
                throw BenchError.usage("folder '\(target.folder)' does not support direct I/O (O_DIRECT): "
                    + "use --buffered, or a folder on a disk file system")
            }
            if knobs.blockSize % align != 0 {
                throw BenchError.usage("--block_size \(knobs.blockSize) is not a multiple of \(align), "
                    + "the direct I/O alignment of '\(target.folder)'")
            }
        }
    }
}
