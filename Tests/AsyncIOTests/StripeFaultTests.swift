@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// Striping under injected faults: a failing request fails the whole operation with an error naming a
/// member file, every member's requests still end before it returns, and no member file stays open;
/// short transfers are continued and the data is still right.
@Suite("Striping: faults")
struct StripeFaultTests {
    /// The paths this process has open (from /proc/self/fd).
    static func openPaths() -> Set<String> {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0) })
    }

    @Test("a failing request fails the operation, names a member, leaves nothing open", arguments: realEngines)
    func failingRequest(engine: EngineKind) throws {
        let folders = (0..<3).map { ScratchFolder("stripe-fault\($0)") }
        let layout = try StripeLayout(folders: folders.map(\.path), stripeSize: 16384)
        let size = 40 * 16384 + 123
        let source = try randomBuffer(size, seed: 21)
        try StripedHandle(layout, config: HandleConfig(blockSize: 4096, engine: engine)).submitWrite(from: source, to: "f").wait()
        let paths = layout.memberPaths("f", totalBytes: size)
        for request in [1, 7, 50] {
            let config = HandleConfig(blockSize: 4096, queueDepth: 4, intraOpParallelism: 2, engine: engine)
                .injecting(FaultInjection(failRequest: request, failErrno: ENOSPC))
            for operation in IOOperation.allCases {
                // Requests are numbered per handle: a new one for each operation.
                let handle = try StripedHandle(layout, config: config)
                let buffer = try AlignedBuffer(count: size, lock: false)
                do {
                    if operation == .read {
                        try handle.submitRead(into: buffer, from: "f").wait()
                    } else {
                        try handle.submitWrite(from: source, to: "f").wait()
                    }
                    Issue.record("request \(request) failed, yet the \(operation) succeeded")
                } catch {
                    #expect(error.errno == .noSpace, "\(error)")
                    #expect(error.path.map(paths.contains) == true, "\(error)")
                    #expect(error.offset != nil, "\(error)")
                }
                #expect(Self.openPaths().isDisjoint(with: paths), "a member file is still open after the \(operation)")
                // Only request number `request` fails: the next write puts the set right.
                try handle.submitWrite(from: source, to: "f").wait()
            }
        }
        let sink = try AlignedBuffer(count: size, lock: false)
        try StripedHandle(layout, config: HandleConfig(engine: engine)).submitRead(into: sink, from: "f").wait()
        #expect(firstDifference(sink, source) == nil)
    }

    @Test("every request short: continued until done, data right", arguments: realEngines)
    func shortTransfers(engine: EngineKind) throws {
        let folders = (0..<2).map { ScratchFolder("stripe-short\($0)") }
        let layout = try StripeLayout(folders: folders.map(\.path), stripeSize: 8192)
        let config = HandleConfig(blockSize: 8192, queueDepth: 8, intraOpParallelism: 2, engine: engine)
            .injecting(FaultInjection(everyRequestShort: true))
        let handle = try StripedHandle(layout, config: config)
        let size = 30 * 8192 + 777
        let source = try randomBuffer(size, seed: 22)
        try handle.submitWrite(from: source, to: "s").wait()
        let sink = try AlignedBuffer(count: size, lock: false)
        try handle.submitRead(into: sink, from: "s").wait()
        #expect(firstDifference(sink, source) == nil)
        #expect(handle.requestsSubmitted > 2 * (size / 8192), "short transfers were not continued")
    }
}
