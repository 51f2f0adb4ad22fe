import AsyncIO
import Foundation

/// One folder the benchmark writes to, with DeepSpeed's device id from `DIR:ID`.
public struct BenchTarget: Sendable, Equatable, Codable {
    /// The folder.
    var folder: String
    /// The device id given in `--folder_to_device_mapping` (0 for `--folder`).
    var deviceID: Int

    /// Creates a target.
    init(folder: String, deviceID: Int = 0) {
        self.folder = folder
        self.deviceID = deviceID
    }

    /// Parses DeepSpeed's `DIR:ID` (split at the last colon, so a folder may contain colons).
    static func parseMapping(_ text: String) throws(BenchError) -> BenchTarget {
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
    var targets: [BenchTarget]
    /// Tasks (DeepSpeed processes) per folder.
    public var tasksPerFolder: Int = 1
    /// Bytes per task per loop.
    var ioSize: Int
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
    var lockMemory = true
    /// Keep the data files at the end.
    public var keepFiles = false
    /// Put read files in this sub-folder of each target (created and removed by the run).
    var readSubfolder: String?
    /// Put write files in this sub-folder of each target (created and removed by the run).
    var writeSubfolder: String?
    /// Whose I/O path the measurement stands for (engine and buffer layout).
    public var target: MeasurementTarget = .native
    /// The deepspeed target's physical run: its buffers are built of huge-page pieces of this many bytes
    /// (`--buffer_runs`, what `scripts/buffer-layout.py` measured of a ds_io process); nil: the target's
    /// default (`MeasurementTarget.physicalRunBytes`).
    public var bufferRunBytes: Int?
    /// How write loops treat their file (ds_io's overwrite by default).
    public var writeMode: WriteMode = .overwrite
    /// The job-wide number of the plan's first task, in data file names: 0 on one node; across ranks,
    /// rank × tasks per rank, so ranks sharing a folder never share a file.
    var firstTask = 0
    /// Stripe one task over the targets' folders in chunks of this many bytes (`--stripe`); nil runs
    /// one task per folder (see `Bench/StripePlan.swift`).
    public var stripeSize: Int?
    /// Stream the data through `StreamWriter` / `StreamReader` with bounce buffers of this many
    /// bytes (`io --stream [--fast_io_size N]`); nil runs whole-buffer operations.
    public var streamBufferSize: Int?
    /// Streamed reads: iterate the `StreamReader` with `for try await` (`--stream_async`) rather than
    /// with its blocking `forEachChunk` on the task's own thread.
    public var streamAsync = false

    /// Creates a plan.
    public init(targets: [BenchTarget], ioSize: Int) {
        self.targets = targets
        self.ioSize = ioSize
    }

    /// Number of tasks (one when striped over the folders).
    var taskCount: Int { stripeSize == nil ? targets.count * tasksPerFolder : 1 }

    /// Checks folders and counts; throws one usage line naming the value and what is allowed.
    func validated() throws(BenchError) {
        guard !targets.isEmpty else { throw .usage("no folder given: use --folder DIR or --folder_to_device_mapping DIR:ID") }
        guard ioSize > 0 else { throw .usage("--io_size must be greater than 0") }
        guard loops >= 1 else { throw .usage("--loops \(loops) must be at least 1") }
        guard warmupLoops >= 0 else { throw .usage("--warmup_loops \(warmupLoops) must be 0 or more") }
        try target.check(writeMode)
        if let run = bufferRunBytes {
            guard target == .deepspeed else {
                throw .usage("--buffer_runs lays out the buffers of --target deepspeed: add --target deepspeed")
            }
            guard run >= 4096, run <= 2 << 20, run % 4096 == 0 else {
                throw .usage("--buffer_runs \(run) must be a multiple of 4096 from 4K to 2M (a run of 4 KiB pages "
                    + "within a huge page)")
            }
        }
        if let size = streamBufferSize {
            guard size > 0, size % 4096 == 0 else {
                throw .usage("--fast_io_size \(size) must be a positive multiple of 4096 (the bounce buffer size of --stream)")
            }
            if target == .deepspeed {
                throw .usage("--stream contradicts --target deepspeed, which measures DeepSpeed's aio_handle path: "
                    + "drop one of them")
            }
        }
        guard tasksPerFolder >= 1, tasksPerFolder <= 256 else {
            throw .usage("--multi_process \(tasksPerFolder) must be between 1 and 256")
        }
        if stripeSize != nil { return try checkStripe() }
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

extension BenchPlan {
    /// ds_io's default queue depth (`--queue_depth`), which the benchmark and sweeps use when none is
    /// given: the library's own default (`HandleConfig()`).
    public static let defaultQueueDepth = HandleConfig().queueDepth

    /// The configuration the plan runs: `config` with the target's engine (see
    /// `MeasurementTarget.engine(asked:)`) and `direct` unless the plan is buffered.
    func resolve(_ config: HandleConfig) throws(BenchError) -> HandleConfig {
        var resolved = config.with(direct: !buffered)
        resolved.engine = try target.engine(asked: config.engine)
        // Scratch files are the tool's own: owner only.
        resolved.privateFiles = true
        if target == .deepspeed {
            // DeepSpeed's aio_handle hands the kernel a whole batch in one io_submit.
            resolved.engineOptions.requestMerging = .allowed
        }
        return resolved
    }

    /// Checks a configuration against the plan, naming the flags: one usage line naming the value and
    /// what is allowed: the configuration's own limits (`HandleConfig.firstBadKnob()`), and
    /// parallelism at most the number of blocks in `--io_size`.
    func validate(_ config: HandleConfig) throws(BenchError) {
        // Parallelism has a narrower range here, checked below with its reason.
        if let bad = config.firstBadKnob(), bad.knob != .intraOpParallelism {
            let flag = bad.knob == .blockSize ? "--block_size" : "--queue_depth"
            throw .usage("\(flag) \(bad.value) must be \(bad.allowed)")
        }
        let blockSize = config.blockSize
        let blocks = (ioSize + blockSize - 1) / blockSize
        let parallel = config.intraOpParallelism
        guard parallel >= 1, parallel <= min(blocks, HandleConfig.maxParallelism) else {
            throw .usage("--io_parallel \(parallel) must be between 1 and \(min(blocks, HandleConfig.maxParallelism)) "
                + "(the number of \(ByteSize.compact(blockSize)) blocks in --io_size \(ByteSize.compact(ioSize)))")
        }
        if target == .deepspeed, config.engineOptions.requestMerging == .avoided {
            throw .usage("--request_merging avoided contradicts --target deepspeed, whose aio_handle submits a whole "
                + "batch in one call (the block layer merges it): drop one of them")
        }
        if stripeSize != nil { try checkStripe(config) }
    }
}
