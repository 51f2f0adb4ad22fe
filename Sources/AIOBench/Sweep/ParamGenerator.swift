import AsyncIO
import Foundation

/// What "best" means when choosing a configuration from read and write results.
public enum TuningObjective: String, CaseIterable, Hashable, Sendable {
    /// Least time to read and write the same amount: minimise 1/read + 1/write (the default). Unlike the
    /// sum it does not let a fast side hide a slow one.
    case time
    /// DeepSpeed's score: maximise read + write speed.
    case sum
    /// Maximise read speed alone.
    case read
    /// Maximise write speed alone.
    case write

    /// Whether the objective needs both a read and a write result for a configuration.
    var needsBothSides: Bool { self == .time || self == .sum }

    /// Whether a smaller score is better (only for `time`).
    var lowerIsBetter: Bool { self == .time }

    /// One line for people: what the score is.
    var explanation: String {
        switch self {
        case .time: "least time per GiB read and written (1/read + 1/write)"
        case .sum: "highest read + write speed (DeepSpeed's score)"
        case .read: "highest read speed"
        case .write: "highest write speed"
        }
    }
}

/// One configuration competing for best, with its results in GiB/s.
struct TuningCandidate: Hashable, Sendable {
    /// The configuration (block size in its compact form).
    var configuration: SweepConfiguration
    /// Read speeds of its trials, empty when not measured.
    var read: [Double]
    /// Write speeds of its trials, empty when not measured.
    var write: [Double]
    /// The objective the score is for.
    var objective: TuningObjective
    /// The score of the medians under the objective (for `time`, seconds per GiB read plus written).
    var score: Double
    /// The score the trials can reach, from their worst to their best.
    var scoreRange: ClosedRange<Double>

    /// Creates a candidate.
    init(configuration: SweepConfiguration, read: [Double], write: [Double], objective: TuningObjective,
                score: Double, scoreRange: ClosedRange<Double>) {
        self.configuration = configuration
        self.read = read
        self.write = write
        self.objective = objective
        self.score = score
        self.scoreRange = scoreRange
    }

    /// The median read speed, nil when not measured.
    var readMedian: Double? { ParamGenerator.median(read) }

    /// The median write speed, nil when not measured.
    var writeMedian: Double? { ParamGenerator.median(write) }
}

/// The outcome of choosing the best configuration.
public struct TuningResult: Hashable, Sendable {
    /// The objective asked for.
    var requestedObjective: TuningObjective
    /// The objective used (a one-sided sweep falls back to `read` or `write`).
    var objective: TuningObjective
    /// The configuration chosen: the cheapest of those tied with the top scorer.
    var best: TuningCandidate
    /// The configuration with the best median score.
    var topScorer: TuningCandidate
    /// The configurations whose trial range overlaps the top scorer's, cheapest first (the chosen one first);
    /// one entry when nothing is tied.
    var tied: [TuningCandidate]
    /// Every candidate, best median score first.
    var ranked: [TuningCandidate]
    /// Lines for people: fallbacks, configurations left out, settings DeepSpeed's runtime has no key for.
    var notes: [String]

    /// `Best performance (GB/sec): read =  1.88, write =  4.51` (Python `%5.2f`; `  n/a` for a side not
    /// measured).
    var performanceLine: String {
        ParamGenerator.performanceLine(read: best.readMedian, write: best.writeMedian)
    }

    /// The `{"aio": {...}}` section for DeepSpeed's runtime config.
    func aioJSON(useGDS: Bool = false) -> String {
        ParamGenerator.aioJSON(for: best.configuration, useGDS: useGDS)
    }
}

/// Chooses the best configuration from read and write results (DeepSpeed's `aio_bench_generate_param.py`).
public enum ParamGenerator {
    /// Chooses from the logs of a folder (see `generate(reads:writes:objective:)`).
    public static func generate(_ folder: LogFolder, objective: TuningObjective = .time) throws(BenchError)
        -> TuningResult {
        try generate(reads: folder.records(for: .read), writes: folder.records(for: .write), objective: objective)
    }

    /// Chooses from read and write logs. Each log counts with its trials (or its one DeepSpeed metric);
    /// logs without a result are left out with a note. Read and write logs are matched on their
    /// configuration; `1M` and `1048576` match.
    ///
    /// - Throws: `BenchError.usage` when there is nothing to choose from.
    static func generate(reads: [LogRecord], writes: [LogRecord], objective: TuningObjective = .time)
        throws(BenchError) -> TuningResult {
        var notes: [String] = []
        let missing = (reads + writes).filter { $0.log.samples.isEmpty }
        if !missing.isEmpty {
            let names = missing.prefix(3).map(\.name.fileName).joined(separator: ", ")
            notes.append("\(missing.count) log\(missing.count == 1 ? " has" : "s have") no result and"
                + " \(missing.count == 1 ? "was" : "were") left out: \(names)\(missing.count > 3 ? ", ..." : "")")
        }
        // Configurations that left a race were shown slower than the leader: they compete no more.
        let left = { (record: LogRecord) in record.log.notes.contains { $0.hasPrefix(Race.leftNotePrefix) } }
        let racing = (reads + writes).contains { !$0.log.samples.isEmpty && !left($0) }
        func samples(_ records: [LogRecord]) -> [SweepConfiguration: [Double]] {
            var map: [SweepConfiguration: [Double]] = [:]
            for record in records where !record.log.samples.isEmpty && !(racing && left(record)) {
                map[record.configuration.tuningIdentity, default: []] += record.log.samples
            }
            return map
        }
        // A race that ended names its leader and those equivalent to it: the choice is among them.
        let verdicts: Set = [Race.leaderNote, Race.legacyLeaderNote, Race.equivalentNote]
        let pick = (reads + writes).first { $0.log.notes.contains(Race.leaderNote) }?.configuration.tuningIdentity
        let decided = Set((reads + writes).filter { $0.log.notes.contains(where: verdicts.contains) }
            .map { $0.configuration.tuningIdentity })
        let undecided = Set((reads + writes).filter { $0.log.notes.contains(Race.undecidedNote) }
            .map { $0.configuration.tuningIdentity })
        var result = try generate(readSamples: samples(reads), writeSamples: samples(writes), objective: objective,
                                  raceDecided: decided.isEmpty ? nil : decided, raceUndecided: undecided.count,
                                  racePick: pick)
        result.notes = notes + result.notes
        return result
    }

    /// Chooses from speeds in GiB/s per configuration. Under `time` and `sum` only configurations with both
    /// a read and a write result compete; when one side has no results at all (a `--no_read` or
    /// `--no_write` sweep) the other side's objective is used instead, with a note. Each side is scored by
    /// the median of its trials. Configurations whose range of trial scores overlaps the top scorer's are
    /// tied with it; of those the cheapest wins: fewest io_parallel, then lowest queue depth, then smallest
    /// block size.
    ///
    /// - Throws: `BenchError.usage` when there are no results, the objective's side has none, or no
    ///   configuration has both sides for an objective that needs both.
    static func generate(readSamples: [SweepConfiguration: [Double]],
                                writeSamples: [SweepConfiguration: [Double]],
                                objective requested: TuningObjective = .time,
                                raceDecided: Set<SweepConfiguration>? = nil,
                                raceUndecided: Int = 0,
                                racePick: SweepConfiguration? = nil) throws(BenchError) -> TuningResult {
        var notes: [String] = []
        let reads = usable(readSamples, .read, &notes)
        let writes = usable(writeSamples, .write, &notes)
        guard !reads.isEmpty || !writes.isEmpty else {
            throw .usage("no results to choose from: the logs hold no read or write speed")
        }
        var objective = requested
        if requested.needsBothSides, reads.isEmpty || writes.isEmpty {
            objective = reads.isEmpty ? .write : .read
            notes.append("only \(objective.rawValue) results were found (a --no_\(reads.isEmpty ? "read" : "write")"
                + " sweep?): choosing by \(objective.rawValue) speed alone instead of \(requested.rawValue)")
        }
        let configurations: [SweepConfiguration]
        switch objective {
        case .read:
            guard !reads.isEmpty else {
                throw .usage("objective read needs read results, but the logs hold only write results;"
                    + " use --objective write")
            }
            configurations = Array(reads.keys)
        case .write:
            guard !writes.isEmpty else {
                throw .usage("objective write needs write results, but the logs hold only read results;"
                    + " use --objective read")
            }
            configurations = Array(writes.keys)
        case .time, .sum:
            configurations = reads.keys.filter { writes[$0] != nil }
            guard !configurations.isEmpty else {
                throw .usage("objective \(objective.rawValue) needs configurations measured for both read and"
                    + " write, but no configuration has both (\(reads.count) read-only, \(writes.count) write-only);"
                    + " use --objective read or --objective write")
            }
            let oneSided = reads.count + writes.count - 2 * configurations.count
            if oneSided > 0 {
                notes.append("\(oneSided) configuration\(oneSided == 1 ? "" : "s") measured for only one of read"
                    + " and write \(oneSided == 1 ? "was" : "were") left out")
            }
        }
        let candidates = configurations.map {
            candidate($0, read: reads[$0] ?? [], write: writes[$0] ?? [], objective: objective)
        }
        let ranked = candidates.sorted { lhs, rhs in
            if lhs.score != rhs.score { return objective.lowerIsBetter ? lhs.score < rhs.score : lhs.score > rhs.score }
            return cheaper(lhs, rhs)
        }
        let top = ranked[0]
        // The race's own pick comes first (it weighed every run through its model); then the cheapest.
        let raceChoice = raceDecided.map { set in
            ranked.filter { set.contains($0.configuration) }.sorted { lhs, rhs in
                lhs.configuration == racePick ? rhs.configuration != racePick
                    : rhs.configuration == racePick ? false : cheaper(lhs, rhs)
            }
        }
        let tied = raceChoice.flatMap { $0.isEmpty ? nil : $0 }
            ?? ranked.filter { $0.scoreRange.overlaps(top.scoreRange) }.sorted(by: cheaper)
        let best = tied[0]
        if raceChoice?.isEmpty == false {
            notes.append(raceNote(equivalent: tied.count, undecided: raceUndecided))
        } else if tied.count > 1 {
            notes.append("\(tied.count) configurations are tied with the top scorer (their trial ranges overlap);"
                + " choosing the cheapest: fewest io_parallel, then lowest queue depth, then smallest block size")
        }
        notes += runtimeNotes(best.configuration)
        return TuningResult(requestedObjective: requested, objective: objective, best: best, topScorer: top,
                            tied: tied, ranked: ranked, notes: notes)
    }

    /// What a race that ended knows of its choice: `equivalent` configurations shown equivalent (the
    /// leader included), `undecided` others neither shown slower nor equivalent.
    static func raceNote(equivalent: Int, undecided: Int) -> String {
        let open = "\(undecided) other configuration" + (undecided == 1 ? " was" : "s were")
            + " neither shown slower nor shown equivalent within the budget (more trials, or --budget, would decide)"
        if equivalent > 1 {
            return "the race showed \(equivalent) configurations within its margin of the best; choosing the cheapest:"
                + " fewest io_parallel, then lowest queue depth, then smallest block size"
                + (undecided > 0 ? "; " + open : "")
        }
        if undecided > 0 { return "the race's leader, the best score measured: " + open }
        return "the race's pick: no other configuration was shown within its margin of the best"
    }

    /// `Best performance (GB/sec): read = %5.2f, write = %5.2f` as DeepSpeed prints it; `  n/a` for nil.
    static func performanceLine(read: Double?, write: Double?) -> String {
        let show = { (value: Double?) in value.map { PythonRepr.fixed($0, width: 5, precision: 2) } ?? "  n/a" }
        return "Best performance (GB/sec): read = \(show(read)), write = \(show(write))"
    }

    /// The `"aio"` section DeepSpeed's runtime reads (runtime/swap_tensor/constants.py), with real JSON
    /// integers and booleans, keys in this order, pretty printed with 4-space indents.
    static func aioJSON(for configuration: SweepConfiguration, useGDS: Bool = false) -> String {
        let members = [
            ("block_size", String(configuration.blockSize)),
            ("queue_depth", String(configuration.queueDepth)),
            ("intra_op_parallelism", String(configuration.intraOpParallelism)),
            ("single_submit", String(configuration.singleSubmit)),
            ("overlap_events", String(configuration.overlapEvents)),
            ("use_gds", String(useGDS)),
        ]
        let body = members.map { "        \"\($0.0)\": \($0.1)" }.joined(separator: ",\n")
        return "{\n    \"aio\": {\n\(body)\n    }\n}"
    }

    /// Whether `lhs` costs less to run than `rhs`: fewer io_parallel threads, then a lower queue depth, then a
    /// smaller block size; then the better score, then the configuration text (so the order is total).
    static func cheaper(_ lhs: TuningCandidate, _ rhs: TuningCandidate) -> Bool {
        let a = lhs.configuration
        let b = rhs.configuration
        if a.intraOpParallelism != b.intraOpParallelism { return a.intraOpParallelism < b.intraOpParallelism }
        if a.queueDepth != b.queueDepth { return a.queueDepth < b.queueDepth }
        if a.blockSize != b.blockSize { return a.blockSize < b.blockSize }
        if a.tasksPerFolder != b.tasksPerFolder { return a.tasksPerFolder < b.tasksPerFolder }
        if lhs.score != rhs.score {
            return lhs.objective.lowerIsBetter ? lhs.score < rhs.score : lhs.score > rhs.score
        }
        return a.description < b.description
    }

    /// The median (see `Median`: the lower middle value for an even count); nil for no values.
    static func median(_ values: [Double]) -> Double? { Median.of(values) }

    // MARK: - Helpers

    private static func usable(_ samples: [SweepConfiguration: [Double]], _ operation: IOOperation,
                               _ notes: inout [String]) -> [SweepConfiguration: [Double]] {
        var result: [SweepConfiguration: [Double]] = [:]
        var dropped = 0
        for (configuration, values) in samples {
            let good = values.filter { $0.isFinite && $0 > 0 }
            dropped += values.count - good.count
            if !good.isEmpty { result[configuration.tuningIdentity, default: []] += good }
        }
        if dropped > 0 {
            notes.append("\(dropped) \(operation.rawValue) speed\(dropped == 1 ? " was" : "s were") not a positive"
                + " number and \(dropped == 1 ? "was" : "were") left out")
        }
        return result
    }

    private static func candidate(_ configuration: SweepConfiguration, read: [Double], write: [Double],
                                  objective: TuningObjective) -> TuningCandidate {
        let readMedian = median(read) ?? 0
        let writeMedian = median(write) ?? 0
        let score: Double
        let range: ClosedRange<Double>
        switch objective {
        case .time:
            score = 1 / readMedian + 1 / writeMedian
            range = (1 / read.max()! + 1 / write.max()!)...(1 / read.min()! + 1 / write.min()!)
        case .sum:
            score = readMedian + writeMedian
            range = (read.min()! + write.min()!)...(read.max()! + write.max()!)
        case .read:
            score = readMedian
            range = read.min()!...read.max()!
        case .write:
            score = writeMedian
            range = write.min()!...write.max()!
        }
        return TuningCandidate(configuration: configuration, read: read, write: write, objective: objective,
                               score: score, scoreRange: range)
    }

    private static func runtimeNotes(_ configuration: SweepConfiguration) -> [String] {
        var notes: [String] = []
        if configuration.tasksPerFolder > 1 {
            notes.append("the best configuration ran \(configuration.tasksPerFolder) tasks per folder;"
                + " DeepSpeed's aio section has no such setting")
        }
        if let engine = configuration.engine?.rawValue, engine != "aio" {
            notes.append("the best configuration was measured with engine \(engine);"
                + " DeepSpeed's runtime uses Linux AIO (libaio), so results there may differ")
        }
        return notes
    }
}
