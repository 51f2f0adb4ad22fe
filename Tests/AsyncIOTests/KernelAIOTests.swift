@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// Kernel AIO specifics: contexts of closed handles are destroyed off the closing thread (io_destroy
/// waits for an RCU grace period), and none is left behind.
@Suite("kernel AIO engine", .enabled(if: EngineProbe.probe(.aio).works, "kernel AIO does not work here"))
struct KernelAIOTests {
    @Test("400 contexts of closed handles are all destroyed: the rings go back to where they were")
    func closedContextsGoAway() throws {
        let dir = ScratchFolder("kaio")
        let before = ProcessSnapshot().aioRings
        let source = try randomBuffer(1 << 20, seed: 41)
        let sink = try AlignedBuffer(count: 1 << 20, lock: false)
        for i in 0..<100 {
            // Four workers, four contexts; each moves data, so each has submitted and reaped.
            let handle = try AIOHandle(HandleConfig(blockSize: 65536, queueDepth: 8, intraOpParallelism: 4,
                                                    engine: .aio))
            try handle.submitWrite(from: source, to: dir.file("k\(i % 4)")).wait()
            try handle.submitRead(into: sink, from: dir.file("k\(i % 4)")).wait()
            #expect(sink.bytes() == source.bytes(), "handle \(i)")
        }
        // Suites beside this one open and close contexts too: allow some, and look again for up to
        // 20 s (a background io_destroy takes tens of ms). 400 left behind stay.
        let slack = 64
        var now = ProcessSnapshot().aioRings
        for _ in 0..<200 where now > before + slack {
            usleep(100_000)
            now = ProcessSnapshot().aioRings
        }
        #expect(now <= before + slack, "kernel AIO rings: \(before) before, \(now) after closing 100 handles of 4")
    }
}
