@testable import AIOBench
import AsyncIO
import Foundation
import Testing

/// The race's decision rule against a known truth: synthetic speeds with seeded noise, run through
/// the same loop the sweep runs (every configuration still racing runs once per round, in both
/// directions; the race is evaluated after every round from the second; it stops when decided, at
/// the run budget of a fixed 3-trial sweep, or at the most trials).
@Suite("Race")
struct RaceTests {
    struct Outcome {
        var pick: Int
        var runs: Int
        var standing: Race.Standing?
    }

    /// Races `truth` (read and write speed per configuration; index order is cost order) under the
    /// `time` objective with per-operation noise `noise` and a per-round drift common to all.
    /// With `factors` (each configuration's knob levels), round 1 already decides (screening).
    static func race(_ truth: [Double], noise: Double, seed: UInt64, drift: Double = 0,
                     rule: Race = Race(), factors: [[Int]]? = nil) -> Outcome {
        var rng = SplitMix64(seed: seed)
        func normal() -> Double {
            let u = (Double(rng.next() >> 11) + 0.5) / Double(1 << 53), v = (Double(rng.next() >> 11) + 0.5) / Double(1 << 53)
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        let k = truth.count
        var scores = [[Double]](repeating: [], count: k)
        var alive = Set(0..<k)
        var spent = 0
        let budget = 3 * k * 2
        var standing: Race.Standing?
        for round in 1...10 {
            guard spent + alive.count * 2 <= budget else { break }
            let trend = 1 + drift * Double(round)
            for c in alive.sorted() {
                let read = truth[c] * trend * (1 + noise * normal())
                let write = truth[c] * trend * (1 + noise * normal())
                scores[c].append(log(1 / (1 / read + 1 / write)))
                spent += 2
            }
            guard round >= 2 || factors != nil else { continue }
            let now = rule.standing(scores: scores, alive: alive, factors: factors)
            alive = now.alive
            standing = now
            if now.isDecided { break }
            // As the sweep does: stop when no undecided configuration could be decided in what is left.
            let affordable = (budget - spent) / (alive.count * 2)
            if round >= 3, !rule.canStillDecide(now, within: round + min(10 - round, affordable)) { break }
        }
        guard let standing else { return Outcome(pick: -1, runs: spent, standing: nil) }
        let pick = standing.equivalent.count > 1 ? standing.equivalent.min()! : standing.leader
        return Outcome(pick: pick, runs: spent, standing: standing)
    }

    @Test("one configuration 10 % faster, 6 % noise: picked in at least 19 of 20 seeds, within the fixed budget")
    func findsTheFastest() {
        var truth = [Double](repeating: 1, count: 16)
        truth[9] = 1.1
        var hits = 0
        for seed in 0..<20 {
            let outcome = Self.race(truth, noise: 0.06, seed: UInt64(seed))
            #expect(outcome.runs <= 3 * 16 * 2, "seed \(seed) spent \(outcome.runs) runs")
            if outcome.pick == 9 { hits += 1 }
        }
        #expect(hits >= 19, "picked the fastest in \(hits) of 20 seeds")
    }

    @Test("a top three within 1 % ends as an equivalence set, and the cheapest of them is picked")
    func equivalentTopThree() {
        var truth = [Double](repeating: 1, count: 16)
        truth[5] = 1.1
        truth[6] = 1.11
        truth[7] = 1.105
        for seed in 0..<10 {
            let outcome = Self.race(truth, noise: 0.005, seed: UInt64(seed))
            #expect(outcome.standing?.equivalent == [5, 6, 7], "seed \(seed): \(String(describing: outcome.standing))")
            #expect(outcome.pick == 5, "seed \(seed)")
        }
    }

    @Test("a drift common to every configuration does not change the pick (rounds are paired)")
    func driftCancels() {
        var truth = [Double](repeating: 1, count: 16)
        truth[3] = 1.1
        for seed in 0..<20 {
            let plain = Self.race(truth, noise: 0.06, seed: UInt64(seed))
            let drifting = Self.race(truth, noise: 0.06, seed: UInt64(seed), drift: 0.08)
            #expect(plain.pick == drifting.pick, "seed \(seed)")
        }
    }

    @Test("on a flat, noisy device most stay in, nothing is shown equivalent, and the race costs at most the fixed schedule")
    func flatDevice() {
        for seed in 0..<5 {
            let outcome = Self.race([Double](repeating: 1, count: 16), noise: 0.3, seed: UInt64(seed))
            #expect(outcome.runs <= 3 * 16 * 2 && outcome.runs > 2 * 16 * 2, "seed \(seed): \(outcome.runs) runs")
            #expect((outcome.standing?.alive.count ?? 0) > 8, "seed \(seed)")
            #expect(outcome.standing?.equivalent.count == 1, "seed \(seed)")
        }
    }

    @Test("quantiles")
    func quantiles() {
        #expect(abs(Race.normalQuantile(0.95) - 1.644854) < 1e-5)
        #expect(abs(Race.normalQuantile(0.5)) < 1e-9)
        #expect(abs(Race.studentQuantile(0.95, degreesOfFreedom: 10) - 1.812) < 0.01)
        #expect(abs(Race.studentQuantile(0.975, degreesOfFreedom: 5) - 2.571) < 0.03)
        #expect(abs(Race.studentQuantile(0.95, degreesOfFreedom: 1_000_000) - 1.645) < 0.001)
    }
}
