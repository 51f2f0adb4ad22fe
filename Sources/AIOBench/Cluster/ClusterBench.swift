import AsyncIO
import Foundation

extension ClusterCoordinator {
    /// `io` on every rank at once: each rank runs `plan` on its own folders as tasks `rank × tasks` onwards
    /// (so ranks sharing a folder never share a file), the ranks meet before every loop so that loops start
    /// together, and every rank gets every rank's result.
    ///
    /// - Throws: on every rank, the first rank's failure, named (see `together`); each rank has removed
    ///   its data files by then.
    public func runIO(plan: BenchPlan, config: HandleConfig, operation: IOOperation)
        throws(BenchError) -> ClusterResult {
        var plan = plan
        plan.firstTask = rank * plan.taskCount
        var meetings: [Double] = []
        let (result, warnings) = try together { () throws(BenchError) -> (BenchResult, [String]) in
            try plan.checkBeforeRun(config: config)
            let runner = try BenchRunner(plan: plan)
            runner.beforeLoop = { () throws(BenchError) in meetings.append(try self.checkpoint()) }
            return (try runner.runOnce(operation, config: config), runner.warnings)
        }
        let mine = RankResult(rank: rank, host: collective.host, result: result, warnings: warnings,
                              meetingSeconds: meetings)
        return try gather(mine)
    }

    /// Every rank's result, on every rank (between `together` scopes: no rank is failing).
    func gather(_ mine: RankResult) throws(BenchError) -> ClusterResult {
        let all = collective.allGather(mine.encoded).map(RankResult.init(decoding:))
        // Every rank decodes the same bytes, so every rank throws here, or none.
        let ranks = all.compactMap { $0 }
        guard ranks.count == all.count, !ranks.isEmpty else {
            throw .runtime("the ranks' results could not be decoded (different aio-bench versions?)")
        }
        return ClusterResult(ranks: ranks)
    }
}

extension RankResult {
    init?(decoding bytes: [UInt8]) {
        guard let value = try? JSONDecoder().decode(RankResult.self, from: Data(bytes)) else { return nil }
        self = value
    }
}
