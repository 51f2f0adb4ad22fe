import Foundation
import Testing

@testable import AIOBench

@Suite("Doctor and Probe")
struct DoctorTests {
    @Test("the report names the folder once and states its theoretical link limit")
    func reportLines() throws {
        let dir = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = Doctor.report(folder: dir)
        #expect(lines.first == "aio-bench \(AIOBenchVersion.current)")
        #expect(lines.filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("folder: ") }.count == 1)
        let limit = try #require(lines.first { $0.hasPrefix("  theoretical link limit: ") })
        let device = StorageDevice.inspect(folder: dir)
        #expect(limit == "  theoretical link limit: \(device.ceiling)")
        #expect(!lines.contains { $0.hasPrefix("  ceiling: ") })
        #expect(lines.contains { $0.hasPrefix("  direct I/O (O_DIRECT): ") })
        #expect(Doctor.report(folder: nil).allSatisfy { !$0.contains("theoretical link limit") })
    }

    @Test("probe sizes shrink by halves to fit space and memory, and give up below the minimum")
    func fittedSize() {
        let mib = 1 << 20
        #expect(Probe.fittedSize(requested: 512 * mib, freeBytes: nil, availableMemory: nil) == 512 * mib)
        #expect(Probe.fittedSize(requested: 512 * mib, freeBytes: 10_000 * mib, availableMemory: 4096 * mib)
            == 512 * mib)
        // Two files and 64 MiB: 600 MiB free holds two of 256 MiB.
        #expect(Probe.fittedSize(requested: 512 * mib, freeBytes: 600 * mib, availableMemory: nil) == 256 * mib)
        // Half of the memory: 300 MiB available holds a 128 MiB buffer.
        #expect(Probe.fittedSize(requested: 512 * mib, freeBytes: nil, availableMemory: 300 * mib) == 128 * mib)
        #expect(Probe.fittedSize(requested: 512 * mib, freeBytes: 90 * mib, availableMemory: nil) == nil)
        #expect(Probe.fittedSize(requested: 8 * mib, freeBytes: 90 * mib, availableMemory: nil) == 8 * mib)
        #expect(Probe.fittedSize(requested: 8 * mib, freeBytes: 70 * mib, availableMemory: nil) == nil)
    }

    @Test("a small probe measures both directions and leaves nothing behind")
    func smallProbe() throws {
        let dir = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let settings = Probe.Settings(
            ioSize: 16 << 20, blockSize: 1 << 20, queueDepth: 8, intraOpParallelism: 4, loops: 1, warmupLoops: 0)
        let result = try Probe.measure(folder: dir, settings: settings)
        #expect(result.readGiBps > 0 && result.readGiBps.isFinite)
        #expect(result.writeGiBps > 0 && result.writeGiBps.isFinite)
        #expect(result.config.engine != .auto)
        #expect(result.ioSize == 16 << 20 && result.config.intraOpParallelism == 4 && result.config.queueDepth == 8)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        let lines = result.lines(device: nil)
        #expect(lines[0].hasPrefix("measured ceiling: read "))
        #expect(lines[1].hasPrefix("  measured with: \(result.config.engine.rawValue), block 1M, queue depth 8, io_parallel 4, 16M,"))
    }

    @Test("a probe of a missing folder is one usage error")
    func missingFolder() {
        #expect(throws: BenchError.self) {
            try Probe.measure(folder: "/nonexistent/aio-bench-probe", settings: Probe.Settings(ioSize: 16 << 20))
        }
        do {
            _ = try Probe.measure(folder: "/nonexistent/aio-bench-probe")
        } catch {
            #expect(error.exitCode == 64)
            #expect(error.description.contains("/nonexistent/aio-bench-probe"))
        }
    }

    @Test("probe lines compare with the theoretical ceiling and flag figures above it")
    func probeAgainstCeiling() {
        var device = StorageDevice(folder: "/data")
        device.blockDevice = "nvme0n1"
        device.ceilingBytesPerSecond = 4.0 * Double(1 << 30)
        let probe = ProbeResult(
            folder: "/data", engine: .uring, ioSize: 512 << 20, blockSize: 1 << 20, queueDepth: 64,
            intraOpParallelism: 8, direct: true, readGiBps: 6.0, writeGiBps: 3.0, notes: ["size reduced"])
        let lines = probe.lines(device: device)
        #expect(lines == [
            "measured ceiling: read 6.00 GiB/s, write 3.00 GiB/s",
            "  measured with: io_uring, block 1M, queue depth 64, io_parallel 8, 512M, O_DIRECT",
            "  note: size reduced",
            "  measured read 6.00 GiB/s: 150 % of the theoretical ceiling",
            "  SUSPECT: measured read " + (device.suspect(bytesPerSecond: 6.0 * Double(1 << 30)) ?? ""),
            "  measured write 3.00 GiB/s: 75 % of the theoretical ceiling",
        ])
        // Without a ceiling there is nothing to compare with.
        #expect(probe.lines(device: StorageDevice(folder: "/data")).count == 3)
        #expect(Probe.ceilingComparison(read: 1, write: 1, device: nil, probe: nil, what: "best").isEmpty)
    }
}
