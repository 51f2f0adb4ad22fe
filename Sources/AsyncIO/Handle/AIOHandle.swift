import Glibc

/// An asynchronous I/O handle with DeepNVMe's knobs: moves whole buffers between memory and
/// files, each operation split over `intraOpParallelism` persistent worker threads that each
/// own one kernel queue (io_uring ring or AIO context) of `queueDepth` requests.
///
/// ```swift
/// let handle = try AIOHandle(HandleConfig(blockSize: 1 << 20, queueDepth: 32, intraOpParallelism: 4))
/// let buffer = try AlignedBuffer(count: 256 << 20)
/// try handle.write(buffer, to: "/mnt/nvme/checkpoint.bin")
/// try handle.asyncPRead(buffer, from: "/mnt/nvme/checkpoint.bin")
/// let completed = try handle.wait()
/// ```
///
/// Many operations may be pending at once; `wait()` returns how many asynchronous operations
/// completed and throws the first error among them. A handle may be shared between threads.
// @unchecked: configuration and workers are `let`s; mutable state lives in `CompletionState` (under its
// lock) and in the workers (under theirs).
public final class AIOHandle: @unchecked Sendable {
    /// The configuration the handle was built with (`engine` resolved to a concrete one).
    public let config: HandleConfig
    /// Why `.auto` skipped better engines, one line each (empty when nothing was skipped).
    public let engineFallbacks: [String]

    private let workers: [Worker]
    /// Completion bookkeeping, shared with the workers. The workers hold this, never the handle,
    /// so the handle's last reference is always the caller's and `deinit` (which joins the
    /// workers) never runs on a worker thread.
    private let state: CompletionState
    private let requestCounter: RequestCounter

    /// Bytes per request.
    public var blockSize: Int { config.blockSize }
    /// Requests in flight per worker.
    public var queueDepth: Int { config.queueDepth }
    /// Whether each request is submitted with its own call.
    public var singleSubmit: Bool { config.singleSubmit }
    /// Whether the queue is topped up as requests complete.
    public var overlapEvents: Bool { config.overlapEvents }
    /// Worker threads per operation.
    public var intraOpParallelism: Int { config.intraOpParallelism }
    /// The engine in use (never `.auto`).
    public var engine: EngineKind { config.engine }
    /// One line on the path the engine takes (registered buffers, SQPOLL, ...), from worker 0.
    public var enginePath: String { workers[0].pathDescription }
    /// Requests the workers have handed to the kernel so far, over every finished operation: one per
    /// block of each slice, and one more for each unaligned tail and each continuation of a short
    /// transfer. The count behind IOPS figures.
    public var requestsSubmitted: Int { requestCounter.total }

    /// Creates a handle and starts its workers.
    ///
    /// - Throws: `AsyncIOError` for a bad knob, or when the chosen engine cannot be created
    ///   (with `.auto`, the next engine is tried instead).
    public init(_ config: HandleConfig = HandleConfig()) throws(AsyncIOError) {
        try config.validate()
        let (resolved, skipped) = EngineProbe.resolve(config.engine)
        var candidates = [resolved]
        if config.engine == .auto {
            candidates += [EngineKind.aio, .posix].filter { $0 != resolved && !(resolved == .posix) }
        }
        var fallbacks = skipped
        var lastError: AsyncIOError?
        var built: (EngineKind, [IOQueue])?
        let counter = FaultCounter()
        for kind in candidates {
            do {
                var queues: [IOQueue] = []
                for _ in 0..<config.intraOpParallelism {
                    var q = try makeQueue(kind: kind, depth: config.queueDepth, options: config.engineOptions,
                                          config: config)
                    if let plan = config.faults {
                        q = FaultInjectingQueue(inner: q, plan: plan, counter: counter)
                    }
                    queues.append(q)
                }
                built = (kind, queues)
                break
            } catch {
                fallbacks.append("\(kind.rawValue): \(error.description)")
                lastError = error
            }
        }
        guard let (kind, engineQueues) = built else { throw lastError! }
        let queues = config.engineOptions.recorder?.wrap(engineQueues) ?? engineQueues
        var finalConfig = config
        finalConfig.engine = kind
        self.config = finalConfig
        self.engineFallbacks = fallbacks
        var made: [Worker] = []
        let state = CompletionState()
        let requests = RequestCounter()
        for (i, q) in queues.enumerated() {
            do {
                made.append(try Worker(index: i, queue: q, config: finalConfig, requests: requests) { op, error in
                    state.finished(op, error)
                })
            } catch {
                for w in made { w.stop() }
                throw error
            }
        }
        workers = made
        self.state = state
        requestCounter = requests
    }

    deinit {
        for w in workers { w.stop() }
    }

    // MARK: - Blocking whole-file operations (no parallelism)

    /// Reads `count` bytes (default: the buffer's size) of `path` from `offset` into `buffer`,
    /// on one worker, and returns the bytes read.
    @discardableResult
    public func read(_ buffer: AlignedBuffer, from path: String, offset: Int64 = 0, count: Int? = nil)
        throws(AsyncIOError) -> Int {
        let n = count ?? buffer.count
        let op = try start(.read, buffer, path, offset, n, truncate: false, parallel: false,
                           isAsync: false, latency: nil)
        try waitFor(op)
        return n
    }

    /// Writes `count` bytes (default: the buffer's size) of `buffer` to `path`, replacing its
    /// contents, on one worker, and returns the bytes written.
    @discardableResult
    public func write(_ buffer: AlignedBuffer, to path: String, count: Int? = nil) throws(AsyncIOError) -> Int {
        let n = count ?? buffer.count
        let op = try start(.write, buffer, path, 0, n, truncate: true, parallel: false,
                           isAsync: false, latency: nil)
        try waitFor(op)
        return n
    }

    // MARK: - Parallel operations

    /// Reads into `buffer` from `path` at `offset` over all workers; returns at once when
    /// `async` is true (finish with `wait()`), else when the data is in memory.
    public func pread(_ buffer: AlignedBuffer, from path: String, offset: Int64 = 0, count: Int? = nil,
                      async: Bool, latency: LatencySink? = nil) throws(AsyncIOError) {
        let op = try start(.read, buffer, path, offset, count ?? buffer.count, truncate: false, parallel: true,
                           isAsync: async, latency: latency)
        if !async { try waitFor(op) }
    }

    /// Writes `buffer` to `path` at `offset` over all workers; returns at once when `async`
    /// is true (finish with `wait()`). `truncate` (default: when `offset` is 0) drops the old
    /// contents first, so a smaller write leaves no stale tail.
    public func pwrite(_ buffer: AlignedBuffer, to path: String, offset: Int64 = 0, count: Int? = nil,
                       truncate: Bool? = nil, async: Bool, latency: LatencySink? = nil) throws(AsyncIOError) {
        let op = try start(.write, buffer, path, offset, count ?? buffer.count, truncate: truncate ?? (offset == 0),
                           parallel: true, isAsync: async, latency: latency)
        if !async { try waitFor(op) }
    }

    /// Blocking parallel read (DeepSpeed `sync_pread`).
    public func syncPRead(_ buffer: AlignedBuffer, from path: String, offset: Int64 = 0, count: Int? = nil)
        throws(AsyncIOError) {
        try pread(buffer, from: path, offset: offset, count: count, async: false)
    }

    /// Blocking parallel write (DeepSpeed `sync_pwrite`).
    public func syncPWrite(_ buffer: AlignedBuffer, to path: String, offset: Int64 = 0, count: Int? = nil)
        throws(AsyncIOError) {
        try pwrite(buffer, to: path, offset: offset, count: count, async: false)
    }

    /// Starts a parallel read and returns at once (DeepSpeed `async_pread`); finish with `wait()`.
    public func asyncPRead(_ buffer: AlignedBuffer, from path: String, offset: Int64 = 0, count: Int? = nil)
        throws(AsyncIOError) {
        try pread(buffer, from: path, offset: offset, count: count, async: true)
    }

    /// Starts a parallel write and returns at once (DeepSpeed `async_pwrite`); finish with `wait()`.
    public func asyncPWrite(_ buffer: AlignedBuffer, to path: String, offset: Int64 = 0, count: Int? = nil)
        throws(AsyncIOError) {
        try pwrite(buffer, to: path, offset: offset, count: count, async: true)
    }

    /// Waits for every pending asynchronous operation; returns how many completed since the
    /// last `wait()` and throws the first error among them (the others still completed).
    @discardableResult
    public func wait() throws(AsyncIOError) -> Int {
        try state.waitAll()
    }

    // MARK: - Swift concurrency

    /// Reads into `buffer` from `path` over all workers without blocking the caller's thread.
    public func read(_ buffer: AlignedBuffer, from path: String, offset: Int64 = 0, count: Int? = nil)
        async throws {
        let op = try start(.read, buffer, path, offset, count ?? buffer.count, truncate: false, parallel: true,
                           isAsync: false, latency: nil)
        try await awaitOp(op)
    }

    /// Writes `buffer` to `path` over all workers without blocking the caller's thread.
    public func write(_ buffer: AlignedBuffer, to path: String, offset: Int64 = 0, count: Int? = nil)
        async throws {
        let op = try start(.write, buffer, path, offset, count ?? buffer.count, truncate: offset == 0,
                           parallel: true, isAsync: false, latency: nil)
        try await awaitOp(op)
    }

    private func awaitOp(_ op: PendingOperation) async throws {
        let lock = state.lock
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let resume: (AsyncIOError?)? = lock.withLock {
                if op.done { return .some(op.error) }
                op.continuation = c
                return nil
            }
            if let resume {
                if let error = resume { c.resume(throwing: error) } else { c.resume() }
            }
        }
    }

    // MARK: - Internals

    private func start(
        _ operation: IOOperation, _ buffer: AlignedBuffer, _ path: String, _ offset: Int64, _ count: Int,
        truncate: Bool, parallel: Bool, isAsync: Bool, latency: LatencySink?
    ) throws(AsyncIOError) -> PendingOperation {
        let verb = operation == .read ? "read" : "write"
        guard count >= 0, count <= buffer.count else {
            throw .invalid(verb, "byte count \(count) must be between 0 and the buffer size \(buffer.count)", path: path)
        }
        guard offset >= 0 else { throw .invalid(verb, "file offset \(offset) is negative", path: path) }
        let file = try IOFile(path: path, access: operation == .read ? .read : .write(truncate: truncate),
                              direct: config.direct)
        if file.isDirect, config.blockSize % file.offsetAlignment != 0 {
            throw .invalid(verb, "block size \(config.blockSize) is not a multiple of the direct I/O alignment "
                           + "\(file.offsetAlignment) of this file system", path: path)
        }
        if operation == .write, truncate, file.isDirect {
            // A fresh file: reserve its extents first (as fio does by default), so no request
            // has to allocate blocks on the way.
            file.preallocate(offset: offset, length: Int64(count))
        }
        if operation == .read {
            let size = try file.size()
            if size < offset + Int64(count) {
                throw AsyncIOError(
                    .unexpectedEndOfFile, operation: "read", path: path,
                    message: "the file is \(size) bytes, shorter than the \(count) bytes requested at offset \(offset)")
            }
        }
        // Cut into slices, one per worker, on alignment boundaries; the rest goes to the last.
        let parts = parallel ? workers.count : 1
        // Direct files: cut on page boundaries, so no page is shared by two workers (the last
        // slice's unaligned tail goes through the page cache; see SliceRunner).
        let align = file.isDirect ? max(file.offsetAlignment, AlignedBuffer.pageSize) : 1
        let base = count / parts / align * align
        var slices: [Slice] = []
        var position = 0
        let operationID = config.engine == .sim ? SimulationNoise.shared.nextOperation() : 0
        for i in 0..<parts {
            let length = i == parts - 1 ? count - position : base
            if length > 0 {
                slices.append(Slice(operation: operation, file: file, memory: buffer.base + position,
                                    length: length, fileOffset: offset + Int64(position), operationID: operationID))
            }
            position += length
        }
        let op = PendingOperation(slices: slices.count, isAsync: isAsync, file: file, buffer: buffer,
                                  latency: latency)
        if isAsync { state.asyncStarted() }
        if slices.isEmpty {
            state.finished(op, nil, completesSlice: false)
            return op
        }
        // A lone slice goes to worker 0; otherwise slice i goes to worker i.
        for (i, slice) in slices.enumerated() {
            workers[parts == 1 ? 0 : i].enqueue(slice, op)
        }
        return op
    }

    private func waitFor(_ op: PendingOperation) throws(AsyncIOError) {
        try state.waitFor(op)
    }
}

/// The completion state of one handle's operations: pending and completed asynchronous
/// operations, the first asynchronous error, and the wake-ups of waiters.
// @unchecked: every mutable field is guarded by `lock` (see the comment on each).
final class CompletionState: @unchecked Sendable {
    let lock = ConditionLock()
    // Guarded by `lock`.
    private var asyncPending = 0
    private var asyncCompleted = 0
    private var firstAsyncError: AsyncIOError?

    /// Counts an asynchronous operation as pending.
    func asyncStarted() { lock.withLock { asyncPending += 1 } }

    /// One slice of `op` finished (or, with `completesSlice` false, an operation without slices).
    func finished(_ op: PendingOperation, _ error: AsyncIOError?, completesSlice: Bool = true) {
        let continuation: CheckedContinuation<Void, any Error>? = lock.withLock {
            if completesSlice { op.remaining -= 1 }
            if let error, op.error == nil { op.error = error }
            guard op.remaining == 0 else { return nil }
            op.done = true
            op.file = nil
            if op.isAsync {
                asyncPending -= 1
                asyncCompleted += 1
                if let e = op.error, firstAsyncError == nil { firstAsyncError = e }
            }
            lock.broadcast()
            defer { op.continuation = nil }
            return op.continuation
        }
        if let continuation {
            if let e = op.error { continuation.resume(throwing: e) } else { continuation.resume() }
        }
    }

    /// Waits until `op` is done; throws its error.
    func waitFor(_ op: PendingOperation) throws(AsyncIOError) {
        let error: AsyncIOError? = lock.withLock {
            while !op.done { lock.waitLocked() }
            return op.error
        }
        if let error { throw error }
    }

    /// Waits for every pending asynchronous operation; returns how many completed and resets.
    func waitAll() throws(AsyncIOError) -> Int {
        let (count, error): (Int, AsyncIOError?) = lock.withLock {
            while asyncPending > 0 { lock.waitLocked() }
            defer {
                asyncCompleted = 0
                firstAsyncError = nil
            }
            return (asyncCompleted, firstAsyncError)
        }
        if let error { throw error }
        return count
    }
}
