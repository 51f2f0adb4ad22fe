import AsyncIO
import Foundation

/// Keeps the ranks of a job in step, and makes a failure on one rank a failure on all of them.
///
/// Work that may fail runs inside `together(_:)`; within it, ranks meet at `checkpoint()` (before every
/// loop of a measurement). Every meeting is the same collective, so a rank that fails anywhere meets the
/// others at their next one carrying its error: every rank has made the same number of meetings, so the
/// failing rank's report and the others' next checkpoint are the same call. There all ranks learn which
/// rank failed, on which host and why, and leave `together` with that one error (`BenchError`, its kind
/// and system cause kept), after removing their files on the way out. No rank waits for one that left.
///
/// Collectives that carry data (`broadcast`, `allGather`) are made only between `together` scopes, where
/// no rank can be failing.
public final class ClusterCoordinator {
    /// The ranks.
    public let collective: any Collective
    /// The failure every rank learned at the last meeting inside the current `together`.
    private var reported: BenchError?
    /// The last failure every rank learned at a meeting (it outlives `together`): a failure every rank
    /// throws, as against one only this rank met after the last meeting.
    public private(set) var sharedFailure: BenchError?

    /// Coordinates the ranks of `collective`.
    public init(_ collective: any Collective) { self.collective = collective }

    /// Marks this rank as ending with `status` after its last line: `mpirun` ends the job once any rank
    /// exits with a failure, and the signal it sends then must not add a line of its own.
    public func endQuietly(status: Int32) { ScratchFiles.shared.endQuietly(status: status) }

    /// This rank's number.
    public var rank: Int { collective.rank }
    /// The number of ranks.
    public var size: Int { collective.size }
    /// Whether this rank prints the job's results and writes its logs (rank 0).
    public var isLeader: Bool { collective.rank == 0 }

    /// Meets the other ranks; returns the seconds it took on this rank (waiting for the others included).
    ///
    /// - Throws: the failure of a rank that reported one at this meeting, named (see `together`).
    @discardableResult
    package func checkpoint() throws(BenchError) -> Double {
        try meet(reporting: nil)
    }

    /// Runs `body` on every rank; returns when every rank's `body` has returned.
    ///
    /// - Throws: when `body` fails on any rank, the same error on every rank: the failure of the lowest
    ///   failing rank, its text prefixed with `rank R (host):`.
    package func together<T>(_ body: () throws(BenchError) -> T) throws(BenchError) -> T {
        reported = nil
        defer { reported = nil }
        do {
            let value = try body()
            try meet(reporting: nil)
            return value
        } catch {
            if let reported { throw reported }
            try meet(reporting: error)
            throw error  // not reached: a meeting with a failure always throws
        }
    }

    /// One meeting: the largest status (0 when every rank is fine), then, when a rank failed, every
    /// rank's report.
    @discardableResult
    private func meet(reporting failure: BenchError?) throws(BenchError) -> Double {
        if let reported { throw reported }
        let start = monotonicNanos()
        let worst = collective.allReduceMax(failure == nil ? 0 : 1)
        let seconds = Double(monotonicNanos() - start) / 1e9
        guard worst > 0 else { return seconds }
        let mine = RankReport(rank: collective.rank, host: collective.host, failure: failure)
        let reports = collective.allGather(mine.encoded).compactMap(RankReport.init(decoding:))
        let first = reports.first { $0.message != nil } ?? mine
        let error = first.namedError
        reported = error
        sharedFailure = error
        throw error
    }
}

/// What one rank says at a meeting: fine, or its failure with the system error behind it.
struct RankReport: Codable, Equatable {
    var rank: Int
    var host: String
    /// The failure's text (nil: fine).
    var message: String?
    /// Whether the failure was a usage mistake (exit 64).
    var usage = false
    /// The system error behind a runtime failure (kind, operation, path, error number, offset).
    var cause: AsyncIOError?

    init(rank: Int, host: String, failure: BenchError?) {
        self.rank = rank
        self.host = host
        guard let failure else { return }
        message = failure.description
        if case .usage = failure { usage = true }
        cause = failure.cause
    }

    init?(decoding bytes: [UInt8]) {
        guard let report = try? JSONDecoder().decode(RankReport.self, from: Data(bytes)) else { return nil }
        self = report
    }

    var encoded: [UInt8] { Array((try? JSONEncoder().encode(self)) ?? Data()) }

    /// The failure as every rank throws it: `rank R (host): text`, kind and cause kept.
    var namedError: BenchError {
        let text = "rank \(rank) (\(ConsoleText.oneLine(host))): \(message ?? "failed")"
        if usage { return .usage(text) }
        return .runtime(text, cause: cause)
    }
}
