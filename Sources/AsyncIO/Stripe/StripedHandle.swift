/// Reads and writes one buffer striped over several files on different drives: RAID-0 in user space.
///
/// The buffer is cut into `stripeSize` chunks dealt round-robin over the layout's folders (see
/// `StripeLayout`). Each member is served by its own `intraOpParallelism` worker threads, each with its
/// own kernel queue of `queueDepth` requests, so the members' drives work at the same time and each
/// worker keeps its queue full across chunk boundaries.
///
/// ```swift
/// let layout = try StripeLayout(folders: ["/mnt/nvme0", "/mnt/nvme1"], stripeSize: 1 << 20)
/// let handle = try StripedHandle(layout, config: HandleConfig(queueDepth: 32))
/// let buffer = try AlignedBuffer(count: 1 << 30)
/// try await handle.write(from: buffer, to: "checkpoint")  // checkpoint.0-of-2.stripe-1048576.size-1073741824, ...
/// let transfer = try await handle.read(into: buffer, from: "checkpoint")  // refused if the folders hold another set
/// print(transfer.members.map(\.gibPerSecond))
/// ```
///
/// A write replaces the set: it removes any member file of an earlier set of the same name in these
/// folders (another size, member count or stripe size). A read checks every member's name and size
/// against the layout first.
// @unchecked: configuration, layout and workers are `let`s; the workers guard their own state.
public final class StripedHandle: @unchecked Sendable {
    /// The folders and the stripe size.
    package let layout: StripeLayout
    /// The configuration each member is served with (`engine` resolved to a concrete one).
    public let config: HandleConfig
    /// Why `.auto` skipped better engines, one line each (empty when nothing was skipped).
    public let engineFallbacks: [String]

    /// `intraOpParallelism` workers per member, member by member.
    private let workers: [Worker]
    private let requestCounter: RequestCounter

    /// One line on the path the engine takes (registered buffers, ...), from the first worker.
    public var enginePath: String { workers[0].pathDescription }
    /// Requests handed to the kernel so far over every finished job (the count behind IOPS figures).
    package var requestsSubmitted: Int { requestCounter.total }

    /// Creates a handle and starts `intraOpParallelism` workers for each member.
    ///
    /// - Throws: `AsyncIOError` for a bad knob, more than 1,024 workers in all (members × `intraOpParallelism`),
    ///   or when the engine cannot be created (with `.auto`, the next engine is tried instead).
    public init(_ layout: StripeLayout, config: HandleConfig = HandleConfig()) throws(AsyncIOError) {
        try config.validate()
        let count = layout.memberCount * config.intraOpParallelism
        guard count <= HandleConfig.maxParallelism else {
            throw .invalid("configure stripe handle", "\(layout.memberCount) members × intra-op parallelism "
                + "\(config.intraOpParallelism) is \(count) workers, more than \(HandleConfig.maxParallelism)")
        }
        let pool = try Worker.pool(count: count, config)
        self.layout = layout
        self.config = pool.config
        engineFallbacks = pool.fallbacks
        workers = pool.workers
        requestCounter = pool.requests
    }

    deinit {
        for w in workers { w.stop() }
    }

    // MARK: - Swift concurrency

    /// Writes the first `count` bytes (default: all) of `buffer` as the striped set `name` (any
    /// earlier set of that name with another geometry is removed) without blocking the caller's
    /// thread while the data moves (the member files are opened on it); returns what each member
    /// moved. A cancelled task cancels the operation (see `IOTicket.cancel()`).
    @discardableResult
    public func write(from buffer: AlignedBuffer, to name: String, count: Int? = nil, truncate: Bool = false)
        async throws(AsyncIOError) -> IOTransfer {
        // As `AIOHandle.write(from:to:)`: a task cancelled before it starts submits nothing.
        if Task.isCancelled { throw .cancelled("write", path: name) }
        return try await CancelFlag.whileCancellable { flag throws(AsyncIOError) in
            try await submitWrite(from: buffer, to: name, count: count, truncate: truncate, cancel: flag).transferWhenDone()
        }
    }

    /// Reads the first `count` bytes (default: the buffer's size) of the striped set `name` into
    /// `buffer` without blocking the caller's thread while the data moves; returns what each member
    /// moved. A cancelled task cancels the operation (see `IOTicket.cancel()`).
    @discardableResult
    public func read(into buffer: AlignedBuffer, from name: String, count: Int? = nil)
        async throws(AsyncIOError) -> IOTransfer {
        if Task.isCancelled { throw .cancelled("read", path: name) }
        return try await CancelFlag.whileCancellable { flag throws(AsyncIOError) in
            try await submitRead(into: buffer, from: name, count: count, cancel: flag).transferWhenDone()
        }
    }

    // MARK: - Started operations

    /// Opens the member files of set `name` for writing and starts the transfer; returns at once.
    ///
    /// - Parameters:
    ///   - buffer: the bytes to write, from its start.
    ///   - name: the set's name; each member file is this name plus its index and the set's geometry.
    ///   - count: bytes to write (default: the buffer's size).
    ///   - truncate: drop the members' old contents and reserve their space first. Without it (the
    ///     default, as everywhere), member files of the same name and geometry are overwritten in place.
    ///   - latency: per-request timing; worker numbers run `member * intraOpParallelism + worker`.
    /// - Throws: `AsyncIOError` for a bad name or count, or when a member cannot be opened.
    public func submitWrite(from buffer: AlignedBuffer, to name: String, count: Int? = nil, truncate: Bool = false,
                            latency: LatencySink? = nil) throws(AsyncIOError) -> IOTicket {
        try submitWrite(from: buffer, to: name, count: count, truncate: truncate, latency: latency, cancel: CancelFlag())
    }

    private func submitWrite(from buffer: AlignedBuffer, to name: String, count: Int?, truncate: Bool,
                             latency: LatencySink? = nil, cancel: CancelFlag) throws(AsyncIOError) -> IOTicket {
        try StripeLayout.checkName(name)
        let total = count ?? buffer.count
        try check(total, buffer, "write stripe set")
        let paths = layout.memberPaths(name, totalBytes: total)
        try StripeMembers.removeStale(name, in: layout, keeping: paths)
        var files: [IOFile] = []
        for (member, path) in paths.enumerated() {
            let file = try open(path, .write(truncate: truncate))
            if truncate && file.isDirect {
                file.preallocate(offset: 0, length: Int64(layout.memberBytes(member, totalBytes: total)))
            }
            files.append(file)
        }
        return start(.write, buffer, files, count: total, latency: latency, cancel: cancel)
    }

    /// Checks the members of set `name` against the layout, opens them and starts reading the first
    /// `count` bytes (default: the buffer's size) into `buffer`; returns at once.
    ///
    /// - Parameters:
    ///   - buffer: where the bytes go, from its start.
    ///   - name: the set's name, as given to the write.
    ///   - count: bytes to read (default: the buffer's size).
    ///   - latency: per-request timing; worker numbers run `member * intraOpParallelism + worker`.
    /// - Throws: `AsyncIOError` for a bad name or count, a missing member, a member of another set
    ///   (member count, stripe size, size, order), a member file of the wrong size, or a set smaller
    ///   than `count`.
    public func submitRead(into buffer: AlignedBuffer, from name: String, count: Int? = nil,
                           latency: LatencySink? = nil) throws(AsyncIOError) -> IOTicket {
        try submitRead(into: buffer, from: name, count: count, latency: latency, cancel: CancelFlag())
    }

    private func submitRead(into buffer: AlignedBuffer, from name: String, count: Int?, latency: LatencySink? = nil,
                            cancel: CancelFlag) throws(AsyncIOError) -> IOTicket {
        try StripeLayout.checkName(name)
        let wanted = count ?? buffer.count
        try check(wanted, buffer, "read stripe set")
        let (paths, total) = try StripeMembers.locate(name, in: layout)
        var files: [IOFile] = []
        for (member, path) in paths.enumerated() {
            let file = try open(path, .read)
            try StripeMembers.checkSize(of: file, member: member,
                                        expected: layout.memberBytes(member, totalBytes: total), totalBytes: total)
            files.append(file)
        }
        guard wanted <= total else {
            throw AsyncIOError(.unexpectedEndOfFile, operation: "read stripe set", path: paths[0],
                               message: "the set '\(name)' holds \(total) bytes, fewer than the \(wanted) requested")
        }
        return start(.read, buffer, files, count: wanted, latency: latency, cancel: cancel)
    }

    // MARK: - Internals

    private func check(_ count: Int, _ buffer: AlignedBuffer, _ operation: String) throws(AsyncIOError) {
        guard count >= 0, count <= buffer.count else {
            throw .invalid(operation, "byte count \(count) must be between 0 and the buffer size \(buffer.count)")
        }
    }

    /// Opens a member file and checks the block and stripe sizes against its direct-I/O alignment.
    private func open(_ path: String, _ access: FileAccess) throws(AsyncIOError) -> IOFile {
        let file = try IOFile(path: path, access: access, direct: config.direct, privateMode: config.privateFiles)
        let verb = access == .read ? "read stripe set" : "write stripe set"
        try file.checkAligned("block size", config.blockSize, operation: verb)
        try file.checkAligned("stripe size", layout.stripeSize, operation: verb)
        return file
    }

    /// Cuts each member's first bytes of `count` into one range per worker (on alignment boundaries;
    /// the rest goes to the last) and hands them out.
    private func start(_ operation: IOOperation, _ buffer: AlignedBuffer, _ files: [IOFile], count: Int,
                       latency: LatencySink?, cancel: CancelFlag) -> IOTicket {
        let parts = config.intraOpParallelism
        let memberBytes = files.indices.map { layout.memberBytes($0, totalBytes: count) }
        let op = PendingOperation(operation, files: files, memberBytes: memberBytes, buffer: buffer, latency: latency,
                                  cancel: cancel)
        var items: [(worker: Int, item: WorkItem)] = []
        for (member, file) in files.enumerated() {
            for (part, range) in WorkItem.ranges(memberBytes[member], parts: parts, of: file).enumerated() {
                let slice = Slice(operation: operation, file: file, memory: buffer.base, length: range.length,
                                  fileOffset: Int64(range.offset))
                items.append((member * parts + part, WorkItem(stripe: slice, member: member, layout: layout, operation: op)))
            }
        }
        op.begin(parts: items.count, holder: "striped \(operation == .read ? "read of" : "write to") \(files[0].path) and "
                 + "\(files.count - 1) more members")
        for (worker, item) in items { workers[worker].enqueue(item) }
        return IOTicket(pending: op)
    }
}
