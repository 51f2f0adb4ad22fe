extension StreamReader {
    /// Reads the whole file on the calling thread, blocking it, and calls `body` with each chunk
    /// in file order; the reads ahead stay in flight while `body` runs.
    ///
    /// ```swift
    /// var sum: UInt64 = 0
    /// try StreamReader(path: "/mnt/nvme/ckpt.bin", handle: handle, chunkSize: 1 << 20).forEachChunk { bytes, offset in
    ///     for i in bytes.indices { sum &+= UInt64(bytes[i]) }
    /// }
    /// ```
    ///
    /// The chunks and the ring are those of the `AsyncSequence` iteration (`chunkSize`, the
    /// buffers given or allocated per call), and the bytes are borrowed in the same way: a `Span`
    /// that cannot escape `body`. What differs is where the waiting happens. The iteration's reads
    /// run on the handle's worker threads, so each chunk the kernel completes is passed from a
    /// worker to the awaiting task, and each chunk handed back from that task to a worker. Here
    /// the calling thread runs its own kernel queue (one queue of `queueDepth` x
    /// `intraOpParallelism` requests, with the handle's engine and knobs; reads always overlap)
    /// and waits in the kernel itself: a chunk goes back to the kernel the moment `body` returns,
    /// with no thread to wake on the way. On a disk that completes the reads in flight together,
    /// that is what sets the pace (see "Streaming" in the documentation). That is io_uring and
    /// kernel AIO; with the engines whose requests complete inside the submit call (POSIX, `null`,
    /// `sim`) the handle's workers read ahead and the calling thread waits for each chunk in turn.
    ///
    /// It blocks: call it from a thread of your own. From a task it holds one of Swift's few
    /// cooperative threads for the whole file; there, prefer the `for try await` iteration. The
    /// task's cancellation is still honoured between chunks.
    ///
    /// No descriptor outlives the call. When `body` throws, when a read fails, or when the task is
    /// cancelled, the reads in flight are cancelled where the engine can and waited for, and the
    /// first error is thrown (`.cancelled` for the task's cancellation).
    ///
    /// - Parameter body: called with each chunk's bytes and its offset in the file; throw to stop.
    /// - Throws: `AsyncIOError` from opening or reading the file, from `body`, or `.cancelled`.
    public func forEachChunk(_ body: (_ bytes: Span<UInt8>, _ offset: Int64) throws(AsyncIOError) -> Void)
        throws(AsyncIOError) {
        let file = try IOFile(path: path, access: .read, direct: handle.config.direct)
        let size = try file.size()
        try handle.checkBlockSize(.read, file)
        let slots = try takeSlots(for: size)
        guard !slots.isEmpty else { return }
        defer { ring?.giveBack() }
        func visit(_ bytes: Span<UInt8>, _ offset: Int64) throws(AsyncIOError) {
            if Task.isCancelled { throw .cancelled("read", path: path) }
            try body(bytes, offset)
        }
        let runner = try makeRunner()
        if runner.queue.capabilities.contains(.overlapsOperations) {
            try readOnOwnQueue(runner, file, size, slots, visit)
        } else {
            try readOnWorkers(file, size, slots, visit)
        }
    }

    /// Reads on the calling thread's own queue, which keeps the reads ahead in flight while `visit` runs.
    private func readOnOwnQueue(_ runner: SliceRunner, _ file: IOFile, _ size: Int64, _ slots: [AlignedBuffer],
                                _ visit: (Span<UInt8>, Int64) throws(AsyncIOError) -> Void) throws(AsyncIOError) {
        var read = ChunkSchedule(file: file, size: size, chunk: chunkSize, slots: slots)
        while read.failure == nil && !read.isFinished {
            runner.run(next: { read.next() }, done: { op, error in read.done(op, error, body: visit) })
        }
        handle.blockingReadPath.withLock { $0 = runner.pathDescription }
        if let failure = read.failure { throw failure }
    }

    /// Queues that cannot keep one operation's reads in flight while the next is submitted (POSIX,
    /// whose requests complete inside the submit call, and the stand-ins) cannot read ahead on one thread: the handle's workers read ahead, the calling thread
    /// waits for each chunk in turn.
    private func readOnWorkers(_ file: IOFile, _ size: Int64, _ slots: [AlignedBuffer],
                               _ visit: (Span<UInt8>, Int64) throws(AsyncIOError) -> Void) throws(AsyncIOError) {
        var pending: [(ticket: IOTicket, slot: Int, offset: Int64)] = []
        var next: Int64 = 0
        func readAhead(into slot: Int) throws(AsyncIOError) {
            guard next < size else { return }
            let count = Int(Swift.min(Int64(chunkSize), size - next))
            pending.append((try handle.submit(.read, slots[slot], file: file, offset: next, count: count), slot, next))
            next += Int64(count)
        }
        do throws(AsyncIOError) {
            for slot in slots.indices { try readAhead(into: slot) }
            while let head = pending.first {
                let count = try head.ticket.wait()
                pending.removeFirst()
                try slots[head.slot].withBytes(prefix: count) { bytes throws(AsyncIOError) in try visit(bytes, head.offset) }
                try readAhead(into: head.slot)
            }
        } catch {
            // The reads in flight still own their slots and the file: cancel them and wait.
            pending.map(\.ticket).cancelAndWait()
            throw error
        }
    }

    /// The calling thread's runner: one queue with the handle's engine, `queueDepth` x
    /// `intraOpParallelism` deep (at most `HandleConfig.maxQueueDepth`), reporting chunks in file order.
    private func makeRunner() throws(AsyncIOError) -> SliceRunner {
        var config = handle.config
        let (depth, overflow) = config.queueDepth.multipliedReportingOverflow(by: config.intraOpParallelism)
        config.queueDepth = overflow ? HandleConfig.maxQueueDepth : Swift.min(depth, HandleConfig.maxQueueDepth)
        let (_, queues, _) = try makeEngineQueues(count: 1, config)
        return SliceRunner(queue: queues[0], blockSize: config.blockSize, depth: config.queueDepth,
                           singleSubmit: config.singleSubmit, overlap: true, requestCounter: handle.requestCounter,
                           merging: config.engineOptions.requestMerging,
                           inOrder: true)
    }
}

/// The chunks of one blocking streamed read: which slot reads which range, in file order.
private struct ChunkSchedule {
    let file: IOFile
    let size: Int64
    let chunk: Int
    let slots: [AlignedBuffer]
    /// Slots free to read into, oldest first.
    private var free: [Int]
    /// Reads handed to the runner and not yet reported, in file order.
    private var inFlight: [(op: PendingOperation, slot: Int, offset: Int64)] = []
    private var nextOffset: Int64 = 0
    /// Set on the first error: every read still in flight is then cancelled.
    private let cancel = CancelFlag()
    private(set) var failure: AsyncIOError?

    init(file: IOFile, size: Int64, chunk: Int, slots: [AlignedBuffer]) {
        self.file = file
        self.size = size
        self.chunk = chunk
        self.slots = slots
        free = Array(slots.indices)
    }

    /// Whether every chunk was read and handed to the caller.
    var isFinished: Bool { nextOffset >= size && inFlight.isEmpty }

    /// The read of the next chunk into the oldest free slot, if any is due.
    mutating func next() -> (Slice, PendingOperation)? {
        guard failure == nil, nextOffset < size, !free.isEmpty else { return nil }
        let slot = free.removeFirst()
        let count = Int(min(Int64(chunk), size - nextOffset))
        // The runner reports to the schedule (in file order), not to the operation: it is only the chunk's name.
        let op = PendingOperation(.read, files: [file], memberBytes: [count], buffer: slots[slot], latency: nil)
        let slice = Slice(operation: .read, file: file, memory: slots[slot].base, length: count,
                          fileOffset: nextOffset, cancel: cancel)
        inFlight.append((op, slot, nextOffset))
        nextOffset += Int64(count)
        return (slice, op)
    }

    /// The runner is done with `op`, the oldest read: hands its chunk to `body` and frees its slot,
    /// or records the first error and cancels the rest.
    mutating func done(_ op: PendingOperation, _ error: AsyncIOError?,
                       body: (Span<UInt8>, Int64) throws(AsyncIOError) -> Void) {
        let entry = inFlight.removeFirst()
        precondition(entry.op === op, "StreamReader.forEachChunk: a chunk was reported out of file order")
        guard failure == nil else { return }
        do throws(AsyncIOError) {
            if let error { throw error }
            try slots[entry.slot].withBytes(prefix: op.count) { bytes throws(AsyncIOError) in try body(bytes, entry.offset) }
            free.append(entry.slot)
        } catch {
            failure = error
            cancel.set()
        }
    }
}
