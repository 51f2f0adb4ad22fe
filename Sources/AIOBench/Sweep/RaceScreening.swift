import Foundation
import AsyncIO

extension Race {
    /// The fewest residual degrees of freedom the round-1 noise estimate may rest on.
    static let minimumScreeningDegrees = 5.0

    /// The standing after round 1, from one score per configuration.
    ///
    /// One round gives no replicate of any configuration, so the noise is estimated from the grid's
    /// structure instead: the log scores are fitted with a model of the swept knobs (one effect per
    /// level of block size, queue depth, submit mode, overlap and parallelism, plus one per pair of
    /// levels of every two knobs when the grid is large enough; fitted by backfitting, so a grid with
    /// holes works too), and the residual standard deviation, with K − 1 minus the model's
    /// parameters as degrees of freedom, stands for the noise of one run. What the model cannot
    /// express (interactions of three knobs) lands in the residual too, so the estimate errs on the
    /// large side and the test on the cautious side. A configuration leaves when its score plus the
    /// Student-t bound on the difference of two single runs (σ·√2) is still below the leader's by the
    /// margin. Nil when too few degrees of freedom remain.
    func screening(scores: [[Double]], alive: Set<Int>, factors: [[Int]], leader: Int, means: [Double])
        -> Standing? {
        let members = alive.sorted()
        guard members.allSatisfy({ $0 < factors.count && !scores[$0].isEmpty }) else { return nil }
        let y = members.map { scores[$0][0] }
        let knobs = factors[members[0]].count
        // Each knob's levels among the members, renumbered 0..<L.
        var codes: [[Int]] = []
        var levelCounts: [Int] = []
        for f in 0..<knobs {
            let values = Array(Set(members.map { factors[$0][f] })).sorted()
            guard values.count > 1 else { continue }
            let index = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, $0) })
            codes.append(members.map { index[factors[$0][f]]! })
            levelCounts.append(values.count)
        }
        let k = Double(members.count)
        var df = k - 1 - Double(levelCounts.reduce(0) { $0 + $1 - 1 })
        guard df >= Race.minimumScreeningDegrees else { return nil }
        // Speed is rarely additive in the knobs (block size times queue depth saturates the device),
        // so every pair of knobs gets an effect of its own too, when enough degrees of freedom remain.
        var pairCodes: [[Int]] = []
        var pairCounts: [Int] = []
        var pairCost = 0.0
        for a in codes.indices {
            for b in codes.indices where b > a {
                pairCodes.append(zip(codes[a], codes[b]).map { $0 * levelCounts[b] + $1 })
                pairCounts.append(levelCounts[a] * levelCounts[b])
                pairCost += Double((levelCounts[a] - 1) * (levelCounts[b] - 1))
            }
        }
        if df - pairCost >= 2 * Race.minimumScreeningDegrees {
            codes += pairCodes
            levelCounts += pairCounts
            df -= pairCost
        }
        let residuals = Race.additiveResiduals(y, codes: codes, levelCounts: levelCounts)
        let sigma = (residuals.reduce(0) { $0 + $1 * $1 } / df).squareRoot()
        let t = Race.studentQuantile(confidence, degreesOfFreedom: df)
        let differenceError = sigma * 2.0.squareRoot()
        let margin = -log(1 - tolerance)
        var stillAlive: Set<Int> = [leader]
        var equivalent: Set<Int> = [leader]
        for c in members where c != leader {
            let difference = means[c] - means[leader]
            if difference + t * differenceError < -margin { continue }
            stillAlive.insert(c)
            if abs(difference) + t * differenceError < margin { equivalent.insert(c) }
        }
        return Standing(leader: leader, alive: stillAlive, equivalent: equivalent, means: means,
                        leaderHalfWidth: exp(t * sigma) - 1, decisionScale: differenceError * t)
    }

    /// Residuals of `y` after an additive fit (grand mean plus one effect per level of each factor),
    /// by backfitting: each factor's effects in turn become the mean of what the others leave.
    static func additiveResiduals(_ y: [Double], codes: [[Int]], levelCounts: [Int]) -> [Double] {
        let n = y.count
        let grand = y.reduce(0, +) / Double(max(n, 1))
        var effects = levelCounts.map { [Double](repeating: 0, count: $0) }
        var fitted = [Double](repeating: grand, count: n)
        for _ in 0..<50 {
            var change = 0.0
            for f in codes.indices {
                var sums = [Double](repeating: 0, count: levelCounts[f])
                var counts = [Double](repeating: 0, count: levelCounts[f])
                for i in 0..<n {
                    let level = codes[f][i]
                    sums[level] += y[i] - (fitted[i] - effects[f][level])
                    counts[level] += 1
                }
                for level in 0..<levelCounts[f] {
                    let updated = counts[level] > 0 ? sums[level] / counts[level] : 0
                    change = max(change, abs(updated - effects[f][level]))
                    effects[f][level] = updated
                }
                for i in 0..<n {
                    fitted[i] = grand + codes.indices.reduce(0) { $0 + effects[$1][codes[$1][i]] }
                }
            }
            if change < 1e-12 { break }
        }
        return (0..<n).map { y[$0] - fitted[$0] }
    }

    /// Each configuration's level of every knob a sweep varies (block size, queue depth, submit
    /// mode, overlap, parallelism), for `screening`.
    static func factorLevels(_ configs: [HandleConfig]) -> [[Int]] {
        configs.map { c in
            [c.blockSize, c.queueDepth, c.singleSubmit ? 1 : 0, c.overlapEvents ? 1 : 0, c.intraOpParallelism]
        }
    }
}
