import AsyncIO
import Testing

/// The library example of README.md, as written there, on a scratch folder: it must compile and
/// move the bytes it claims to.
@Suite("README example")
struct ReadmeExampleTests {
    @Test("the README's library example works")
    func example() async throws {
        let dir = ScratchFolder("readme")
        let path = dir.file("state.bin")
        let handle = try AIOHandle(HandleConfig(blockSize: 1 << 20, queueDepth: 32, intraOpParallelism: 4))
        #expect(!handle.enginePath.isEmpty)

        let buffer = try AlignedBuffer(count: 8 << 20)
        buffer.withUnsafeMutableBytes { bytes in
            for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 31) }
        }
        let expected = buffer.bytes()

        // Swift-first.
        try await handle.write(from: buffer, to: path, truncate: true)
        buffer.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
        let ticket = try handle.submitRead(into: buffer, from: path)
        let bytes = try await ticket.value
        #expect(bytes == expected.count)
        #expect(buffer.bytes() == expected)

        // DeepSpeed-shaped.
        try handle.submitWrite(from: buffer, to: path).wait()
        buffer.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
        try DeepSpeedHandle(handle).asyncPread(buffer, filename: path)
        let completed = try DeepSpeedHandle(handle).wait()
        #expect(completed == 1)
        #expect(buffer.bytes() == expected)

        // Streaming.
        let ckpt = dir.file("ckpt.bin")
        let someArrayOfBytes = expected + [1, 2, 3]
        var writer = try StreamWriter(path: ckpt, handle: handle, bufferSize: 1 << 20)
        try await writer.write(someArrayOfBytes)
        try await writer.finish()
        var back: [UInt8] = []
        for try await chunk in try StreamReader(path: ckpt, handle: handle, bufferSize: 1 << 20) {
            chunk.withUnsafeBytes { back += $0 }
        }
        #expect(back == someArrayOfBytes)
    }
}
