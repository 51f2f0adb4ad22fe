@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// Striping: what a striped write puts in each member file is exactly the round-robin layout (checked
/// against a formula of its own, not the library's), what a striped read brings back is what was
/// written, on every engine, for random sizes (tails included), stripe sizes, member counts and knobs.
@Suite("Striping: round trips")
struct StripeTests {
    /// One seeded case: members, stripe size, bytes and knobs.
    struct Case: CustomStringConvertible {
        var seed: UInt64
        var members: Int
        var stripe: Int
        var size: Int
        var parallel: Int
        var block: Int
        var depth: Int

        init(seed: UInt64) {
            var rng = SplitMix64(seed: seed)
            members = Int.random(in: 1...4, using: &rng)
            let odd = 4096 * Int.random(in: 1...96, using: &rng)
            stripe = [4096, 8192, 65536, 1 << 20, odd].randomElement(using: &rng)!
            // Whole stripes times the members, plus a random tail: a last partial chunk, and members
            // with one chunk fewer (or none) than others.
            let chunks = Int.random(in: 0...(3 * members + 2), using: &rng)
            size = chunks * stripe + Int.random(in: 0..<stripe, using: &rng)
            parallel = Int.random(in: 1...3, using: &rng)
            block = [4096, 16384, 65536, 1 << 20].randomElement(using: &rng)!
            depth = [1, 4, 32].randomElement(using: &rng)!
            self.seed = seed
        }

        var description: String {
            "seed \(seed): \(members) members, stripe \(stripe), size \(size), io_parallel \(parallel), "
                + "block \(block), queue depth \(depth)"
        }
    }

    static let seeds = TestSeed.seeds(10)

    @Test("write, check each member's bytes, read back", arguments: realEngines, seeds)
    func roundTrip(engine: EngineKind, seed: UInt64) async throws {
        let c = Case(seed: seed)
        let folders = (0..<c.members).map { ScratchFolder("stripe\($0)") }
        let layout = try StripeLayout(folders: folders.map(\.path), stripeSize: c.stripe)
        let handle = try StripedHandle(layout, config: HandleConfig(
            blockSize: c.block, queueDepth: c.depth, intraOpParallelism: c.parallel, engine: engine))
        #expect(handle.config.engine == engine)
        let source = try randomBuffer(c.size, seed: seed)
        // Odd seeds go through the async API, even ones through the blocking one.
        let written: IOTransfer
        if seed % 2 == 1 {
            written = try await handle.write(from: source, to: "set")
        } else {
            written = try Self.blocking { try handle.submitWrite(from: source, to: "set").waitForTransfer() }
        }
        #expect(written.bytes == c.size && written.members.map(\.bytes).reduce(0, +) == c.size, "\(c)")

        let bytes = source.bytes()
        for member in 0..<c.members {
            let path = layout.memberPaths("set", totalBytes: c.size)[member]
            #expect(path.hasPrefix(folders[member].path + "/set.\(member)-of-\(c.members).stripe-\(c.stripe)."), "\(c)")
            let expected = Self.memberContents(bytes, member: member, members: c.members, stripe: c.stripe)
            let actual = plainRead(path)
            #expect(actual.count == expected.count && actual == expected, "member \(member) content: \(c)")
            #expect(written.members[member].bytes == expected.count, "\(c)")
            #expect(try FileSystem.status(of: path).permissions & 0o777 == 0o666 & ~currentUmask(), "\(c)")
        }

        let sink = try AlignedBuffer(count: c.size, lock: false)
        let read: IOTransfer
        if seed % 2 == 0 {
            read = try await handle.read(into: sink, from: "set")
        } else {
            read = try Self.blocking { try handle.submitRead(into: sink, from: "set").waitForTransfer() }
        }
        #expect(read.bytes == c.size, "\(c)")
        let diff = firstDifference(sink, source)
        #expect(diff == nil, "\(c): \(diff ?? "")")
    }

    /// Runs `body` in a synchronous context, where the blocking overloads are chosen over the async ones.
    static func blocking(_ body: () throws -> IOTransfer) throws -> IOTransfer { try body() }

    /// Member `member`'s file: chunks `member`, `member + members`, ... of `bytes`, in that order.
    static func memberContents(_ bytes: [UInt8], member: Int, members: Int, stripe: Int) -> [UInt8] {
        var out: [UInt8] = []
        var start = member * stripe
        while start < bytes.count {
            out += bytes[start..<min(start + stripe, bytes.count)]
            start += members * stripe
        }
        return out
    }

    @Test("a prefix of the set, an in-place overwrite, and an empty set", arguments: realEngines)
    func prefixOverwriteEmpty(engine: EngineKind) throws {
        let folders = (0..<3).map { ScratchFolder("stripe-p\($0)") }
        let layout = try StripeLayout(folders: folders.map(\.path), stripeSize: 8192)
        let handle = try StripedHandle(layout, config: HandleConfig(blockSize: 4096, queueDepth: 4, engine: engine))
        let size = 5 * 8192 + 1000
        let source = try randomBuffer(size, seed: 7)
        try handle.submitWrite(from: source, to: "p").wait()
        let prefix = try AlignedBuffer(count: 3 * 8192 + 17, lock: false)
        let moved = try handle.submitRead(into: prefix, from: "p").waitForTransfer()
        #expect(moved.bytes == prefix.count && prefix.bytes() == Array(source.bytes().prefix(prefix.count)))

        let second = try randomBuffer(size, seed: 8)
        _ = try handle.submitWrite(from: second, to: "p", truncate: false).wait()
        let sink = try AlignedBuffer(count: size, lock: false)
        try handle.submitRead(into: sink, from: "p").wait()
        #expect(firstDifference(sink, second) == nil)

        let empty = try AlignedBuffer(count: 0, lock: false)
        let none = try handle.submitWrite(from: empty, to: "e").waitForTransfer()
        #expect(none.bytes == 0 && none.members.allSatisfy { $0.bytes == 0 && $0.seconds == 0 })
        for path in layout.memberPaths("e", totalBytes: 0) {
            #expect(FileManager.default.fileExists(atPath: path) && plainRead(path).isEmpty, "\(path)")
        }
        #expect(try handle.submitRead(into: empty, from: "e").wait() == 0)
    }

    @Test("a new write of a name replaces the old set, whatever its geometry")
    func writeReplacesSet() throws {
        let folders = (0..<2).map { ScratchFolder("stripe-r\($0)") }
        let paths = folders.map(\.path)
        let big = try randomBuffer(200_000, seed: 1)
        try StripedHandle(StripeLayout(folders: paths, stripeSize: 4096)).submitWrite(from: big, to: "r").wait()
        let handle = try StripedHandle(StripeLayout(folders: paths, stripeSize: 8192))
        let small = try randomBuffer(50_000, seed: 2)
        try handle.submitWrite(from: small, to: "r").wait()
        for (member, folder) in folders.enumerated() {
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            #expect(names == ["r.\(member)-of-2.stripe-8192.size-50000"], "\(names)")
        }
        let sink = try AlignedBuffer(count: 50_000, lock: false)
        try handle.submitRead(into: sink, from: "r").wait()
        #expect(firstDifference(sink, small) == nil)
    }

    @Test("one worker keeps the queue full across stripe chunks; no request crosses a chunk")
    func queueFullAcrossChunks() throws {
        let folders = (0..<2).map { ScratchFolder("stripe-q\($0)") }
        let recorder = QueueRecorder(completionsPerReap: 1)
        var options = EngineOptions()
        options.recorder = recorder
        let stripe = 16384
        let depth = 8
        let handle = try StripedHandle(
            StripeLayout(folders: folders.map(\.path), stripeSize: stripe),
            config: HandleConfig(blockSize: stripe, queueDepth: depth, intraOpParallelism: 2, engine: .null,
                                 engineOptions: options))
        let size = 64 * stripe + 5000
        let buffer = try AlignedBuffer(count: size, lock: false)
        let transfer = try handle.submitWrite(from: buffer, to: "q").waitForTransfer()
        let logs = recorder.logs
        #expect(logs.count == 4)
        for log in logs {
            // Each worker has at least 16 chunks of one block each.
            #expect(log.maxInFlight == depth, "worker \(log.worker): \(log.maxInFlight) in flight")
            for r in log.requests {
                #expect(Int(r.offset) % stripe + r.length <= stripe, "request \(r) crosses a chunk")
            }
        }
        // The two workers of each member cover its file exactly once.
        for member in 0..<2 {
            let requests = (logs[2 * member].requests + logs[2 * member + 1].requests).sorted { $0.offset < $1.offset }
            var at: Int64 = 0
            for r in requests {
                #expect(r.offset == at, "member \(member): gap or overlap at \(at)")
                at = r.offset + Int64(r.length)
            }
            #expect(Int(at) == transfer.members[member].bytes)
        }
    }

    @Test("the README's striping example works")
    func readmeExample() async throws {
        let folders = (0..<2).map { ScratchFolder("stripe-readme\($0)") }
        let buffer = try randomBuffer(8 << 20, seed: 11)
        let expected = buffer.bytes()
        let layout = try StripeLayout(folders: folders.map(\.path), stripeSize: 1 << 20)
        let striped = try StripedHandle(layout, config: HandleConfig(queueDepth: 32))
        try await striped.write(from: buffer, to: "state")
        #expect(FileManager.default.fileExists(atPath: folders[1].path + "/state.1-of-2.stripe-1048576.size-8388608"))
        buffer.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
        let transfer = try await striped.read(into: buffer, from: "state")
        #expect(transfer.members.map(\.bytes) == [4 << 20, 4 << 20])
        #expect(transfer.members.allSatisfy { $0.gibPerSecond > 0 })
        #expect(buffer.bytes() == expected)
    }
}
