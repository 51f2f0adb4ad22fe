@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// Reads into and writes from memory the caller owns: spans of arrays, the unsafe (address,
/// length) entry, aligned and not, and arrays streamed without a copy.
@Suite("Caller memory")
struct CallerMemoryTests {
    @Test("[Float] round trips through spans at seeded sizes and offsets", arguments: realEngines)
    func spans(engine: EngineKind) throws {
        let dir = ScratchFolder("caller")
        let handle = try AIOHandle(HandleConfig(blockSize: 64 << 10, queueDepth: 8, intraOpParallelism: 2, engine: engine))
        var rng = SplitMix64(seed: 11)
        for round in 0..<6 {
            let count = Int(rng.next() % 300_000) + 1
            let offset = Int64(rng.next() % 3) * 4096 + (round.isMultiple(of: 2) ? 0 : 3)
            let path = dir.file("f\(round)")
            let weights = (0..<count).map { Float($0) * 0.5 - Float(round) }
            #expect(try handle.write(from: weights.span, to: path, offset: offset) == count * 4)
            var back = [Float](repeating: .nan, count: count)
            var span = back.mutableSpan
            #expect(try handle.read(into: &span, from: path, offset: offset) == count * 4)
            _ = consume span
            #expect(back == weights, "round \(round): \(count) floats at offset \(offset)")
        }
    }

    @Test("the unsafe entry: page-aligned memory goes direct, any other address through the page cache",
          arguments: realEngines)
    func unsafeEntry(engine: EngineKind) throws {
        let dir = ScratchFolder("caller")
        let handle = try AIOHandle(HandleConfig(blockSize: 8192, queueDepth: 4, intraOpParallelism: 3, engine: engine))
        let size = 1 << 20
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: size + 4096 + 1, alignment: 4096)
        defer { memory.deallocate() }
        for shift in [0, 1, 4096 + 1] {
            let region = UnsafeMutableRawBufferPointer(rebasing: memory[shift..<shift + size - 5])
            #expect(handle.isDirect(UnsafeRawBufferPointer(region)) == (shift % 4096 == 0))
            for i in region.indices { region[i] = UInt8(truncatingIfNeeded: i &* 7 &+ shift) }
            let expected = Array(region)
            let path = dir.file("u\(shift)")
            #expect(try handle.submitWrite(from: UnsafeRawBufferPointer(region), to: path, offset: 512).wait() == region.count)
            region.initializeMemory(as: UInt8.self, repeating: 0)
            #expect(try handle.submitRead(into: region, from: path, offset: 512).wait() == region.count)
            #expect(Array(region) == expected, "shift \(shift)")
        }
    }

    @Test("memory freed and allocated again at the same address is read from its new pages", arguments: realEngines)
    func reusedAddress(engine: EngineKind) throws {
        let dir = ScratchFolder("caller")
        let handle = try AIOHandle(HandleConfig(blockSize: 1 << 20, queueDepth: 4, engine: engine))
        for round in 0..<4 {
            let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: 2 << 20, alignment: 4096)
            memory.initializeMemory(as: UInt8.self, repeating: UInt8(round + 1))
            let path = dir.file("r\(round)")
            try handle.submitWrite(from: UnsafeRawBufferPointer(memory), to: path).wait()
            memory.deallocate()
            #expect(plainRead(path) == [UInt8](repeating: UInt8(round + 1), count: 2 << 20), "round \(round)")
        }
    }

    @Test("a file shorter than the span is an error naming it; nothing is left lent")
    func shortFile() throws {
        let dir = ScratchFolder("caller")
        let path = dir.file("short")
        plainWrite(path, [UInt8](repeating: 1, count: 100))
        let handle = try AIOHandle()
        var floats = [Float](repeating: 0, count: 100)
        var span = floats.mutableSpan
        let error = #expect(throws: AsyncIOError.self) { try handle.read(into: &span, from: path) }
        #expect(error?.kind == .unexpectedEndOfFile)
        #expect(error?.path == path)
    }

    @Test("arrays of floats stream through StreamWriter and load back with one read", arguments: realEngines)
    func streamedArrays(engine: EngineKind) async throws {
        let dir = ScratchFolder("caller")
        let path = dir.file("ckpt")
        let handle = try AIOHandle(HandleConfig(blockSize: 256 << 10, queueDepth: 8, engine: engine))
        let first: [Float] = (0..<70_001).map { Float($0) }
        let second: [Float] = (0..<3).map { -Float($0) }
        let third: [Float] = (0..<250_000).map { Float($0) / 3 }
        let tensors = [first, second, third]
        var writer = try StreamWriter(path: path, handle: handle, bufferSize: 1 << 20)
        for tensor in tensors { try await writer.write(contentsOf: tensor) }
        try await writer.finish()
        var offset: Int64 = 0
        for tensor in tensors {
            var back = [Float](repeating: 0, count: tensor.count)
            var span = back.mutableSpan
            try handle.read(into: &span, from: path, offset: offset)
            _ = consume span
            #expect(back == tensor)
            offset += Int64(tensor.count * 4)
        }
    }
}
