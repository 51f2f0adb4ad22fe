/// DeepSpeed's `aio_handle` API, kept method for method for code ported from DeepSpeed: the
/// blocking single-worker `read` / `write`, `pread` / `pwrite` with an `async:` flag (a Bool, not
/// Swift's `async`), `syncPRead` / `syncPWrite`, `asyncPRead` / `asyncPWrite` and the handle-wide
/// `wait()`. New Swift code should prefer the Swift-first API (`read(into:from:)`,
/// `write(from:to:)`, `submitRead` / `submitWrite` and `IOTicket`). Offsets, counts and
/// truncation mean the same in both (see `AIOHandle`).
extension AIOHandle {
    // MARK: - Blocking operations on one worker

    /// Reads `count` bytes (default: the buffer's size) of `path` from `offset` into `buffer`,
    /// blocking, on one worker (DeepSpeed `read`); returns the bytes read.
    @discardableResult
    public func read(_ buffer: AlignedBuffer, from path: String, offset: Int64 = 0, count: Int? = nil)
        throws(AsyncIOError) -> Int {
        let op = try start(.read, buffer, path, offset, count, truncate: false, parallel: false,
                           isAsync: false, latency: nil)
        try state.waitFor(op)
        return op.count
    }

    /// Writes `count` bytes (default: the buffer's size) of `buffer` to `path` at `offset`,
    /// blocking, on one worker (DeepSpeed `write`); returns the bytes written. The file is not
    /// truncated unless `truncate` is true (see `AIOHandle`).
    @discardableResult
    public func write(_ buffer: AlignedBuffer, to path: String, offset: Int64 = 0, count: Int? = nil,
                      truncate: Bool = false) throws(AsyncIOError) -> Int {
        let op = try start(.write, buffer, path, offset, count, truncate: truncate, parallel: false,
                           isAsync: false, latency: nil)
        try state.waitFor(op)
        return op.count
    }

    // MARK: - Parallel operations

    /// Reads into `buffer` from `path` at `offset` over all workers (DeepSpeed `pread`); returns
    /// at once when `async` is true (finish with `wait()`), else when the data is in memory.
    /// `latency` receives each request's latency.
    public func pread(_ buffer: AlignedBuffer, from path: String, offset: Int64 = 0, count: Int? = nil,
                      async: Bool, latency: LatencySink? = nil) throws(AsyncIOError) {
        let op = try start(.read, buffer, path, offset, count, truncate: false, parallel: true,
                           isAsync: async, latency: latency)
        if !async { try state.waitFor(op) }
    }

    /// Writes `buffer` to `path` at `offset` over all workers (DeepSpeed `pwrite`); returns at
    /// once when `async` is true (finish with `wait()`). The file is not truncated unless
    /// `truncate` is true (see `AIOHandle`). `latency` receives each request's latency.
    public func pwrite(_ buffer: AlignedBuffer, to path: String, offset: Int64 = 0, count: Int? = nil,
                       truncate: Bool = false, async: Bool, latency: LatencySink? = nil) throws(AsyncIOError) {
        let op = try start(.write, buffer, path, offset, count, truncate: truncate, parallel: true,
                           isAsync: async, latency: latency)
        if !async { try state.waitFor(op) }
    }

    /// Blocking parallel read (DeepSpeed `sync_pread`).
    public func syncPRead(_ buffer: AlignedBuffer, from path: String, offset: Int64 = 0, count: Int? = nil)
        throws(AsyncIOError) {
        try pread(buffer, from: path, offset: offset, count: count, async: false)
    }

    /// Blocking parallel write (DeepSpeed `sync_pwrite`); truncates only when asked.
    public func syncPWrite(_ buffer: AlignedBuffer, to path: String, offset: Int64 = 0, count: Int? = nil,
                           truncate: Bool = false) throws(AsyncIOError) {
        try pwrite(buffer, to: path, offset: offset, count: count, truncate: truncate, async: false)
    }

    /// Starts a parallel read and returns at once (DeepSpeed `async_pread`); finish with `wait()`.
    public func asyncPRead(_ buffer: AlignedBuffer, from path: String, offset: Int64 = 0, count: Int? = nil)
        throws(AsyncIOError) {
        try pread(buffer, from: path, offset: offset, count: count, async: true)
    }

    /// Starts a parallel write and returns at once (DeepSpeed `async_pwrite`); finish with `wait()`.
    /// Truncates only when asked.
    public func asyncPWrite(_ buffer: AlignedBuffer, to path: String, offset: Int64 = 0, count: Int? = nil,
                            truncate: Bool = false) throws(AsyncIOError) {
        try pwrite(buffer, to: path, offset: offset, count: count, truncate: truncate, async: true)
    }

    /// Waits for every pending operation started with `async: true` (or `asyncPRead` /
    /// `asyncPWrite`); returns how many completed since the last `wait()` and throws the first
    /// error among them (the others still completed). Operations with an `IOTicket` are not
    /// counted: each is waited for through its ticket.
    @discardableResult
    public func wait() throws(AsyncIOError) -> Int {
        try state.waitAll()
    }
}
