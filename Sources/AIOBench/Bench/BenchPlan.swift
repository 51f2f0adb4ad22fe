import AsyncIO
import Foundation

/// One folder the benchmark writes to, with DeepSpeed's device id from `DIR:ID`.
public struct BenchTarget: Sendable, Equatable, Codable {
    /// The folder.
    public var folder: String
    /// The device id given in `--folder_to_device_mapping` (0 for `--folder`).
    public var deviceID: Int

    /// Creates a target.
    public init(folder: String, deviceID: Int = 0) {
        self.folder = folder
        self.deviceID = deviceID
    }

    /// Parses DeepSpeed's `DIR:ID` (split at the last colon, so a folder may contain colons).
    public static func parseMapping(_ text: String) throws(BenchError) -> BenchTarget {
        guard let colon = text.lastIndex(of: ":") else {
            throw .usage("--folder_to_device_mapping '\(text)' has no ':': expected DIR:ID, e.g. /mnt/nvme0:0")
        }
        let folder = String(text[..<colon])
        let id = String(text[text.index(after: colon)...])
        guard !folder.isEmpty else {
            throw .usage("--folder_to_device_mapping '\(text)' has an empty folder: expected DIR:ID")
        }
        guard let value = Int(id), value >= 0 else {
            throw .usage("--folder_to_device_mapping '\(text)': device id '\(id)' must be a whole number >= 0")
        }
        return BenchTarget(folder: folder, deviceID: value)
    }
}

/// What one benchmark measures, apart from the engine knobs: where, how much, how often.
public struct BenchPlan: Sendable, Equatable {
    /// Folders; each gets `tasksPerFolder` tasks.
    public var targets: [BenchTarget]
    /// Tasks (DeepSpeed processes) per folder.
    public var tasksPerFolder: Int = 1
    /// Bytes per task per loop.
    public var ioSize: Int
    /// Measured loops.
    public var loops: Int = 3
    /// Loops run before measuring.
    public var warmupLoops: Int = 1
    /// Count warm-up loops in the figures (DeepSpeed `--include_warmup_time`).
    public var includeWarmupTime = false
    /// Use a new file name in every loop (DeepSpeed `--different_file_each_iteration`).
    public var differentFileEachIteration = false
    /// Compare what was read or written with an ordinary read afterwards.
    public var validate = false
    /// Use the page cache instead of `O_DIRECT`.
    public var buffered = false
    /// Page-lock buffers when the limit allows.
    public var lockMemory = true
    /// Keep the data files at the end.
    public var keepFiles = false
    /// Put read files in this sub-folder of each target (created and removed by the run).
    public var readSubfolder: String?
    /// Put write files in this sub-folder of each target (created and removed by the run).
    public var writeSubfolder: String?

    /// Creates a plan.
    public init(targets: [BenchTarget], ioSize: Int) {
        self.targets = targets
        self.ioSize = ioSize
    }

    /// Number of tasks.
    public var taskCount: Int { targets.count * tasksPerFolder }

    /// Checks folders and counts; throws one usage line naming the value and what is allowed.
    public func validated() throws(BenchError) {
        guard !targets.isEmpty else { throw .usage("no folder given: use --folder DIR or --folder_to_device_mapping DIR:ID") }
        guard ioSize > 0 else { throw .usage("--io_size must be greater than 0") }
        guard loops >= 1 else { throw .usage("--loops \(loops) must be at least 1") }
        guard warmupLoops >= 0 else { throw .usage("--warmup_loops \(warmupLoops) must be 0 or more") }
        guard tasksPerFolder >= 1, tasksPerFolder <= 256 else {
            throw .usage("--multi_process \(tasksPerFolder) must be between 1 and 256")
        }
        for target in targets { try BenchPlan.checkFolder(target.folder, flag: "folder") }
    }

    /// Checks that `folder` exists, is a folder and is writable.
    public static func checkFolder(_ folder: String, flag: String) throws(BenchError) {
        let status: FileStatus
        do {
            status = try FileSystem.status(of: folder)
        } catch {
            throw .usage("--\(flag) '\(folder)' "
                + (error.code == .noSuchFile ? "does not exist" : "cannot be read: \(error.reason)")
                + ": give an existing, writable folder")
        }
        guard status.kind == .directory else {
            throw .usage("--\(flag) '\(folder)' is not a folder: give an existing, writable folder")
        }
        guard FileSystem.isAccessible(folder, [.write, .execute]) else {
            throw .usage("--\(flag) '\(folder)' is not writable: give an existing, writable folder")
        }
    }
}

/// The engine knobs of one configuration.
public struct BenchKnobs: Sendable, Equatable {
    /// Bytes per request.
    public var blockSize: Int = 1 << 20
    /// Requests in flight per worker (ds_io's default 32).
    public var queueDepth: Int = 32
    /// One submit call per request.
    public var singleSubmit = false
    /// Keep the queue topped up (the negation of `--sequential_requests`).
    public var overlapEvents = true
    /// Workers per operation (`--io_parallel`).
    public var ioParallel: Int = 1
    /// The engine.
    public var engine: EngineKind = .auto
    /// io_uring options.
    public var engineOptions = EngineOptions()

    /// Creates knobs with ds_io's defaults.
    public init(blockSize: Int = 1 << 20, queueDepth: Int = 32, singleSubmit: Bool = false,
                overlapEvents: Bool = true, ioParallel: Int = 1, engine: EngineKind = .auto,
                engineOptions: EngineOptions = EngineOptions()) {
        self.blockSize = blockSize
        self.queueDepth = queueDepth
        self.singleSubmit = singleSubmit
        self.overlapEvents = overlapEvents
        self.ioParallel = ioParallel
        self.engine = engine
        self.engineOptions = engineOptions
    }

    /// The handle configuration these knobs make.
    public func handleConfig(direct: Bool) -> HandleConfig {
        HandleConfig(blockSize: blockSize, queueDepth: queueDepth, singleSubmit: singleSubmit,
                     overlapEvents: overlapEvents, intraOpParallelism: ioParallel, engine: engine,
                     direct: direct, engineOptions: engineOptions)
    }

    /// Checks the knobs against the plan; one usage line naming the value and what is allowed.
    public func validated(for plan: BenchPlan) throws(BenchError) {
        guard blockSize > 0 else { throw .usage("--block_size must be greater than 0") }
        guard queueDepth >= 1, queueDepth <= HandleConfig.maxQueueDepth else {
            throw .usage("--queue_depth \(queueDepth) must be between 1 and \(HandleConfig.maxQueueDepth)")
        }
        let blocks = (plan.ioSize + blockSize - 1) / blockSize
        guard ioParallel >= 1, ioParallel <= min(blocks, HandleConfig.maxParallelism) else {
            throw .usage("--io_parallel \(ioParallel) must be between 1 and \(min(blocks, HandleConfig.maxParallelism)) "
                + "(the number of \(ByteSize.compact(blockSize)) blocks in --io_size \(ByteSize.compact(plan.ioSize)))")
        }
    }
}
