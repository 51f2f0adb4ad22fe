import AsyncIO
import Foundation

/// What the race knows after some rounds (see `Race.assess`).
struct RaceAssessment: Sendable {
    /// Each configuration's estimated log speed (differences are what count).
    var estimates: [Double]
    /// The noise of one run (the model's residual standard deviation, in log speed).
    var sigma: Double
    /// The residual degrees of freedom.
    var degreesOfFreedom: Int
    /// The configuration recommended: the cheapest shown within `margin` of the best.
    var pick: Int
    /// The margin shown for the pick, in log speed (at least the tolerance); nil when no configuration
    /// has the runs to be picked.
    var margin: Double?
    /// Configurations shown within `margin` of the best, each with at least two runs (the pick among them).
    var equivalent: Set<Int>
    /// Configurations that could still be within the tolerance of the best, most promising first.
    var contenders: [Int]
    /// Configurations whose runs sit above what their knobs predict, not yet beyond doubt.
    var suspects: [Int]
    /// Configurations judged on their own runs (their runs disagree with the model).
    var outliers: [Int]
    /// The two-knob interactions in the model (indices into the factors given).
    var pairs: [(Int, Int)]
    /// Each knob level's effect against the knob's first level.
    var effects: [KnobEffect]
    /// Whether the pick is shown within the tolerance.
    var reachedTolerance: Bool

    /// The margin as a fraction of the best's speed (0.03 for 3 %).
    var marginFraction: Double? { margin.map { 1 - exp(-$0) } }
    /// The noise of one run as a fraction (± at one standard deviation).
    var noiseFraction: Double { exp(sigma) - 1 }
}

/// One knob level's effect on speed against the knob's first level, averaged over the other knobs.
struct KnobEffect: Sendable, Equatable {
    /// The knob's index in the factors given.
    var knob: Int
    /// The level's value and the reference level's value (raw factor values).
    var value: Int
    var reference: Int
    /// The effect in log speed and the half-width of its interval at the race's confidence (two-sided).
    var estimate: Double
    var halfWidth: Double

    /// The ratio − 1 (0.118 for +11.8 %).
    var change: Double { exp(estimate) - 1 }
    /// The interval's half-width as a fraction of speed.
    var changeHalfWidth: Double { (exp(estimate + halfWidth) - exp(estimate - halfWidth)) / 2 }
    /// Whether the interval excludes no effect.
    var isShown: Bool { abs(estimate) > halfWidth }
}

extension Race {
    /// Assesses the observations of `factors.count` configurations (`factors[c]`: configuration `c`'s
    /// value of every swept knob; `costRank[c]`: its place in cost order, lower is cheaper).
    func assess(_ observations: [RaceObservation], factors: [[Int]], costRank: [Int]) -> RaceAssessment {
        let k = factors.count
        var own = [Int](repeating: 0, count: k)
        for o in observations { own[o.config] += 1 }
        var design = KnobDesign(factors: factors)
        design.rounds = observations.map(\.round).max() ?? 1
        design.choosePairs(observations, minimumDegrees: Race.minimumDegrees)
        var fit = design.fit(observations)
        // Lack of fit: a configuration whose runs disagree with the model gets an effect of its own.
        var lackOfFit = lackOfFitStatistics(design, fit, observations, own)
        for _ in 0..<6 {
            let tested = own.filter { $0 > 0 }.count
            let threshold = Race.studentQuantile(1 - (1 - confidence) / Double(2 * max(tested, 1)),
                                                 degreesOfFreedom: Double(max(fit.degreesOfFreedom - 1, 1)))
            guard let worst = lackOfFit.indices.filter({ !design.outliers.contains($0) })
                    .max(by: { abs(lackOfFit[$0].t) < abs(lackOfFit[$1].t) }),
                  abs(lackOfFit[worst].t) > threshold, fit.degreesOfFreedom - 1 >= Race.minimumDegrees else { break }
            design.outliers.append(worst)
            design.choosePairs(observations, minimumDegrees: Race.minimumDegrees)
            fit = design.fit(observations)
            lackOfFit = lackOfFitStatistics(design, fit, observations, own)
        }
        let df = max(fit.degreesOfFreedom, 1)
        let sigma = fit.degreesOfFreedom > 0 ? (fit.residualSumOfSquares / Double(df)).squareRoot() : .infinity
        let rows = (0..<k).map(design.configurationRow)
        let estimates = rows.map(fit.predict)
        let g = rows.map(fit.whiten)
        let leader = (0..<k).max { estimates[$0] < estimates[$1] || (estimates[$0] == estimates[$1] && $0 > $1) } ?? 0
        func spread(_ i: Int, _ j: Int) -> Double {
            var s = 0.0
            for (a, b) in zip(g[i], g[j]) where a != b { s += (a - b) * (a - b) }
            return s.squareRoot()
        }
        let tol = logTolerance
        var result = RaceAssessment(
            estimates: estimates, sigma: sigma, degreesOfFreedom: fit.degreesOfFreedom,
            pick: leader, margin: nil, equivalent: [], contenders: [], suspects: [], outliers: design.outliers,
            pairs: design.pairs.map { (design.knobIndex[$0.first], design.knobIndex[$0.second]) }, effects: [],
            reachedTolerance: false)
        guard sigma.isFinite else {
            result.contenders = (0..<k).sorted { (own[$0], costRank[$0]) < (own[$1], costRank[$1]) }
            return result
        }
        // Who could be the best: Dunnett's critical value for comparisons against each of them.
        let plausible = Array((0..<k).filter { estimates[$0] + 4 * sigma * spread($0, leader) >= estimates[leader] }
            .sorted { estimates[$0] > estimates[$1] }.prefix(8))
        let d = dunnettCritical(g: g, against: plausible, degreesOfFreedom: df,
                                seed: UInt64(observations.count) &* 0x9E37_79B9_7F4A_7C15)
        // Hsu's lower bound: configuration c is within m_c of the best (log), simultaneously.
        func marginOf(_ c: Int) -> Double {
            var worst = 0.0
            for j in 0..<k where j != c {
                worst = max(worst, estimates[j] - estimates[c] + d * sigma * spread(j, c))
            }
            return worst
        }
        let eligible = (0..<k).filter { own[$0] >= Race.ownRunsToPick }
        let margins = Dictionary(uniqueKeysWithValues: eligible.map { ($0, marginOf($0)) })
        if let best = margins.values.min() {
            // Shown within the tolerance: the cheapest so shown. Short of it, a cheaper configuration
            // whose margin is within the tolerance of the smallest one is worth its weaker statement
            // (differences inside the tolerance do not matter to the user): the cheapest of those,
            // with its own margin.
            let allowed = best <= tol ? tol : best + tol
            let within = eligible.filter { margins[$0]! <= allowed + 1e-12 }
            let pick = within.min { costRank[$0] < costRank[$1] }!
            let shown = max(tol, margins[pick]!)
            result.margin = shown
            result.equivalent = Set(within.filter { margins[$0]! <= shown + 1e-12 })
            result.pick = pick
            result.reachedTolerance = best <= tol
        }
        // Contenders: could be within the tolerance of the best (Hsu's upper bound above −tolerance).
        var upper: [Int: Double] = [:]
        for c in 0..<k where estimates[c] + d * sigma * spread(c, leader) > estimates[leader] - tol || c == leader {
            var bound = Double.infinity
            for j in 0..<k where j != c { bound = min(bound, estimates[c] - estimates[j] + d * sigma * spread(c, j)) }
            if bound > -tol { upper[c] = bound }
        }
        result.contenders = upper.keys.sorted { (upper[$0]!, -costRank[$0]) > (upper[$1]!, -costRank[$1]) }
        let suspicion = Race.normalQuantile(0.8)
        result.suspects = (0..<k).filter { c in
            !design.outliers.contains(c) && lackOfFit[c].t > suspicion
                && estimates[c] + lackOfFit[c].shift >= estimates[leader] - 2 * tol && upper[c] == nil
        }
        result.effects = knobEffects(design, fit, sigma: sigma, degreesOfFreedom: df)
        return result
    }

    /// Per configuration: how far its own runs sit from the model (the shift an effect of its own would
    /// take) and that shift's t statistic, from the residuals of the fit without such an effect.
    private func lackOfFitStatistics(_ design: KnobDesign, _ fit: LeastSquares, _ observations: [RaceObservation],
                                     _ own: [Int]) -> [(shift: Double, t: Double)] {
        var residualSum = [Double](repeating: 0, count: own.count)
        var rowSum = [[Double]](repeating: [], count: own.count)
        for (o, e) in zip(observations, fit.residuals) {
            residualSum[o.config] += e
            let row = design.row(o)
            rowSum[o.config] = rowSum[o.config].isEmpty ? row : zip(rowSum[o.config], row).map(+)
        }
        let rss = fit.residualSumOfSquares
        let df = Double(fit.degreesOfFreedom - 1)
        return own.indices.map { c in
            guard own[c] > 0, df >= 1, !design.outliers.contains(c) else { return (0, 0) }
            let w = fit.whiten(rowSum[c])
            let denominator = Double(own[c]) - w.reduce(0) { $0 + $1 * $1 }
            guard denominator > 1e-9 else { return (0, 0) }
            let shift = residualSum[c] / denominator
            let variance = max(rss - shift * shift * denominator, 1e-300) / df
            return (shift, shift * denominator.squareRoot() / variance.squareRoot())
        }
    }

    /// The critical value d such that, for each configuration i in `against`, the largest standardized
    /// amount by which another configuration's estimate errs above i's stays below d with the race's
    /// confidence (Dunnett's one-sided many-to-one value for the estimates' correlations, with the
    /// noise estimated on `degreesOfFreedom`); the largest over `against`. Seeded Monte Carlo.
    private func dunnettCritical(g: [[Double]], against: [Int], degreesOfFreedom df: Int, seed: UInt64) -> Double {
        let k = g.count
        guard k > 1, let p = g.first?.count else { return 0 }
        let draws = 400
        var rng = SplitMix64(seed: seed)
        func normal() -> Double {
            let u = (Double(rng.next() >> 11) + 0.5) / 9_007_199_254_740_992.0
            let v = (Double(rng.next() >> 11) + 0.5) / 9_007_199_254_740_992.0
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        let active = (0..<p).filter { col in g.contains { $0[col] != 0 } }
        let inverseSpread: [[Double]] = against.map { i in
            (0..<k).map { j in
                var s = 0.0
                for col in active { s += (g[i][col] - g[j][col]) * (g[i][col] - g[j][col]) }
                return s > 1e-24 ? 1 / s.squareRoot() : 0
            }
        }
        var maxima = [[Double]](repeating: [], count: against.count)
        var z = [Double](repeating: 0, count: k)
        let wh = 2 / (9 * Double(df))
        for _ in 0..<draws {
            let xi = active.map { _ in normal() }
            for j in 0..<k {
                var s = 0.0
                for (n, col) in active.enumerated() { s += g[j][col] * xi[n] }
                z[j] = s
            }
            // s = sqrt(chi²_df / df) by Wilson–Hilferty.
            let cube = 1 - wh + normal() * wh.squareRoot()
            let scale = max(cube * cube * cube, 1e-6).squareRoot()
            for (a, i) in against.enumerated() {
                var m = -Double.infinity
                for j in 0..<k where inverseSpread[a][j] > 0 { m = max(m, (z[j] - z[i]) * inverseSpread[a][j]) }
                maxima[a].append(m / scale)
            }
        }
        let index = min(draws - 1, Int((confidence * Double(draws)).rounded(.up)))
        return maxima.map { $0.sorted()[index] }.max() ?? 0
    }

    /// Each knob level against the knob's first level: the difference of the model's mean over the grid
    /// at that level and at the first (the knobs' part only), with its t interval.
    private func knobEffects(_ design: KnobDesign, _ fit: LeastSquares, sigma: Double, degreesOfFreedom: Int)
        -> [KnobEffect] {
        let t = Race.studentQuantile(1 - (1 - confidence) / 2, degreesOfFreedom: Double(degreesOfFreedom))
        var effects: [KnobEffect] = []
        let configs = design.levels.indices
        for (k, count) in design.levelCounts.enumerated() {
            func mean(_ level: Int) -> [Double] {
                let members = configs.filter { design.levels[$0][k] == level }
                var sum = [Double](repeating: 0, count: design.columns)
                for c in members { for (i, v) in design.knobRow(c).enumerated() where v != 0 { sum[i] += v } }
                return sum.map { $0 / Double(max(members.count, 1)) }
            }
            let base = mean(0)
            for level in 1..<count {
                let contrast = zip(mean(level), base).map(-)
                let w = fit.whiten(contrast)
                let se = sigma * w.reduce(0) { $0 + $1 * $1 }.squareRoot()
                effects.append(KnobEffect(knob: design.knobIndex[k], value: design.values[k][level],
                                          reference: design.values[k][0], estimate: fit.predict(contrast),
                                          halfWidth: t * se))
            }
        }
        return effects
    }
}
