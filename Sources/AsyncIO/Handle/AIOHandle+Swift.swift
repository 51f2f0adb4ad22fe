/// The Swift-first API: `async` reads and writes over all workers with typed throws and task
/// cancellation, and tickets for single operations. Offsets, counts and truncation mean the same
/// as in DeepSpeed's API (see `AIOHandle`).
extension AIOHandle {
    /// Reads `count` bytes (default: the buffer's size) of `path` from `offset` into the start of
    /// `buffer` over all workers, without blocking a thread; returns the bytes read.
    ///
    /// When the task is cancelled the read stops submitting, cancels what the engine can, waits
    /// for the rest, and throws a `.cancelled` error; the buffer is lent to the read until then.
    ///
    /// - Throws: `AsyncIOError`: a bad count or offset, a file shorter than the range
    ///   (`.unexpectedEndOfFile`), a kernel error, or `.cancelled`.
    @discardableResult
    public func read(into buffer: AlignedBuffer, from path: String, offset: Int64 = 0, count: Int? = nil,
                     latency: LatencySink? = nil) async throws(AsyncIOError) -> Int {
        if Task.isCancelled { throw .cancelled("read", path: path) }
        return try await CancelFlag.whileCancellable { flag throws(AsyncIOError) in
            let op = try start(.read, buffer, path, offset, count, truncate: false, parallel: true, isAsync: false,
                               latency: latency, cancel: flag)
            return try await IOTicket(pending: op).value
        }
    }

    /// Writes the first `count` bytes (default: all) of `buffer` to `path` at `offset` over all
    /// workers, without blocking a thread; returns the bytes written. The file is not truncated
    /// unless `truncate` is true (see `AIOHandle`).
    ///
    /// When the task is cancelled the write stops submitting, cancels what the engine can, waits
    /// for the rest, and throws a `.cancelled` error; what was written before stays written.
    ///
    /// - Throws: `AsyncIOError`: a bad count or offset, a kernel error (`ENOSPC`, ...) or `.cancelled`.
    @discardableResult
    public func write(from buffer: AlignedBuffer, to path: String, offset: Int64 = 0, count: Int? = nil,
                      truncate: Bool = false, latency: LatencySink? = nil) async throws(AsyncIOError) -> Int {
        if Task.isCancelled { throw .cancelled("write", path: path) }
        return try await CancelFlag.whileCancellable { flag throws(AsyncIOError) in
            let op = try start(.write, buffer, path, offset, count, truncate: truncate, parallel: true, isAsync: false,
                               latency: latency, cancel: flag)
            return try await IOTicket(pending: op).value
        }
    }

    /// Starts a read of `count` bytes (default: the buffer's size) of `path` from `offset` into
    /// `buffer` over all workers and returns at once with its ticket.
    ///
    /// - Throws: `AsyncIOError` when the read cannot start (bad count or offset, missing or
    ///   short file); errors of the transfer itself come from the ticket.
    public func submitRead(into buffer: AlignedBuffer, from path: String, offset: Int64 = 0, count: Int? = nil,
                           latency: LatencySink? = nil) throws(AsyncIOError) -> IOTicket {
        let op = try start(.read, buffer, path, offset, count, truncate: false, parallel: true,
                           isAsync: false, latency: latency)
        return IOTicket(pending: op)
    }

    /// Starts a write of the first `count` bytes (default: all) of `buffer` to `path` at `offset`
    /// over all workers and returns at once with its ticket. The file is not truncated unless
    /// `truncate` is true (see `AIOHandle`).
    ///
    /// - Throws: `AsyncIOError` when the write cannot start (bad count or offset, the file cannot
    ///   be opened); errors of the transfer itself come from the ticket.
    public func submitWrite(from buffer: AlignedBuffer, to path: String, offset: Int64 = 0, count: Int? = nil,
                            truncate: Bool = false, latency: LatencySink? = nil) throws(AsyncIOError) -> IOTicket {
        let op = try start(.write, buffer, path, offset, count, truncate: truncate, parallel: true,
                           isAsync: false, latency: latency)
        return IOTicket(pending: op)
    }

    /// Starts an operation on a file the caller keeps open (the streaming reader and writer).
    func submit(_ operation: IOOperation, _ buffer: AlignedBuffer, file: IOFile, offset: Int64, count: Int)
        throws(AsyncIOError) -> IOTicket {
        try checkRange(operation, buffer, file.path, offset, count)
        let op = try start(operation, buffer, file, offset, count, parallel: true, isAsync: false, latency: nil)
        return IOTicket(pending: op)
    }
}
