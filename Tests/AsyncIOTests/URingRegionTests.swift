import Glibc
import Testing
@testable import AsyncIO

/// An io_uring ring registers the whole allocation a part of a bounce-buffer ring belongs to, so the
/// parts share one registration; when the kernel refuses the whole, the part alone, as without one.
@Suite("io_uring registration of parts of one allocation",
       .enabled(if: KernelProbe.ioUringWorks, "io_uring is refused here: \(KernelProbe.ioUringRefusal ?? "")"))
struct URingRegionTests {
    static func range(_ buffer: AlignedBuffer) -> (start: UInt, end: UInt) {
        (UInt(bitPattern: buffer.base), UInt(bitPattern: buffer.base) + UInt(buffer.allocated))
    }

    static func memory(_ buffer: AlignedBuffer) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: buffer.base, count: buffer.allocated)
    }

    @Test("every part of a ring is covered by the one registration of its whole")
    func wholeOnce() throws {
        let queue = try #require(try makeQueue(kind: .uring, depth: 4, options: EngineOptions()) as? URingQueue)
        let ring = try BounceBuffers(size: 64 << 10, count: 4)
        let whole = try #require(ring.buffers[0].whole)
        for part in ring.buffers {
            queue.prepare(memory: Self.memory(part), region: part.wholeRange, fds: [])
        }
        guard queue.bufferRegistrationFailed == nil else {
            Issue.record("the kernel refused to register 256 KiB: \(queue.bufferRegistrationFailed!)")
            return
        }
        #expect(queue.registeredRegions.map { [$0.start, $0.end] } == [[Self.range(whole).start, Self.range(whole).end]])
    }

    @Test("a whole the kernel refuses (a range with an unmapped third) falls back to its parts, without trying it again")
    func refusedWholeFallsBack() throws {
        let queue = try #require(try makeQueue(kind: .uring, depth: 4, options: EngineOptions()) as? URingQueue)
        // 192 KiB mapped, the last third unmapped again: registering all of it fails with EFAULT; the
        // parts a request uses, the first and second thirds, must still be registered.
        let third = 64 << 10
        let mapped = try #require(mmap(nil, 3 * third, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        try #require(mapped != MAP_FAILED)
        defer { munmap(mapped, 2 * third) }
        munmap(mapped + 2 * third, third)
        let region = UnsafeMutableRawBufferPointer(start: mapped, count: 3 * third)
        let start = UInt(bitPattern: mapped), size = UInt(third)
        queue.prepare(memory: UnsafeMutableRawBufferPointer(start: mapped, count: third), region: region, fds: [])
        guard queue.bufferRegistrationFailed == nil else {
            Issue.record("the part alone was not registered: \(queue.bufferRegistrationFailed!)")
            return
        }
        #expect(queue.registeredRegions.map { [$0.start, $0.end] } == [[start, start + size]])
        #expect(queue.refusedWhole.map { [$0.start, $0.end] } == [start, start + 3 * size])
        // The next part joins the first: the refused whole is not tried again (which would fail and
        // leave the second part registered alone).
        queue.prepare(memory: UnsafeMutableRawBufferPointer(start: mapped + third, count: third), region: region, fds: [])
        #expect(queue.registeredRegions.map { [$0.start, $0.end] }
            == [[start, start + size], [start + size, start + 2 * size]])
    }
}
