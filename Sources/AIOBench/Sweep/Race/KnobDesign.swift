import Foundation

/// One race observation: configuration `config`'s log score in round `round` (1-based).
struct RaceObservation: Sendable, Equatable {
    var config: Int
    var round: Int
    var score: Double
}

/// The columns of the race's linear model of log speed: an intercept; one effect per level of each
/// swept knob (level 0 the reference); one per pair of levels of the two-knob interactions chosen;
/// one per configuration judged on its own runs (an outlier the knobs do not predict); one per round
/// after the first (drift common to a round cancels).
struct KnobDesign: Sendable {
    /// Each configuration's level of every knob that varies, as 0..<levelCounts[k].
    let levels: [[Int]]
    /// Levels per knob (each at least 2).
    let levelCounts: [Int]
    /// Two-knob interactions in the model (knob indices, first < second).
    var pairs: [Pair] = []
    /// Configurations with an effect of their own.
    var outliers: [Int] = []
    /// Rounds in the data (round effects for 2...rounds).
    var rounds: Int = 1

    /// Two knobs whose effects are not additive.
    struct Pair: Sendable, Hashable {
        var first: Int
        var second: Int
    }

    /// Keeps the knobs that vary among `factors` (each configuration's raw knob values) and numbers
    /// their levels in increasing value.
    init(factors: [[Int]]) {
        let knobs = factors.first?.count ?? 0
        var columns: [[Int]] = []
        var counts: [Int] = []
        var kept: [[Int]] = []
        for k in 0..<knobs {
            let values = Array(Set(factors.map { $0[k] })).sorted()
            guard values.count > 1 else { continue }
            let index = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, $0) })
            columns.append(factors.map { index[$0[k]]! })
            counts.append(values.count)
            kept.append(values)
        }
        levelCounts = counts
        values = kept
        levels = factors.indices.map { c in columns.map { $0[c] } }
        knobIndex = (0..<knobs).filter { k in Set(factors.map { $0[k] }).count > 1 }
    }

    /// For each knob kept, its index among the factors given.
    let knobIndex: [Int]
    /// For each knob kept, its raw value at each level.
    let values: [[Int]]

    /// The knob-part columns: intercept, main effects, pairs.
    var knobColumns: Int {
        1 + levelCounts.reduce(0) { $0 + $1 - 1 }
            + pairs.reduce(0) { $0 + (levelCounts[$1.first] - 1) * (levelCounts[$1.second] - 1) }
    }

    /// All columns.
    var columns: Int { knobColumns + outliers.count + max(0, rounds - 1) }

    /// The row of configuration `c` without round effects: what the model says of its speed.
    func configurationRow(_ c: Int) -> [Double] {
        var row = [Double](repeating: 0, count: columns)
        fill(&row, c)
        return row
    }

    /// The row of one observation.
    func row(_ observation: RaceObservation) -> [Double] {
        var row = configurationRow(observation.config)
        if observation.round > 1 { row[knobColumns + outliers.count + observation.round - 2] = 1 }
        return row
    }

    /// The knob part only (no outlier effect): the smooth model's view of configuration `c`.
    func knobRow(_ c: Int) -> [Double] {
        var row = [Double](repeating: 0, count: columns)
        fillKnobs(&row, levels[c])
        return row
    }

    private func fill(_ row: inout [Double], _ c: Int) {
        fillKnobs(&row, levels[c])
        if let o = outliers.firstIndex(of: c) { row[knobColumns + o] = 1 }
    }

    /// Intercept, treatment-coded main effects and pair products for a vector of levels.
    func fillKnobs(_ row: inout [Double], _ level: [Int]) {
        row[0] = 1
        var at = 1
        for (k, count) in levelCounts.enumerated() {
            if level[k] > 0 { row[at + level[k] - 1] = 1 }
            at += count - 1
        }
        for pair in pairs {
            let a = level[pair.first], b = level[pair.second]
            let width = levelCounts[pair.second] - 1
            if a > 0, b > 0 { row[at + (a - 1) * width + (b - 1)] = 1 }
            at += (levelCounts[pair.first] - 1) * width
        }
    }

    /// Every two-knob pair.
    var allPairs: [Pair] {
        levelCounts.indices.flatMap { a in (a + 1..<levelCounts.count).map { Pair(first: a, second: $0) } }
    }

    /// Fits the observations.
    func fit(_ observations: [RaceObservation]) -> LeastSquares {
        LeastSquares(rows: observations.map(row), y: observations.map(\.score), columns: columns)
    }
}

extension KnobDesign {
    /// Chooses the two-knob interactions: forward selection by the Bayesian information criterion
    /// (a pair enters while n·log(RSS) + k·log(n) falls, the best pair first), keeping at least
    /// `minimumDegrees` residual degrees of freedom. Speed is rarely additive in the knobs (block size
    /// times queue depth saturates a drive), but each pair costs degrees of freedom and precision.
    mutating func choosePairs(_ observations: [RaceObservation], minimumDegrees: Int) {
        pairs = []
        let n = Double(observations.count)
        func criterion(_ fit: LeastSquares) -> Double {
            n * log(max(fit.residualSumOfSquares, 1e-300) / n) + Double(fit.rank) * log(n)
        }
        var current = criterion(fit(observations))
        var candidates = allPairs
        while !candidates.isEmpty {
            var best: (Int, Double)?
            for (i, pair) in candidates.enumerated() {
                var trial = self
                trial.pairs.append(pair)
                let f = trial.fit(observations)
                guard f.degreesOfFreedom >= minimumDegrees else { continue }
                let value = criterion(f)
                if value < (best?.1 ?? current) { best = (i, value) }
            }
            guard let (index, value) = best else { break }
            pairs.append(candidates.remove(at: index))
            current = value
        }
    }
}
