@testable @_spi(Testing) import AsyncIO
import Foundation
import Testing

/// `SliceRunner(inOrder: true)`, the scheduler under `StreamReader.forEachChunk`: slices reported in
/// the order they were taken, one per pass, with the freed memory handed back before the next wait.
@Suite("Scheduler: in-order reporting")
struct InOrderRunnerTests {
    /// A queue whose requests complete all together and in reverse order of submission, at the
    /// next reap (as a disk that completes a burst at once, out of order).
    final class ReversingQueue: IOQueue {
        var kind: EngineKind { .uring }
        /// As io_uring's: requests stay in flight, so the runner pipelines across slices.
        var capabilities: QueueCapabilities { [.keepsRequestsInFlight, .overlapsOperations, .mergesBatches, .movesData] }
        let capacity: Int
        var pathDescription: String { "reversing test queue" }
        private var held: [IOCompletion] = []
        private(set) var reaps = 0
        /// Fail every reap with EIO, as a queue that broke.
        let failing: Bool

        init(capacity: Int, failing: Bool = false) {
            self.capacity = capacity
            self.failing = failing
        }

        func prepare(memory: UnsafeMutableRawBufferPointer, region: UnsafeMutableRawBufferPointer?, fds: [Int32]) {}

        func submit(_ requests: UnsafeBufferPointer<IORequest>, path: String) throws(AsyncIOError) -> Int {
            held += requests.map { IOCompletion(tag: $0.tag, result: $0.length) }
            return requests.count
        }

        func reap(minimum: Int, into out: inout [IOCompletion], path: String) throws(AsyncIOError) {
            reaps += 1
            if failing, !held.isEmpty { throw .system("io_uring_enter", errno: EIO, path: path) }
            out += held.reversed()
            held = []
        }
    }

    /// Runs `slices` one-request slices through a runner with `slots` pieces of memory, each piece
    /// taken by `next()` and given back in `done` (as the blocking reader does); returns the log of
    /// calls: "n3" when slice 3 was taken, "d3" when it was reported.
    static func run(inOrder: Bool, slices: Int, slots: Int, failing: Bool = false) throws
        -> (log: [String], reaps: Int) {
        let dir = ScratchFolder("in-order")
        let path = dir.file("f")
        plainWrite(path, [UInt8](repeating: 1, count: 4096 * slices))
        let file = try IOFile(path: path, access: .read, direct: false)
        let memory = try AlignedBuffer(count: 4096 * slots, lock: false)
        let queue = ReversingQueue(capacity: slots, failing: failing)
        let runner = SliceRunner(queue: queue, blockSize: 4096, depth: slots, singleSubmit: false, overlap: true,
                                 inOrder: inOrder)
        var log: [String] = []
        var free = Array(0..<slots)
        var taken = 0
        var ids: [ObjectIdentifier: (index: Int, slot: Int)] = [:]
        var failed = false
        for _ in 0..<slices where !failed && (taken < slices || !ids.isEmpty) {
            runner.run(next: {
                guard !failed, taken < slices, !free.isEmpty else { return nil }
                let slot = free.removeFirst()
                let op = PendingOperation(.read, files: [file], memberBytes: [4096], buffer: memory, latency: nil)
                ids[ObjectIdentifier(op)] = (taken, slot)
                log.append("n\(taken)")
                taken += 1
                return (Slice(operation: .read, file: file, memory: memory.base + slot * 4096, length: 4096,
                              fileOffset: Int64(taken - 1) * 4096), op)
            }, done: { op, error in
                let entry = ids.removeValue(forKey: ObjectIdentifier(op))!
                #expect((error != nil) == failing)
                failed = failed || error != nil
                log.append("d\(entry.index)")
                free.append(entry.slot)
            })
        }
        #expect(ids.isEmpty, "every slice taken was reported")
        return (log, queue.reaps)
    }

    @Test("reported in file order whatever the completion order; each freed slot refilled before the next report")
    func inOrder() throws {
        let (log, reaps) = try Self.run(inOrder: true, slices: 8, slots: 4)
        #expect(log == ["n0", "n1", "n2", "n3", "d0", "n4", "d1", "n5", "d2", "n6", "d3", "n7",
                        "d4", "d5", "d6", "d7"], "\(log)")
        // One wait per burst: none while a reported-to-be slice was done.
        #expect(reaps == 2, "\(reaps)")
    }

    @Test("a queue that fails: every slice taken is reported, in order, with the error")
    func queueFails() throws {
        let (log, _) = try Self.run(inOrder: true, slices: 8, slots: 4, failing: true)
        #expect(log == ["n0", "n1", "n2", "n3", "d0", "d1", "d2", "d3"], "\(log)")
    }

    @Test("the default runner reports a burst whole (what the in-order mode changes)")
    func batched() throws {
        let (log, _) = try Self.run(inOrder: false, slices: 8, slots: 4)
        #expect(log.prefix(8) == ["n0", "n1", "n2", "n3", "d0", "d1", "d2", "d3"], "\(log)")
    }
}
