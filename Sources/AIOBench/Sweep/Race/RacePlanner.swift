import AsyncIO
import Foundation

/// The race's rounds: which configurations run next, and when it ends. Pure bookkeeping: the sweep
/// runs the members of each round and records their scores; the race's tests do the same on
/// simulated drives. Deterministic given the scores, so a resumed race replays its rounds from the
/// logs and meets the same decisions.
struct RacePlanner: Sendable {
    /// The decision rule.
    let race: Race
    /// Each configuration's value of every swept knob.
    let factors: [[Int]]
    /// Each configuration's place in cost order (lower is cheaper).
    let costRank: [Int]
    /// The most runs of its own a configuration gets.
    let maxTrials: Int
    /// Grids larger than this start with a half fraction (see `firstRound`).
    static let fractionAbove = 96

    /// Every score so far.
    private(set) var observations: [RaceObservation] = []
    /// Rounds begun.
    private(set) var round = 0
    /// The assessment after the last finished round.
    private(set) var assessment: RaceAssessment?
    /// Why the race ended (nil while it goes on).
    private(set) var stopReason: String?

    init(race: Race, factors: [[Int]], costRank: [Int], maxTrials: Int) {
        self.race = race
        self.factors = factors
        self.costRank = costRank
        self.maxTrials = maxTrials
    }

    /// Runs of its own of each configuration.
    var ownRuns: [Int] {
        var own = [Int](repeating: 0, count: factors.count)
        for o in observations { own[o.config] += 1 }
        return own
    }

    /// Round 1: every configuration, or for a grid of more than `fractionAbove` a half fraction: the
    /// configurations whose knob levels (numbered from 0) add up to an even number. For two-level knobs
    /// that is the half of a 2^k design whose defining relation is the interaction of all knobs, so
    /// every main effect and two-knob interaction stays estimable; the model then points at the half
    /// not yet run.
    var firstRound: [Int] {
        let all = Array(factors.indices)
        guard factors.count > Self.fractionAbove else { return all }
        let design = KnobDesign(factors: factors)
        return all.filter { design.levels[$0].reduce(0, +) % 2 == 0 }
    }

    /// Begins the next round and returns its members, most informative first (empty: the race is over,
    /// `stopReason` says why).
    mutating func beginRound() -> [Int] {
        guard stopReason == nil else { return [] }
        guard let assessment else {
            round = 1
            return firstRound
        }
        if assessment.reachedTolerance {
            stopReason = "the pick is shown within \(Race.percent(race.tolerance)) of the best"
            return []
        }
        let own = ownRuns
        var members: [Int] = []
        let cap = max(4, (factors.count + 7) / 8)
        // Suspected outliers first (their runs decide whether the knobs predict them); then half the
        // round for the cheapest contenders, those with fewer than 3 runs first (the pick is the
        // cheapest shown good enough, and a margin needs runs of its own); then the most promising.
        let cheapest = assessment.contenders.filter { own[$0] < maxTrials }
            .sorted { (min(own[$0], 3), costRank[$0]) < (min(own[$1], 3), costRank[$1]) }.prefix(cap / 2)
        for c in assessment.suspects + cheapest + assessment.contenders where own[c] < maxTrials && !members.contains(c) {
            members.append(c)
        }
        if members.count > cap { members = Array(members.prefix(cap)) }
        if members.isEmpty {
            stopReason = assessment.contenders.isEmpty ? "no configuration is left that could narrow the margin"
                : "every configuration that could narrow the margin has --max_trials \(maxTrials) runs"
            return []
        }
        round += 1
        return members
    }

    /// Records configuration `config`'s score (log speed) in the current round.
    mutating func record(_ config: Int, score: Double) {
        observations.append(RaceObservation(config: config, round: round, score: score))
    }

    /// Ends the round: assesses every score so far.
    @discardableResult
    mutating func finishRound() -> RaceAssessment {
        let now = race.assess(observations, factors: factors, costRank: costRank)
        assessment = now
        return now
    }

    /// Ends the race from outside (a budget), with the reason.
    mutating func stop(_ reason: String) {
        if stopReason == nil { stopReason = reason }
    }
}

extension Race {
    /// `3 %`, `2.5 %`: a fraction as a percentage with at most one decimal.
    static func percent(_ fraction: Double) -> String {
        let value = fraction * 100
        return value == value.rounded() ? "\(Int(value)) %" : String(format: "%.1f %%", value)
    }
}
