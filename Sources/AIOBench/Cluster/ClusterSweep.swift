import AsyncIO
import Foundation

/// A sweep (and `tune`'s) across the ranks of a job. Rank 0 leads: it runs the sweep as on one node
/// (resume, racing, logs, manifest are its alone) and, for every trial, tells the others which
/// configuration and operation to run. Every rank runs that trial at the same time, meeting the others
/// before each loop, and the trial's result is the job's: the bytes of all ranks over the slowest rank's
/// latency. A trial that fails on one rank fails on all (`ClusterCoordinator.together`) and is logged by
/// rank 0 with the rank named; the sweep goes on or stops as it would on one node.
public final class ClusterSweep {
    /// The ranks.
    let coordinator: ClusterCoordinator
    /// Every rank's host, by rank.
    package let hosts: [String]

    /// What rank 0 tells the others between trials.
    enum Command: Codable, Equatable {
        /// Run one trial of the configuration with this index in the sweep space.
        case trial(operation: IOOperation, configuration: Int)
        /// The sweep is over.
        case done
        /// Rank 0 stopped with this exit status (its error is its to print).
        case stop(status: Int32)
    }

    /// Gathers the ranks' hosts; every rank of the job calls it at the same point.
    public init(_ coordinator: ClusterCoordinator) {
        self.coordinator = coordinator
        hosts = coordinator.collective.allGather(Array(coordinator.collective.host.utf8))
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// The `note:` line of every log the sweep writes.
    var logNote: String {
        let distinct = Set(hosts).count
        return "ranks \(hosts.count) on \(distinct) host\(distinct == 1 ? "" : "s"): each trial is the bytes of all "
            + "ranks over the slowest rank's latency"
    }

    /// Rank 0: runs the sweep, sending the others every trial, then `conclude` (generation, report), then
    /// `done`; when either fails, `stop` with its exit status.
    ///
    /// - Throws: what the sweep or `conclude` throws, after telling the others to stop.
    public func lead<T>(_ runner: SweepRunner, then conclude: (SweepSummary) throws -> T) throws -> T {
        runner.cluster = self
        let value: T
        do {
            value = try conclude(try runner.run())
        } catch {
            send(.stop(status: (error as? BenchError)?.exitCode ?? 1))
            throw error
        }
        send(.done)
        return value
    }

    /// The other ranks: run the trials rank 0 sends until it sends `done`, then remove their files.
    ///
    /// - Throws: when rank 0 stopped (`stop`): an error with its exit status, for this rank to exit with
    ///   silently (rank 0 prints the error).
    public func follow(_ runner: SweepRunner) throws(BenchError) {
        runner.cluster = self
        var runners: [Int: BenchRunner] = [:]
        defer { for r in runners.values { r.cleanup() } }
        let flush = runner.options.flushPageCache ? PageCacheFlush.available : nil
        let configurations = runner.space.configurations
        while true {
            let bytes = coordinator.collective.broadcast([], from: 0)
            guard let command = try? JSONDecoder().decode(Command.self, from: Data(bytes)) else {
                // Rank 0 waits in the trial it sent (different aio-bench versions?): no meeting can tell it,
                // so end the job, after removing this rank's files.
                for r in runners.values { r.cleanup() }
                coordinator.collective.abort(status: 1)
            }
            switch command {
            case .trial(let operation, let index):
                let configuration = configurations[index]
                func measure() throws(BenchError) -> BenchResult {
                    try runner.measureTrial(operation, configuration, runners: &runners, flush: flush)
                }
                // A failure is every rank's, and rank 0 logs it: go on to the next command.
                _ = try? trial(operation, configuration: index, measure)
            case .done:
                return
            case .stop(let status):
                throw status == 64 ? .usage("rank 0 stopped the sweep") : .runtime("rank 0 stopped the sweep")
            }
        }
    }

    /// One trial on every rank (rank 0 first sends it): the job's result.
    func trial(_ operation: IOOperation, configuration index: Int,
               _ measure: () throws(BenchError) -> BenchResult) throws(BenchError) -> BenchResult {
        if coordinator.isLeader { send(.trial(operation: operation, configuration: index)) }
        let result = try coordinator.together(measure)
        let mine = RankResult(rank: coordinator.rank, host: coordinator.collective.host, result: result, warnings: [],
                              meetingSeconds: [])
        return try coordinator.gather(mine).aggregate
    }

    /// Makes `runner`'s loops start with the other ranks'.
    func prepare(_ runner: BenchRunner) {
        runner.beforeLoop = { [coordinator] () throws(BenchError) in try coordinator.checkpoint() }
    }

    private func send(_ command: Command) {
        let bytes = (try? JSONEncoder().encode(command)).map { Array($0) } ?? []
        _ = coordinator.collective.broadcast(bytes, from: 0)
    }
}
