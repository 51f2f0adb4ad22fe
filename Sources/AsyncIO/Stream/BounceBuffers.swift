import Synchronization

/// A ring of page-locked, aligned bounce buffers for `StreamWriter` and `StreamReader`, allocated
/// once and reused by one stream after another (allocating, faulting in and locking 2 x 64 MiB
/// for every file costs tens of milliseconds).
///
/// One stream uses the ring at a time: a second stream that tries to take it while the first
/// still holds it stops the process with a message. A stream holds it from its start until it is
/// finished, failed, abandoned, or (reader) its iteration ended.
public final class BounceBuffers: Sendable {
    /// The buffers, each `size` bytes.
    let buffers: [AlignedBuffer]
    /// Bytes per buffer.
    package let size: Int
    /// Buffers in the ring.
    package var count: Int { buffers.count }
    /// Whether every buffer is page-locked (`mlock`); they work unlocked too.
    package var isLocked: Bool { buffers.allSatisfy(\.isLocked) }
    /// Bytes of the ring the kernel backs with huge pages now (see `AlignedBuffer.hugePageBytes`).
    package var hugePageBytes: Int { min(buffers.first?.whole?.hugePageBytes ?? 0, size * count) }
    private let taken = Atomic<Bool>(false)

    /// Allocates `count` buffers of `size` bytes (defaults: DeepSpeed's two of 64 MiB), as parts of
    /// one allocation, so that the ring lies on huge pages once it is 2 MiB or more in all, whatever
    /// the size of one buffer.
    ///
    /// - Throws: `AsyncIOError` when `size` is not a positive multiple of 4096, `count` is below 1,
    ///   or the memory cannot be had.
    public init(size: Int = StreamWriter.defaultBufferSize, count: Int = StreamWriter.defaultBufferCount)
        throws(AsyncIOError) {
        try BounceBuffers.check(size: size, count: count)
        self.size = size
        buffers = try BounceBuffers.parts(size: size, count: count)
    }

    /// `count` buffers of `size` bytes, parts of one allocation (none, and nothing allocated, for 0).
    static func parts(size: Int, count: Int) throws(AsyncIOError) -> [AlignedBuffer] {
        guard count > 0 else { return [] }
        let (total, overflow) = size.multipliedReportingOverflow(by: count)
        guard !overflow, total <= Int.max / 2 else {
            throw .invalid("stream", "\(count) bounce buffers of \(size) bytes do not fit in memory")
        }
        let whole = try AlignedBuffer(count: total)
        return (0..<count).map { AlignedBuffer(partOf: whole, offset: $0 * size, count: size) }
    }

    /// The first `count` pieces of `size` bytes of the ring, in memory order, as parts of its one
    /// allocation (a reader's slots when its chunks are smaller than a buffer).
    func slots(of size: Int, count: Int) -> [AlignedBuffer] {
        guard size != self.size, let whole = buffers.first?.whole else { return Array(buffers.prefix(count)) }
        precondition(self.size % size == 0 && count <= self.count * (self.size / size), "BounceBuffers: bad slots")
        return (0..<count).map { AlignedBuffer(partOf: whole, offset: $0 * size, count: size) }
    }

    /// Refuses a size or count that cannot work.
    static func check(size: Int, count: Int, path: String? = nil) throws(AsyncIOError) {
        guard size > 0, size % 4096 == 0 else {
            throw .invalid("stream", "bounce buffer size \(size) must be a positive multiple of 4096", path: path)
        }
        guard count >= 1 else {
            throw .invalid("stream", "bounce buffer count \(count) must be at least 1", path: path)
        }
    }

    /// Takes the ring for one stream.
    func take(for path: String) {
        let (exchanged, _) = taken.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing)
        precondition(exchanged, "BounceBuffers: taken by a stream of \(path) while another stream still uses them")
    }

    /// Gives the ring back once the kernel is done with every buffer.
    func giveBack() { taken.store(false, ordering: .releasing) }
}
