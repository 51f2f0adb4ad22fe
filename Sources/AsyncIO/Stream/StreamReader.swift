/// Reads a file as an `AsyncSequence` of borrowed chunks, reading ahead into a ring of aligned
/// bounce buffers while the caller works on the chunk it holds; nothing is copied into the
/// caller's memory.
///
/// ```swift
/// for try await chunk in try StreamReader(path: "/mnt/nvme/ckpt.bin", handle: handle) {
///     chunk.withUnsafeBytes { bytes in consume(bytes) }   // valid until the next chunk is asked for
/// }
/// ```
///
/// Each chunk is `chunkSize` bytes of the file (the last one may be shorter), in file order; by
/// default a chunk is a whole bounce buffer. A smaller `chunkSize` cuts the ring into that many
/// more slots, each read by its own submission and handed back to the kernel as soon as the
/// caller moves past it: the same memory then keeps more reads in flight while the caller works
/// (with chunks of the handle's `blockSize` x `intraOpParallelism`, a read through two 8 MiB buffers
/// at 1 MiB and queue depth 16 kept 13–14 requests in flight, a whole-buffer read 16). A chunk is
/// **borrowed**: its bytes stay valid until the iterator is asked for the next chunk, when its
/// buffer is handed to the next read; using it after that stops the process with a message
/// (`StreamChunk.isValid` tells beforehand). Every iteration opens the file again, with the
/// handle's knobs (`direct`, block size, ...).
///
/// No descriptor outlives the iteration: the file is closed when the last chunk has been
/// handed out and the next is asked for, after an error, after a cancellation of the task
/// (reads in flight are cancelled and waited for; `.cancelled` is thrown), and when the iterator
/// is dropped early (`break`; the reads in flight are then cancelled and waited for, blocking).
public struct StreamReader: AsyncSequence {
    /// A borrowed chunk of the file.
    public typealias Element = StreamChunk
    /// Every error is an `AsyncIOError`.
    public typealias Failure = AsyncIOError

    /// The file read.
    package let path: String
    /// Bytes per bounce buffer, and so per chunk (the last may be shorter).
    package let bufferSize: Int
    /// Bounce buffers in the ring: the chunk held, plus reads ahead.
    package let bufferCount: Int
    /// Bytes per chunk handed out (the last may be shorter): `bufferSize` or a divisor of it.
    package let chunkSize: Int
    let handle: AIOHandle
    /// Buffers given by the caller, reused by every iteration (nil: each iteration allocates its own).
    let ring: BounceBuffers?

    /// Describes a streamed read of `path`; the file is opened when iteration starts.
    ///
    /// - Parameters:
    ///   - path: the file to read, from its start to its end.
    ///   - handle: whose workers read the bounce buffers.
    ///   - bufferSize: bytes per bounce buffer; a positive multiple of 4096 (default 64 MiB).
    ///   - bufferCount: bounce buffers, at least 2 (one held by the caller, one read ahead; default 2).
    ///   - chunkSize: bytes per chunk, a multiple of 4096 that divides `bufferSize` (default: `bufferSize`).
    /// - Throws: `AsyncIOError` for a bad size, count or chunk size.
    public init(path: String, handle: AIOHandle, bufferSize: Int = StreamWriter.defaultBufferSize,
                bufferCount: Int = StreamWriter.defaultBufferCount, chunkSize: Int? = nil) throws(AsyncIOError) {
        try BounceBuffers.check(size: bufferSize, count: bufferCount, path: path)
        guard bufferCount >= 2 else {
            throw .invalid("stream", "a streamed read needs at least 2 bounce buffers, not \(bufferCount)", path: path)
        }
        self.path = path
        self.handle = handle
        self.bufferSize = bufferSize
        self.bufferCount = bufferCount
        self.chunkSize = try StreamReader.checkChunk(chunkSize ?? bufferSize, bufferSize: bufferSize, path: path)
        ring = nil
    }

    /// Describes a streamed read of `path` through `buffers` (at least 2), which each iteration
    /// holds from its first `next()` to its end; one iteration at a time.
    ///
    /// - Parameters:
    ///   - path: the file to read, from its start to its end.
    ///   - handle: whose workers read the bounce buffers.
    ///   - buffers: the ring, at least 2 buffers.
    ///   - chunkSize: bytes per chunk, a multiple of 4096 that divides the buffers' size
    ///     (default: a whole buffer).
    /// - Throws: `AsyncIOError` when the ring has fewer than 2 buffers or the chunk size is bad.
    public init(path: String, handle: AIOHandle, buffers: BounceBuffers, chunkSize: Int? = nil) throws(AsyncIOError) {
        guard buffers.count >= 2 else {
            throw .invalid("stream", "a streamed read needs at least 2 bounce buffers, not \(buffers.count)", path: path)
        }
        self.path = path
        self.handle = handle
        bufferSize = buffers.size
        bufferCount = buffers.count
        self.chunkSize = try StreamReader.checkChunk(chunkSize ?? buffers.size, bufferSize: buffers.size, path: path)
        ring = buffers
    }

    /// Refuses a chunk size that does not cut a bounce buffer into whole pages.
    private static func checkChunk(_ size: Int, bufferSize: Int, path: String) throws(AsyncIOError) -> Int {
        guard size > 0, size % 4096 == 0, bufferSize % size == 0 else {
            throw .invalid("stream", "chunk size \(size) must be a positive multiple of 4096 that divides "
                            + "the bounce buffer size \(bufferSize)", path: path)
        }
        return size
    }

    /// The slots, one per chunk, that a read of a `size`-byte file needs (up to the ring's): parts
    /// of the caller's ring, which this then holds (give it back with `ring?.giveBack()`), or of
    /// one new allocation. None for an empty file, and the ring is then not taken.
    func takeSlots(for size: Int64) throws(AsyncIOError) -> [AlignedBuffer] {
        let needed = Int((size + Int64(chunkSize) - 1) / Int64(chunkSize))
        let count = Swift.min(bufferCount * (bufferSize / chunkSize), Swift.max(needed, 0))
        guard count > 0 else { return [] }
        guard let ring else { return try BounceBuffers.parts(size: chunkSize, count: count) }
        ring.take(for: path)
        return ring.slots(of: chunkSize, count: count)
    }

    /// Starts an iteration (the file is opened by its first `next()`).
    public func makeAsyncIterator() -> Iterator { Iterator(state: StreamReadState(self)) }

    /// Hands out the chunks of one iteration.
    public struct Iterator: AsyncIteratorProtocol {
        let state: StreamReadState

        /// The next chunk, or nil after the last; the chunk handed out before is no longer valid.
        public mutating func next() async throws(AsyncIOError) -> StreamChunk? {
            try await state.next(isolation: nil)
        }

        /// The next chunk, or nil after the last, on the caller's actor.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(AsyncIOError) -> StreamChunk? {
            try await state.next(isolation: actor)
        }
    }
}

/// The state of one iteration of a `StreamReader`: the file, the ring's slots (one per chunk) and
/// the reads in flight. Used from one iterator, on its caller's isolation (never shared between tasks).
final class StreamReadState {
    let reader: StreamReader
    private var file: IOFile?
    private var size: Int64 = 0
    /// The ring cut into `chunkSize` slots, in memory order.
    private var buffers: [AlignedBuffer] = []
    /// Reads in flight, in file order: ticket, slot, file offset, bytes.
    private var pending: [(ticket: IOTicket, buffer: Int, offset: Int64, count: Int)] = []
    private var nextOffset: Int64 = 0
    /// The slot of the chunk the caller holds.
    private var held: Int?
    private var started = false
    private var ended = false
    /// Whether this iteration holds the caller's ring (`StreamReader.ring`).
    private var holdsRing = false
    /// Counts chunks handed out; a chunk is valid while it still holds the current value.
    private(set) var generation: UInt64 = 0

    init(_ reader: StreamReader) { self.reader = reader }

    deinit {
        // Dropped early: the reads in flight still own their buffers and the file; wait for them so
        // that no descriptor outlives the iteration.
        pending.map(\.ticket).cancelAndWait()
        if holdsRing { reader.ring?.giveBack() }
    }

    func next(isolation: isolated (any Actor)?) async throws(AsyncIOError) -> StreamChunk? {
        generation &+= 1
        if ended { return nil }
        if Task.isCancelled { throw await end(.cancelled("read", path: reader.path)) }
        do {
            if !started {
                started = true
                try open()
            } else if let b = held {
                held = nil
                try readAhead(into: b)
            }
        } catch {
            throw await end(error)
        }
        guard !pending.isEmpty else {
            _ = await end(nil)
            return nil
        }
        let first = pending.removeFirst()
        do {
            _ = try await first.ticket.value
        } catch {
            pending.insert(first, at: 0)
            throw await end(error)
        }
        held = first.buffer
        return StreamChunk(state: self, generation: generation, buffer: buffers[first.buffer],
                           offset: first.offset, count: first.count)
    }

    /// Opens the file, takes as many slots as it needs (up to the ring's) and fills them all.
    private func open() throws(AsyncIOError) {
        let opened = try IOFile(path: reader.path, access: .read, direct: reader.handle.config.direct)
        file = opened
        size = try opened.size()
        buffers = try reader.takeSlots(for: size)
        holdsRing = reader.ring != nil && !buffers.isEmpty
        for b in buffers.indices { try readAhead(into: b) }
    }

    /// Starts the read of the next range of the file into slot `b`, if any is left.
    private func readAhead(into b: Int) throws(AsyncIOError) {
        guard nextOffset < size, let file else { return }
        let count = Int(min(Int64(reader.chunkSize), size - nextOffset))
        let ticket = try reader.handle.submit(.read, buffers[b], file: file, offset: nextOffset, count: count)
        pending.append((ticket, b, nextOffset, count))
        nextOffset += Int64(count)
    }

    /// Ends the iteration: cancels and waits for the reads in flight, closes the file and frees the
    /// buffers; returns the error to throw (when there is one).
    private func end(_ error: AsyncIOError?, isolation: isolated (any Actor)? = #isolation) async -> AsyncIOError {
        await pending.map(\.ticket).cancelAndAwait()
        pending = []
        held = nil
        file = nil
        buffers = []
        ended = true
        if holdsRing {
            holdsRing = false
            reader.ring?.giveBack()
        }
        return error ?? .cancelled("read", path: reader.path)
    }
}
