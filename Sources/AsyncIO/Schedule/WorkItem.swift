/// One piece of work for a worker's `SliceRunner`: a contiguous range of one file, where its bytes lie
/// in memory, and whom to tell once the kernel is done with it. Plain and striped operations are both
/// cut into work items and run by the same runner on the same workers.
struct WorkItem {
    /// Whom a finished item is reported to: its operation, and the member file it belongs to (0 for
    /// a plain operation's slice).
    struct Owner {
        let operation: PendingOperation
        let member: Int
    }

    /// The file range (`fileOffset`, `length`) and, for a plain slice, its memory.
    var slice: Slice
    /// For a striped share: the set's geometry and the member, which map a file position to its place
    /// in the buffer (requests are cut at stripe-chunk ends); `slice.memory` is then the whole buffer's start.
    var stripe: (layout: StripeLayout, member: Int)?
    /// The memory the queue may register for the item (empty: none) and the allocation it is part of.
    var memory: UnsafeMutableRawBufferPointer
    var region: UnsafeMutableRawBufferPointer?
    /// Per-request timing, if asked for.
    var latency: LatencySink?
    var owner: Owner

    /// A slice of a plain operation. Caller memory (a borrowed buffer) lives for one operation:
    /// registering it with io_uring would cost more than it saves, so none is offered.
    init(_ slice: Slice, _ op: PendingOperation) {
        self.slice = slice
        let borrowed = op.buffer.isBorrowed
        memory = UnsafeMutableRawBufferPointer(start: borrowed ? nil : slice.memory, count: borrowed ? 0 : slice.length)
        region = borrowed ? nil : op.buffer.wholeRange
        latency = op.latency
        owner = Owner(operation: op, member: 0)
    }

    /// A striped operation's share of `member`, whose requests may touch the whole buffer from `slice.memory`.
    init(stripe slice: Slice, member: Int, layout: StripeLayout, operation op: PendingOperation) {
        var slice = slice
        slice.cancel = op.cancel
        self.slice = slice
        stripe = (layout, member)
        memory = UnsafeMutableRawBufferPointer(start: slice.memory, count: op.buffer.count)
        region = nil
        latency = op.latency
        owner = Owner(operation: op, member: member)
    }

    /// Whether the operation was cancelled before the worker reached the item (its slice carries the
    /// operation's flag, as the scheduler reads it between requests).
    var isCancelled: Bool { slice.cancel?.isSet ?? false }
}

extension WorkItem {
    /// Cuts `count` bytes of `file` into `parts` ranges, one per worker: each a multiple of the file's
    /// direct-I/O alignment and of the page size (so no page is shared by two workers), the last taking
    /// the rest (its unaligned tail goes through the page cache, see `SliceRunner`). Empty ranges are
    /// left out.
    static func ranges(_ count: Int, parts: Int, of file: IOFile) -> [(offset: Int, length: Int)] {
        let align = file.isDirect ? max(file.offsetAlignment, AlignedBuffer.pageSize) : 1
        let base = count / parts / align * align
        var ranges: [(offset: Int, length: Int)] = []
        var position = 0
        for part in 0..<parts {
            let length = part == parts - 1 ? count - position : base
            if length > 0 { ranges.append((position, length)) }
            position += length
        }
        return ranges
    }
}
