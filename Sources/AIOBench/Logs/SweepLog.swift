import AsyncIO
/// The result of one trial (one timed loop) of a configuration. Speeds are GiB/s (bytes / 1024^3 / s),
/// which DeepSpeed prints as "GB/sec".
package struct LogTrial: Hashable, Sendable, Codable {
    /// The operation time alone, in seconds (DeepSpeed's task latency).
    package var taskLatency: Double
    /// The operation speed in GiB/s.
    package var taskSpeed: Double
    /// The time including the barrier, in seconds (DeepSpeed's E2E latency).
    package var e2eLatency: Double
    /// The end-to-end speed in GiB/s: the number the tuner ranks by.
    package var e2eSpeed: Double

    /// Creates a trial from its four numbers.
    init(taskLatency: Double, taskSpeed: Double, e2eLatency: Double, e2eSpeed: Double) {
        self.taskLatency = taskLatency
        self.taskSpeed = taskSpeed
        self.e2eLatency = e2eLatency
        self.e2eSpeed = e2eSpeed
    }

    /// Creates a trial from the bytes moved and the two latencies; speed = bytes / latency / 1024^3.
    init(bytes: Int, taskLatency: Double, e2eLatency: Double) {
        let gib = Double(bytes) / Double(1 << 30)
        self.init(taskLatency: taskLatency, taskSpeed: gib / taskLatency, e2eLatency: e2eLatency,
                  e2eSpeed: gib / e2eLatency)
    }
}

/// DeepSpeed's four closing lines of a log; each is nil when the log lacks it.
package struct LogSummary: Hashable, Sendable, Codable {
    /// `Task <Op> Latency = <x> sec`.
    package var taskLatency: Double?
    /// `Task <Op> Speed = <x> GB/sec`.
    package var taskSpeed: Double?
    /// `E2E <Op> Latency = <x> sec`.
    package var e2eLatency: Double?
    /// `E2E <Op> Speed = <x> GB/sec`: DeepSpeed's metric (`read_speed` / `write_speed`).
    package var e2eSpeed: Double?

    /// Creates a summary.
    init(taskLatency: Double? = nil, taskSpeed: Double? = nil, e2eLatency: Double? = nil,
                e2eSpeed: Double? = nil) {
        self.taskLatency = taskLatency
        self.taskSpeed = taskSpeed
        self.e2eLatency = e2eLatency
        self.e2eSpeed = e2eSpeed
    }

    /// The summary of one trial.
    package init(_ trial: LogTrial) {
        self.init(taskLatency: trial.taskLatency, taskSpeed: trial.taskSpeed, e2eLatency: trial.e2eLatency,
                  e2eSpeed: trial.e2eSpeed)
    }

    /// Whether none of the four lines is there.
    package var isEmpty: Bool { taskLatency == nil && taskSpeed == nil && e2eLatency == nil && e2eSpeed == nil }
}

/// The content of one log: what `LogWriter` writes and `LogParser` reads back. A DeepSpeed log yields only
/// `summary` (everything else it prints is ignored).
///
/// aio-bench's logs look like this (header, notes, trials, then DeepSpeed's four lines of the median trial):
///
/// ```
/// aio-bench log format 1
/// # speeds are bytes / 1024^3 / sec, printed as "GB/sec" like DeepSpeed (GiB/s); the last four lines ...
/// operation: read
/// config: block_size=1M queue_depth=32 single_submit=false sequential_requests=false io_parallel=1 ...
/// engine: io_uring
/// io_size: 268435456
/// note: huge pages: yes
/// trial 1/3: read 1.1552252388228905 GB/sec in 0.21640801429748535 sec (task 1.155660673684257 GB/sec in ...
/// Task Read Latency = 0.21632647514343262 sec
/// Task Read Speed = 1.155660673684257 GB/sec
/// E2E Read Latency = 0.21640801429748535 sec
/// E2E Read Speed = 1.1552252388228905 GB/sec
/// ```
///
/// A failed configuration has an `error: <text>` line instead of trials and the four lines.
package struct SweepLog: Hashable, Sendable {
    /// The operation (`operation:` line, else the op of the four lines found).
    package var operation: IOOperation?
    /// The configuration that ran (`config:` line).
    package var configuration: SweepConfiguration?
    /// The engine that actually ran (`engine:` line), which may differ from the one asked for.
    var engine: String?
    /// Bytes per task and operation (`io_size:` line).
    package var ioSize: Int?
    /// Free-form one-line notes (`note:` lines), in order.
    package var notes: [String]
    /// The trials (`trial i/n:` lines), in the order they ran.
    package var trialResults: [LogTrial]
    /// Why the configuration failed (`error:` line), or nil.
    package var error: String?
    /// DeepSpeed's four closing lines.
    package var summary: LogSummary
    /// Lines that looked like ours or DeepSpeed's but could not be read (never written).
    package var warnings: [String]

    /// Creates log content.
    init(operation: IOOperation? = nil, configuration: SweepConfiguration? = nil, engine: String? = nil,
                ioSize: Int? = nil, notes: [String] = [], trialResults: [LogTrial] = [], error: String? = nil,
                summary: LogSummary = LogSummary(), warnings: [String] = []) {
        self.operation = operation
        self.configuration = configuration
        self.engine = engine
        self.ioSize = ioSize
        self.notes = notes
        self.trialResults = trialResults
        self.error = error
        self.summary = summary
        self.warnings = warnings
    }

    /// The end-to-end speed of every trial in GiB/s, in order.
    var trials: [Double] { trialResults.map(\.e2eSpeed) }

    /// DeepSpeed's metric: the `E2E <Op> Speed` value, or nil when the line is missing.
    var metric: Double? { summary.e2eSpeed }

    /// The speeds to rank by: the trials, or the metric alone for a log without trial lines.
    var samples: [Double] {
        if !trials.isEmpty { return trials }
        return metric.map { [$0] } ?? []
    }

    /// The trial the four closing lines describe: the median by end-to-end speed (the lower of the two
    /// middle trials for an even count).
    package static func medianTrial(_ trials: [LogTrial]) -> LogTrial? {
        Median.element(of: trials, by: \.e2eSpeed)
    }
}
