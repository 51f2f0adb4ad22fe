@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// Kernel AIO specifics: contexts of closed handles are destroyed off the closing thread (io_destroy
/// waits for an RCU grace period), and none is left behind.
@Suite("kernel AIO engine", .enabled(if: EngineProbe.probe(.aio).works, "kernel AIO does not work here"))
struct KernelAIOTests {
    /// Kernel AIO rings mapped into this process now (`/[aio]` lines of /proc/self/maps).
    static func aioRings() -> Int {
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return 0 }
        return maps.split(separator: "\n").filter { $0.contains("/[aio]") }.count
    }

    @Test("400 contexts of closed handles are all destroyed: the rings go back to where they were")
    func closedContextsGoAway() throws {
        let dir = ScratchFolder("kaio")
        let before = Self.aioRings()
        let source = try randomBuffer(1 << 20, seed: 41)
        let sink = try AlignedBuffer(count: 1 << 20, lock: false)
        for i in 0..<100 {
            // Four workers, four contexts; each moves data, so each has submitted and reaped.
            let handle = try AIOHandle(HandleConfig(blockSize: 65536, queueDepth: 8, intraOpParallelism: 4,
                                                    engine: .aio))
            try handle.syncPWrite(source, to: dir.file("k\(i % 4)"))
            try handle.syncPRead(sink, from: dir.file("k\(i % 4)"))
            #expect(sink.bytes() == source.bytes(), "handle \(i)")
        }
        // Suites beside this one open and close contexts too: allow some, and look again for up to
        // 20 s (a background io_destroy takes tens of ms). 400 left behind stay.
        let slack = 64
        var now = Self.aioRings()
        for _ in 0..<200 where now > before + slack {
            usleep(100_000)
            now = Self.aioRings()
        }
        #expect(now <= before + slack, "kernel AIO rings: \(before) before, \(now) after closing 100 handles of 4")
    }
}
