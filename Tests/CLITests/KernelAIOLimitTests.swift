@_spi(Testing) import AsyncIO
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The library at the system-wide kernel AIO limit (`fs.aio-max-nr`), beside the CLI's case in
/// `FaultCLITests.kernelAIOExhausted`, whose way of lowering the limit it shares.
@Suite("kernel AIO at fs.aio-max-nr")
struct KernelAIOLimitTests {
    /// `fs.aio-max-nr` is lowered (restored in every case) to what is in use plus 16384 + 8192: room
    /// for the test's one context of 16384 requests and other tests' small ones, none for a second
    /// big one. A closed handle's context is destroyed on a thread of its own and counts until that
    /// thread's `io_destroy` begins, here held back 100 ms: a handle made at once meets EAGAIN and
    /// must wait for it (with the wait removed, the first reopen fails).
    /// At least one reopen must have waited, not each: under AddressSanitizer a reopen once came
    /// after its predecessor's 20 ms hold had ended.
    @Test("a context made while the last one is still being destroyed in the background waits for it",
          .enabled(if: AIOLimitProbe.usable, AIOLimitProbe.skipReason))
    func setupWaitsForBackgroundDestroy() throws {
        let config = HandleConfig(blockSize: 4096, queueDepth: 16383, engine: .aio)  // 16384 slots
        // Made under the lowered limit (and its lock): the other test that lowers it leaves no room.
        try AIOLimitProbe.withLimitLowered(room: 16384 + 8192) { _, _ in
            var handle: AIOHandle? = try AIOHandle(config)
            let waitedBefore = KernelAIOCounters.setupsThatWaited
            // Each closed context goes on counting for 100 ms: without the wait, the handles below fail.
            KernelAIOCounters.delayBackgroundDestroys(microseconds: 100_000)
            defer { KernelAIOCounters.delayBackgroundDestroys(microseconds: 0) }
            for i in 0..<5 {
                handle = nil
                do {
                    handle = try AIOHandle(config)
                } catch {
                    Issue.record("handle \(i) after closing the one before: \(error)")
                    return
                }
            }
            #expect(handle != nil)
            #expect(KernelAIOCounters.setupsThatWaited > waitedBefore,
                    "no reopen met EAGAIN: the wait was not exercised")
        }
    }
}
