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

    @Test("a whole the kernel refuses (here: a range with an unmapped half) falls back to the part alone")
    func refusedWholeFallsBack() throws {
        let queue = try #require(try makeQueue(kind: .uring, depth: 4, options: EngineOptions()) as? URingQueue)
        // 128 KiB mapped, the second half unmapped again: registering all of it fails with EFAULT; the
        // first half, the part a request uses, must still be registered.
        let half = 64 << 10
        let mapped = try #require(mmap(nil, 2 * half, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        try #require(mapped != MAP_FAILED)
        defer { munmap(mapped, half) }
        munmap(mapped + half, half)
        queue.prepare(memory: UnsafeMutableRawBufferPointer(start: mapped, count: half),
                      region: UnsafeMutableRawBufferPointer(start: mapped, count: 2 * half), fds: [])
        guard queue.bufferRegistrationFailed == nil else {
            Issue.record("the part alone was not registered: \(queue.bufferRegistrationFailed!)")
            return
        }
        let start = UInt(bitPattern: mapped)
        #expect(queue.registeredRegions.map { [$0.start, $0.end] } == [[start, start + UInt(half)]])
    }
}
