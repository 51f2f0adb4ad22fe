import AsyncIO
import Foundation
import Testing

/// One suite over every engine: what is written is what is read back, byte for byte.
@Suite("Engine conformance")
struct ConformanceTests {
    static let sizes = [1, 4095, 4096, 4097, (1 << 20) + 1, 64 << 20]

    @Test("write then read back, every size", arguments: realEngines, sizes)
    func roundTrip(engine: EngineKind, size: Int) throws {
        let dir = ScratchFolder()
        let path = dir.file("data")
        let handle = try AIOHandle(HandleConfig(blockSize: 64 << 10, queueDepth: 8, intraOpParallelism: 3, engine: engine))
        #expect(handle.engine == engine)
        let source = try randomBuffer(size, seed: UInt64(size))
        try handle.submitWrite(from: source, to: path).wait()
        #expect(plainRead(path) == source.bytes())
        let sink = try AlignedBuffer(count: size, lock: false)
        try handle.submitRead(into: sink, from: path).wait()
        #expect(sink.bytes() == source.bytes())
    }

    @Test("parallelism, queue depth, discipline and submit mode", arguments: realEngines)
    func knobs(engine: EngineKind) throws {
        let dir = ScratchFolder()
        let seed = TestSeed.base
        var rng = SplitMix64(seed: seed)
        for parallel in [1, 2, 5, 8] {
            for depth in [1, 3, 32, 128] {
                for overlap in [false, true] {
                    for single in [false, true] {
                        let size = Int.random(in: 1...(3 << 20), using: &rng)
                        let block = [4096, 8192, 65536, 1 << 20].randomElement(using: &rng)!
                        let config = HandleConfig(blockSize: block, queueDepth: depth, singleSubmit: single,
                                                  overlapEvents: overlap, intraOpParallelism: parallel, engine: engine)
                        let handle = try AIOHandle(config)
                        #expect(handle.queueDepth == depth && handle.intraOpParallelism == parallel, "seed \(seed)")
                        #expect(handle.singleSubmit == single && handle.overlapEvents == overlap, "seed \(seed)")
                        #expect(handle.blockSize == block, "seed \(seed)")
                        let path = dir.file("k\(parallel)-\(depth)-\(overlap)-\(single)")
                        let source = try randomBuffer(size, seed: UInt64(size &* 31 &+ depth))
                        try handle.submitWrite(from: source, to: path).wait()
                        let sink = try AlignedBuffer(count: size, lock: false)
                        try handle.submitRead(into: sink, from: path).wait()
                        let diff = firstDifference(sink, source)
                        let what = "seed \(seed): size \(size) block \(block) p\(parallel) d\(depth) "
                            + "overlap \(overlap) single \(single)"
                        #expect(diff == nil, "\(what): \(diff ?? "")")
                    }
                }
            }
        }
    }

    @Test("reads and writes at file offsets", arguments: realEngines)
    func offsets(engine: EngineKind) throws {
        let dir = ScratchFolder()
        let path = dir.file("offsets")
        let total = 3 << 20
        let original = try randomBuffer(total, seed: 7)
        plainWrite(path, original.bytes())
        let handle = try AIOHandle(HandleConfig(blockSize: 1 << 16, queueDepth: 4, intraOpParallelism: 2, engine: engine))
        for (offset, count) in [(0, 4096), (4096, 65536), (12288, 1 << 20), (100, 5000), (1 << 20, 4097), (8191, 1)] {
            let sink = try AlignedBuffer(count: count, lock: false)
            try handle.submitRead(into: sink, from: path, offset: Int64(offset)).wait()
            #expect(sink.bytes() == Array(original.bytes()[offset..<(offset + count)]), "read at \(offset)")
        }
        // Overwrite a middle range without truncating, then check the whole file.
        var expected = original.bytes()
        let patch = try randomBuffer(70_000, seed: 99)
        try DeepSpeedHandle(handle).pwrite(patch, filename: path, async: false, fileOffset: 8192)
        expected.replaceSubrange(8192..<(8192 + 70_000), with: patch.bytes())
        #expect(plainRead(path) == expected)
    }

    @Test("a smaller write leaves no stale tail", arguments: realEngines)
    func truncation(engine: EngineKind) throws {
        let dir = ScratchFolder()
        let path = dir.file("t")
        let handle = try AIOHandle(HandleConfig(engine: engine))
        try handle.submitWrite(from: try randomBuffer(1 << 20, seed: 1), to: path).wait()
        let small = try randomBuffer(5000, seed: 2)
        try handle.submitWrite(from: small, to: path, truncate: true).wait()
        #expect(plainRead(path) == small.bytes())
    }

    @Test("blocking read and write use one worker", arguments: realEngines)
    func blocking(engine: EngineKind) throws {
        let dir = ScratchFolder()
        let path = dir.file("b")
        let handle = try AIOHandle(HandleConfig(blockSize: 8192, queueDepth: 2, intraOpParallelism: 4, engine: engine))
        let source = try randomBuffer(100_003, seed: 3)
        let ds = DeepSpeedHandle(handle)
        try ds.write(source, filename: path)
        let sink = try AlignedBuffer(count: 100_003, lock: false)
        try ds.read(sink, filename: path)
        #expect(sink.bytes() == source.bytes())
    }

    @Test("many asynchronous operations pending, then one wait", arguments: realEngines)
    func manyPending(engine: EngineKind) throws {
        let dir = ScratchFolder()
        let handle = try AIOHandle(HandleConfig(blockSize: 16384, queueDepth: 16, intraOpParallelism: 4, engine: engine))
        let sources = try (0..<40).map { try randomBuffer(50_000 + $0 * 4099, seed: UInt64($0 + 1)) }
        for (i, b) in sources.enumerated() { try DeepSpeedHandle(handle).asyncPwrite(b, filename: dir.file("m\(i)")) }
        #expect(try DeepSpeedHandle(handle).wait() == 40)
        let sinks = try sources.map { try AlignedBuffer(count: $0.count, lock: false) }
        for (i, b) in sinks.enumerated() { try DeepSpeedHandle(handle).asyncPread(b, filename: dir.file("m\(i)")) }
        #expect(try DeepSpeedHandle(handle).wait() == 40)
        for i in sources.indices { #expect(sinks[i].bytes() == sources[i].bytes()) }
        #expect(try DeepSpeedHandle(handle).wait() == 0)
    }

    @Test("Swift async functions", arguments: realEngines)
    func swiftAsync(engine: EngineKind) async throws {
        let dir = ScratchFolder()
        let handle = try AIOHandle(HandleConfig(blockSize: 1 << 16, queueDepth: 8, intraOpParallelism: 2, engine: engine))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                group.addTask {
                    let source = try randomBuffer(200_000 + i, seed: UInt64(i + 10))
                    let path = dir.file("a\(i)")
                    try await handle.write(from: source, to: path)
                    let sink = try AlignedBuffer(count: source.count, lock: false)
                    try await handle.read(into: sink, from: path)
                    #expect(sink.bytes() == source.bytes())
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("buffered mode (no O_DIRECT) works too", arguments: realEngines)
    func buffered(engine: EngineKind) throws {
        let dir = ScratchFolder()
        let handle = try AIOHandle(HandleConfig(blockSize: 1000, queueDepth: 4, intraOpParallelism: 3,
                                                engine: engine, direct: false))
        let source = try randomBuffer(123_457, seed: 5)
        try handle.submitWrite(from: source, to: dir.file("p")).wait()
        let sink = try AlignedBuffer(count: source.count, lock: false)
        try handle.submitRead(into: sink, from: dir.file("p")).wait()
        #expect(sink.bytes() == source.bytes())
    }
}

/// A direct write whose unaligned tail goes through the page cache must not bring back stale
/// bytes over the direct writes next to it: many small files whose tail shares a page with
/// direct requests, written and read back with several workers.
@Suite("Mixed direct and buffered requests")
struct MixedRequestTests {
    @Test("unaligned tails beside direct writes", arguments: realEngines)
    func tails(engine: EngineKind) throws {
        let dir = ScratchFolder("tails")
        let seed = TestSeed.base
        var rng = SplitMix64(seed: seed)
        let handle = try AIOHandle(HandleConfig(blockSize: 4096, queueDepth: 16, intraOpParallelism: 4, engine: engine))
        for round in 0..<150 {
            let size = 4096 * Int.random(in: 1...24, using: &rng) + Int.random(in: 1...4095, using: &rng)
            let source = try randomBuffer(size, seed: UInt64(round + 1) &* 7919)
            let path = dir.file("t\(round % 5)")
            try handle.submitWrite(from: source, to: path).wait()
            let sink = try AlignedBuffer(count: size, lock: false)
            try handle.submitRead(into: sink, from: path).wait()
            let diff = firstDifference(sink, source)
            #expect(diff == nil, "seed \(seed), round \(round) size \(size): \(diff ?? "")")
            if diff != nil { break }
        }
    }
}
