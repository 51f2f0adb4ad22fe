@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// A streamed file's blocks are reserved ahead of its writes: all at once with an expected size,
/// in growing steps without one; whatever the hint, the file ends with exactly the streamed bytes.
@Suite("Streaming: reserving the file's blocks")
struct StreamReservationTests {
    static let bufferSize = 64 << 10

    /// Whether files in the scratch folders are opened with O_DIRECT (reservations are made only then).
    static let directInScratch: Bool = {
        let dir = ScratchFolder("reserve-probe")
        return (try? IOFile(path: dir.file("p"), access: .write(truncate: true), direct: true).isDirect) ?? false
    }()

    static func size(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? -1
    }

    @Test("shorter, exact, longer or no expected size: the file holds exactly the streamed bytes",
          arguments: realEngines, [nil, 0, 100_000, 300_001, 5 << 20] as [Int64?])
    func exactBytes(engine: EngineKind, expected: Int64?) async throws {
        let dir = ScratchFolder("reserve-rt")
        let path = dir.file("s")
        plainWrite(path, [UInt8](repeating: 9, count: 1 << 20))  // longer than some streams: cut
        let handle = try AIOHandle(HandleConfig(blockSize: 16384, queueDepth: 4, engine: engine))
        var rng = SplitMix64(seed: UInt64(expected ?? 7))
        let data = StreamRoundTripTests.randomBytes(300_001, &rng)
        var writer = try StreamWriter(path: path, handle: handle, bufferSize: Self.bufferSize, expectedSize: expected)
        for start in stride(from: 0, to: data.count, by: 50_000) {
            try await writer.write(data[start..<min(start + 50_000, data.count)])
        }
        #expect(try await writer.finish() == Int64(data.count))
        #expect(plainRead(path) == data)
    }

    @Test("a negative expected size is refused with one clear error; no file is left")
    func negative() throws {
        let dir = ScratchFolder("reserve-neg")
        let path = dir.file("s")
        let handle = try AIOHandle(HandleConfig(blockSize: 16384))
        let error = #expect(throws: AsyncIOError.self) {
            _ = try StreamWriter(path: path, handle: handle, bufferSize: Self.bufferSize, expectedSize: -1)
        }
        #expect(error?.description.contains("expected size -1 must not be negative") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("the expected size is reserved when the stream opens; without it, ahead of the first buffer",
          .enabled(if: directInScratch, "the scratch folder's file system refuses O_DIRECT: nothing is reserved"),
          arguments: realEngines)
    func reservedAhead(engine: EngineKind) async throws {
        let dir = ScratchFolder("reserve-ahead")
        let handle = try AIOHandle(HandleConfig(blockSize: 16384, queueDepth: 4, engine: engine))
        let hinted = try StreamWriter(path: dir.file("a"), handle: handle, bufferSize: Self.bufferSize,
                                      expectedSize: 10 << 20)
        #expect(Self.size(dir.file("a")) == 10 << 20, "reserved before any write")
        #expect(try await hinted.finish() == 0)
        #expect(Self.size(dir.file("a")) == 0)

        var unhinted = try StreamWriter(path: dir.file("b"), handle: handle, bufferSize: Self.bufferSize)
        try await unhinted.write([UInt8](repeating: 3, count: Self.bufferSize))  // one full buffer, submitted
        // The written buffer and at least the ring (two buffers) beyond it.
        #expect(Self.size(dir.file("b")) >= 3 * Int64(Self.bufferSize))
        #expect(try await unhinted.finish() == Int64(Self.bufferSize))
        #expect(Self.size(dir.file("b")) == Int64(Self.bufferSize))
    }

    @Test("buffers of 16 MiB are written in eighths as they fill: every byte lands, in order",
          arguments: realEngines)
    func slots(engine: EngineKind) async throws {
        let dir = ScratchFolder("reserve-slots")
        let path = dir.file("s")
        let handle = try AIOHandle(HandleConfig(blockSize: 1 << 20, queueDepth: 4, intraOpParallelism: 2, engine: engine))
        var rng = SplitMix64(seed: 77)
        let data = StreamRoundTripTests.randomBytes((37 << 20) + 5, &rng)
        var writer = try StreamWriter(path: path, handle: handle, bufferSize: 16 << 20)
        var start = 0
        while start < data.count {
            let n = min(Int.random(in: 1...(5 << 20), using: &rng), data.count - start)
            try await writer.write(data[start..<start + n])
            start += n
        }
        #expect(try await writer.finish() == Int64(data.count))
        #expect(plainRead(path) == data)
        #expect(StreamWriter.slotSize(bufferSize: 16 << 20) == 2 << 20)
        #expect(StreamWriter.slotSize(bufferSize: 8 << 20) == 8 << 20)
    }
}
