import AsyncIO
import Foundation

/// What `aio-bench doctor` reports: engines that work and why others do not, kernel limits,
/// memory settings, and the device behind a folder.
public enum Doctor {
    /// The report's lines.
    public static func report(folder: String?) -> [String] {
        var lines: [String] = []
        lines.append("aio-bench \(AIOBenchVersion.current)")
        lines.append("kernel: Linux \(SystemInfo.kernelRelease), \(SystemInfo.processorCount) CPUs")
        lines.append("engines:")
        for kind in [EngineKind.uring, .aio, .posix, .null] {
            let probe = EngineProbe.probe(kind)
            lines.append("  \(kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) "
                + (probe.works ? "works" : "unavailable: \(probe.reason ?? "unknown")"))
        }
        let (auto, skipped) = EngineProbe.resolve(.auto)
        lines.append("  auto      -> \(auto.rawValue)"
            + (skipped.isEmpty ? "" : " (skipped: \(skipped.joined(separator: "; ")))"))
        let disabled = read("/proc/sys/kernel/io_uring_disabled") ?? "absent (io_uring always allowed)"
        lines.append("sysctl kernel.io_uring_disabled: \(disabled)")
        let nr = read("/proc/sys/fs/aio-nr") ?? "?"
        let max = read("/proc/sys/fs/aio-max-nr") ?? "?"
        lines.append("sysctl fs.aio-nr / fs.aio-max-nr: \(nr) / \(max) (kernel AIO contexts in use / allowed)")
        lines.append("memlock limit (ulimit -l): \(AlignedBuffer.memlockLimitDescription)"
            + (SystemInfo.isRoot ? " (root: page locking is not limited)" : ""))
        lines.append("page size: \(AlignedBuffer.pageSize) bytes")
        lines.append("transparent huge pages: \(AlignedBuffer.transparentHugePageMode ?? "not available")")
        if let folder {
            lines.append("folder: \(folder)")
            if let align = IOFile.directIOAlignment(folder: folder) {
                lines.append("  direct I/O (O_DIRECT): supported, alignment \(align) bytes")
            } else {
                lines.append("  direct I/O (O_DIRECT): NOT supported here (use --buffered, or another folder)")
            }
            for line in StorageDevice.inspect(folder: folder).summary {
                // The ceiling line says what kind of limit it is.
                if line.hasPrefix("folder: ") { continue }  // printed above
                if line.hasPrefix("ceiling: ") {
                    lines.append("  theoretical link limit: " + line.dropFirst("ceiling: ".count))
                } else {
                    lines.append("  " + line)
                }
            }
        }
        return lines
    }

    /// The lines of `doctor --probe`: a short measured ceiling of `folder` (see `Probe.measure`) and the
    /// measured speeds against the device's theoretical link limit, flagged when above it.
    ///
    /// - Throws: what `Probe.measure(folder:settings:)` throws.
    public static func probeReport(folder: String, settings: Probe.Settings = Probe.Settings())
        throws(BenchError) -> [String]
    {
        let result = try Probe.measure(folder: folder, settings: settings)
        let device = StorageDevice.inspect(folder: folder)
        var lines = ["probe of \(folder): write, then read, \(ByteSize.compact(result.ioSize))"
            + " with the fastest engine; files removed"]
        lines += result.lines(device: device).map { "  " + $0 }
        if device.ceilingBytesPerSecond == nil {
            lines.append("  no theoretical link limit to compare with: \(device.ceiling)")
        }
        return lines
    }

    private static func read(_ path: String) -> String? {
        (try? FileSystem.text(of: path)).map { $0.trimmingWhitespace() }
    }
}
