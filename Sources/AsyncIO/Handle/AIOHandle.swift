import Glibc
import Synchronization

/// An asynchronous I/O handle with DeepNVMe's knobs: moves whole buffers between memory and
/// files, each operation split over `intraOpParallelism` persistent worker threads that each
/// own one kernel queue (io_uring ring or AIO context) of `queueDepth` requests.
///
/// Its API (`AIOHandle+Swift.swift`): `read(into:from:offset:count:)` and
/// `write(from:to:offset:count:truncate:)` are `async`, use all workers, throw `AsyncIOError`
/// (typed) and honour task cancellation; `submitRead` / `submitWrite` start an operation and
/// return an `IOTicket` to await, wait for, check or cancel that one operation. Memory the caller
/// owns (`Span`, arrays, an address and length) is `AIOHandle+CallerMemory.swift`. Code ported from
/// DeepSpeed's `aio_handle` (`pread`, `async_pwrite`, `wait()`, ...) uses `DeepSpeedHandle` over a handle.
///
/// ```swift
/// let handle = try AIOHandle(HandleConfig(blockSize: 1 << 20, queueDepth: 32, intraOpParallelism: 4))
/// let buffer = try AlignedBuffer(count: 256 << 20)
/// try await handle.write(from: buffer, to: "/mnt/nvme/checkpoint.bin", truncate: true)
/// let ticket = try handle.submitRead(into: buffer, from: "/mnt/nvme/checkpoint.bin")
/// let bytes = try await ticket.value
/// ```
///
/// ## Offsets, counts and truncation (every call, both APIs)
///
/// - An operation moves `count` bytes (default: the whole buffer) between the first `count`
///   bytes of the buffer and the file range `offset ..< offset + count` (default offset 0). Any
///   count and offset work; what is not aligned for direct I/O goes through an ordinary descriptor.
/// - A read needs the whole range in the file: a shorter file is an `.unexpectedEndOfFile` error,
///   never a silent short read.
/// - A write creates the file when it is missing (mode 0666 less the umask, 0600 with
///   `HandleConfig.privateFiles`; never through a symbolic link),
///   extends it when the range ends past its end, and leaves every byte outside the range as it
///   was: **no call truncates unless asked** (DeepSpeed opens with `O_WRONLY | O_CREAT`, no
///   `O_TRUNC`, and so does this handle). With `truncate: true` the file is emptied first
///   (`O_TRUNC`; bytes before `offset` then read as zeros), so it ends exactly at
///   `offset + count`, and the range's blocks are reserved before the transfer (`fallocate`).
/// - The bytes written before an error or a cancellation stay written; the rest of the range is
///   undefined (the requests in flight may or may not have reached the device).
///
/// Many operations may be pending at once. A handle may be shared between threads and tasks;
/// while an operation is in flight its buffer is lent to it (see `AlignedBuffer.isLent`).
// @unchecked: every stored property is a `let`; the workers' job queues, the asynchronous operations and the
// request counter synchronise themselves (a lock, an atomic), and `blockingReadPath` is a Mutex.
public final class AIOHandle: @unchecked Sendable {
    /// The configuration the handle was built with (`engine` resolved to a concrete one).
    public let config: HandleConfig
    /// Why `.auto` skipped better engines, one line each (empty when nothing was skipped).
    public let engineFallbacks: [String]

    let workers: [Worker]
    /// The operations started with `async: true`, which DeepSpeed's handle-wide `wait()` collects. The
    /// operations hold this, never the handle, so the handle's last reference is always the caller's and
    /// `deinit` (which joins the workers) never runs on a worker thread.
    let asyncOperations = AsyncOperations()
    let requestCounter: RequestCounter

    /// Bytes per request.
    package var blockSize: Int { config.blockSize }
    /// Requests in flight per worker.
    package var queueDepth: Int { config.queueDepth }
    /// Whether each request is submitted with its own call.
    package var singleSubmit: Bool { config.singleSubmit }
    /// Whether the queue is topped up as requests complete.
    package var overlapEvents: Bool { config.overlapEvents }
    /// Worker threads per operation.
    package var intraOpParallelism: Int { config.intraOpParallelism }
    /// The engine in use (never `.auto`).
    package var engine: EngineKind { config.engine }
    /// One line on the path the engine takes (registered buffers, SQPOLL, ...), from worker 0; from
    /// the queue of the last blocking streamed read (`StreamReader.forEachChunk`) while no operation
    /// ran on the workers.
    public var enginePath: String {
        if !workers[0].hasRun, let path = blockingReadPath.withLock({ $0 }) { return path }
        return workers[0].pathDescription
    }
    /// The path of the last blocking streamed read's own queue (see `enginePath`).
    let blockingReadPath = Mutex<String?>(nil)
    /// Requests the workers (and blocking streamed reads, `StreamReader.forEachChunk`) have handed to
    /// the kernel so far, over every finished operation: one per
    /// block of each slice, and one more for each unaligned tail and each continuation of a short
    /// transfer. The count behind IOPS figures.
    package var requestsSubmitted: Int { requestCounter.total }

    /// Creates a handle and starts its workers.
    ///
    /// - Throws: `AsyncIOError` for a bad knob, or when the chosen engine cannot be created
    ///   (with `.auto`, the next engine is tried instead).
    public init(_ config: HandleConfig = HandleConfig()) throws(AsyncIOError) {
        try config.validate()
        let pool = try Worker.pool(count: config.intraOpParallelism, config)
        self.config = pool.config
        engineFallbacks = pool.fallbacks
        workers = pool.workers
        requestCounter = pool.requests
    }

    deinit {
        for w in workers { w.stop() }
    }

    // MARK: - Starting an operation (shared by both APIs)

    /// Checks the count and offset, opens the file, and starts the operation on the workers.
    func start(
        _ operation: IOOperation, _ buffer: AlignedBuffer, _ path: String, _ offset: Int64, _ count: Int?,
        truncate: Bool, parallel: Bool, isAsync: Bool, latency: LatencySink?, direct: Bool? = nil,
        cancel: CancelFlag = CancelFlag()
    ) throws(AsyncIOError) -> PendingOperation {
        let n = count ?? buffer.count
        try checkRange(operation, buffer, path, offset, n)
        let file = try IOFile(path: path, access: operation == .read ? .read : .write(truncate: truncate),
                              direct: direct ?? config.direct, privateMode: config.privateFiles)
        if operation == .write, truncate, file.isDirect {
            // A fresh file: reserve its extents first (as fio does by default), so no request
            // has to allocate blocks on the way.
            file.preallocate(offset: offset, length: Int64(n))
        }
        return try start(operation, buffer, file, offset, n, parallel: parallel, isAsync: isAsync, latency: latency,
                         cancel: cancel)
    }

    /// Refuses a count outside the buffer and a negative offset.
    func checkRange(_ operation: IOOperation, _ buffer: AlignedBuffer, _ path: String, _ offset: Int64,
                    _ count: Int) throws(AsyncIOError) {
        let verb = operation == .read ? "read" : "write"
        guard count >= 0, count <= buffer.count else {
            throw .invalid(verb, "byte count \(count) must be between 0 and the buffer size \(buffer.count)", path: path)
        }
        guard offset >= 0 else { throw .invalid(verb, "file offset \(offset) is negative", path: path) }
    }

    /// Refuses a block size that is not a multiple of a direct file's alignment.
    func checkBlockSize(_ operation: IOOperation, _ file: IOFile) throws(AsyncIOError) {
        try file.checkAligned("block size", config.blockSize, operation: operation == .read ? "read" : "write")
    }

    /// Starts the operation on a file already open (the streaming reader and writer keep theirs).
    func start(
        _ operation: IOOperation, _ buffer: AlignedBuffer, _ file: IOFile, _ offset: Int64, _ count: Int,
        parallel: Bool, isAsync: Bool, latency: LatencySink?, cancel: CancelFlag = CancelFlag()
    ) throws(AsyncIOError) -> PendingOperation {
        let path = file.path
        try checkBlockSize(operation, file)
        if operation == .read {
            let size = try file.size()
            if size < offset + Int64(count) {
                throw AsyncIOError(
                    .unexpectedEndOfFile, operation: "read", path: path,
                    message: "the file is \(size) bytes, shorter than the \(count) bytes requested at offset \(offset)")
            }
        }
        // One slice per worker (or one, on worker 0).
        let parts = parallel ? workers.count : 1
        let op = PendingOperation(operation, files: [file], memberBytes: [count], buffer: buffer, latency: latency,
                                  cancel: cancel, group: isAsync ? asyncOperations : nil)
        let operationID = config.engine == .sim ? SimulationNoise.shared.nextOperation() : 0
        let slices = WorkItem.ranges(count, parts: parts, of: file).map { range in
            Slice(operation: operation, file: file, memory: buffer.base + range.offset, length: range.length,
                  fileOffset: offset + Int64(range.offset), operationID: operationID, cancel: cancel)
        }
        // Lent until the last slice is done (`PendingOperation.finished` returns the loan).
        op.begin(parts: slices.count,
                 holder: "\(operation == .read ? "read of" : "write to") \(path) at offset \(offset)")
        // A lone slice goes to worker 0; otherwise slice i goes to worker i.
        for (i, slice) in slices.enumerated() {
            workers[parts == 1 ? 0 : i].enqueue(WorkItem(slice, op))
        }
        return op
    }
}
