import Foundation

/// Adaptive trials ("racing"): after every round, a configuration leaves the race when it is slower
/// than the leader by more than the practical-equivalence margin with the stated confidence, and the
/// race ends when one configuration is left, or every one left is equivalent to the leader within the
/// margin.
///
/// The method: each configuration's score per round is the log of its speed (for `time` and `sum`,
/// of the combined speed of its read and write in that round), so ratios become differences and drift
/// common to a round cancels in the pairing. The noise is estimated from every configuration still in
/// the race at once: the residuals of a two-way (configuration × round) model, with (K−1)(n−1) degrees
/// of freedom. A configuration's difference from the leader has standard error σ·√(2/n) and a
/// Student-t bound at the confidence; it leaves when the upper bound is below log(1 − tolerance), and is
/// equivalent when the whole interval lies within ±log(1 − tolerance) (two one-sided tests).
public struct Race: Sendable, Equatable {
    /// The confidence of each decision (0.95).
    var confidence: Double
    /// The practical-equivalence margin as a fraction of the leader's speed (0.03).
    var tolerance: Double

    /// Creates a race with its decision rule.
    public init(confidence: Double = 0.95, tolerance: Double = 0.03) {
        self.confidence = confidence
        self.tolerance = tolerance
    }

    /// Where the race stands after some rounds.
    struct Standing: Sendable, Equatable {
        /// The configuration with the highest mean score (an index into the scores given).
        var leader: Int
        /// Configurations still in the race (the leader among them).
        var alive: Set<Int>
        /// Configurations shown equivalent to the leader within the margin (the leader among them).
        var equivalent: Set<Int>
        /// Each configuration's mean score (log of its speed) over the rounds it ran.
        var means: [Double]
        /// The half-width of the leader's confidence interval as a fraction of its speed (nil before 2 rounds).
        var leaderHalfWidth: Double?
        /// The Student-t bound on a difference of two single runs (t·σ·√2, in log speed): after n
        /// rounds a difference is known to within this over √n. Nil when nothing could be estimated.
        var decisionScale: Double? = nil

        /// Whether the race has decided: one configuration left, or all left equivalent to the leader.
        var isDecided: Bool { alive.count == 1 || alive == equivalent }
    }

    /// The standing after the rounds in `scores` (`scores[c][r]` is configuration `c`'s log score of
    /// round `r`; configurations that left the race earlier have fewer rounds and stay out).
    /// `alive` are the configurations still racing before this evaluation.
    ///
    /// `factors[c]` (optional) gives configuration `c`'s level of each swept knob; with them, round 1
    /// already decides (see `screening`).
    func standing(scores: [[Double]], alive: Set<Int>, factors: [[Int]]? = nil) -> Standing {
        let means = scores.map { $0.isEmpty ? -Double.infinity : $0.reduce(0, +) / Double($0.count) }
        let leader = alive.max { means[$0] < means[$1] || (means[$0] == means[$1] && $0 > $1) } ?? 0
        let rounds = alive.map { scores[$0].count }.min() ?? 0
        if alive.count > 1, rounds == 1, let factors,
           let screened = screening(scores: scores, alive: alive, factors: factors, leader: leader, means: means) {
            return screened
        }
        guard alive.count > 1, rounds >= 2 else {
            return Standing(leader: leader, alive: alive, equivalent: alive.count == 1 ? alive : [leader],
                            means: means, leaderHalfWidth: nil)
        }
        // Two-way residuals over the rounds every racer ran.
        let members = alive.sorted()
        let k = Double(members.count)
        let n = Double(rounds)
        let rowMeans = members.map { c in scores[c].prefix(rounds).reduce(0, +) / n }
        let columnMeans = (0..<rounds).map { r in members.reduce(0) { $0 + scores[$1][r] } / k }
        let grand = rowMeans.reduce(0, +) / k
        var residual = 0.0
        for (i, c) in members.enumerated() {
            for r in 0..<rounds {
                let e = scores[c][r] - rowMeans[i] - columnMeans[r] + grand
                residual += e * e
            }
        }
        let df = (k - 1) * (n - 1)
        let sigma = (residual / df).squareRoot()
        let t = Race.studentQuantile(confidence, degreesOfFreedom: df)
        let differenceError = sigma * (2 / n).squareRoot()
        let margin = -log(1 - tolerance)
        var stillAlive: Set<Int> = [leader]
        var equivalent: Set<Int> = [leader]
        let leaderMean = rowMeans[members.firstIndex(of: leader)!]
        for (i, c) in members.enumerated() where c != leader {
            let difference = rowMeans[i] - leaderMean
            if difference + t * differenceError < -margin { continue }  // slower beyond the margin: out
            stillAlive.insert(c)
            if abs(difference) + t * differenceError < margin { equivalent.insert(c) }
        }
        let halfWidth = exp(t * sigma / n.squareRoot()) - 1
        return Standing(leader: leader, alive: stillAlive, equivalent: equivalent, means: means,
                        leaderHalfWidth: halfWidth, decisionScale: t * sigma * 2.0.squareRoot())
    }

    /// Whether some configuration still undecided (neither out nor shown equivalent) could be decided
    /// by `totalRounds` rounds, if its difference from the leader and the noise stay as they are now:
    /// leaving needs t·σ·√(2/n) below |difference| − margin, equivalence below margin − |difference|.
    /// When none could, more rounds would spend the budget and still end undecided.
    func canStillDecide(_ standing: Standing, within totalRounds: Int) -> Bool {
        guard !standing.isDecided else { return false }
        guard let scale = standing.decisionScale, scale > 0 else { return true }
        let margin = -log(1 - tolerance)
        for c in standing.alive.subtracting(standing.equivalent) {
            let gap = abs(abs(standing.means[c] - standing.means[standing.leader]) - margin)
            guard gap > 0 else { continue }
            let needed = (scale / gap) * (scale / gap)
            if needed <= Double(totalRounds) { return true }
        }
        return false
    }

    /// The one-sided Student-t quantile (Cornish–Fisher expansion of the normal quantile; within 1 %
    /// of the exact value from 3 degrees of freedom up, and a small table below).
    static func studentQuantile(_ p: Double, degreesOfFreedom df: Double) -> Double {
        let z = normalQuantile(p)
        if df < 1.5, abs(p - 0.95) < 1e-9 { return 6.314 }
        if df < 2.5, abs(p - 0.95) < 1e-9 { return 2.920 }
        let z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z
        return z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df * df)
            + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df * df * df)
    }

    /// The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9).
    static func normalQuantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
                 -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                 -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
                 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low { return -normalQuantile(1 - p) }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
