import Glibc
import Testing
@testable import AsyncIO

@Suite("Physical layout of buffers")
struct PhysicalLayoutTests {
    /// Whether `scripts/sanitize.sh` runs the suite (thread or address).
    static let underSanitizer = getenv("AIO_SANITIZER") != nil
    static let sanitizerReason: Comment =
        "the sanitizers make mlock a no-op, so a locked buffer's pages are not faulted in and have no frames"
    /// Frame numbers in /proc/self/pagemap need root.
    static let framesReadable = ConditionTrait.enabled(if: geteuid() == 0,
        "frame numbers in /proc/self/pagemap are zeros without CAP_SYS_ADMIN")
    /// A locked buffer's pages have frames (not under the sanitizers).
    static let framesPresent = ConditionTrait.disabled(if: underSanitizer, sanitizerReason)
    /// Transparent huge pages are on (`always` or `madvise`).
    static let hugePagesOn = ConditionTrait.enabled(
        if: ["always", "madvise"].contains(AlignedBuffer.transparentHugePageMode ?? ""), "transparent huge pages are off")
    @Test("a locked buffer's pages are all present and form between one run and one run per page",
          PhysicalLayoutTests.framesReadable, PhysicalLayoutTests.framesPresent)
    func layoutOfLockedBuffer() throws {
        let buffer = try AlignedBuffer(count: 3 << 20, lock: true, hugePages: false)
        let layout = try #require(buffer.physicalLayout)
        #expect(layout.pages == (3 << 20) / AlignedBuffer.pageSize)
        #expect(layout.runs >= 1 && layout.runs <= layout.pages)
        #expect(layout.averageRunBytes == layout.pages * AlignedBuffer.pageSize / layout.runs)
    }

    @Test("a 2 MiB buffer is 512 pages, in one run when the kernel gave it a huge page",
          PhysicalLayoutTests.framesReadable, PhysicalLayoutTests.framesPresent, PhysicalLayoutTests.hugePagesOn)
    func hugePageIsOneRun() throws {
        let buffer = try AlignedBuffer(count: 2 << 20, lock: true, hugePages: true)
        let layout = try #require(buffer.physicalLayout)
        #expect(layout.pages == 512)
        // The kernel may give 4 KiB pages instead (no free 2 MiB block); a huge page it gave is one run.
        if buffer.hugePageBytes == 2 << 20 { #expect(layout.runs == 1) }
    }
}

/// A ring of bounce buffers is one allocation cut into parts, so small buffers share huge pages.
@Suite("Bounce buffers as parts of one allocation")
struct BounceBufferPartsTests {
    @Test("4 x 1 MiB: consecutive parts of one 4 MiB huge-page allocation, freed once, with its last part",
          PhysicalLayoutTests.hugePagesOn)
    func partsOfOne() throws {
        weak var weakWhole: AlignedBuffer?
        var part: AlignedBuffer?
        do {
            let ring = try BounceBuffers(size: 1 << 20, count: 4)
            let whole = try #require(ring.buffers[0].whole)
            weakWhole = whole
            #expect(whole.count == 4 << 20 && whole.hugePagesAdvised && whole.alignment == 2 << 20)
            for (i, part) in ring.buffers.enumerated() {
                #expect(part.whole === whole)
                #expect(part.base == whole.base + i * (1 << 20), "part \(i)")
                #expect(part.count == 1 << 20 && part.hugePagesAdvised && part.isLocked == whole.isLocked)
                #expect(part.alignment == (i % 2 == 0 ? 2 << 20 : 1 << 20), "part \(i)")
                #expect(part.wholeRange?.baseAddress == whole.base && part.wholeRange?.count == 4 << 20)
            }
            #expect(ring.hugePageBytes <= 4 << 20)
            part = ring.buffers[3]
        }
        // Each separate 1 MiB buffer would have had 4 KiB pages only.
        #expect(!(try AlignedBuffer(count: 1 << 20)).hugePagesAdvised)
        // Other tests free buffers meanwhile, so only "freed at least once" can be told apart.
        let freedBefore = AlignedBuffer.freedCount.load(ordering: .sequentiallyConsistent)
        // A part alone keeps the memory alive and usable.
        #expect(weakWhole != nil)
        part?.withUnsafeMutableBytes { $0[0] = 7; $0[(1 << 20) - 1] = 9 }
        part?.withUnsafeBytes { #expect($0[0] == 7 && $0[(1 << 20) - 1] == 9) }
        part = nil
        #expect(weakWhole == nil, "the whole is freed with its last part")
        #expect(AlignedBuffer.freedCount.load(ordering: .sequentiallyConsistent) > freedBefore)
    }

    @Test("a part's pages are the whole's: one run per huge page when the kernel gave them",
          PhysicalLayoutTests.framesReadable, PhysicalLayoutTests.framesPresent, PhysicalLayoutTests.hugePagesOn)
    func partLayout() throws {
        let ring = try BounceBuffers(size: 1 << 20, count: 2)
        let layout = try #require(ring.buffers[1].physicalLayout)
        #expect(layout.pages == 256)
        if ring.hugePageBytes == 2 << 20 { #expect(layout.runs == 1) }
    }
}

/// `AlignedBuffer.PageKind.runs`: huge pages cut into physically contiguous pieces, as ds_io's buffer lies.
@Suite("Buffers built of huge-page pieces")
struct PiecewiseBufferTests {
    @Test("the pieces are dealt once each, and no two neighbours come from neighbouring places")
    func order() {
        for pieces in 0...400 {
            let order = AlignedBuffer.runOrder(pieces: pieces)
            #expect(order.sorted() == Array(0..<pieces), "\(pieces) pieces")
            if pieces >= 3 {
                #expect(zip(order, order.dropFirst()).allSatisfy { $1 != $0 + 1 }, "\(pieces) pieces")
                if ![3, 4, 6].contains(pieces) {
                    #expect(zip(order, order.dropFirst()).allSatisfy { $1 != $0 - 1 }, "\(pieces) pieces")
                }
            }
        }
    }

    @Test("a buffer of 36 KiB pieces holds, writes and reads back its bytes", arguments: realEngines)
    func roundTrip(engine: EngineKind) async throws {
        let dir = ScratchFolder("pieces")
        let size = (8 << 20) + 12288
        let source = try AlignedBuffer(count: size, lock: true, pages: .runs(36 << 10))
        source.fillRandom(seed: 77)
        let copy = try randomBuffer(size, seed: 77)
        #expect(source.contentsEqual(copy))
        let handle = try AIOHandle(HandleConfig(blockSize: 1 << 20, queueDepth: 8, engine: engine))
        try await handle.write(from: source, to: dir.file("p"))
        let sink = try AlignedBuffer(count: size, lock: false, pages: .runs(36 << 10))
        try await handle.read(into: sink, from: dir.file("p"))
        #expect(firstDifference(sink, copy) == nil)
    }

    @Test("its pages lie in runs no longer than a piece", PhysicalLayoutTests.framesReadable,
          PhysicalLayoutTests.framesPresent)
    func runs() throws {
        let buffer = try AlignedBuffer(count: 16 << 20, lock: true, pages: .runs(36 << 10))
        let layout = try #require(buffer.physicalLayout)
        #expect(layout.pages == (16 << 20) / AlignedBuffer.pageSize)
        // A piece is one run where the kernel gave a huge page (a piece across two may be two); where
        // it gave 4 KiB pages the runs are shorter still. Never the 2 MiB runs of a huge-page buffer.
        #expect(layout.averageRunBytes <= (36 << 10) * 11 / 10, "\(layout)")
        #expect(buffer.hugePagesAdvised == false)
    }

    @Test("a piece size that is not a multiple of the page size is refused")
    func badPiece() {
        #expect(throws: AsyncIOError.self) { try AlignedBuffer(count: 4 << 20, pages: .runs(5000)) }
    }
}
