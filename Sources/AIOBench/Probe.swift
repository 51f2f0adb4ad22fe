import AsyncIO
import Foundation

/// A short measured ceiling of the storage behind a folder: one high-parallelism write and one read with the
/// fastest engine that works here, what `aio-bench doctor --probe` prints and summaries compare results with.
public struct ProbeResult: Sendable, Equatable, Codable {
    /// The folder measured.
    var folder: String
    /// Bytes moved per operation.
    var ioSize: Int
    /// The configuration that ran: its engine (never `auto` once measured; `auto` when a manifest did not
    /// name it) and whether `O_DIRECT` was used (not on file systems that refuse it, such as tmpfs).
    var config: HandleConfig
    /// The measured read speed in GiB/s (median loop).
    var readGiBps: Double
    /// The measured write speed in GiB/s (median loop).
    var writeGiBps: Double
    /// Remarks: sizes reduced to fit, page locking refused, the page cache used.
    var notes: [String]

    /// Creates a result.
    init(
        folder: String, engine: EngineKind, ioSize: Int, blockSize: Int, queueDepth: Int, intraOpParallelism: Int,
        direct: Bool, readGiBps: Double, writeGiBps: Double, notes: [String] = []
    ) {
        self.folder = folder
        self.ioSize = ioSize
        self.config = HandleConfig(blockSize: blockSize, queueDepth: queueDepth, intraOpParallelism: intraOpParallelism,
                                   engine: engine, direct: direct)
        self.readGiBps = readGiBps
        self.writeGiBps = writeGiBps
        self.notes = notes
    }

    /// The measured speed of `operation` in GiB/s.
    func gibps(_ operation: IOOperation) -> Double {
        operation == .read ? readGiBps : writeGiBps
    }

    /// How it was measured, e.g. `io_uring, block 1M, queue depth 64, io_parallel 8, 512M, O_DIRECT`.
    var settings: String {
        "\(config.engine == .auto ? "unknown" : config.engine.rawValue), block \(ByteSize.compact(config.blockSize)),"
            + " queue depth \(config.queueDepth), io_parallel \(config.intraOpParallelism),"
            + " \(ByteSize.compact(ioSize)), \(config.direct ? "O_DIRECT" : "buffered (page cache)")"
    }

    /// The lines `doctor --probe` prints: the measured speeds, the settings, and each speed against the
    /// device's theoretical ceiling when it has one (a speed above it is flagged as suspect).
    func lines(device: StorageDevice?) -> [String] {
        var lines = [
            String(format: "measured ceiling: read %.2f GiB/s, write %.2f GiB/s", readGiBps, writeGiBps),
            "  measured with: \(settings)",
        ]
        for note in notes { lines.append("  note: \(note)") }
        lines += Probe.ceilingComparison(
            read: readGiBps, write: writeGiBps, device: device, probe: nil, what: "measured", indent: "  ")
        return lines
    }
}

/// Measures the ceiling of the storage behind a folder (see `ProbeResult`).
public enum Probe {
    /// What the probe runs.
    public struct Settings: Sendable, Equatable {
        /// Bytes per operation; reduced to fit free space and memory (never below `minimumIOSize`).
        var ioSize: Int
        /// The configuration: block size, queue depth, intra-op parallelism and engine (`auto` takes the
        /// fastest that works here: io_uring, then kernel AIO, then POSIX); batch submit with overlap.
        var config: HandleConfig
        /// Measured loops per operation (the median is taken).
        var loops: Int
        /// Untimed loops first.
        var warmupLoops: Int

        /// The default: 512 MiB, block 1 MiB, queue depth 64, io_parallel 8, three loops after one warm-up.
        public init(
            ioSize: Int = 512 << 20, blockSize: Int = 1 << 20, queueDepth: Int = 64, intraOpParallelism: Int = 8,
            loops: Int = 3, warmupLoops: Int = 1, engine: EngineKind = .auto
        ) {
            self.ioSize = ioSize
            self.config = HandleConfig(blockSize: blockSize, queueDepth: queueDepth,
                                       intraOpParallelism: intraOpParallelism, engine: engine)
            self.loops = loops
            self.warmupLoops = warmupLoops
        }
    }

    /// The smallest size the probe shrinks to before giving up.
    static let minimumIOSize = 16 << 20

    /// The sub-folder of the measured folder that holds the probe's files while it runs.
    static let subfolder = "_aio_bench_probe_io"

    /// The largest power-of-two fraction of `requested` (at least `minimum`) that leaves room for two files
    /// (read and write) plus 64 MiB in `freeBytes` and for one buffer in half of `availableMemory`; nil when
    /// even `minimum` does not fit. Unknown space or memory (nil) does not limit.
    static func fittedSize(
        requested: Int, freeBytes: Int?, availableMemory: Int?, minimum: Int = minimumIOSize
    ) -> Int? {
        var size = requested
        func fits(_ size: Int) -> Bool {
            if let freeBytes, freeBytes < 2 * size + (64 << 20) { return false }
            if let availableMemory, availableMemory / 2 < size { return false }
            return true
        }
        while !fits(size) {
            guard size / 2 >= min(minimum, requested) else { return nil }
            size /= 2
        }
        return size
    }

    /// Writes and then reads `settings.ioSize` bytes in `folder/_aio_bench_probe_io/` with the fastest
    /// engine and returns the median speeds. Uses `O_DIRECT` where the folder allows it, else the page cache
    /// (with a note). The files and the sub-folder are removed afterwards, also on failure.
    ///
    /// - Throws: `BenchError.usage` for a missing or unwritable folder, `BenchError.runtime` when there is not
    ///   room for the files or the I/O fails.
    static func measure(folder: String, settings: Settings = Settings()) throws(BenchError) -> ProbeResult {
        try BenchPlan.checkFolder(folder, flag: "folder")
        var notes: [String] = []
        guard let size = fittedSize(requested: settings.ioSize, freeBytes: freeBytes(folder),
                                    availableMemory: availableMemory())
        else {
            throw .runtime("probe: not enough free space or memory in '\(folder)' for two files of"
                + " \(ByteSize.compact(min(minimumIOSize, settings.ioSize))) and a buffer of the same size")
        }
        if size < settings.ioSize {
            notes.append("size reduced from \(ByteSize.compact(settings.ioSize)) to \(ByteSize.compact(size))"
                + " to fit free space and memory")
        }
        let direct = IOFile.directIOAlignment(folder: folder) != nil
        if !direct {
            notes.append("the folder refuses O_DIRECT: measured through the page cache, so the figures show"
                + " memory speed, not the device")
        }
        let device = StorageDevice.inspect(folder: folder)
        if device.problem == nil, device.blockDevice == nil {
            notes.append("no block device behind the folder (\(device.filesystem ?? "unknown filesystem")):"
                + " the figures measure memory, not storage")
        }
        let (engine, skipped) = EngineProbe.resolve(settings.config.engine)
        for reason in skipped { notes.append("engine skipped: \(reason)") }
        var knobs = settings.config
        let blocks = max(1, (size + knobs.blockSize - 1) / knobs.blockSize)
        knobs.intraOpParallelism = max(1, min(knobs.intraOpParallelism, blocks))
        knobs.engine = engine
        var plan = BenchPlan(targets: [BenchTarget(folder: folder)], ioSize: size)
        plan.loops = max(1, settings.loops)
        plan.warmupLoops = max(0, settings.warmupLoops)
        plan.buffered = !direct
        plan.readSubfolder = subfolder
        plan.writeSubfolder = subfolder
        let runner = try BenchRunner(plan: plan)
        defer { runner.cleanup() }
        let write = try runner.run(.write, config: knobs, recordLatency: false)
        let read = try runner.run(.read, config: knobs, recordLatency: false)
        notes += runner.warnings
        return ProbeResult(
            folder: folder, engine: read.config.engine, ioSize: size, blockSize: knobs.blockSize,
            queueDepth: knobs.queueDepth, intraOpParallelism: knobs.intraOpParallelism, direct: direct,
            readGiBps: medianSpeed(read), writeGiBps: medianSpeed(write), notes: notes)
    }

    /// The median of the loops' speeds in GiB/s (bytes of one loop over its seconds; see `Median`), or
    /// the run's E2E speed when loop times are missing.
    static func medianSpeed(_ result: BenchResult) -> Double {
        let perLoop = (result.taskLoopSeconds.first ?? []).filter { $0 > 0 }
        let speeds = perLoop.map { Double(result.ioSize * result.tasks) / $0 / Double(1 << 30) }
        return Median.of(speeds) ?? result.e2eSpeed
    }

    /// Lines comparing read and write figures in GiB/s with the device's theoretical ceiling and, when given,
    /// the measured one (`probe`); a figure above the theoretical ceiling gets a `SUSPECT:` line naming the
    /// likely causes. `what` names the figures (`best`, `measured`). No line for a figure with neither ceiling.
    static func ceilingComparison(
        read: Double?, write: Double?, device: StorageDevice?, probe: ProbeResult?, what: String,
        indent: String = ""
    ) -> [String] {
        var lines: [String] = []
        let limit = device?.ceilingBytesPerSecond.flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        for (operation, value) in [(IOOperation.read, read), (.write, write)] {
            guard let value, value.isFinite else { continue }
            var parts: [String] = []
            if let limit {
                let percent = value * Double(1 << 30) / limit * 100
                parts.append(String(format: "%.0f %% of the theoretical ceiling", percent))
            }
            if let probe, probe.gibps(operation) > 0 {
                let measured = probe.gibps(operation)
                parts.append(String(format: "%.0f %% of the measured ceiling (%.2f GiB/s)",
                                    value / measured * 100, measured))
            }
            guard !parts.isEmpty else { continue }
            lines.append("\(indent)\(what) \(operation.rawValue) "
                + String(format: "%.2f GiB/s", value) + ": " + parts.joined(separator: ", "))
            if let warning = device?.suspect(bytesPerSecond: value * Double(1 << 30)) {
                lines.append("\(indent)SUSPECT: \(what) \(operation.rawValue) \(warning)")
            }
        }
        return lines
    }

    /// Bytes free for an unprivileged user on the filesystem of `folder`, or nil.
    static func freeBytes(_ folder: String) -> Int? {
        (try? FileSystem.fileSystemStats(of: folder)).map { Int(clamping: $0.availableBytes) }
    }

    /// `MemAvailable` from `/proc/meminfo` in bytes, or nil.
    static func availableMemory() -> Int? {
        MachineFacts.meminfo("MemAvailable")
    }
}
