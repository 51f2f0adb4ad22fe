@testable import AIOBench
import AsyncIO
import Foundation
import Testing

/// Round-1 screening: the noise of one run estimated from an additive model of the grid's knobs.
@Suite("Race: screening after round 1")
struct RaceScreeningTests {
    /// A 64-point grid (block 128K…8M × queue depth 4…128 × single submit × overlap), in cost order
    /// (index grows with block, then queue depth), and a drive whose speed grows with bytes in flight
    /// up to 3.2 GiB/s, with single submit costing 4 % and overlap gaining 3 %.
    static let grid: (truth: [Double], factors: [[Int]]) = {
        var truth: [Double] = []
        var factors: [[Int]] = []
        for (b, block) in [128.0, 256, 1024, 8192].enumerated() {
            for (q, depth) in [4.0, 16, 32, 128].enumerated() {
                for single in 0..<2 {
                    for overlap in 0..<2 {
                        let inFlight = block * depth / 1024  // MiB
                        var speed = 3.2 * inFlight / (inFlight + 2.5)
                        if single == 1 { speed *= 0.96 }
                        if overlap == 1 { speed *= 1.03 }
                        truth.append(speed)
                        factors.append([b, q, single, overlap])
                    }
                }
            }
        }
        return (truth, factors)
    }()

    @Test("the grid's residuals vanish for an additive truth and are the noise otherwise")
    func additiveFit() {
        // y = 1 + a[level0] + b[level1]: an exact fit.
        let codes = [[0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 1]]
        let y = zip(codes[0], codes[1]).map { 1 + [0.0, 0.5, 2][$0] + [0.0, -0.25][$1] }
        let residuals = Race.additiveResiduals(y, codes: codes, levelCounts: [3, 2])
        #expect(residuals.allSatisfy { abs($0) < 1e-9 }, "\(residuals)")
        // One observation off by 0.6: the residuals are not all zero and sum to zero per level.
        var bumped = y
        bumped[0] += 0.6
        let off = Race.additiveResiduals(bumped, codes: codes, levelCounts: [3, 2])
        #expect(off.map(abs).max()! > 0.1)
        #expect(abs(off.reduce(0, +)) < 1e-9)
    }

    @Test("round 1 sends the clearly slow away; the pick stays within the margin of the best in 19 of 20 seeds")
    func screensARealisticGrid() {
        let (truth, factors) = Self.grid
        let best = truth.max()!
        var good = 0
        var runs: [Int] = []
        for seed in 0..<20 {
            let outcome = RaceTests.race(truth, noise: 0.05, seed: UInt64(seed), factors: factors)
            runs.append(outcome.runs)
            #expect(outcome.runs <= 3 * 64 * 2, "seed \(seed) spent \(outcome.runs) runs")
            if truth[outcome.pick] >= best * (1 - 0.03) { good += 1 }
        }
        #expect(good >= 19, "the pick was within 3 % of the best in \(good) of 20 seeds")
        // Without screening every configuration runs at least twice (256 runs); with it, the median
        // race spends less than that.
        #expect(runs.sorted()[10] < 2 * 64 * 2, "runs per seed: \(runs)")
    }

    @Test("a fastest configuration that stands clear ends the race after round 1: a third of the fixed schedule")
    func clearWinnerEndsAtRoundOne() {
        // The same 64-point grid; 8M blocks are 50 % faster, and one of them (qd 128, batch, overlap)
        // twice as fast as the rest: every other configuration is at least 25 % behind it.
        let factors = Self.grid.factors
        let truth = factors.map { f -> Double in
            f == [3, 3, 0, 1] ? 2.0 : f[0] == 3 ? 1.5 : 1.0
        }
        let best = truth.firstIndex(of: 2.0)!
        var endedAtRoundOne = 0
        for seed in 0..<20 {
            let outcome = RaceTests.race(truth, noise: 0.01, seed: UInt64(seed), factors: factors)
            #expect(outcome.pick == best, "seed \(seed) picked \(outcome.pick)")
            if outcome.runs == 64 * 2 { endedAtRoundOne += 1 }
        }
        // Round 1 is 128 runs, a third of the fixed 3-trial schedule's 384.
        #expect(endedAtRoundOne >= 18, "ended after round 1 in \(endedAtRoundOne) of 20 seeds")
    }

    @Test("screening keeps a configuration 10 % faster than 15 equal ones: picked in 19 of 20 seeds")
    func screeningKeepsTheFastest() {
        var truth = [Double](repeating: 1, count: 16)
        truth[9] = 1.1
        let factors = (0..<16).map { [$0 / 4, $0 % 4] }
        var hits = 0
        for seed in 0..<20 where RaceTests.race(truth, noise: 0.06, seed: UInt64(seed), factors: factors).pick == 9 {
            hits += 1
        }
        #expect(hits >= 19, "picked the fastest in \(hits) of 20 seeds")
    }

    @Test("too few configurations for a noise estimate: round 1 decides nothing")
    func tooSmallToScreen() {
        let race = Race()
        let scores: [[Double]] = [[0.0], [-2.0], [0.1], [-3.0]]
        let factors = [[0, 0], [0, 1], [1, 0], [1, 1]]
        let standing = race.standing(scores: scores, alive: [0, 1, 2, 3], factors: factors)
        #expect(standing.alive == [0, 1, 2, 3])
        #expect(standing.leaderHalfWidth == nil)
    }
}
