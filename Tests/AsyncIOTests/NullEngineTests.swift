import AsyncIO
import Foundation
import Testing

/// The scheduler without a disk: every request is accounted for, in every discipline.
@Suite("Null engine")
struct NullEngineTests {
    @Test("every byte is requested exactly once", arguments: [false, true], [false, true])
    func accounting(overlap: Bool, single: Bool) throws {
        let dir = ScratchFolder()
        let counter = ByteCounter()
        let handle = try AIOHandle(HandleConfig(blockSize: 4096, queueDepth: 7, singleSubmit: single,
                                                overlapEvents: overlap, intraOpParallelism: 3, engine: .null,
                                                direct: false))
        let buffer = try AlignedBuffer(count: (1 << 20) + 12345, lock: false)
        try DeepSpeedHandle(handle).pwrite(buffer, filename: dir.file("n"), async: false, latency: LatencySink { _, _ in counter.add() })
        // 1 MiB + 12345 bytes over 3 workers (no alignment without O_DIRECT): slices of 353640,
        // 353640 and 353641 bytes, each 86 full 4 KiB blocks and a tail: 3 × 87 = 261 requests.
        #expect(counter.value == 261)
    }
}

final class ByteCounter: @unchecked Sendable {
    private let lock = NSLockish()
    private var count = 0
    func add() { lock.sync { count += 1 } }
    var value: Int { lock.sync { count } }
}

/// A lock for test counters. NSLock (a pthread mutex) rather than `Synchronization.Mutex`: the thread
/// sanitizer cannot see Mutex's contended path (a futex wait inside the standard library, which is not
/// instrumented), so it reports races on what a Mutex guards.
final class NSLockish: Sendable {
    private let m = NSLock()
    func sync<T>(_ body: () -> T) -> T { m.withLock(body) }
}
