import AsyncIO
import Foundation
import Histogram

/// Runs `ds_io`'s measurement in-process: per task one buffer and one file, `loops` timed
/// operations between barriers after `warmupLoops` untimed ones.
///
/// A runner keeps its buffers and read files across calls to `run`, so a sweep pays for
/// allocation and file creation once. Call `cleanup()` at the end (files it created are also
/// removed on Ctrl-C through `ScratchFiles`).
public final class BenchRunner {
    /// The plan being measured.
    let plan: BenchPlan
    /// One buffer per task, allocated once and reused (see `TaskBuffers`).
    let taskBuffers = TaskBuffers()
    var buffers: [AlignedBuffer] { taskBuffers.all }
    /// `io --stream`'s ordinary source memory, one array per task (writes only).
    private var streamSources: [StreamSource] = []
    private var readFilesReady = false
    private var createdFolders: [String] = []
    private var createdFiles: Set<String> = []
    /// Warnings to show once (page locking refused, ...).
    public private(set) var warnings: [String] = []

    /// Checks the plan and prepares (but does not yet allocate) the tasks.
    public init(plan: BenchPlan) throws(BenchError) {
        try plan.validated()
        self.plan = plan
        ScratchFiles.shared.installSignalHandlers()
    }

    deinit { if !plan.keepFiles { cleanup() } }

    /// The data file of `task` for `operation` (DeepSpeed: `_aio_<op>_<bytes>.pt.<task>`).
    func dataFile(task: Int, operation: IOOperation, loop: Int? = nil) -> String {
        let target = plan.targets[task / plan.tasksPerFolder]
        var folder = target.folder
        if let sub = operation == .read ? plan.readSubfolder : plan.writeSubfolder {
            folder = PathName.join(folder, sub)
        }
        var name = "_aio_\(operation.rawValue)_\(plan.ioSize).pt.\(plan.firstTask + task)"
        if let loop, plan.differentFileEachIteration { name += "_\(loop)" }
        return PathName.join(folder, name)
    }

    /// Removes every file and folder this runner created.
    func cleanup() {
        for file in createdFiles { ScratchFiles.shared.remove(file: file) }
        createdFiles = []
        writeFilesStarted = []
        for folder in createdFolders.reversed() { FileSystem.removeEmptyDirectory(folder) }
        createdFolders = []
        readFilesReady = false
    }

    private func prepareFolders() throws(BenchError) {
        let subs = [plan.readSubfolder, plan.writeSubfolder].compactMap { $0 }
        for sub in subs {
            for target in plan.targets {
                let folder = PathName.join(target.folder, sub)
                if createdFolders.contains(folder) { continue }
                // The sub-folders are the tool's own (`_aio_bench_read_io`, ...): one left by a
                // killed run is removed at the end too (rmdir removes it only when empty).
                let made = ScratchFiles.shared.creating { () -> AsyncIOError? in
                    do throws(AsyncIOError) {
                        try FileSystem.createDirectory(folder, permissions: 0o700)
                    } catch {
                        return error
                    }
                    ScratchFiles.shared.add(folder: folder)
                    return nil
                }
                if let made, made.code == .fileExists {
                    // Only a real folder: a symbolic link planted there would send the test files,
                    // and the removal of old ones, somewhere else.
                    guard (try? FileSystem.status(of: folder, followLinks: false))?.kind == .directory else {
                        throw .runtime("'\(folder)' exists and is not a folder (a symbolic link?): "
                            + "remove it or use another folder")
                    }
                    ScratchFiles.shared.add(folder: folder)
                } else if let made {
                    throw .runtime("mkdir \(folder): \(made.reason)", cause: made)
                }
                createdFolders.append(folder)
            }
        }
    }

    /// Allocates (and page-locks) the task buffers once (`TaskBuffers.allocate`); a warning when
    /// they cannot be page-locked.
    func allocate(engine: EngineKind) throws(BenchError) {
        try taskBuffers.allocate(plan, engine: engine)
        if let failure = taskBuffers.lockFailure, warnings.isEmpty { warnings.append(failure) }
    }

    /// Called before each loop's I/O, after its files were prepared: the loop number (warm-up first)
    /// and the data files. For tests of the write modes.
    var loopWillStart: (@Sendable (_ loop: Int, _ paths: [String]) -> Void)?

    /// Called before each loop's I/O, warm-up included: where the ranks of a job meet
    /// (`ClusterCoordinator.checkpoint`), so their loops start together. Its error ends the run.
    var beforeLoop: (() throws(BenchError) -> Void)?

    /// Write files this runner has removed once already (ds_io's overwrite mode removes each once).
    private var writeFilesStarted: Set<String> = []

    /// Fills the task buffers for writing, once (`TaskBuffers.fillForWriting`).
    func fillForWriting(simulated: Bool) {
        taskBuffers.fillForWriting(simulated: simulated, firstTask: plan.firstTask)
    }

    func track(_ file: String) {
        if createdFiles.insert(file).inserted { ScratchFiles.shared.add(file: file) }
    }

    /// Creates the read files (random data), reusing any that already have the right size.
    ///
    /// A regular file of another size is replaced (and removed at the end); a path that is not
    /// a regular file (folder, symbolic link, ...) or cannot be written is an error and is left
    /// as it was.
    private func prepareReadFiles(direct: Bool) throws(BenchError) {
        guard !readFilesReady else { return }
        let total = plan.warmupLoops + plan.loops
        let loopsWithFiles = plan.differentFileEachIteration ? Array(0..<total) : [0]
        var toWrite: [(task: Int, path: String)] = []
        for task in 0..<plan.taskCount {
            for loop in loopsWithFiles {
                let path = dataFile(task: task, operation: .read, loop: loop)
                guard let status = try? FileSystem.status(of: path, followLinks: false) else {
                    toWrite.append((task, path))
                    continue
                }
                guard status.kind == .regular else {
                    throw .runtime("read file '\(path)' exists and is not a regular file: "
                        + "remove it or use another folder")
                }
                if status.size == Int64(plan.ioSize) {
                    // In the sweep's own test folder, a file of the right size is one a killed
                    // run left behind: reuse it, and remove it at the end like the others.
                    if plan.readSubfolder != nil { track(path) }
                    continue
                }
                do {
                    try FileSystem.checkAccess(path, .write)
                } catch {
                    throw .runtime("read file '\(path)' has \(status.size) bytes, not --io_size \(plan.ioSize), "
                        + "and cannot be replaced: \(error.reason)", cause: error)
                }
                toWrite.append((task, path))
            }
        }
        do {
            // Through a small staging buffer of its own, so the task buffers, which the read will
            // fill anyway, are never filled for it.
            var staged = HandleConfig(blockSize: 1 << 20, queueDepth: 16, intraOpParallelism: 1, engine: .auto,
                                      direct: direct)
            staged.privateFiles = true
            let writer = try AIOHandle(staged)
            let staging = try AlignedBuffer(count: min(plan.ioSize, 16 << 20), lock: false, hugePages: false)
            for (task, path) in toWrite {
                track(path)
                var offset = 0
                while offset < plan.ioSize {
                    let count = min(staging.count, plan.ioSize - offset)
                    staging.fillRandom(seed: UInt64(plan.firstTask + task + 1) &* 0x9E37_79B9 &+ UInt64(offset))
                    // Created under the scratch registry's gate, so Ctrl-C never leaves it behind.
                    let ticket = try ScratchFiles.shared.creating { () throws(AsyncIOError) in
                        try writer.submitWrite(from: staging, to: path, offset: Int64(offset), count: count,
                                               truncate: offset == 0)
                    }
                    try ticket.wait()
                    offset += count
                }
            }
        } catch {
            throw BenchError(error)
        }
        readFilesReady = true
    }

    /// Measures one configuration.
    ///
    /// - Parameters:
    ///   - operation: read or write.
    ///   - config: the handle configuration (its `direct` is set from the plan).
    ///   - recordLatency: keep per-request latency percentiles (costs a clock read per request).
    func run(_ operation: IOOperation, config asked: HandleConfig, recordLatency: Bool = true)
        throws(BenchError) -> BenchResult {
        if plan.stripeSize != nil { return try runStriped(operation, config: asked, recordLatency: recordLatency) }
        try plan.validate(asked)
        let config = try plan.resolve(asked)
        try prepareFolders()
        let direct = config.direct
        if plan.streamBufferSize != nil {
            // Streamed: the bounce buffers are the streams' own; writes come from ordinary arrays.
            if operation == .read {
                try prepareReadFiles(direct: direct)
            } else if streamSources.isEmpty {
                streamSources = makeStreamSources()
            }
        } else {
            try allocate(engine: config.engine)
            if operation == .read {
                try prepareReadFiles(direct: direct)
                // The read overwrites them with the read files' random data (an engine that moves none
                // leaves them as they were: unfilled, for the next write to fill).
                taskBuffers.contents = config.engine.movesData ? .readData : .unfilled
            } else {
                fillForWriting(simulated: config.engine == .sim)
            }
        }
        let handles: [AIOHandle]
        do {
            handles = try (0..<plan.taskCount).map { _ throws(AsyncIOError) in try AIOHandle(config) }
        } catch {
            throw BenchError(error)
        }
        let tasks = plan.taskCount
        let histograms = HistogramSet(tasks: tasks, workers: config.intraOpParallelism)
        let rings: [BounceBuffers]
        do {
            rings = try plan.streamBufferSize.map { size throws(AsyncIOError) in
                try (0..<tasks).map { _ throws(AsyncIOError) in try BounceBuffers(size: size) }
            } ?? []
        } catch {
            throw BenchError(error)
        }
        var taskSeconds = Array(repeating: [Double](), count: tasks)
        var e2eSeconds = Array(repeating: 0.0, count: tasks)
        var taskSum = Array(repeating: 0.0, count: tasks)
        var cpuStart = SystemInfo.cpuTime()
        let totalLoops = plan.warmupLoops + plan.loops
        var ioNanos: UInt64 = 0
        var removalNanos: UInt64 = 0
        var syncSeconds = 0.0
        var requests = 0
        var checksums = Array(repeating: [UInt64](), count: tasks)
        for loop in 0..<totalLoops {
            let measured = loop >= plan.warmupLoops || plan.includeWarmupTime
            if loop == plan.warmupLoops || (loop == 0 && plan.includeWarmupTime) {
                cpuStart = SystemInfo.cpuTime()
            }
            let paths = (0..<tasks).map { dataFile(task: $0, operation: operation, loop: loop) }
            if operation == .write {
                // ds_io's overwrite mode removes a write file once, the first time this runner
                // writes it; the fresh-file mode removes it before every loop. On a file system
                // mounted with `discard` removal is device work (tens of ms for hundreds of MiB),
                // so it is timed apart from the tool's own overhead.
                let removalStart = monotonicNanos()
                for p in paths where plan.writeMode == .freshFileEachLoop || !writeFilesStarted.contains(p) {
                    FileSystem.removeFileIfPresent(p)
                    writeFilesStarted.insert(p)
                    track(p)
                }
                removalNanos += monotonicNanos() - removalStart
            }
            do {
                try beforeLoop?()
            } catch {
                if operation == .write { for p in paths { ScratchFiles.shared.remove(file: p) } }
                throw error
            }
            loopWillStart?(loop, paths)
            let submittedBefore = handles.reduce(0) { $0 + $1.requestsSubmitted }
            let loopStart = monotonicNanos()
            let outcome: LoopOutcome
            if plan.streamBufferSize != nil {
                let streamed = runStreamLoop(operation, handles: handles, paths: paths, rings: rings,
                                             sources: streamSources)
                outcome = streamed.0
                for t in 0..<tasks { checksums[t].append(streamed.checksums[t]) }
            } else {
                outcome = runLoop(operation, handles: handles, paths: paths,
                                  truncate: plan.writeMode == .freshFileEachLoop,
                                  latency: measured && recordLatency ? histograms : nil)
            }
            ioNanos += monotonicNanos() - loopStart
            if outcome.error == nil, plan.streamBufferSize != nil, operation == .write {
                let seconds = try syncStreamed(paths)
                if measured { syncSeconds += seconds }
            }
            if let error = outcome.error {
                if operation == .write { for p in paths { ScratchFiles.shared.remove(file: p) } }
                throw BenchError(error)
            }
            if measured {
                requests += handles.reduce(0) { $0 + $1.requestsSubmitted } - submittedBefore
                for t in 0..<tasks {
                    taskSeconds[t].append(outcome.taskSeconds[t])
                    taskSum[t] += outcome.taskSeconds[t]
                    e2eSeconds[t] += outcome.e2eSeconds[t]
                }
            }
        }
        let cpuEnd = SystemInfo.cpuTime()
        var validated: Bool?
        if plan.validate {
            if plan.streamBufferSize != nil {
                validated = try validateStream(operation, sources: streamSources, checksums: checksums)
            } else {
                validated = config.engine == .sim ? validateSimulated() : try validate(operation)
            }
        }
        let percentiles = histograms.percentilesMicros()
        let measuredLoops = plan.loops + (plan.includeWarmupTime ? plan.warmupLoops : 0)
        let writeMode: WriteMode? = operation == .write ? plan.writeMode : nil
        let cpuUser: Double = cpuEnd.user - cpuStart.user
        let cpuSystem: Double = cpuEnd.system - cpuStart.system
        return BenchResult(
            operation: operation, ioSize: plan.ioSize, tasks: tasks, loops: measuredLoops,
            config: handles[0].config, target: plan.target, writeMode: writeMode, notes: measurementNotes(operation, config: handles[0].config),
            enginePath: handles[0].enginePath,
            engineFallbacks: handles[0].engineFallbacks,
            pageLocked: plan.streamBufferSize == nil ? buffers.allSatisfy(\.isLocked) : rings.allSatisfy(\.isLocked),
            hugePageBytes: plan.streamBufferSize == nil ? taskBuffers.hugePageBytes : rings.reduce(0) { $0 + $1.hugePageBytes },
            bufferBytes: plan.streamBufferSize.map { $0 * StreamWriter.defaultBufferCount * tasks }
                ?? buffers.reduce(0) { $0 + $1.count },
            physicalRunBytes: plan.streamBufferSize == nil ? taskBuffers.physicalRunBytes : nil,
            footprintBytes: taskBuffers.footprintBytes, pieceBytes: taskBuffers.pieceBytes,
            layoutAttempts: taskBuffers.attempts > 1 ? taskBuffers.attempts : nil,
            taskLoopSeconds: taskSeconds, taskLatency: taskSum.max() ?? 0, e2eLatency: e2eSeconds.max() ?? 0,
            requests: requests, latencyMicros: percentiles,
            cpuUser: cpuUser, cpuSystem: cpuSystem,
            validated: validated, folders: plan.targets.map(\.folder), ioSeconds: Double(ioNanos) / 1e9,
            removalSeconds: Double(removalNanos) / 1e9, syncSeconds: syncSeconds)
    }

    /// How streamed reads are iterated, for the summary.
    private func streamReadMode(_ config: HandleConfig) -> String {
        if plan.streamAsync { return "for try await" }
        return config.engine == .uring || config.engine == .aio
            ? "blocking forEachChunk, with a kernel queue of its own made per file inside the timed loop"
            : "blocking forEachChunk, the handle's workers reading ahead"
    }

    /// Why this run's figures may measure memory rather than storage.
    func measurementNotes(_ operation: IOOperation, config: HandleConfig) -> [String] {
        var notes: [String] = []
        for folder in Set(plan.targets.map(\.folder)).sorted()
        where (try? FileSystem.fileSystemStats(of: folder))?.isMemoryBacked == true {
            notes.append("'\(folder)' is on a file system in memory (tmpfs or ramfs): this measures memory, not storage")
        }
        if let size = plan.streamBufferSize {
            notes.append("streamed: " + (operation == .write
                ? "StreamWriter from ordinary memory (unaligned, not page-locked) "
                : "StreamReader (" + streamReadMode(config) + "), every chunk of "
                    + ByteSize.compact(BenchRunner.streamChunkSize(config, bufferSize: size))
                    + " checksummed and dropped, ")
                + "through \(StreamWriter.defaultBufferCount) bounce buffers of \(ByteSize.compact(size)) per task "
                + "(allocated once, before the loops); "
                + "no per-request latency is recorded")
        }
        if plan.buffered && operation == .read {
            notes.append("buffered read: the page cache may have served it (the file was just written or read): "
                + "this measures memory, not storage")
        }
        return notes
    }
}
