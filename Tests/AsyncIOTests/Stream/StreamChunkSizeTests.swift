@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// `StreamReader(chunkSize:)`: the ring cut into smaller slots, each handed out and refilled on its own.
@Suite("Streaming: chunks smaller than a bounce buffer")
struct StreamChunkSizeTests {
    @Test("chunks of a divisor of the buffer come out in order, of that size, and equal the file",
          arguments: realEngines, TestSeed.seeds(3))
    func chunks(engine: EngineKind, seed: UInt64) async throws {
        let dir = ScratchFolder("stream-chunk")
        let path = dir.file("c")
        var rng = SplitMix64(seed: seed)
        let bufferSize = [64 << 10, 256 << 10, 1 << 20].randomElement(using: &rng)!
        let divisors = stride(from: 4096, through: bufferSize, by: 4096).filter { bufferSize % $0 == 0 }
        let chunk = divisors.randomElement(using: &rng)!
        let size = Int.random(in: 1...(5 * bufferSize), using: &rng)
        let parallel = Int.random(in: 1...3, using: &rng)
        let depth = [1, 4, 16].randomElement(using: &rng)!
        let data = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try #require(FileManager.default.createFile(atPath: path, contents: Data(data)))
        let handle = try AIOHandle(HandleConfig(blockSize: 16384, queueDepth: depth, intraOpParallelism: parallel,
                                                engine: engine))
        let what = "seed \(seed): buffer \(bufferSize), chunk \(chunk), size \(size), p\(parallel), qd \(depth)"
        for useRing in [false, true] {
            let reader = useRing
                ? try StreamReader(path: path, handle: handle, buffers: try BounceBuffers(size: bufferSize, count: 2),
                                   chunkSize: chunk)
                : try StreamReader(path: path, handle: handle, bufferSize: bufferSize, chunkSize: chunk)
            #expect(reader.chunkSize == chunk)
            var back: [UInt8] = []
            var counts: [Int] = []
            for try await piece in reader {
                #expect(piece.offset == Int64(back.count), "\(what)")
                counts.append(piece.count)
                piece.withUnsafeBytes { back += $0 }
            }
            #expect(back == data, "\(what), ring \(useRing)")
            #expect(counts.dropLast().allSatisfy { $0 == chunk } && (counts.last ?? 0) <= chunk, "\(what): \(counts)")
            #expect(counts.count == (size + chunk - 1) / chunk, "\(what)")
        }
    }

    @Test("a chunk size that is not a multiple of 4096 dividing the buffer is refused, naming both")
    func refused() throws {
        let dir = ScratchFolder("stream-chunk-bad")
        let handle = try AIOHandle(HandleConfig(engine: .posix))
        let ring = try BounceBuffers(size: 64 << 10, count: 2)
        for chunk in [0, -4096, 1000, 4097, 12288, 128 << 10] {
            let error = #expect(throws: AsyncIOError.self) {
                _ = try StreamReader(path: dir.file("r"), handle: handle, bufferSize: 64 << 10, chunkSize: chunk)
            }
            #expect(error?.kind == .invalidArgument)
            #expect(error?.description.contains("chunk size \(chunk)") == true, "\(error?.description ?? "")")
            #expect(error?.description.contains("65536") == true)
            #expect(throws: AsyncIOError.self) {
                _ = try StreamReader(path: dir.file("r"), handle: handle, buffers: ring, chunkSize: chunk)
            }
        }
    }
}
