@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// The streaming writer and reader: chunks of any size from any memory, read back equal.
@Suite("Streaming: round trips")
struct StreamRoundTripTests {
    static let bufferSize = 64 << 10

    /// Descriptors of this process open on files under `folder`.
    static func descriptors(in folder: String) -> Int {
        SystemInfo.openDescriptorTargets().filter { $0.hasPrefix(folder) }.count
    }

    /// `count` seeded random bytes, drawn 8 at a time (drawn one by one, the 36 MiB of the
    /// random-chunk test's 9 cases took tens of seconds under ThreadSanitizer).
    static func randomBytes(_ count: Int, _ rng: inout SplitMix64) -> [UInt8] {
        let words = (0..<(count + 7) / 8).map { _ in rng.next() }
        return words.withUnsafeBytes { Array($0.prefix(count)) }
    }

    /// Reads `path` through a `StreamReader`, checking the chunks' order and sizes; returns the bytes.
    static func readBack(_ path: String, _ handle: AIOHandle, bufferSize: Int = bufferSize) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        var expectedOffset: Int64 = 0
        for try await chunk in try StreamReader(path: path, handle: handle, bufferSize: bufferSize) {
            #expect(chunk.offset == expectedOffset)
            #expect(chunk.count > 0 && chunk.count <= bufferSize)
            chunk.withUnsafeBytes { bytes += $0 }
            expectedOffset += Int64(chunk.count)
        }
        return bytes
    }

    @Test("random chunk sizes (1 byte to 3 x the buffer) from arrays, unaligned slices, raw bytes and Data",
          arguments: realEngines, TestSeed.seeds(3))
    func randomChunks(engine: EngineKind, seed: UInt64) async throws {
        let dir = ScratchFolder("stream-rt")
        let path = dir.file("s")
        let handle = try AIOHandle(HandleConfig(blockSize: 16384, queueDepth: 4, intraOpParallelism: 2, engine: engine))
        var rng = SplitMix64(seed: seed)
        var writer = try StreamWriter(path: path, handle: handle, bufferSize: Self.bufferSize)
        var expected: [UInt8] = []
        for i in 0..<40 {
            let size = Int.random(in: 1...(3 * Self.bufferSize), using: &rng)
            let chunk = Self.randomBytes(size, &rng)
            switch i % 4 {
            case 0: try await writer.write(chunk)
            case 1: try await writer.write(([0] + chunk)[1...])  // starts one byte past an allocation
            case 2:
                // Memory from outside Swift's collections (a C allocation), odd address.
                let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: size + 3, alignment: 1)
                defer { raw.deallocate() }
                let bytes = UnsafeMutableRawBufferPointer(rebasing: raw[3...])
                bytes.copyBytes(from: chunk)
                try await writer.write(UnsafeRawBufferPointer(bytes))
            default: try await writer.write(Data(chunk))
            }
            expected += chunk
        }
        // Not a multiple of the alignment, whatever the draws.
        if expected.count % 4096 == 0 {
            try await writer.write([7])
            expected.append(7)
        }
        #expect(writer.bytesAccepted == Int64(expected.count))
        let size = try await writer.finish()
        #expect(size == Int64(expected.count))
        #expect(plainRead(path) == expected)
        #expect(try await Self.readBack(path, handle) == expected)
        #expect(Self.descriptors(in: dir.path) == 0)
    }

    @Test("streaming over a longer file leaves exactly the streamed bytes; an empty stream an empty file",
          arguments: realEngines)
    func overwrite(engine: EngineKind) async throws {
        let dir = ScratchFolder("stream-ow")
        let path = dir.file("s")
        plainWrite(path, [UInt8](repeating: 9, count: 1 << 20))
        let handle = try AIOHandle(HandleConfig(blockSize: 16384, engine: engine))
        var writer = try StreamWriter(path: path, handle: handle, bufferSize: Self.bufferSize)
        let data = (0..<100_001).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        try await writer.write(data)
        try await writer.finish()
        #expect(plainRead(path) == data)

        // Without the flush: the same bytes, and the file is flushed later on request.
        var quick = try StreamWriter(path: path, handle: handle, bufferSize: Self.bufferSize)
        try await quick.write(data.reversed())
        #expect(try await quick.finish(durable: false) == Int64(data.count))
        try FileSystem.syncFile(path)
        #expect(plainRead(path) == Array(data.reversed()))

        let empty = try StreamWriter(path: path, handle: handle, bufferSize: Self.bufferSize)
        #expect(try await empty.finish() == 0)
        #expect(plainRead(path).isEmpty)
        #expect(try await Self.readBack(path, handle).isEmpty)
        #expect(Self.descriptors(in: dir.path) == 0)
    }

    @Test("a chunk is borrowed: no longer valid once the next one is asked for")
    func borrowed() async throws {
        let dir = ScratchFolder("stream-b")
        let path = dir.file("s")
        plainWrite(path, [UInt8](repeating: 1, count: 3 * Self.bufferSize + 5))
        let handle = try AIOHandle(HandleConfig(blockSize: 16384))
        var iterator = try StreamReader(path: path, handle: handle, bufferSize: Self.bufferSize).makeAsyncIterator()
        let first = try await iterator.next()
        #expect(first?.isValid == true)
        let second = try await iterator.next()
        #expect(first?.isValid == false)
        #expect(second?.isValid == true)
        #expect(second?.offset == Int64(Self.bufferSize))
    }

    @Test("using a chunk after asking for the next stops the process with a message")
    func useAfterNext() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let dir = ScratchFolder("stream-x")
            let path = dir.file("s")
            plainWrite(path, [UInt8](repeating: 1, count: 3 << 16))
            let handle = try AIOHandle(HandleConfig(blockSize: 16384))
            var iterator = try StreamReader(path: path, handle: handle, bufferSize: 1 << 16).makeAsyncIterator()
            let first = try await iterator.next()
            _ = try await iterator.next()
            let byte: UInt8? = first?.withUnsafeBytes { $0.first }
            print(byte ?? 0)
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("used after the next chunk was asked for"), "\(text)")
        ScratchFolder.removeOrphans("stream-x")
        #expect(ScratchFolder.orphans("stream-x").isEmpty)
    }

    @Test("bad bounce-buffer sizes and counts are refused with the value named")
    func badRing() throws {
        let dir = ScratchFolder("stream-bad")
        let handle = try AIOHandle(HandleConfig(engine: .posix))
        for (size, count) in [(0, 2), (4095, 2), (-4096, 2), (4096, 0)] {
            let error = #expect(throws: AsyncIOError.self) {
                _ = try StreamWriter(path: dir.file("w"), handle: handle, bufferSize: size, bufferCount: count)
            }
            #expect(error?.kind == .invalidArgument)
            #expect(error?.description.contains("\(size == 4096 ? count : size)") == true)
        }
        #expect(throws: AsyncIOError.self) { try StreamReader(path: dir.file("r"), handle: handle, bufferCount: 1) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("w")))
    }
}

/// `BounceBuffers`: one ring serving stream after stream, one stream at a time.
@Suite("Streaming: reusable bounce buffers")
struct BounceBufferTests {
    @Test("one ring serves a writer, a reader and another writer in turn", arguments: realEngines)
    func reuse(engine: EngineKind) async throws {
        let dir = ScratchFolder("bounce")
        let handle = try AIOHandle(HandleConfig(blockSize: 16384, engine: engine))
        let ring = try BounceBuffers(size: 64 << 10, count: 2)
        for round in 0..<3 {
            let data = (0..<(200_000 + round)).map { UInt8(truncatingIfNeeded: $0 &* (round + 3)) }
            var writer = try StreamWriter(path: dir.file("r\(round)"), handle: handle, buffers: ring)
            try await writer.write(data)
            try await writer.finish()
            var back: [UInt8] = []
            for try await chunk in try StreamReader(path: dir.file("r\(round)"), handle: handle, buffers: ring) {
                chunk.withUnsafeBytes { back += $0 }
            }
            #expect(back == data, "round \(round)")
        }
        let one = try BounceBuffers(size: 4096, count: 1)
        #expect(throws: AsyncIOError.self) { try StreamReader(path: dir.file("r0"), handle: handle, buffers: one) }
    }

    @Test("a ring taken by a second stream while the first holds it stops the process")
    func takenTwice() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let dir = ScratchFolder("bounce-x")
            let handle = try AIOHandle(HandleConfig(engine: .posix))
            let ring = try BounceBuffers(size: 4096, count: 2)
            let first = try StreamWriter(path: dir.file("a"), handle: handle, buffers: ring)
            let second = try StreamWriter(path: dir.file("b"), handle: handle, buffers: ring)
            print(first.path, second.path)
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("while another stream still uses them"), "\(text)")
        ScratchFolder.removeOrphans("bounce-x")
        #expect(ScratchFolder.orphans("bounce-x").isEmpty)
    }
}
