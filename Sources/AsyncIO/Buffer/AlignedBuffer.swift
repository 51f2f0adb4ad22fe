import CAsyncIO
import Glibc
import Synchronization

/// Page-aligned memory for direct I/O, huge-page backed and page-locked where the system allows.
///
/// Buffers of 2 MiB or more are 2 MiB-aligned and advised with `MADV_HUGEPAGE` when transparent
/// huge pages are enabled (`always` or `madvise`): physically contiguous memory lets a 1 MiB
/// request reach the device as one piece instead of 256 pages (virtio takes at most 254
/// segments). The memory is then locked with `mlock` when the limit allows; when it does not,
/// the buffer stays unlocked and `lockFailure` says why. Memory is zero-filled and faulted in.
/// The buffers of a `BounceBuffers` ring are parts of one such allocation, so even small ones lie
/// on huge pages.
///
/// ## Ownership while an operation is in flight
///
/// An operation holds a strong reference to its buffer until the kernel is done with every one of
/// its requests (also after an error or a cancellation), so a buffer is never freed under the
/// kernel. While it is lent, touching its bytes from the CPU is refused with a precondition
/// failure that says so and names the operation that holds it: `withUnsafeMutableBytes` while any
/// operation uses it; `withUnsafeBytes` while a read fills it. Await the operation
/// (`IOTicket.value`, `wait()`) first. `isLent` tells whether it is lent now.
///
/// Why a class and a run-time check rather than a `~Copyable` buffer: a noncopyable buffer
/// consumed by a submission and handed back by its ticket would make the rule a compile-time
/// one, but DeepSpeed's API (and the benchmark) lends one buffer to several operations at once
/// (parallel reads of parts of one file into one buffer, several tasks) and shares it between
/// threads; a `~Copyable` value cannot be lent twice, captured by an escaping closure or stored
/// in an array of the benchmark's tasks without moving it out. The streaming writer, which owns
/// its bounce buffers alone, is `~Copyable` instead (see `StreamWriter`).
// @unchecked: the address and sizes are `let`s and the loan counts are atomics; the bytes are shared
// memory by design (the kernel and the workers write into them), and the loan counts make the CPU wait
// for the kernel: a lent buffer's bytes are not handed out (precondition), and an operation returns its
// loan only after its last request completed, under the operation's lock, before any waiter wakes.
public final class AlignedBuffer: @unchecked Sendable {
    /// The usable size in bytes.
    public let count: Int
    /// The address alignment: 4096, or 2 MiB for a huge-page buffer; a part of a larger allocation (a
    /// stream's bounce buffer) has the largest power of two, up to its whole's, dividing its address.
    public let alignment: Int
    /// Whether `mlock` succeeded.
    public let isLocked: Bool
    /// Why locking was not done, when it was asked for and failed (for one warning line).
    public let lockFailure: String?
    /// Whether `MADV_HUGEPAGE` was applied (see `hugePageBytes` for what the kernel gave).
    package let hugePagesAdvised: Bool

    let base: UnsafeMutableRawPointer
    let allocated: Int
    /// Whether the memory is a mapping of its own (`mmap`) rather than from the allocator.
    private let isOwnMapping: Bool
    /// Whether the memory is the caller's (see `init(borrowing:)`): neither freed nor unlocked here.
    let isBorrowed: Bool
    /// The buffer whose memory this one is a part of (see `init(partOf:offset:count:)`), kept alive
    /// by it; nil for a buffer that owns its memory.
    let whole: AlignedBuffer?
    /// In-flight operations that fill this buffer (reads: the kernel writes into it).
    private let readLoans = Atomic<Int>(0)
    /// In-flight operations that send this buffer (writes: the kernel reads from it).
    private let writeLoans = Atomic<Int>(0)

    /// Transparent huge pages state from sysfs: `always`, `madvise`, `never`, or nil when absent.
    package static var transparentHugePageMode: String? {
        guard let text = readSmallFile("/sys/kernel/mm/transparent_hugepage/enabled") else { return nil }
        guard let open = text.firstIndex(of: "["), let close = text.firstIndex(of: "]") else { return nil }
        return String(text[text.index(after: open)..<close])
    }

    /// The system page size.
    package static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Allocates `count` bytes.
    ///
    /// - Parameters:
    ///   - count: bytes wanted; 0 allocates one page so the address is always valid.
    ///   - lock: try `mlock` (falls back to unlocked memory with `lockFailure` set).
    ///   - hugePages: ask for transparent huge pages when the buffer is at least 2 MiB; when false the
    ///     buffer keeps 4 KiB pages even where the kernel would use huge ones (`MADV_NOHUGEPAGE`), as
    ///     pinned memory that nobody advised does (DeepSpeed's torch buffers).
    public convenience init(count: Int, lock: Bool = true, hugePages: Bool = true) throws(AsyncIOError) {
        try self.init(count: count, lock: lock, pages: hugePages ? .huge : .small)
    }

    /// How a buffer's memory lies in physical memory.
    package enum PageKind: Sendable, Equatable {
        /// Transparent huge pages where the kernel gives them (buffers of 2 MiB or more).
        case huge
        /// 4 KiB pages, wherever the kernel finds them.
        case small
        /// 4 KiB mappings of huge pages in physically contiguous pieces of this many bytes (a multiple
        /// of the page size), no two neighbours in the buffer neighbours in memory: a chosen layout,
        /// the one a process's 4 KiB pages happened to have (see `PhysicalLayout`). Buffers of 2 MiB or more.
        case runs(Int)
    }

    /// Allocates `count` bytes of the page kind `pages`; otherwise as `init(count:lock:hugePages:)`.
    package init(count: Int, lock: Bool = true, pages: PageKind) throws(AsyncIOError) {
        guard count >= 0 else {
            throw .invalid("allocate buffer", "size \(count) is negative")
        }
        let hugePages = pages == .huge
        let huge = 2 << 20
        let mode = AlignedBuffer.transparentHugePageMode
        let wantHuge = hugePages && count >= huge && (mode == "always" || mode == "madvise")
        let align = wantHuge ? huge : AlignedBuffer.pageSize
        let rounded = max(align, (count + align - 1) / align * align)
        // A buffer that could hold a huge page is a mapping of its own: freed, it goes back to the
        // system at once (from the allocator's heap it could stay in the process, and a program that
        // allocates and frees large buffers would grow); with 4 KiB pages asked for, no huge page left
        // by memory freed earlier in the process comes back with it.
        let ownMapping = rounded >= huge
        let raw: UnsafeMutableRawPointer
        if ownMapping, case .runs(let run) = pages {
            raw = try AlignedBuffer.mapInRuns(rounded, run: run)
        } else if ownMapping {
            raw = try AlignedBuffer.map(rounded, alignment: align)
            if !hugePages { _ = madvise(raw, rounded, CAsyncIO_MADV_NOHUGEPAGE) }
        } else {
            var memory: UnsafeMutableRawPointer?
            let rc = posix_memalign(&memory, align, rounded)
            guard rc == 0, let memory else {
                throw .system("allocate \(rounded)-byte buffer", errno: rc == 0 ? ENOMEM : rc)
            }
            raw = memory
        }
        var advised = false
        if wantHuge {
            advised = madvise(raw, rounded, CAsyncIO_MADV_HUGEPAGE) == 0
        }
        // Every page is faulted in now, so the first timed transfer does not pay for it: `mlock`
        // does that in the kernel, in one pass (as DeepSpeed's pinned tensors are made); only
        // unlocked memory is touched from here.
        var locked = false
        var failure: String?
        if lock {
            if mlock(raw, rounded) == 0 {
                locked = true
            } else {
                let code = currentErrno()
                failure = "could not page-lock \(rounded) bytes (\(AsyncIOError.errnoName(code)); "
                    + "memlock limit \(AlignedBuffer.memlockLimitDescription)): using unlocked memory"
            }
        }
        // A fresh mapping is faulted in by the kernel in one call where it can (its pages are zeros);
        // one made of pieces was faulted in before they were moved.
        var faulted = false
        if case .runs = pages { faulted = ownMapping }
        if !locked && !faulted && !(ownMapping && madvise(raw, rounded, CAsyncIO_MADV_POPULATE_WRITE) == 0) { memset(raw, 0, rounded) }
        self.base = raw
        self.count = count
        self.allocated = rounded
        self.isOwnMapping = ownMapping
        self.alignment = align
        self.isLocked = locked
        self.lockFailure = failure
        self.hugePagesAdvised = advised
        whole = nil
        isBorrowed = false
    }

    /// A buffer over memory the caller owns and keeps valid while the buffer lives (one operation
    /// on caller memory, see `AIOHandle.submitRead(into:from:offset:latency:)`): not freed, locked
    /// or touched here. Its alignment is the largest power of two, up to 2 MiB, dividing its address.
    init(borrowing memory: UnsafeMutableRawBufferPointer) {
        base = memory.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 4096)!
        count = memory.count
        allocated = memory.count
        isOwnMapping = false
        let address = UInt(bitPattern: base)
        alignment = address == 0 ? 1 : min(2 << 20, 1 << address.trailingZeroBitCount)
        isLocked = false
        lockFailure = nil
        hugePagesAdvised = false
        whole = nil
        isBorrowed = true
    }

    /// A buffer over `count` bytes of `whole` from `offset` (page-aligned), which it keeps alive and
    /// whose page kind and lock it shares. Bounce buffers are parts of one allocation so that buffers
    /// under 2 MiB still lie on huge pages: each of 16 separate 1 MiB buffers would have 4 KiB pages,
    /// and a 1 MiB read into them reached the virtual disk at less than half the speed.
    init(partOf whole: AlignedBuffer, offset: Int, count: Int) {
        // Multiples of 4096 (what O_DIRECT needs), not of the page size: bounce buffers take any
        // multiple of 4096, also where pages are 16 or 64 KiB.
        precondition(whole.whole == nil && offset >= 0 && count > 0 && offset % 4096 == 0 && count % 4096 == 0
            && offset + count <= whole.allocated,
            "AlignedBuffer: part \(offset)+\(count) outside a \(whole.allocated)-byte buffer, or of a part")
        base = whole.base + offset
        self.count = count
        allocated = count
        isOwnMapping = false
        // The largest power of two, up to the whole's, that the part's address is a multiple of.
        alignment = min(whole.alignment, offset == 0 ? whole.alignment : 1 << offset.trailingZeroBitCount)
        isLocked = whole.isLocked
        lockFailure = whole.lockFailure
        hugePagesAdvised = whole.hugePagesAdvised
        self.whole = whole
        isBorrowed = false
    }

    /// The whole allocation a part belongs to (nil for a buffer of its own): an io_uring ring
    /// registers it, so the parts of one ring of bounce buffers share one registration.
    var wholeRange: UnsafeMutableRawBufferPointer? {
        whole.map { UnsafeMutableRawBufferPointer(start: $0.base, count: $0.allocated) }
    }

    /// Maps `bytes` of anonymous memory at an address that is a multiple of `alignment` (a power of
    /// two, at least the page size): maps `alignment` more, then unmaps what lies outside.
    static func map(_ bytes: Int, alignment: Int) throws(AsyncIOError) -> UnsafeMutableRawPointer {
        let span = bytes + (alignment > pageSize ? alignment : 0)
        guard let mapped = mmap(nil, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapped != MAP_FAILED else {
            throw .system("mmap \(bytes)-byte buffer", errno: currentErrno())
        }
        let head = (alignment - Int(bitPattern: mapped) % alignment) % alignment
        if head > 0 { munmap(mapped, head) }
        if span - head - bytes > 0 { munmap(mapped + head + bytes, span - head - bytes) }
        return mapped + head
    }

    deinit {
        // A part's memory is its whole's, freed with it.
        guard whole == nil else { return }
        // The caller's memory is the caller's to free; it was never registered with io_uring
        // (`SliceRunner.start`), so nothing has to be registered again.
        guard !isBorrowed else { return }
        if isLocked { munlock(base, allocated) }
        AlignedBuffer.freedCount.add(1, ordering: .sequentiallyConsistent)
        if isOwnMapping { munmap(base, allocated) } else { free(base) }
    }

    /// How many allocations have been freed so far (a part frees none; its whole counts once). An
    /// io_uring ring keeps its registration while the same memory range comes back; once a buffer
    /// has been freed, a new one may sit at the same address on other pages (the registration still
    /// pins the old ones), so the ring registers again when this count has moved (`URingQueue.prepare`).
    static let freedCount = Atomic<UInt64>(0)

    /// The memlock limit (`ulimit -l`) as text: `unlimited` or a byte count.
    package static var memlockLimitDescription: String {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(CAsyncIO_RLIMIT_MEMLOCK), &limit) == 0 else { return "unknown" }
        if limit.rlim_cur == rlim_t.max { return "unlimited" }
        return "\(limit.rlim_cur) bytes"
    }

    /// Bytes of this buffer the kernel currently backs with huge pages (from /proc/self/smaps).
    package var hugePageBytes: Int {
        guard let smaps = readSmallFile("/proc/self/smaps", limit: 64 << 20) else { return 0 }
        let start = UInt(bitPattern: base)
        let end = start + UInt(allocated)
        var total = 0
        var inRange = false
        for line in smaps.split(separator: "\n") {
            if let dash = line.firstIndex(of: "-"), line.first?.isHexDigit == true,
               let space = line.firstIndex(of: " "), dash < space {
                let lo = UInt(line[line.startIndex..<dash], radix: 16) ?? 0
                let hi = UInt(line[line.index(after: dash)..<space], radix: 16) ?? 0
                inRange = lo < end && hi > start
            } else if inRange, line.hasPrefix("AnonHugePages:") {
                let digits = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
                total += digits * 1024
            }
        }
        return min(total, allocated)
    }

    // MARK: - Loans to in-flight operations

    /// Whether an operation in flight uses this buffer now (see "Ownership while an operation is
    /// in flight").
    public var isLent: Bool {
        readLoans.load(ordering: .acquiring) > 0 || writeLoans.load(ordering: .acquiring) > 0
    }

    /// Lends the buffer to one operation that will `operation` it (a read fills it); `holder`
    /// names it (operation, path, offset) for the message of a misuse.
    func lend(to operation: IOOperation, holder: String) {
        lastHolder.withLock { $0 = holder }
        if operation == .read {
            readLoans.add(1, ordering: .acquiringAndReleasing)
        } else {
            writeLoans.add(1, ordering: .acquiringAndReleasing)
        }
    }

    /// Returns the loan of one operation whose every request has completed.
    func endLoan(of operation: IOOperation) {
        if operation == .read {
            readLoans.subtract(1, ordering: .acquiringAndReleasing)
        } else {
            writeLoans.subtract(1, ordering: .acquiringAndReleasing)
        }
    }

    /// The operation that took the latest loan, for the message of a misuse.
    private let lastHolder = Mutex<String?>(nil)
    private var holderDescription: String {
        lastHolder.withLock { $0 }.map { "the latest: \($0)" } ?? "unknown"
    }

    /// Stops the process when the CPU would change bytes the kernel may be reading or writing.
    func refuseMutationWhileLent(_ what: String) {
        let reads = readLoans.load(ordering: .acquiring)
        let writes = writeLoans.load(ordering: .acquiring)
        // fatalError, not precondition: its message survives a release build.
        if reads != 0 || writes != 0 {
            fatalError("AlignedBuffer.\(what): the buffer is lent to \(reads + writes) operation(s) in flight "
                       + "(\(holderDescription)); the kernel may be using its bytes: await the operation "
                       + "(IOTicket.value or wait()) before changing them")
        }
    }

    /// Stops the process when the CPU would read bytes the kernel may be writing.
    func refuseReadWhileFilling(_ what: String) {
        let reads = readLoans.load(ordering: .acquiring)
        if reads != 0 {
            fatalError("AlignedBuffer.\(what): the buffer is lent to \(reads) read(s) in flight (\(holderDescription)); "
                       + "the kernel may be writing its bytes: await the operation (IOTicket.value or wait()) before "
                       + "reading them")
        }
    }

    // MARK: - Access

    /// Calls `body` with the buffer's bytes (exactly `count` of them).
    ///
    /// - Precondition: no operation in flight uses the buffer (`isLent` is false).
    public func withUnsafeMutableBytes<R, E: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        refuseMutationWhileLent("withUnsafeMutableBytes")
        return try body(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    /// Calls `body` with the buffer's bytes, read-only.
    ///
    /// - Precondition: no read in flight fills the buffer.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        refuseReadWhileFilling("withUnsafeBytes")
        return try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Calls `body` with the first `prefix` bytes as a `Span` (a streamed chunk), read-only.
    ///
    /// - Precondition: no read in flight fills the buffer; `prefix` is at most `count`.
    func withBytes<R, E: Error>(prefix: Int, _ body: (Span<UInt8>) throws(E) -> R) throws(E) -> R {
        try withUnsafeBytes { (all: UnsafeRawBufferPointer) throws(E) -> R in
            try body(UnsafeRawBufferPointer(rebasing: all[0..<prefix]).bindMemory(to: UInt8.self).span)
        }
    }
}
