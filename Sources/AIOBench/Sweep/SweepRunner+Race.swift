import AsyncIO
import Foundation

extension SweepRunner {
    /// Runs (or resumes) a race: the planner names each round's members, every swept operation of a
    /// member runs one trial (or takes the next trial its log already holds, so a resumed race replays
    /// its rounds and meets the same decisions), and the race ends with a pick and what is known of it.
    func runRace(_ race: Race, jobs: inout [Job], runners: inout [Int: BenchRunner], flush: PageCacheFlush?,
                 tally: inout Tally, wallStart: UInt64, loopStart: UInt64) throws(BenchError) -> RaceSummary? {
        let configurations = space.configurations
        let count = configurations.count
        var planner = RacePlanner(race: race, factors: Race.factorLevels(configurations),
                                  costRank: Race.costRank(configurations), maxTrials: options.maxTrials)
        let jobsOf = (0..<count).map { c in jobs.indices.filter { jobs[$0].configIndex == c } }
        let fixedRuns = 3 * jobs.count
        let budget = options.budgetRuns ?? fixedRuns / 2
        tally.totalRuns = max(0, budget - jobs.reduce(0) { $0 + $1.trials.count })
        var used = [Int](repeating: 0, count: count)
        var lastRound = [Int](repeating: 0, count: count)
        var failed = Set(jobs.filter { $0.error != nil }.map(\.configIndex))
        var spent = 0
        roundLoop: while true {
            var members = planner.beginRound().filter { !failed.contains($0) }
            guard !members.isEmpty else {
                planner.stop("no configuration is left to run")
                break
            }
            let perMember = max(1, jobsOf[members[0]].count)
            let affordable = (budget - spent) / perMember
            if affordable < members.count {
                guard affordable >= 2 else {
                    planner.stop("the run budget (\(budget) runs) is spent")
                    break
                }
                members = Array(members.prefix(affordable))
            }
            if let seconds = options.budgetSeconds, Double(monotonicNanos() - wallStart) / 1e9 >= seconds {
                planner.stop("the time budget (\(SweepEvent.duration(seconds))) is spent")
                break
            }
            // Run in an order seeded by the round (the same on a resume); record in the planner's order.
            var order = members
            var generator = SplitMix64(seed: UInt64(planner.round))
            order.shuffle(using: &generator)
            var scores: [Int: Double] = [:]
            for c in order {
                var speeds: [IOOperation: Double] = [:]
                for j in jobsOf[c] {
                    if jobs[j].trials.count <= used[c] {
                        try runTrial(&jobs[j], runners: &runners, flush: flush, tally: &tally, loopStart: loopStart)
                        if tally.aborted != nil { break roundLoop }
                    }
                    spent += 1
                    guard jobs[j].error == nil, used[c] < jobs[j].trials.count else {
                        failed.insert(c)
                        break
                    }
                    speeds[jobs[j].operation] = jobs[j].trials[used[c]].e2eSpeed
                }
                used[c] += 1
                lastRound[c] = planner.round
                if !failed.contains(c) { scores[c] = raceScore(speeds) }
            }
            for c in members { if let score = scores[c] { planner.record(c, score: score) } }
            planner.finishRound()
        }
        guard tally.aborted == nil else { return nil }
        if let assessment = planner.assessment {
            try markVerdicts(&jobs, assessment: assessment, lastRound: lastRound)
        }
        return RaceSummary(race: race, rounds: planner.round, configurations: count, assessment: planner.assessment,
                           names: configurations.map(\.description), runs: spent, fixedRuns: fixedRuns,
                           budget: budget, stopReason: planner.stopReason ?? "done")
    }

    /// Notes the race's verdict in every log: the pick, the others shown within its margin, and those
    /// shown slower than the best by more than the tolerance (they left the race after their last round).
    private func markVerdicts(_ jobs: inout [Job], assessment: RaceAssessment, lastRound: [Int]) throws(BenchError) {
        let contenders = Set(assessment.contenders)
        for j in jobs.indices where jobs[j].error == nil {
            let c = jobs[j].configIndex
            let verdict = c == assessment.pick ? Race.leaderNote
                : assessment.equivalent.contains(c) ? Race.equivalentNote : nil
            let left = verdict == nil && !contenders.contains(c) && lastRound[c] > 0 ? lastRound[c] : nil
            guard verdict != jobs[j].verdict || left != jobs[j].leftAfter else { continue }
            jobs[j].verdict = verdict
            jobs[j].leftAfter = left
            try writeLog(jobs[j])
        }
    }

    /// A round's log score of one configuration from its operations' speeds: the log of its speed
    /// under the sweep's objective (`time`: 1/(1/read + 1/write); `sum`: read + write).
    func raceScore(_ speeds: [IOOperation: Double]) -> Double {
        let read = speeds[.read] ?? 0, write = speeds[.write] ?? 0
        let value: Double
        switch (options.read && options.write) ? options.objective : (options.read ? .read : .write) {
        case .read: value = read
        case .write: value = write
        case .sum: value = read + write
        case .time: value = 1 / (1 / read + 1 / write)
        }
        return log(max(value, 1e-12))
    }
}

extension Race {
    /// Each configuration's value of every knob a sweep varies (block size, queue depth, submit mode,
    /// overlap, parallelism, tasks per folder, engine), for the model.
    static func factorLevels(_ configurations: [SweepConfiguration]) -> [[Int]] {
        let engines = Array(Set(configurations.map { $0.engine?.rawValue ?? "" })).sorted()
        return configurations.map { c in
            let k = c.knobs
            return [k.blockSize, k.queueDepth, k.singleSubmit ? 1 : 0, k.overlapEvents ? 1 : 0, k.intraOpParallelism,
                    c.tasksPerFolder, engines.firstIndex(of: c.engine?.rawValue ?? "")!]
        }
    }

    /// Each configuration's place in cost order: fewest io_parallel, then lowest queue depth, then
    /// smallest block size, then fewest tasks (as `ParamGenerator.cheaper`), then sweep order.
    static func costRank(_ configurations: [SweepConfiguration]) -> [Int] {
        let order = configurations.indices.sorted { a, b in
            let x = configurations[a], y = configurations[b]
            return (x.intraOpParallelism, x.queueDepth, x.blockSize, x.tasksPerFolder, a)
                < (y.intraOpParallelism, y.queueDepth, y.blockSize, y.tasksPerFolder, b)
        }
        var rank = [Int](repeating: 0, count: configurations.count)
        for (r, c) in order.enumerated() { rank[c] = r }
        return rank
    }
}
