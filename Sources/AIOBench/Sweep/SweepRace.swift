import AsyncIO
import Foundation

extension Race {
    /// The `note:` of a log whose configuration left the race: `left the race after round 2`.
    static let leftNotePrefix = "left the race after round"
    /// The `note:` of the race's leader at its end.
    static let leaderNote = "race: the leader"
    /// The `note:` of a configuration shown equivalent to the leader (the cheapest of these wins).
    static let equivalentNote = "race: equivalent to the leader within the margin"
    /// The `note:` of a configuration neither out of the race nor shown equivalent.
    static let undecidedNote = "race: could not be told apart from the leader"

    /// The verdict note of configuration `index` in a final standing (nil for one out of the race).
    static func verdict(_ index: Int, in standing: Standing) -> String? {
        if index == standing.leader { return leaderNote }
        if standing.equivalent.contains(index) { return equivalentNote }
        return standing.alive.contains(index) ? undecidedNote : nil
    }
}

/// How a sweep's race went: rounds, who left, what is known of the winner, what it cost.
struct RaceSummary: Sendable {
    /// The decision rule.
    var race: Race
    /// Rounds run.
    var rounds: Int
    /// Configurations that started.
    var configurations: Int
    /// The last standing (nil when the race stopped before round 2).
    var standing: Race.Standing?
    /// Each configuration's description, by index.
    var names: [String]
    /// Runs spent (trials of every configuration and operation), resumed ones included.
    var runs: Int
    /// What a fixed 3-trial sweep spends.
    var fixedRuns: Int
    /// Why the race stopped.
    var stopReason: String

    init(race: Race, rounds: Int, configurations: Int, standing: Race.Standing?, names: [String], runs: Int,
         fixedRuns: Int, stopReason: String) {
        self.race = race
        self.rounds = rounds
        self.configurations = configurations
        self.standing = standing
        self.names = names
        self.runs = runs
        self.fixedRuns = fixedRuns
        self.stopReason = stopReason
    }

    /// The lines `sweep` and `tune` print.
    var lines: [String] {
        let percent = Int((race.confidence * 100).rounded())
        let left = configurations - (standing?.alive.count ?? configurations)
        var lines = ["race: \(configurations) configurations, \(rounds) round\(rounds == 1 ? "" : "s"), "
            + "\(left) left the race; \(runs) runs against \(fixedRuns) for a fixed 3-trial sweep "
            + String(format: "(%.0f %%); stopped: %@", Double(runs) / Double(max(fixedRuns, 1)) * 100, stopReason)]
        guard let standing else {
            lines.append("race: fewer than 2 rounds: nothing could be told apart")
            return lines
        }
        if let width = standing.leaderHalfWidth {
            lines.append(String(format: "race leader: %@, score ±%.1f %% at %d %%", names[standing.leader],
                                width * 100, percent))
        }
        if standing.equivalent.count > 1 {
            lines.append("these \(standing.equivalent.count) are equivalent within "
                + "\(Int((race.tolerance * 100).rounded())) % (the cheapest is chosen)")
        }
        let undecided = standing.alive.subtracting(standing.equivalent)
        if !undecided.isEmpty {
            lines.append("\(undecided.count) configuration\(undecided.count == 1 ? "" : "s") could not be told apart "
                + "from the leader at \(percent) % within the budget (more trials, or --budget, would decide)")
        }
        return lines
    }
}

extension SweepRunner {
    /// Each configuration's log score per round, for the race: the log of its speed under the
    /// sweep's objective (`time`: of 1/(1/read + 1/write); `sum`: of read + write), over the rounds
    /// that every swept operation of it ran.
    func raceScores(_ jobs: [Job], count: Int) -> [[Double]] {
        var read = [[Double]](repeating: [], count: count)
        var write = [[Double]](repeating: [], count: count)
        for job in jobs {
            let speeds = job.trials.map(\.e2eSpeed)
            if job.operation == .read { read[job.configIndex] = speeds } else { write[job.configIndex] = speeds }
        }
        return (0..<count).map { c in
            let r = read[c], w = write[c]
            let rounds = options.read && options.write ? min(r.count, w.count) : max(r.count, w.count)
            return (0..<rounds).map { i in
                let readSpeed = i < r.count ? r[i] : 0, writeSpeed = i < w.count ? w[i] : 0
                let value: Double
                switch (options.read && options.write) ? options.objective : (options.read ? .read : .write) {
                case .read: value = readSpeed
                case .write: value = writeSpeed
                case .sum: value = readSpeed + writeSpeed
                case .time: value = 1 / (1 / readSpeed + 1 / writeSpeed)
                }
                return log(max(value, 1e-12))
            }
        }
    }
}
