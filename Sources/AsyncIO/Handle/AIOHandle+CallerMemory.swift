/// Reads into and writes from memory the caller owns: `Span`s of any `BitwiseCopyable` elements
/// (arrays of `Float`, tensors' storage, ...), whose lifetime the type system bounds to the call,
/// and one unsafe entry (address and length) for C and Python callers.
///
/// Direct I/O needs page-aligned memory. Memory that is not (an array's storage usually is not)
/// goes through the page cache instead, which the kernel copies from or into: correct for any
/// address and length, never a crash, but a copy; ``AlignedBuffer`` is always aligned.
/// ``AIOHandle/isDirect(_:)`` says which way a region goes.
extension AIOHandle {
    /// Writes `elements` to `path` at `offset` over all workers and waits; returns the bytes written.
    ///
    /// ```swift
    /// let weights: [Float] = ...
    /// try handle.write(from: weights.span, to: "/mnt/nvme0/weights.bin")
    /// ```
    ///
    /// - Throws: `AsyncIOError`, as ``submitWrite(from:to:offset:count:truncate:latency:)``.
    @discardableResult
    public func write<Element: BitwiseCopyable>(from elements: Span<Element>, to path: String, offset: Int64 = 0,
                                                truncate: Bool = false) throws(AsyncIOError) -> Int {
        try elements.withUnsafeBytes { bytes throws(AsyncIOError) -> Int in
            try submitWrite(from: bytes, to: path, offset: offset, truncate: truncate).wait()
        }
    }

    /// Fills `elements` from `path` at `offset` over all workers and waits; returns the bytes read.
    ///
    /// ```swift
    /// var weights = [Float](repeating: 0, count: n)
    /// var span = weights.mutableSpan
    /// try handle.read(into: &span, from: "/mnt/nvme0/weights.bin")
    /// ```
    ///
    /// - Throws: `AsyncIOError`; a file shorter than the span is `.unexpectedEndOfFile`.
    @discardableResult
    public func read<Element: BitwiseCopyable>(into elements: inout MutableSpan<Element>, from path: String,
                                               offset: Int64 = 0) throws(AsyncIOError) -> Int {
        try elements.withUnsafeMutableBytes { bytes throws(AsyncIOError) -> Int in
            try submitRead(into: bytes, from: path, offset: offset).wait()
        }
    }

    /// Fills the array `elements` from `path` at `offset` (its span, as
    /// ``read(into:from:offset:)-(MutableSpan<Element>,_,_)``); returns the bytes read.
    ///
    /// ```swift
    /// var weights = [Float](repeating: 0, count: n)
    /// try handle.read(into: &weights, from: "/mnt/nvme0/weights.bin")
    /// ```
    @discardableResult
    public func read<Element: BitwiseCopyable>(into elements: inout [Element], from path: String,
                                               offset: Int64 = 0) throws(AsyncIOError) -> Int {
        var span = elements.mutableSpan
        return try read(into: &span, from: path, offset: offset)
    }

    /// Starts a read into memory the caller owns: the entry for C callers. Returns at once.
    ///
    /// - Important: `memory` must stay valid, and neither read nor written, until the ticket is
    ///   done (``IOTicket/wait()``, ``IOTicket/value``); dropping the ticket does not end the read.
    /// - Throws: `AsyncIOError` when the read cannot start; its own errors come from the ticket.
    public func submitRead(into memory: UnsafeMutableRawBufferPointer, from path: String, offset: Int64 = 0,
                           latency: LatencySink? = nil) throws(AsyncIOError) -> IOTicket {
        let buffer = AlignedBuffer(borrowing: memory)
        let op = try start(.read, buffer, path, offset, nil, truncate: false, parallel: true, isAsync: false,
                           latency: latency, direct: isDirect(buffer))
        return IOTicket(pending: op)
    }

    /// Starts a write from memory the caller owns: the entry for C callers. Returns at once.
    ///
    /// - Important: `memory` must stay valid, and unchanged, until the ticket is done.
    /// - Throws: as ``submitRead(into:from:offset:latency:)``.
    public func submitWrite(from memory: UnsafeRawBufferPointer, to path: String, offset: Int64 = 0,
                            truncate: Bool = false, latency: LatencySink? = nil) throws(AsyncIOError) -> IOTicket {
        let buffer = AlignedBuffer(borrowing: UnsafeMutableRawBufferPointer(mutating: memory))
        let op = try start(.write, buffer, path, offset, nil, truncate: truncate, parallel: true, isAsync: false,
                           latency: latency, direct: isDirect(buffer))
        return IOTicket(pending: op)
    }

    /// Whether an operation on `memory` uses direct I/O: the handle's does and the address is
    /// page-aligned; else it goes through the page cache.
    public func isDirect(_ memory: UnsafeRawBufferPointer) -> Bool {
        config.direct && UInt(bitPattern: memory.baseAddress) % 4096 == 0
    }

    func isDirect(_ buffer: AlignedBuffer) -> Bool {
        isDirect(UnsafeRawBufferPointer(start: buffer.base, count: buffer.count))
    }
}
