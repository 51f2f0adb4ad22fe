import AsyncIO
import Foundation

/// One rank's part of a job's measurement.
package struct RankResult: Codable, Sendable, Equatable {
    /// The rank.
    package var rank: Int
    /// Its node.
    package var host: String
    /// What it measured, over its own tasks.
    var result: BenchResult
    /// Its warnings (page locking refused, ...).
    var warnings: [String]
    /// Seconds it spent in the meeting before each loop, warm-up included (waiting for the others included).
    var meetingSeconds: [Double]

    var encoded: [UInt8] { Array((try? JSONEncoder().encode(self)) ?? Data()) }
}

/// A measurement of every rank of a job, and the job's aggregate as DeepSpeed defines E2E over tasks:
/// the bytes of all ranks over the slowest rank's latency.
public struct ClusterResult: Sendable, Equatable {
    /// Every rank's part, by rank.
    package var ranks: [RankResult]
    /// The job: tasks, bytes, requests and CPU time summed; task and E2E latency the slowest rank's.
    package var aggregate: BenchResult

    /// The job of `ranks` (at least one, all of one plan).
    init(ranks: [RankResult]) {
        self.ranks = ranks
        var job = ranks[0].result
        let results = ranks.map(\.result)
        job.tasks = results.reduce(0) { $0 + $1.tasks }
        job.taskLoopSeconds = results.flatMap(\.taskLoopSeconds)
        job.taskLatency = results.map(\.taskLatency).max() ?? 0
        job.e2eLatency = results.map(\.e2eLatency).max() ?? 0
        job.requests = results.reduce(0) { $0 + $1.requests }
        job.cpuUser = results.reduce(0) { $0 + $1.cpuUser }
        job.cpuSystem = results.reduce(0) { $0 + $1.cpuSystem }
        job.pageLocked = results.allSatisfy(\.pageLocked)
        job.hugePageBytes = results.reduce(0) { $0 + $1.hugePageBytes }
        job.bufferBytes = results.reduce(0) { $0 + $1.bufferBytes }
        // Percentiles of different ranks do not combine; each rank's are in its own result.
        job.latencyMicros = [:]
        let checked = results.compactMap(\.validated)
        job.validated = checked.isEmpty ? nil : checked.allSatisfy { $0 }
        job.folders = ranks.flatMap { rank in rank.result.folders.map { "\(rank.host):\($0)" } }
        job.notes = ranks.flatMap { rank in rank.result.notes.map { "rank \(rank.rank): \($0)" } }
        job.ioSeconds = results.map(\.ioSeconds).max() ?? 0
        job.removalSeconds = results.map(\.removalSeconds).max() ?? 0
        aggregate = job
    }

    /// DeepSpeed's four lines for the whole job.
    public var deepSpeedLines: [String] { aggregate.deepSpeedLines }

    /// Every rank's warnings, named.
    public var warnings: [String] {
        ranks.flatMap { rank in rank.warnings.map { "rank \(rank.rank) (\(rank.host)): \($0)" } }
    }

    /// The job's summary, a table of the ranks, and the cost of keeping them in step.
    public var summaryLines: [String] {
        let hosts = Set(ranks.map(\.host))
        var lines = aggregate.summaryLines
        lines.append("ranks: \(ranks.count) on \(hosts.count) host\(hosts.count == 1 ? "" : "s"); the job's speed is "
            + "the bytes of all ranks over the slowest rank's latency (DeepSpeed's E2E over tasks)")
        let speeds = ranks.map(\.result.e2eSpeed)
        // The slowest rank is the one whose latency is the job's; the fastest, the one done first.
        let latencies = ranks.map(\.result.e2eLatency)
        let slowest = latencies.indices.max { latencies[$0] < latencies[$1] }
        let fastest = latencies.indices.min { latencies[$0] < latencies[$1] }
        let width = max(4, ranks.map { ConsoleText.oneLine($0.host).count }.max() ?? 4)
        let pad = { (text: String, to: Int) in text + String(repeating: " ", count: max(0, to - text.count)) }
        lines.append("  rank  \(pad("host", width))  tasks      GiB/s  E2E latency")
        for (index, rank) in ranks.enumerated() {
            let mark = ranks.count < 2 ? "" : index == slowest ? "  slowest" : index == fastest ? "  fastest" : ""
            lines.append(String(format: "  %4d  %@  %5d  %9.3f  %9.6f s", rank.rank,
                                pad(ConsoleText.oneLine(rank.host), width), rank.result.tasks, speeds[index],
                                rank.result.e2eLatency) + mark)
        }
        if let coordination = coordinationLine { lines.append(coordination) }
        return lines
    }

    /// The meeting before each loop against the loop's time: per loop, the last rank to arrive waits only
    /// for the collective itself (its cost); the others also wait for the slowest.
    var coordinationLine: String? {
        let loops = ranks.map(\.meetingSeconds.count).min() ?? 0
        guard loops > 0, ranks.count > 1 else { return nil }
        let cost = (0..<loops).map { loop in ranks.map { $0.meetingSeconds[loop] }.min() ?? 0 }
        let wait = (0..<loops).map { loop in ranks.map { $0.meetingSeconds[loop] }.max() ?? 0 }
        let loopTimes = aggregate.taskLoopSeconds.flatMap { $0 }
        let loopMedian = Median.of(loopTimes) ?? 0
        let costMedian = Median.of(cost) ?? 0
        return String(format: "coordination: the meeting before each loop costs %.1f µs (median, last rank to "
            + "arrive), up to %.1f µs waiting for the slowest rank; a loop's I/O takes %.3f ms (median): %.3f %%",
            costMedian * 1e6, (Median.of(wait) ?? 0) * 1e6, loopMedian * 1e3,
            loopMedian > 0 ? costMedian / loopMedian * 100 : 0)
    }

    /// The job as one JSON document: the aggregate, with its derived speeds, and every rank's result.
    public var json: String {
        struct Envelope: Encodable {
            var aggregate: BenchResult
            var taskSpeedGiBps: Double
            var e2eSpeedGiBps: Double
            var totalBytes: Int
            var ranks: [RankResult]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let envelope = Envelope(aggregate: aggregate, taskSpeedGiBps: aggregate.taskSpeed,
                                e2eSpeedGiBps: aggregate.e2eSpeed, totalBytes: aggregate.totalBytes, ranks: ranks)
        return (try? encoder.encode(envelope)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Throws when a rank validated its data and found it different, naming the first such rank.
    ///
    /// - Throws: `BenchError.runtime` naming the rank and its host.
    public func checkValidated() throws(BenchError) {
        if let rank = ranks.first(where: { $0.result.validated == false }) {
            throw .runtime("rank \(rank.rank) (\(rank.host)): validate: the data read back differs from what was "
                + "expected")
        }
    }
}
