import AsyncIO
import Foundation
import Glibc
import Histogram

/// Runs `ds_io`'s measurement in-process: per task one buffer and one file, `loops` timed
/// operations between barriers after `warmupLoops` untimed ones.
///
/// A runner keeps its buffers and read files across calls to `run`, so a sweep pays for
/// allocation and file creation once. Call `cleanup()` at the end (files it created are also
/// removed on Ctrl-C through `ScratchFiles`).
public final class BenchRunner: @unchecked Sendable {
    /// The plan being measured.
    public let plan: BenchPlan
    private var buffers: [AlignedBuffer] = []
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
    public func dataFile(task: Int, operation: IOOperation, loop: Int? = nil) -> String {
        let target = plan.targets[task / plan.tasksPerFolder]
        var folder = target.folder
        if let sub = operation == .read ? plan.readSubfolder : plan.writeSubfolder {
            folder = (folder as NSString).appendingPathComponent(sub)
        }
        var name = "_aio_\(operation.rawValue)_\(plan.ioSize).pt.\(task)"
        if let loop, plan.differentFileEachIteration { name += "_\(loop)" }
        return (folder as NSString).appendingPathComponent(name)
    }

    /// Removes every file and folder this runner created.
    public func cleanup() {
        for file in createdFiles { ScratchFiles.shared.remove(file: file) }
        createdFiles = []
        for folder in createdFolders.reversed() { rmdir(folder) }
        createdFolders = []
        readFilesReady = false
    }

    private func prepareFolders() throws(BenchError) {
        let subs = [plan.readSubfolder, plan.writeSubfolder].compactMap { $0 }
        for sub in subs {
            for target in plan.targets {
                let folder = (target.folder as NSString).appendingPathComponent(sub)
                if createdFolders.contains(folder) { continue }
                // The sub-folders are the tool's own (`_aio_bench_read_io`, ...): one left by a
                // killed run is removed at the end too (rmdir removes it only when empty).
                let made = ScratchFiles.shared.creating { () -> Int32 in
                    if mkdir(folder, 0o700) == 0 {
                        ScratchFiles.shared.add(folder: folder)
                        return 0
                    }
                    return errno
                }
                if made == EEXIST {
                    // Only a real folder: a symbolic link planted there would send the test files,
                    // and the removal of old ones, somewhere else.
                    var st = stat()
                    guard lstat(folder, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
                        throw .runtime("'\(folder)' exists and is not a folder (a symbolic link?): "
                            + "remove it or use another folder")
                    }
                    ScratchFiles.shared.add(folder: folder)
                } else if made != 0 {
                    throw .runtime("mkdir \(folder): \(String(cString: strerror(made)))")
                }
                createdFolders.append(folder)
            }
        }
    }

    /// Bytes of the task buffers backed by huge pages, read from /proc once after allocation.
    private var hugePageBytes = 0

    private func allocate() throws(BenchError) {
        guard buffers.isEmpty else { return }
        defer { hugePageBytes = buffers.reduce(0) { $0 + $1.hugePageBytes } }
        for task in 0..<plan.taskCount {
            do {
                let buffer = try AlignedBuffer(count: plan.ioSize, lock: plan.lockMemory)
                buffer.fillRandom(seed: UInt64(task + 1) &* 0x9E37_79B9)
                if let failure = buffer.lockFailure, warnings.isEmpty { warnings.append(failure) }
                buffers.append(buffer)
            } catch {
                throw BenchError(error)
            }
        }
    }

    private func track(_ file: String) {
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
                var st = stat()
                guard lstat(path, &st) == 0 else {
                    toWrite.append((task, path))
                    continue
                }
                guard st.st_mode & S_IFMT == S_IFREG else {
                    throw .runtime("read file '\(path)' exists and is not a regular file: "
                        + "remove it or use another folder")
                }
                if Int(st.st_size) == plan.ioSize {
                    // In the sweep's own test folder, a file of the right size is one a killed
                    // run left behind: reuse it, and remove it at the end like the others.
                    if plan.readSubfolder != nil { track(path) }
                    continue
                }
                guard access(path, W_OK) == 0 else {
                    throw .runtime("read file '\(path)' has \(st.st_size) bytes, not --io_size \(plan.ioSize), "
                        + "and cannot be replaced: \(String(cString: strerror(errno)))")
                }
                toWrite.append((task, path))
            }
        }
        do {
            let writer = try AIOHandle(HandleConfig(blockSize: 1 << 20, queueDepth: 16, intraOpParallelism: 1,
                                                    engine: .auto, direct: direct))
            for (task, path) in toWrite {
                track(path)
                // Created under the scratch registry's gate, so Ctrl-C never leaves it behind.
                try ScratchFiles.shared.creating { () throws(AsyncIOError) in
                    try writer.pwrite(buffers[task], to: path, async: true)
                }
                try writer.wait()
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
    ///   - knobs: the engine knobs.
    ///   - recordLatency: keep per-request latency percentiles (costs a clock read per request).
    public func run(_ operation: IOOperation, knobs: BenchKnobs, recordLatency: Bool = true)
        throws(BenchError) -> BenchResult {
        try knobs.validated(for: plan)
        try prepareFolders()
        try allocate()
        let direct = !plan.buffered
        if operation == .read { try prepareReadFiles(direct: direct) }
        let handles: [AIOHandle]
        do {
            handles = try (0..<plan.taskCount).map { _ throws(AsyncIOError) in
                try AIOHandle(knobs.handleConfig(direct: direct))
            }
        } catch {
            throw BenchError(error)
        }
        let tasks = plan.taskCount
        let histograms = HistogramSet(tasks: tasks, workers: knobs.ioParallel)
        var taskSeconds = Array(repeating: [Double](), count: tasks)
        var e2eSeconds = Array(repeating: 0.0, count: tasks)
        var taskSum = Array(repeating: 0.0, count: tasks)
        var usageStart = rusage()
        let totalLoops = plan.warmupLoops + plan.loops
        var ioNanos: UInt64 = 0
        var removalNanos: UInt64 = 0
        var requests = 0
        for loop in 0..<totalLoops {
            let measured = loop >= plan.warmupLoops || plan.includeWarmupTime
            if loop == plan.warmupLoops || (loop == 0 && plan.includeWarmupTime) {
                getrusage(RUSAGE_SELF.rawValue, &usageStart)
            }
            let paths = (0..<tasks).map { dataFile(task: $0, operation: operation, loop: loop) }
            if operation == .write {
                // Fresh extents every loop, as fio does with a new file: remove the old one first.
                // On a file system mounted with `discard` this is device work (tens of ms for
                // hundreds of MiB), so it is timed apart from the tool's own overhead.
                let removalStart = monotonicNanos()
                for p in paths {
                    unlink(p)
                    track(p)
                }
                removalNanos += monotonicNanos() - removalStart
            }
            let submittedBefore = handles.reduce(0) { $0 + $1.requestsSubmitted }
            let loopStart = monotonicNanos()
            let outcome = runLoop(operation, handles: handles, paths: paths,
                                  latency: measured && recordLatency ? histograms : nil)
            ioNanos += monotonicNanos() - loopStart
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
        var usageEnd = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usageEnd)
        var validated: Bool?
        if plan.validate {
            validated = try validate(operation)
        }
        let merged = histograms.merged()
        var percentiles: [String: Double] = [:]
        if merged.totalCount > 0 {
            for (key, p) in [("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9)] {
                percentiles[key] = Double(merged.valueAtPercentile(p)) / 1000
            }
            percentiles["max"] = Double(merged.max) / 1000
        }
        let measuredLoops = plan.loops + (plan.includeWarmupTime ? plan.warmupLoops : 0)
        return BenchResult(
            operation: operation.rawValue, ioSize: plan.ioSize, tasks: tasks, loops: measuredLoops,
            blockSize: knobs.blockSize, queueDepth: knobs.queueDepth, singleSubmit: knobs.singleSubmit,
            overlapEvents: knobs.overlapEvents, ioParallel: knobs.ioParallel,
            engine: handles[0].engine.rawValue, enginePath: handles[0].enginePath,
            engineFallbacks: handles[0].engineFallbacks, direct: direct,
            pageLocked: buffers.allSatisfy(\.isLocked),
            hugePageBytes: hugePageBytes,
            bufferBytes: buffers.reduce(0) { $0 + $1.count },
            taskLoopSeconds: taskSeconds, taskLatency: taskSum.max() ?? 0, e2eLatency: e2eSeconds.max() ?? 0,
            requests: requests, latencyMicros: percentiles,
            cpuUser: seconds(usageEnd.ru_utime) - seconds(usageStart.ru_utime),
            cpuSystem: seconds(usageEnd.ru_stime) - seconds(usageStart.ru_stime),
            validated: validated, folders: plan.targets.map(\.folder), ioSeconds: Double(ioNanos) / 1e9,
            removalSeconds: Double(removalNanos) / 1e9)
    }

    private func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }

    private struct LoopOutcome {
        var taskSeconds: [Double]
        var e2eSeconds: [Double]
        var error: AsyncIOError?
    }

    /// One loop: every task waits at a barrier, then runs its operation; E2E time counts from
    /// the barrier's release to the task's end.
    private func runLoop(_ operation: IOOperation, handles: [AIOHandle], paths: [String],
                         latency: HistogramSet?) -> LoopOutcome {
        let tasks = handles.count
        let results = LoopResults(tasks: tasks)
        let gate = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        let ready = DispatchGroup()
        for t in 0..<tasks {
            group.enter()
            ready.enter()
            let handle = handles[t]
            let buffer = buffers[t]
            let path = paths[t]
            let sink = latency.map { set in LatencySink { w, ns in set.record(task: t, worker: w, ns) } }
            let thread = Thread {
                ready.leave()
                gate.wait()
                let start = monotonicNanos()
                var failure: AsyncIOError?
                do throws(AsyncIOError) {
                    if operation == .read {
                        try handle.pread(buffer, from: path, async: false, latency: sink)
                    } else {
                        // The file is created when the operation starts: do that under the
                        // scratch registry's gate (Ctrl-C removes it before or after, never
                        // between), then wait for the data outside it.
                        try ScratchFiles.shared.creating { () throws(AsyncIOError) in
                            try handle.pwrite(buffer, to: path, async: true, latency: sink)
                        }
                        try handle.wait()
                    }
                } catch {
                    failure = error
                }
                results.set(task: t, start: start, end: monotonicNanos(), error: failure)
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        ready.wait()
        let release = monotonicNanos()
        for _ in 0..<tasks { gate.signal() }
        group.wait()
        return results.outcome(release: release)
    }

    private final class LoopResults: @unchecked Sendable {
        private let lock = NSLock()
        private var starts: [UInt64]
        private var ends: [UInt64]
        private var error: AsyncIOError?
        init(tasks: Int) {
            starts = Array(repeating: 0, count: tasks)
            ends = Array(repeating: 0, count: tasks)
        }
        func set(task: Int, start: UInt64, end: UInt64, error: AsyncIOError?) {
            lock.withLock {
                starts[task] = start
                ends[task] = end
                if let error, self.error == nil { self.error = error }
            }
        }
        func outcome(release: UInt64) -> LoopOutcome {
            lock.withLock {
                LoopOutcome(
                    taskSeconds: zip(starts, ends).map { Double($1 &- $0) / 1e9 },
                    e2eSeconds: ends.map { Double($0 &- min(release, $0)) / 1e9 },
                    error: error)
            }
        }
    }

    /// Compares the task buffers with the files' contents read through the page cache.
    private func validate(_ operation: IOOperation) throws(BenchError) -> Bool {
        let chunk = 1 << 20
        var scratch = [UInt8](repeating: 0, count: chunk)
        let lastLoop = plan.warmupLoops + plan.loops - 1
        for task in 0..<plan.taskCount {
            let path = dataFile(task: task, operation: operation, loop: lastLoop)
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .runtime("validate: open \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var offset = 0
            while offset < plan.ioSize {
                let want = min(chunk, plan.ioSize - offset)
                let got = scratch.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(offset)) }
                guard got == want else { return false }
                let same = buffers[task].withUnsafeBytes { mem in
                    scratch.withUnsafeBytes { memcmp(mem.baseAddress! + offset, $0.baseAddress!, want) == 0 }
                }
                if !same { return false }
                offset += want
            }
        }
        return true
    }
}

/// Per task and worker latency histograms, each written by one thread only.
final class HistogramSet: @unchecked Sendable {
    /// One histogram per (task, worker), each in its own box: the workers of every task record at
    /// the same time, each into its own box, and none of them mutates the array that holds the boxes
    /// (a mutating access to a shared array from several threads is a data race, even to different
    /// elements). `merged()` runs after the loop's threads are done.
    private final class Slot {
        var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000_000,
                                          numberOfSignificantValueDigits: .three)
    }

    private let slots: [Slot]
    private let workers: Int

    init(tasks: Int, workers: Int) {
        self.workers = workers
        slots = (0..<tasks * workers).map { _ in Slot() }
    }

    func record(task: Int, worker: Int, _ nanoseconds: UInt64) {
        _ = slots[task * workers + worker].histogram.record(min(nanoseconds, 600_000_000_000))
    }

    func merged() -> Histogram<UInt64> {
        var all = slots[0].histogram
        for slot in slots.dropFirst() { all.add(slot.histogram) }
        return all
    }
}
