/// DeepSpeed's `aio_handle`, method for method, over an ``AIOHandle``: the porting layer.
///
/// Code ported from DeepSpeed (`AsyncIOBuilder().load().aio_handle(...)`) keeps its calls, spelled
/// the Swift way: `handle.async_pread(buffer, path, 0)` becomes
/// `try handle.asyncPread(buffer, filename: path)`, `handle.wait()` stays `try handle.wait()`. New code
/// uses ``AIOHandle`` itself: `async` reads and writes, and tickets.
///
/// | DeepSpeed 0.19.8 | here |
/// |---|---|
/// | `aio_handle(block_size, queue_depth, single_submit, overlap_events, intra_op_parallelism)` | ``init(blockSize:queueDepth:singleSubmit:overlapEvents:intraOpParallelism:engine:)`` |
/// | `get_block_size()` ... `get_alignment()` | ``getBlockSize()`` ... ``getAlignment()`` |
/// | `read` / `write` (on the calling thread) | ``read(_:filename:validate:fileOffset:)``, ``write(_:filename:validate:fileOffset:)`` |
/// | `pread` / `pwrite` (`async` or not) | ``pread(_:filename:validate:async:fileOffset:latency:)``, ``pwrite(_:filename:validate:async:fileOffset:latency:)`` |
/// | `sync_pread` / `sync_pwrite` | ``syncPread(_:filename:fileOffset:)``, ``syncPwrite(_:filename:fileOffset:)`` |
/// | `async_pread` / `async_pwrite` | ``asyncPread(_:filename:fileOffset:)``, ``asyncPwrite(_:filename:fileOffset:)`` |
/// | `wait()` | ``wait()`` |
/// | `new_cpu_locked_tensor` / `free_cpu_locked_tensor` / `is_pinned` | ``newCpuLockedTensor(_:)``, ``freeCpuLockedTensor(_:)``, ``isPinned(_:)`` |
///
/// Where DeepSpeed returns -1 or aborts the process (a missing file, a file shorter than the
/// buffer, `wait()` with nothing pending), these throw ``AsyncIOError`` or return 0; errors of the
/// transfers themselves, which DeepSpeed does not check, are thrown by ``wait()`` (or the
/// synchronous call). Writes never truncate: as DeepSpeed's, they open the file without `O_TRUNC`.
public final class DeepSpeedHandle: Sendable {
    /// The handle whose workers run every call.
    public let handle: AIOHandle

    /// A handle over `handle`'s workers.
    public init(_ handle: AIOHandle) { self.handle = handle }

    /// A new handle with DeepSpeed's defaults (its `aio_handle()`: queue depth 128).
    ///
    /// - Throws: `AsyncIOError.invalid` for a knob out of range; the engine's error when none works.
    public convenience init(blockSize: Int = 1 << 20, queueDepth: Int = 128, singleSubmit: Bool = false,
                            overlapEvents: Bool = false, intraOpParallelism: Int = 1,
                            engine: EngineKind = .auto) throws(AsyncIOError) {
        try self.init(AIOHandle(HandleConfig(blockSize: blockSize, queueDepth: queueDepth, singleSubmit: singleSubmit,
                                             overlapEvents: overlapEvents, intraOpParallelism: intraOpParallelism,
                                             engine: engine)))
    }

    // MARK: - Getters

    /// The request size (`get_block_size()`).
    public func getBlockSize() -> Int { handle.config.blockSize }
    /// Requests in flight per worker (`get_queue_depth()`).
    public func getQueueDepth() -> Int { handle.config.queueDepth }
    /// Whether requests are submitted one per call (`get_single_submit()`).
    public func getSingleSubmit() -> Bool { handle.config.singleSubmit }
    /// Whether submission and completion overlap (`get_overlap_events()`).
    public func getOverlapEvents() -> Bool { handle.config.overlapEvents }
    /// Workers an operation is split over (`get_intra_op_parallelism()`).
    public func getIntraOpParallelism() -> Int { handle.config.intraOpParallelism }
    /// DeepSpeed's alignment rule for buffer sizes: 512 bytes per worker (a size that is a
    /// multiple of it splits evenly over the workers).
    public func getAlignment() -> Int { handle.config.intraOpParallelism * 512 }

    // MARK: - On one worker

    /// Reads the file at `fileOffset` into the whole buffer, on one worker, and waits.
    ///
    /// - Parameters:
    ///   - buffer: filled from its start, all of it.
    ///   - filename: the file to read.
    ///   - validate: read the range again through the page cache and compare.
    ///   - fileOffset: where in the file the read starts.
    /// - Throws: `AsyncIOError` (a file shorter than `fileOffset` + the buffer is `.unexpectedEndOfFile`).
    public func read(_ buffer: AlignedBuffer, filename: String, validate: Bool = false,
                     fileOffset: Int64 = 0) throws(AsyncIOError) {
        try oneWorker(.read, buffer, filename, validate, fileOffset)
    }

    /// Writes the whole buffer at `fileOffset`, on one worker, and waits.
    public func write(_ buffer: AlignedBuffer, filename: String, validate: Bool = false,
                      fileOffset: Int64 = 0) throws(AsyncIOError) {
        try oneWorker(.write, buffer, filename, validate, fileOffset)
    }

    private func oneWorker(_ operation: IOOperation, _ buffer: AlignedBuffer, _ path: String, _ validate: Bool,
                           _ offset: Int64) throws(AsyncIOError) {
        let op = try handle.start(operation, buffer, path, offset, nil, truncate: false, parallel: false,
                                  isAsync: false, latency: nil)
        try op.wait()
        if validate { try check(buffer, path, offset) }
    }

    // MARK: - Over all workers

    /// Reads over every worker: with `async`, starts the read and returns 0 (``wait()`` collects
    /// it); else waits and returns 1, the operations completed, as DeepSpeed's does.
    ///
    /// - Parameters:
    ///   - buffer: filled from its start, all of it.
    ///   - filename: the file to read.
    ///   - validate: once done, read the range again through the page cache and compare.
    ///   - async: return at once (0) and let ``wait()`` collect the read.
    ///   - fileOffset: where in the file the read starts.
    ///   - latency: swift-aio's addition: records each request's latency.
    /// - Throws: `AsyncIOError` when the read cannot start (a missing or short file), or (not
    ///   `async`) its transfer's first error.
    @discardableResult
    public func pread(_ buffer: AlignedBuffer, filename: String, validate: Bool = false, async: Bool,
                      fileOffset: Int64 = 0, latency: LatencySink? = nil) throws(AsyncIOError) -> Int {
        try parallel(.read, buffer, filename, validate, async, fileOffset, latency)
    }

    /// Writes over every worker; as ``pread(_:filename:validate:async:fileOffset:latency:)``.
    @discardableResult
    public func pwrite(_ buffer: AlignedBuffer, filename: String, validate: Bool = false, async: Bool,
                       fileOffset: Int64 = 0, latency: LatencySink? = nil) throws(AsyncIOError) -> Int {
        try parallel(.write, buffer, filename, validate, async, fileOffset, latency)
    }

    /// `pread` and `pwrite`: 0 when started asynchronously, else 1 once done (and validated).
    private func parallel(_ operation: IOOperation, _ buffer: AlignedBuffer, _ path: String, _ validate: Bool,
                          _ async: Bool, _ offset: Int64, _ latency: LatencySink?) throws(AsyncIOError) -> Int {
        let op = try handle.start(operation, buffer, path, offset, nil, truncate: false, parallel: true,
                                  isAsync: async, latency: latency)
        if async { return 0 }
        try op.wait()
        if validate { try check(buffer, path, offset) }
        return 1
    }

    /// `pread(..., async: false)`: returns 1.
    @discardableResult
    public func syncPread(_ buffer: AlignedBuffer, filename: String, fileOffset: Int64 = 0) throws(AsyncIOError) -> Int {
        try pread(buffer, filename: filename, async: false, fileOffset: fileOffset)
    }

    /// `pwrite(..., async: false)`: returns 1.
    @discardableResult
    public func syncPwrite(_ buffer: AlignedBuffer, filename: String, fileOffset: Int64 = 0) throws(AsyncIOError) -> Int {
        try pwrite(buffer, filename: filename, async: false, fileOffset: fileOffset)
    }

    /// `pread(..., async: true)`: starts the read; ``wait()`` collects it.
    public func asyncPread(_ buffer: AlignedBuffer, filename: String, fileOffset: Int64 = 0) throws(AsyncIOError) {
        try pread(buffer, filename: filename, async: true, fileOffset: fileOffset)
    }

    /// `pwrite(..., async: true)`: starts the write; ``wait()`` collects it.
    public func asyncPwrite(_ buffer: AlignedBuffer, filename: String, fileOffset: Int64 = 0) throws(AsyncIOError) {
        try pwrite(buffer, filename: filename, async: true, fileOffset: fileOffset)
    }

    /// Waits for every asynchronous operation started since the last wait; returns how many
    /// there were (0 when none was: DeepSpeed's aborts the process there).
    ///
    /// - Throws: the first error of those operations, after all of them are done.
    @discardableResult
    public func wait() throws(AsyncIOError) -> Int { try handle.asyncOperations.waitAll() }

    // MARK: - Page-locked memory

    /// Page-aligned, page-locked memory of `count` bytes (DeepSpeed's `new_cpu_locked_tensor`).
    public func newCpuLockedTensor(_ count: Int) throws(AsyncIOError) -> AlignedBuffer {
        try AlignedBuffer(count: count, lock: true, hugePages: false)
    }

    /// Releases what ``newCpuLockedTensor(_:)`` gave: an ``AlignedBuffer`` is freed with its last
    /// reference, so this only says whether `buffer` is one this API allocates (always true).
    @discardableResult
    public func freeCpuLockedTensor(_ buffer: AlignedBuffer) -> Bool { true }

    /// Whether `buffer` is page-locked.
    public func isPinned(_ buffer: AlignedBuffer) -> Bool { buffer.isLocked }

    // MARK: - Validation

    /// DeepSpeed's `validate`: the range read again through the page cache equals the buffer.
    private func check(_ buffer: AlignedBuffer, _ path: String, _ offset: Int64) throws(AsyncIOError) {
        let reader = try AIOHandle(HandleConfig(blockSize: 1 << 20, queueDepth: 1, engine: .posix, direct: false))
        let copy = try AlignedBuffer(count: buffer.count, lock: false, hugePages: false)
        let op = try reader.start(.read, copy, path, offset, nil, truncate: false, parallel: false, isAsync: false,
                                  latency: nil)
        try op.wait()
        guard copy.contentsEqual(buffer) else {
            throw .invalid("validate", "the \(buffer.count) bytes at offset \(offset) differ from the buffer", path: path)
        }
    }
}

// MARK: - Caller memory (the C entry points of the Python package)

extension DeepSpeedHandle {
    /// DeepSpeed's `read`/`write` (`parallel` false, on one worker) or `pread`/`pwrite` over memory
    /// the caller owns, which must stay valid until the call returns or, with `async`, until
    /// ``wait()`` has collected it. Memory that is not page-aligned goes through the page cache.
    /// Returns 0 when started asynchronously, else 1.
    package func transfer(_ operation: IOOperation, memory: UnsafeMutableRawBufferPointer, filename: String,
                          fileOffset: Int64, parallel: Bool, async: Bool) throws(AsyncIOError) -> Int {
        let buffer = AlignedBuffer(borrowing: memory)
        let op = try handle.start(operation, buffer, filename, fileOffset, nil, truncate: false, parallel: parallel,
                                  isAsync: async, latency: nil, direct: handle.isDirect(buffer))
        if async { return 0 }
        try op.wait()
        return 1
    }
}
