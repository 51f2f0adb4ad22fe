import AsyncIO
import Foundation
import Testing

/// The simulated device: its model's matching rules, and data round trips through the `sim` engine.
@Suite("Simulated device")
struct SimulatedEngineTests {
    static let model = SimulatedDevice(
        seed: 7, noise: 0.05,
        read: .init(defaultGiBps: 0.5, speeds: [
            .init(blockSize: 1 << 20, gibps: 0.7),
            .init(blockSize: 1 << 20, queueDepth: 32, gibps: 0.9),
            .init(blockSize: 1 << 20, intraOpParallelism: 2, gibps: 0.8),
            .init(queueDepth: 32, singleSubmit: true, gibps: 0.6),
        ]),
        write: .init(defaultGiBps: 0.4))

    @Test("the matching entry that names the most knobs wins, the first of equals; no match gives the default")
    func matching() {
        let m = Self.model
        #expect(m.gibps(.read, HandleConfig(blockSize: 1 << 20, queueDepth: 32)) == 0.9)
        #expect(m.gibps(.read, HandleConfig(blockSize: 1 << 20, queueDepth: 8)) == 0.7)
        // Two entries of two keys match: the first wins.
        #expect(m.gibps(.read, HandleConfig(blockSize: 1 << 20, queueDepth: 32, singleSubmit: true)) == 0.9)
        #expect(m.gibps(.read, HandleConfig(blockSize: 1 << 20, queueDepth: 8, intraOpParallelism: 2)) == 0.8)
        #expect(m.gibps(.read, HandleConfig(blockSize: 4096, queueDepth: 8)) == 0.5)
        #expect(m.gibps(.write, HandleConfig(blockSize: 1 << 20, queueDepth: 32)) == 0.4)
    }

    @Test("bad models are refused with the value named")
    func validation() {
        var bad = Self.model
        bad.noise = 1.5
        #expect(throws: AsyncIOError.self) { try bad.validate() }
        bad = Self.model
        bad.write.defaultGiBps = 0
        #expect(throws: AsyncIOError.self) { try bad.validate() }
        #expect(throws: AsyncIOError.self) { try AIOHandle(HandleConfig(engine: .sim)) }
    }

    @Test("what is written as the pattern reads back equal, any size, offset and parallelism",
          arguments: [1, 4095, 4096, (1 << 20) + 3, 3 << 20], [1, 3])
    func roundTrip(size: Int, parallel: Int) throws {
        let dir = ScratchFolder("sim")
        let path = dir.file("data")
        var options = EngineOptions()
        options.simulation = Self.model
        let handle = try AIOHandle(HandleConfig(blockSize: 64 << 10, queueDepth: 4, intraOpParallelism: parallel,
                                                engine: .sim, direct: false, engineOptions: options))
        #expect(handle.engine == .sim)
        let source = try AlignedBuffer(count: size, lock: false)
        source.fillPattern()
        try handle.submitWrite(from: source, to: path).wait()
        // Nothing reached the file: the simulated device stores nothing.
        #expect(try FileSystem.status(of: path).size == 0)
        // Reads need a file of the size; its contents do not matter.
        try Data(count: size + 8192).write(to: URL(fileURLWithPath: path))
        let sink = try AlignedBuffer(count: size, lock: false)
        try handle.submitRead(into: sink, from: path).wait()
        #expect(sink.contentsEqual(source))
        let part = try AlignedBuffer(count: max(1, size / 2), lock: false)
        try handle.submitRead(into: part, from: path, offset: 4099).wait()
        let expected = try AlignedBuffer(count: part.count, lock: false)
        expected.fillPattern(fileOffset: 4099)
        #expect(part.contentsEqual(expected), "a read at an unaligned offset returns that offset's pattern")
    }
}
