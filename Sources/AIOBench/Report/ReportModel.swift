import AsyncIO

/// One configuration's result for one operation, as the report shows it: the five engine knobs, the speed
/// of every trial in GiB/s (2^30 bytes per second, what DeepSpeed prints as "GB/sec"), and an error when
/// the configuration failed.
public struct ReportRow: Sendable, Equatable, Hashable {
    /// Read or write.
    var operation: IOOperation
    /// The configuration (its engine is `auto` when the log does not name one).
    var config: HandleConfig
    /// The speed of each trial in GiB/s, in the order they ran. Empty when the configuration failed.
    var trials: [Double]
    /// Why the configuration failed, or nil.
    var error: String?
    /// Racing: the round after which the configuration left the race (shown greyed), or nil.
    var leftRaceAfter: Int?

    /// Creates a row.
    init(
        operation: IOOperation, blockSize: Int, queueDepth: Int, singleSubmit: Bool, overlapEvents: Bool,
        intraOpParallelism: Int, trials: [Double], error: String? = nil
    ) {
        self.operation = operation
        self.config = HandleConfig(blockSize: blockSize, queueDepth: queueDepth, singleSubmit: singleSubmit,
                                   overlapEvents: overlapEvents, intraOpParallelism: intraOpParallelism)
        self.trials = trials
        self.error = error
    }

    /// The block size in bytes (`config.blockSize`).
    var blockSize: Int { config.blockSize }
    /// The queue depth (`config.queueDepth`).
    var queueDepth: Int { config.queueDepth }
    /// One submit call per request (`config.singleSubmit`).
    var singleSubmit: Bool { config.singleSubmit }
    /// Keep the queue topped up (`config.overlapEvents`).
    var overlapEvents: Bool { config.overlapEvents }
    /// Workers one operation is split over (`config.intraOpParallelism`).
    var intraOpParallelism: Int { config.intraOpParallelism }

    /// The trials that are finite numbers, sorted.
    private var sortedTrials: [Double] { trials.filter(\.isFinite).sorted() }

    /// The median of the trials in GiB/s (see `Median`: the lower middle trial for an even count); nil
    /// without trials.
    var median: Double? { Median.of(trials) }

    /// The slowest trial in GiB/s.
    var minimum: Double? { sortedTrials.first }

    /// The fastest trial in GiB/s.
    var maximum: Double? { sortedTrials.last }

    /// The configuration without the operation, spelled as DeepSpeed's log names spell it:
    /// `<block|single>_<overlap|sequential>_d<Q>_bs<B>_p<P>`, e.g. `block_overlap_d32_bs1M_p8`.
    var configuration: String {
        "\(singleSubmit ? "single" : "block")_\(overlapEvents ? "overlap" : "sequential")"
            + "_d\(queueDepth)_bs\(ByteSize.compact(blockSize))_p\(intraOpParallelism)"
    }

    /// The configuration for people: `block 1M, queue depth 32, single_submit false, overlap_events true,
    /// io_parallel 8`.
    var label: String {
        "block \(ByteSize.compact(blockSize)), queue depth \(queueDepth), single_submit \(singleSubmit),"
            + " overlap_events \(overlapEvents), io_parallel \(intraOpParallelism)"
    }
}

/// Everything the HTML report shows.
public struct ReportInput: Sendable, Equatable {
    /// The page title and heading.
    var title: String
    /// The results: one row per configuration and operation (rows for the same configuration and operation
    /// are merged, their trials joined).
    public var rows: [ReportRow]
    /// The recommended configuration as JSON text (`{"aio": {...}}`), shown with a copy button; nil for none.
    var recommendedJSON: String?
    /// Lines describing the machine (host, kernel, CPU, memory, engine, date).
    var machine: [String]
    /// Lines describing the device (`StorageDevice.summary`).
    var device: [String]
    /// The most the device can carry in bytes per second (`StorageDevice.ceilingBytesPerSecond`), or nil.
    var deviceCeilingBytesPerSecond: Double?
    /// What the race concluded (the report opens with it), or nil for logs of no race.
    var race: RaceRecord?

    /// Creates the input of a report.
    init(
        title: String, rows: [ReportRow], recommendedJSON: String? = nil, machine: [String] = [],
        device: [String] = [], deviceCeilingBytesPerSecond: Double? = nil
    ) {
        self.title = title
        self.rows = rows
        self.recommendedJSON = recommendedJSON
        self.machine = machine
        self.device = device
        self.deviceCeilingBytesPerSecond = deviceCeilingBytesPerSecond
    }

    /// The rows of `operation`, one per configuration (duplicates merged), in grid order: submit mode, then
    /// overlap mode, block size, queue depth, io_parallel.
    func rows(for operation: IOOperation) -> [ReportRow] {
        var merged: [String: ReportRow] = [:]
        var order: [String] = []
        for row in rows where row.operation == operation {
            if var existing = merged[row.configuration] {
                existing.trials += row.trials
                existing.error = existing.error ?? row.error
                merged[row.configuration] = existing
            } else {
                merged[row.configuration] = row
                order.append(row.configuration)
            }
        }
        return order.compactMap { merged[$0] }.sorted { a, b in
            (a.singleSubmit ? 1 : 0, a.overlapEvents ? 0 : 1, a.blockSize, a.queueDepth, a.intraOpParallelism)
                < (b.singleSubmit ? 1 : 0, b.overlapEvents ? 0 : 1, b.blockSize, b.queueDepth, b.intraOpParallelism)
        }
    }

    /// The rows of `operation` that have a median, fastest first (ties keep grid order).
    func ranking(for operation: IOOperation) -> [ReportRow] {
        let measured = rows(for: operation).filter { $0.median != nil }
        return measured.enumerated().sorted { a, b in
            let (x, y) = (a.element.median ?? 0, b.element.median ?? 0)
            return x != y ? x > y : a.offset < b.offset
        }.map(\.element)
    }

    /// The device ceiling in GiB/s, or nil.
    var ceilingGiBps: Double? {
        guard let bytes = deviceCeilingBytesPerSecond, bytes > 0, bytes.isFinite else { return nil }
        return bytes / Double(1 << 30)
    }

    /// Whether any trial of `row` is above the device ceiling.
    func isAboveCeiling(_ row: ReportRow) -> Bool {
        guard let ceiling = ceilingGiBps, let fastest = row.maximum else { return false }
        return fastest > ceiling
    }
}
