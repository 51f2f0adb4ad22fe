import AsyncIO
import Foundation

/// Everything one benchmark run measured, in a form that can be printed, logged and encoded.
public struct BenchResult: Sendable, Codable, Equatable {
    /// Read or write.
    var operation: IOOperation
    /// Bytes per task per loop.
    var ioSize: Int
    /// Number of tasks.
    var tasks: Int
    /// Measured loops.
    var loops: Int
    /// The configuration that ran: the knobs, the engine used (never `auto`) and whether
    /// `O_DIRECT` was used.
    var config: HandleConfig
    /// Whose I/O path the run stands for.
    var target: MeasurementTarget
    /// How the write loops treated their file (nil for reads).
    var writeMode: WriteMode?
    /// Why the figures may not be the storage's: a folder in memory, a run through the page cache.
    var notes: [String] = []
    /// The path the engine took (registered buffers, fallbacks, ...).
    var enginePath: String
    /// Why better engines were skipped.
    var engineFallbacks: [String]
    /// Whether every task buffer was page-locked.
    var pageLocked: Bool
    /// Bytes of the task buffers the kernel backs with huge pages, and their total size.
    var hugePageBytes: Int
    /// Total bytes of the task buffers.
    var bufferBytes: Int
    /// Average bytes per physically contiguous run of the task buffers' pages (nil where the kernel
    /// hides frame numbers: not root). Over 4 KiB pages it decides how far requests merge.
    var physicalRunBytes: Int? = nil
    /// Bytes of ordinary memory touched just before the task buffers were allocated (the target's
    /// stand-in for a DeepSpeed process's heap; nil for `native` and for engines that move no data;
    /// optional so that results without it still decode).
    var footprintBytes: Int? = nil
    /// Bytes of each huge-page piece the deepspeed target built its buffers of, ds_io's mean physical run
    /// (nil: not built so, see `footprintBytes`).
    var pieceBytes: Int? = nil
    /// Allocations the deepspeed target made to match ds_io's buffer layout (nil: one, or `native`).
    var layoutAttempts: Int? = nil
    /// Per task, the measured seconds of each loop's operation.
    var taskLoopSeconds: [[Double]]
    /// Task latency: max over tasks of summed operation time (seconds).
    var taskLatency: Double
    /// E2E latency: max over tasks of summed loop time including the barrier (seconds).
    var e2eLatency: Double
    /// Requests completed in the measured loops.
    var requests: Int
    /// Request latency percentiles in microseconds: p50, p90, p99, p99.9, max.
    var latencyMicros: [String: Double]
    /// CPU seconds in user mode during the measured loops.
    var cpuUser: Double
    /// CPU seconds in kernel mode during the measured loops.
    var cpuSystem: Double
    /// Whether `--validate` compared the data and found it equal (nil when not asked).
    var validated: Bool?
    /// The folders measured.
    var folders: [String]
    /// Wall seconds of every loop including warm-up (the I/O part of the run's time).
    var ioSeconds: Double = 0
    /// Wall seconds spent removing the previous loop's write files (device work with `discard`).
    var removalSeconds: Double = 0
    /// Streamed writes: wall seconds of the measured loops' flushes (`fsync` after each loop, outside
    /// its time, so the figure compares with a whole-buffer write, which has none).
    var syncSeconds: Double = 0
    /// Per-folder figures of a run striped over the folders (`--stripe`); nil otherwise.
    var stripe: StripeFigures?

    /// Total bytes moved in the measured loops.
    var totalBytes: Int { ioSize * tasks * loops }
    /// DeepSpeed's task speed: bytes / task latency / 1024^3.
    var taskSpeed: Double { taskLatency > 0 ? Double(totalBytes) / taskLatency / 1_073_741_824 : 0 }
    /// DeepSpeed's E2E speed: bytes / E2E latency / 1024^3 ("GB/sec" in its output; GiB/s in fact).
    var e2eSpeed: Double { e2eLatency > 0 ? Double(totalBytes) / e2eLatency / 1_073_741_824 : 0 }
    /// Requests per second over the E2E time.
    var iops: Double { e2eLatency > 0 ? Double(requests) / e2eLatency : 0 }

    /// DeepSpeed's four result lines, exactly as `ds_io` prints them.
    public var deepSpeedLines: [String] {
        let op = operation.title
        return [
            "Task \(op) Latency = \(PythonRepr.float(taskLatency)) sec",
            "Task \(op) Speed = \(PythonRepr.float(taskSpeed)) GB/sec",
            "E2E \(op) Latency = \(PythonRepr.float(e2eLatency)) sec",
            "E2E \(op) Speed = \(PythonRepr.float(e2eSpeed)) GB/sec",
        ]
    }

    /// The human summary printed before DeepSpeed's lines.
    public var summaryLines: [String] {
        let gib = e2eSpeed
        let gb = gib * 1_073_741_824 / 1e9
        var lines: [String] = []
        lines.append("\(operation): \(ByteSize.human(ioSize)) × \(tasks) task\(tasks == 1 ? "" : "s") × \(loops) loop\(loops == 1 ? "" : "s")"
            + " on \(folders.joined(separator: ", "))")
        lines.append("config: block \(ByteSize.compact(config.blockSize)), queue depth \(config.queueDepth), "
            + "\(config.singleSubmit ? "single" : "batch") submit, \(config.overlapEvents ? "overlap" : "sequential"), "
            + "io_parallel \(config.intraOpParallelism)")
        lines.append("engine: \(enginePath)\(config.direct ? ", O_DIRECT" : ", buffered (page cache)")")
        for f in engineFallbacks { lines.append("  skipped \(f)") }
        lines.append("target: \(target.summary)")
        if let writeMode { lines.append("write mode: \(writeMode.summary)") }
        let huge = hugePageBytes > 0
            ? "huge pages \(ByteSize.human(hugePageBytes)) of \(ByteSize.human(bufferBytes))"
            : "no huge pages"
        var runs = physicalRunBytes.map { "; physically contiguous in runs of \(ByteSize.human($0)) on average" } ?? ""
        if let wanted = pieceBytes ?? target.physicalRunBytes, footprintBytes != nil || pieceBytes != nil {
            runs += Self.layoutComparison(runs: physicalRunBytes, wanted: wanted, attempts: layoutAttempts ?? 1)
        }
        let after = pieceBytes.map {
            ", built of \(ByteSize.human($0)) pieces of huge pages (ds_io's mean physical run)"
        } ?? footprintBytes.map {
            ", allocated after \(ByteSize.human($0)) of ordinary memory (a DeepSpeed process's heap)"
        } ?? ""
        lines.append("buffers: \(pageLocked ? "page-locked" : "not page-locked"), \(huge)\(after)\(runs)")
        lines.append(String(format: "speed: %.3f GiB/s (%.3f GB/s), %.0f IOPS", gib, gb, iops))
        if let stripe { lines += stripe.summaryLines }
        if syncSeconds > 0 {
            // The writes' own speed is above; with the flush a checkpoint needs, it is this.
            let durable = Double(totalBytes) / 1_073_741_824 / (e2eLatency + syncSeconds)
            lines.append(String(format: "flush: fsync after each loop, outside its time: %.3f s per loop; "
                + "with it, %.3f GiB/s (the device's write cache is flushed too)", syncSeconds / Double(max(loops, 1)),
                durable))
        }
        if !latencyMicros.isEmpty {
            let keys = ["p50", "p90", "p99", "p99.9", "max"]
            let parts = keys.compactMap { k in latencyMicros[k].map { "\(k) \(BenchResult.formatMicros($0))" } }
            lines.append("request latency: " + parts.joined(separator: ", "))
        }
        lines.append(String(format: "cpu: user %.3f s, sys %.3f s (%.3f s per GiB)", cpuUser, cpuSystem,
                            (cpuUser + cpuSystem) / max(Double(totalBytes) / 1_073_741_824, 1e-12)))
        if let validated { lines.append("validate: \(validated ? "data matches" : "DATA MISMATCH")") }
        for note in notes { lines.append("note: \(note)") }
        return lines
    }

    static func formatMicros(_ us: Double) -> String {
        us >= 1000 ? String(format: "%.2f ms", us / 1000) : String(format: "%.0f µs", us)
    }

    /// The result as one JSON document (keys sorted), with the derived speeds included.
    public var json: String {
        struct Envelope: Encodable {
            var result: BenchResult
            var taskSpeedGiBps: Double
            var e2eSpeedGiBps: Double
            var iops: Double
            var totalBytes: Int
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let env = Envelope(result: self, taskSpeedGiBps: taskSpeed, e2eSpeedGiBps: e2eSpeed, iops: iops,
                           totalBytes: totalBytes)
        return (try? encoder.encode(env)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// How the deepspeed target's buffers compare with ds_io's (`MeasurementTarget.physicalRunBytes`).
    static func layoutComparison(runs: Int?, wanted: Int, attempts: Int) -> String {
        let tries = attempts == 1 ? "" : " after \(attempts) allocations"
        guard let runs else {
            return "; ds_io's runs \(ByteSize.human(wanted)) on average, these unknown (frame numbers need root)"
        }
        let percent = (Double(runs) / Double(wanted) - 1) * 100
        return String(format: " (ds_io's: %@; %+.0f %%%@)", ByteSize.human(wanted), percent, tries)
    }

}
