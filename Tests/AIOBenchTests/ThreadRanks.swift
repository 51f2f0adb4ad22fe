@testable import AIOBench
import Foundation

/// A job whose ranks are threads of this process: every collective is a rendezvous of all of them.
/// Stands in for MPI in the tests of the coordination.
final class ThreadJob: @unchecked Sendable {
    // @unchecked: every field is read and written under `condition`.
    private let condition = NSCondition()
    let size: Int
    private var generation = 0
    private var arrived = 0
    private var slots: [[UInt8]]
    private var results: [[UInt8]] = []

    init(size: Int) {
        self.size = size
        slots = Array(repeating: [], count: size)
    }

    /// Every rank's `bytes`, once every rank has called it. A rank left alone for two minutes means the
    /// coordination lost a rank: that is a failure, reported by ending the test process.
    func exchange(rank: Int, _ bytes: [UInt8]) -> [[UInt8]] {
        condition.lock()
        defer { condition.unlock() }
        let mine = generation
        slots[rank] = bytes
        arrived += 1
        if arrived == size {
            results = slots
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            let deadline = Date().addingTimeInterval(120)
            while generation == mine {
                if !condition.wait(until: deadline) { fatalError("rank \(rank) waited 120 s: a collective hangs") }
            }
        }
        return results
    }

    /// Runs `body` on every rank, each on its own thread, and returns each rank's outcome.
    func run<T: Sendable>(_ body: @escaping @Sendable (ClusterCoordinator) throws(BenchError) -> T)
        -> [Result<T, BenchError>] {
        let outcomes = Outcomes<T>(size: size)
        let group = DispatchGroup()
        for rank in 0..<size {
            group.enter()
            let thread = Thread { [self] in
                let coordinator = ClusterCoordinator(ThreadRank(job: self, rank: rank))
                do throws(BenchError) {
                    outcomes.set(rank, .success(try body(coordinator)))
                } catch {
                    outcomes.set(rank, .failure(error))
                }
                group.leave()
            }
            thread.start()
        }
        group.wait()
        return outcomes.all
    }

    // @unchecked: the array is read and written under `lock`.
    private final class Outcomes<T: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Result<T, BenchError>?]
        init(size: Int) { values = Array(repeating: nil, count: size) }
        func set(_ rank: Int, _ value: Result<T, BenchError>) { lock.withLock { values[rank] = value } }
        var all: [Result<T, BenchError>] { lock.withLock { values.map { $0! } } }
    }
}

/// One rank of a `ThreadJob`, on host `node<rank>`.
final class ThreadRank: Collective {
    let job: ThreadJob
    let rank: Int
    var size: Int { job.size }
    var host: String { "node\(rank)" }

    init(job: ThreadJob, rank: Int) {
        self.job = job
        self.rank = rank
    }

    func barrier() { _ = job.exchange(rank: rank, []) }
    func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8] { job.exchange(rank: rank, bytes)[root] }
    func allGather(_ bytes: [UInt8]) -> [[UInt8]] { job.exchange(rank: rank, bytes) }
    func allReduceMax(_ value: Int) -> Int {
        job.exchange(rank: rank, Array(String(value).utf8)).compactMap { Int(String(decoding: $0, as: UTF8.self)) }
            .max() ?? value
    }
    func abort(status: Int32) -> Never { fatalError("rank \(rank) aborted the job with status \(status)") }
}
