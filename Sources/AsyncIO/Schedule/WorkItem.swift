/// One piece of work for a worker's `SliceRunner`: a contiguous range of one file, where its bytes lie
/// in memory, and whom to tell once the kernel is done with it. Plain and striped operations are both
/// cut into work items and run by the same runner on the same workers.
struct WorkItem {
    /// Whom a finished item is reported to.
    enum Owner {
        /// A slice of a plain handle's operation.
        case operation(PendingOperation)
        /// A striped operation's share of one member.
        case stripe(StripeTicket, member: Int)
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
        owner = .operation(op)
    }

    /// A striped operation's share of `member`, whose requests may touch `bufferBytes` from `slice.memory`.
    init(stripe slice: Slice, bufferBytes: Int, member: Int, layout: StripeLayout, latency: LatencySink?,
         ticket: StripeTicket) {
        var slice = slice
        slice.cancel = ticket.cancelFlag
        self.slice = slice
        stripe = (layout, member)
        memory = UnsafeMutableRawBufferPointer(start: slice.memory, count: bufferBytes)
        region = nil
        self.latency = latency
        owner = .stripe(ticket, member: member)
    }

    /// Whether the operation was cancelled before the worker reached the item (its slice carries the
    /// operation's flag, as the scheduler reads it between requests).
    var isCancelled: Bool { slice.cancel?.isSet ?? false }
}
