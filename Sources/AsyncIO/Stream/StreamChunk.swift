/// One chunk of a file handed out by a `StreamReader`: bytes borrowed from a bounce buffer,
/// valid until the iterator is asked for the next chunk.
///
/// Using a chunk after that (its buffer is then being refilled by the kernel) stops the process
/// with a message naming the chunk: check `isValid` when in doubt. To keep the bytes, copy them.
public struct StreamChunk {
    let state: StreamReadState
    let generation: UInt64
    let buffer: AlignedBuffer
    /// Where the chunk starts in the file.
    public let offset: Int64
    /// Bytes in the chunk.
    public let count: Int

    /// Whether the chunk's bytes may still be used (no later chunk was asked for).
    public var isValid: Bool { state.generation == generation }

    /// Stops the process, naming the chunk, when it is no longer valid.
    private func checkValid() {
        // fatalError, not precondition: its message survives a release build.
        if !isValid {
            fatalError("StreamChunk at file offset \(offset) used after the next chunk was asked for: "
                       + "its buffer is being refilled; copy the bytes to keep them")
        }
    }

    /// Calls `body` with the chunk's bytes, read-only.
    ///
    /// - Precondition: `isValid`.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        checkValid()
        return try buffer.withUnsafeBytes { (all: UnsafeRawBufferPointer) throws(E) -> R in
            try body(UnsafeRawBufferPointer(rebasing: all[0..<count]))
        }
    }

    /// Calls `body` with the chunk's bytes as a `Span` (bounds-checked, cannot escape the call).
    ///
    /// - Precondition: `isValid`.
    public func withBytes<R, E: Error>(_ body: (Span<UInt8>) throws(E) -> R) throws(E) -> R {
        checkValid()
        return try buffer.withBytes(prefix: count, body)
    }
}
