/// Writes a file from chunks of any size held in any memory, through a ring of page-locked,
/// aligned bounce buffers and `O_DIRECT` (FastPersist's idea, DeepSpeed's `FastFileWriter`).
///
/// Each chunk is copied into the current bounce buffer; every full eighth of a buffer of 16 MiB or
/// more (a full smaller buffer) is written by the handle's workers while the rest fills, so the
/// copy hides behind the I/O. `finish()` writes the
/// last, partly filled buffer (an unaligned tail goes through an ordinary descriptor), cuts the
/// file to the bytes written, `fsync`s and closes it.
///
/// ```swift
/// var writer = try StreamWriter(path: "/mnt/nvme/ckpt.bin", handle: handle)
/// for tensor in tensors { try await writer.write(contentsOf: tensor) }   // [Float], any BitwiseCopyable array
/// try await writer.write(header)                                          // [UInt8], Data, raw bytes
/// try await writer.finish()
/// ```
///
/// The file is opened once, without truncation (like every write of `AIOHandle`); it holds
/// exactly the streamed bytes after `finish()`. **No descriptor outlives the writer**, whatever
/// the path out:
///
/// - an error (`ENOSPC` mid-stream, `EIO`, ...): the writes in flight are cancelled and waited
///   for, the descriptors closed, the partial file **removed**, and the error thrown (again by
///   any later call);
/// - cancellation of the writing task: the same, except that the file is kept, cut to
///   the prefix of the stream known to be written, and `fsync`ed;
/// - dropped without `finish()`: abandoned like an error (the thread blocks until the kernel is
///   done with the bounce buffers), and the incomplete file removed.
///
/// The writer is `~Copyable`: two owners can never interleave chunks into one stream, and
/// `finish()` consumes it, so the compiler refuses any write after it. The handle's knobs (block
/// size, queue depth, workers, engine, `direct`) apply to each bounce buffer's write.
public struct StreamWriter: ~Copyable {
    /// DeepSpeed's `io_buffer_size`: 64 MiB per bounce buffer.
    public static let defaultBufferSize = 64 << 20
    /// Two bounce buffers: one fills while the other is written.
    public static let defaultBufferCount = 2
    /// The most a stream reserves past the bytes written when its size is not known.
    static let maxReservationStep: Int64 = 1 << 30

    /// The file being written.
    package let path: String
    /// Bytes per bounce buffer.
    package let bufferSize: Int
    /// Bytes handed to `write` so far.
    package private(set) var bytesAccepted: Int64 = 0
    /// Bytes from the start of the stream known to be written to the file (their writes completed).
    package private(set) var committedBytes: Int64 = 0
    /// Whether the bounce buffers are page-locked (`mlock`); they work unlocked too.
    package var buffersLocked: Bool { ring.isLocked }

    private let handle: AIOHandle
    private var file: IOFile?
    private let ring: BounceBuffers
    /// The ring's slots while the stream is open (empty once it is closed): each bounce buffer cut
    /// in `slotsPerBuffer` pieces, filled and written one after another (see `slotSize(bufferSize:)`).
    private var slots: [AlignedBuffer]
    /// Bytes per slot.
    private let slotSize: Int
    /// Writes in flight, oldest first: ticket, slot, and where the write ends in the file.
    private var inFlight: [(ticket: IOTicket, slot: Int, end: Int64)] = []
    /// The slot being filled, its bytes so far, and where it goes in the file.
    private var current = 0
    private var filled = 0
    private var bufferOffset: Int64 = 0
    /// The file's size when opened: writes up to here overwrite blocks it has already.
    private var reservedEnd: Int64
    /// The error that ended the stream, thrown again by any later call.
    private var failure: AsyncIOError?
    private var closed = false

    /// Opens (or creates) `path` for streaming and allocates its bounce buffers.
    ///
    /// - Parameters:
    ///   - path: the file to write; created (mode from the umask, or 0600 with
    ///     `HandleConfig.privateFiles`) or overwritten from its start.
    ///   - handle: whose workers write the bounce buffers.
    ///   - bufferSize: bytes per bounce buffer; a positive multiple of 4096 (default 64 MiB).
    ///   - bufferCount: bounce buffers in the ring, at least 1 (default 2).
    ///   - expectedSize: the bytes the stream will hold, when known (see `init(path:handle:buffers:expectedSize:)`).
    /// - Throws: `AsyncIOError` for a bad size or count, or when the file cannot be opened.
    public init(path: String, handle: AIOHandle, bufferSize: Int = StreamWriter.defaultBufferSize,
                bufferCount: Int = StreamWriter.defaultBufferCount, expectedSize: Int64? = nil) throws(AsyncIOError) {
        try BounceBuffers.check(size: bufferSize, count: bufferCount, path: path)
        try self.init(path: path, handle: handle, buffers: try BounceBuffers(size: bufferSize, count: bufferCount),
                      expectedSize: expectedSize)
    }

    /// Opens (or creates) `path` for streaming through `buffers`, which the writer holds
    /// until it is finished, failed or dropped (then they can serve the next stream).
    ///
    /// With direct I/O, the blocks past the file's old end are reserved (`fallocate`) before they
    /// are written, so no request has to allocate them on the way. A reservation waits until every
    /// direct write in flight on the file has completed (ext4 and XFS do so), leaving the device
    /// idle meanwhile: with `expectedSize`, the whole stream is reserved here, before anything is in
    /// flight; without it, reservations grow with the stream (the bytes written so far, at least
    /// the ring, at most 1 GiB at a time). A stream may end shorter or go on longer than
    /// `expectedSize`: `finish()` cuts the file to the bytes written either way.
    ///
    /// - Throws: `AsyncIOError` when the buffer size does not suit the file system's direct-I/O
    ///   alignment, `expectedSize` is negative, or the file cannot be opened.
    public init(path: String, handle: AIOHandle, buffers ring: BounceBuffers,
                expectedSize: Int64? = nil) throws(AsyncIOError) {
        if let expectedSize, expectedSize < 0 {
            throw .invalid("stream", "expected size \(expectedSize) must not be negative", path: path)
        }
        let existed = FileSystem.isAccessible(path)
        let file = try IOFile(path: path, access: .write(truncate: false), direct: handle.config.direct,
                              privateMode: handle.config.privateFiles)
        // Everything that can throw comes before the first stored property is set (a noncopyable
        // value is either wholly initialised or not at all); a file this call created goes again.
        let size: Int64
        do throws(AsyncIOError) {
            // A buffer is written in parts (`slotSize`), each of which must be aligned.
            try file.checkAligned("bounce buffer part size", StreamWriter.slotSize(bufferSize: ring.size),
                                  operation: "stream")
            size = try file.size()
        } catch {
            if !existed { _ = FileSystem.removeFileIfPresent(path) }
            throw error
        }
        if let expectedSize, file.isDirect, expectedSize > size {
            // Nothing is in flight yet: the reservation waits for nothing.
            file.preallocate(offset: size, length: expectedSize - size)
        }
        ring.take(for: path)
        self.path = path
        bufferSize = ring.size
        self.handle = handle
        self.file = file
        reservedEnd = max(size, expectedSize ?? 0)
        self.ring = ring
        slotSize = StreamWriter.slotSize(bufferSize: ring.size)
        slots = ring.slots(of: slotSize, count: ring.count * (ring.size / slotSize))
    }

    /// A bounce buffer of 16 MiB or more is written in eight slots, each submitted as soon as it is
    /// full: the drive starts after an eighth of a buffer has been copied rather than a whole one,
    /// and the last write after the stream ends is an eighth as long. Smaller buffers are one slot.
    package static func slotSize(bufferSize: Int) -> Int {
        bufferSize >= 16 << 20 && bufferSize % (8 * 4096) == 0 ? bufferSize / 8 : bufferSize
    }

    deinit {
        guard !closed else { return }
        // Abandoned: nothing may outlive the writer. Blocking is unavoidable here (no async
        // deinit); it lasts until the kernel is done with the cancelled writes.
        inFlight.map(\.ticket).cancelAndWait()
        ring.giveBack()
        // Unlinked while still open: the descriptors close right after, when `file` is released.
        _ = FileSystem.removeFileIfPresent(path)
    }

    // MARK: - Writing

    /// Appends `bytes` (any contiguous memory: raw bytes of a tensor, ...) to the stream.
    ///
    /// - Throws: `AsyncIOError`: a write's error (the stream is then over, see `StreamWriter`),
    ///   or `.cancelled` when the task is cancelled.
    public mutating func write(_ bytes: UnsafeRawBufferPointer, isolation: isolated (any Actor)? = #isolation)
        async throws(AsyncIOError) {
        try await append(count: bytes.count) { from, into in
            into.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[from..<from + into.count]))
        }
    }

    /// Appends the bytes of `elements` (`[Float]`, `[Int32]`, any array of `BitwiseCopyable`
    /// values), copied straight from the array's storage into the bounce buffers: no copy of the
    /// array is made first.
    ///
    /// - Throws: as `write(_:)` for raw bytes.
    public mutating func write<Element: BitwiseCopyable>(contentsOf elements: [Element],
                                                        isolation: isolated (any Actor)? = #isolation)
        async throws(AsyncIOError) {
        try await append(count: elements.count * MemoryLayout<Element>.stride) { from, into in
            elements.withUnsafeBytes { all in
                into.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[from..<from + into.count]))
            }
        }
    }

    /// Appends a collection of bytes (`[UInt8]`, `ArraySlice<UInt8>`, Foundation's `Data`, ...).
    /// Contiguous collections are copied straight into the bounce buffers; others are first
    /// gathered into an array.
    ///
    /// - Throws: as `write(_:)` for raw bytes.
    public mutating func write<Bytes: Collection<UInt8>>(_ bytes: Bytes, isolation: isolated (any Actor)? = #isolation)
        async throws(AsyncIOError) {
        guard bytes.withContiguousStorageIfAvailable({ _ in true }) == true else {
            try await write(Array(bytes))
            return
        }
        try await append(count: bytes.count) { from, into in
            _ = bytes.withContiguousStorageIfAvailable { all in
                into.copyMemory(from: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: all[from..<from + into.count])))
            }
        }
    }

    /// Writes what is left, cuts the file to the bytes written, `fsync`s and closes it; returns
    /// the file's size.
    ///
    /// - Parameter durable: false skips the `fsync`: the data is written (every write completed)
    ///   but may still sit in the device's volatile write cache, and the size change in memory. On
    ///   a drive with a write-back cache the flush takes about as long as writing the data again;
    ///   a caller that flushes later (its own `fsync`) or measures the writes alone passes false.
    /// - Parameter isolation: the caller's actor, inherited (leave it out).
    /// - Throws: `AsyncIOError` of any write (the file is then removed), of `fsync`, or
    ///   `.cancelled` (the file then holds the prefix known to be written).
    @discardableResult
    public consuming func finish(durable: Bool = true, isolation: isolated (any Actor)? = #isolation)
        async throws(AsyncIOError) -> Int64 {
        try usable()
        if filled > 0 {
            do { try submitCurrent() } catch { throw await abort(error) }
        }
        while !inFlight.isEmpty { try await retireOldest() }
        do {
            try file!.setSize(bufferOffset)
            if durable { try file!.sync() }
        } catch {
            throw await abort(error)
        }
        file = nil
        slots = []
        closed = true
        ring.giveBack()
        return bufferOffset
    }

    // MARK: - The ring

    /// Copies `count` bytes in, buffer by buffer: `copy(from, into)` fills `into` with the bytes
    /// from `from` on; every full buffer is submitted.
    private mutating func append(count: Int, isolation: isolated (any Actor)? = #isolation,
                                 _ copy: (_ from: Int, _ into: UnsafeMutableRawBufferPointer) -> Void)
        async throws(AsyncIOError) {
        try usable()
        var done = 0
        while done < count {
            if Task.isCancelled { throw await abort(.cancelled("write", path: path)) }
            // The ring's next slot is the oldest one in flight, if any: wait until it is free.
            if let oldest = inFlight.first, oldest.slot == current { try await retireOldest() }
            let n = min(count - done, slotSize - filled)
            let at = filled
            slots[current].withUnsafeMutableBytes { copy(done, UnsafeMutableRawBufferPointer(rebasing: $0[at..<at + n])) }
            filled += n
            done += n
            bytesAccepted += Int64(n)
            if filled == slotSize {
                do { try submitCurrent() } catch { throw await abort(error) }
            }
        }
    }

    /// Hands the current slot to the handle and moves to the next one. On a throw nothing was
    /// submitted; the caller ends the stream (`abort`).
    private mutating func submitCurrent() throws(AsyncIOError) {
        let end = bufferOffset + Int64(filled)
        if end > reservedEnd, let file, file.isDirect {
            // Past the reserved blocks: reserve ahead (see `init(path:handle:buffers:expectedSize:)`;
            // the size is set right in `finish`). Each call waits for the writes in flight, so it
            // reserves as much as was written so far, and at least the ring.
            let ahead = min(max(end, Int64(bufferSize * ring.count)), StreamWriter.maxReservationStep)
            let from = max(bufferOffset, reservedEnd)
            if file.preallocate(offset: from, length: end + ahead - from) {
                reservedEnd = end + ahead
            } else {
                // No room for the step: this buffer's blocks alone (else the requests allocate them).
                file.preallocate(offset: from, length: end - from)
                reservedEnd = end
            }
        }
        let ticket = try handle.submit(.write, slots[current], file: file!, offset: bufferOffset, count: filled)
        inFlight.append((ticket, current, end))
        bufferOffset = end
        filled = 0
        current = (current + 1) % slots.count
    }

    /// Waits for the oldest write in flight; its bytes are then committed.
    private mutating func retireOldest(isolation: isolated (any Actor)? = #isolation) async throws(AsyncIOError) {
        let oldest = inFlight[0]
        do {
            _ = try await oldest.ticket.value
        } catch {
            throw await abort(error)
        }
        inFlight.removeFirst()
        committedBytes = oldest.end
    }

    /// Throws the error that ended the stream, if one did.
    private func usable() throws(AsyncIOError) {
        if let failure { throw failure }
        if closed { throw .invalid("stream", "the stream writer is closed", path: path) }
    }

    /// Ends the stream after `error`: cancels and waits for the writes in flight, then closes.
    /// A cancellation keeps the committed prefix (cut to it and synced); any other error removes
    /// the file. Returns the error to throw.
    private mutating func abort(_ error: AsyncIOError, isolation: isolated (any Actor)? = #isolation) async
        -> AsyncIOError {
        for entry in inFlight { entry.ticket.cancel() }
        var contiguous = true
        for entry in inFlight {
            let ok = (try? await entry.ticket.value) != nil
            if ok && contiguous { committedBytes = entry.end } else { contiguous = false }
        }
        inFlight = []
        if error.kind == .cancelled, let file {
            _ = try? file.setSize(committedBytes)
            _ = try? file.sync()
            self.file = nil
            slots = []
            closed = true
            ring.giveBack()
            failure = error
        } else {
            closeAfterFailure(error)
        }
        return error
    }

    /// Closes and removes the file after an error (nothing may be in flight any more).
    private mutating func closeAfterFailure(_ error: AsyncIOError) {
        precondition(inFlight.isEmpty, "StreamWriter: closing with writes in flight")
        file = nil
        slots = []
        closed = true
        ring.giveBack()
        failure = error
        _ = FileSystem.removeFileIfPresent(path)
    }
}
