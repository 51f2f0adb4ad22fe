@testable import AIOBench
import AsyncIO
import Foundation
import Testing

/// The race against known truths: simulated drives whose speeds only the check knows, 20 seeds each,
/// 5 % noise per run, the `time` objective, through the same planner the sweep runs.
@Suite("Race")
struct RaceTests {
    /// The simulations are arithmetic on one thread each: a sanitizer finds nothing in them and turns a
    /// minute into many (scripts/sanitize.sh runs the whole suite); the plain `swift test` runs them.
    static let underSanitizer = ProcessInfo.processInfo.environment["AIO_SANITIZER"] != nil
    static let sanitizerReason: Comment = "pure arithmetic, no threads: run by the plain swift test, not under a sanitizer"

    struct Tally {
        var within3 = 0
        var covered = 0
        var runs: [Int] = []
        var median: Int { runs.sorted()[runs.count / 2] }
    }

    static func tally(_ drives: [SimDrive], noise: Double = 0.05) -> Tally {
        var t = Tally()
        for (seed, drive) in drives.enumerated() {
            let outcome = simulate(drive, noise: noise, seed: UInt64(seed))
            let score = drive.score
            let ratio = score[outcome.pick] / score.max()!
            if ratio >= 0.97 { t.within3 += 1 }
            if let margin = outcome.margin, ratio >= 1 - margin - 1e-12 { t.covered += 1 }
            t.runs.append(outcome.runs)
        }
        return t
    }

    @Test("smooth drives, 64 configurations: within 3 % of the best in 19 of 20, median at most 160 runs, the printed margin holds",
          .disabled(if: underSanitizer, sanitizerReason))
    func smoothDefaultGrid() {
        let t = Self.tally((0..<20).map { SimDrive.smooth(big: false, seed: UInt64($0)) })
        #expect(t.within3 >= 19, "within 3 %: \(t.within3) of 20")
        #expect(t.covered >= 19, "within the printed margin: \(t.covered) of 20")
        #expect(t.median <= 160, "runs: \(t.runs)")
    }

    @Test("one configuration 10 % clear of a smooth rest is found: within 3 % in 19 of 20, median at most 160 runs",
          .disabled(if: underSanitizer, sanitizerReason))
    func outlierIsFound() {
        let t = Self.tally((0..<20).map { SimDrive.outlier(seed: UInt64($0)) })
        #expect(t.within3 >= 19, "within 3 %: \(t.within3) of 20")
        #expect(t.covered >= 19, "within the printed margin: \(t.covered) of 20")
        #expect(t.median <= 160, "runs: \(t.runs)")
    }

    // 10 seeds here (a debug build takes a minute for them); docs/benchmarks.md has 200 of each kind.
    @Test("smooth drives, 256 configurations: a half fraction first; within 3 % in 9 of 10, median at most 384 runs",
          .disabled(if: underSanitizer, sanitizerReason))
    func bigGrid() {
        let t = Self.tally((0..<10).map { SimDrive.smooth(big: true, seed: UInt64($0)) })
        #expect(t.within3 >= 9, "within 3 %: \(t.within3) of 10")
        #expect(t.covered >= 9, "within the printed margin: \(t.covered) of 10")
        #expect(t.median <= 384, "runs: \(t.runs)")
    }

    @Test("the half fraction of a 256-point grid keeps every knob effect and two-knob interaction estimable")
    func fractionIsEstimable() {
        let factors = SimDrive.grid(big: true)
        let planner = RacePlanner(race: Race(), factors: factors, costRank: SimDrive.costRank(factors), maxTrials: 10)
        let members = planner.firstRound
        #expect(members.count == 128)
        var design = KnobDesign(factors: factors)
        design.pairs = design.allPairs
        let fit = design.fit(members.map { RaceObservation(config: $0, round: 1, score: 0) })
        #expect(fit.rank == design.columns, "rank \(fit.rank) of \(design.columns)")
    }

    @Test("on a flat drive the cheapest configuration is picked, within the tolerance",
          .disabled(if: underSanitizer, sanitizerReason))
    func flatPicksCheapest() {
        let factors = SimDrive.grid(big: false)
        let drive = SimDrive(factors: factors, read: factors.map { _ in 2 }, write: factors.map { _ in 2 },
                             costRank: SimDrive.costRank(factors))
        for seed in 0..<5 {
            let outcome = simulate(drive, noise: 0.005, seed: UInt64(seed))
            #expect(drive.costRank[outcome.pick] < 4, "seed \(seed): picked rank \(drive.costRank[outcome.pick])")
            #expect(abs((outcome.margin ?? 1) - 0.03) < 1e-9, "seed \(seed): \(String(describing: outcome.margin))")
        }
    }

    @Test("knob effects: the intervals cover the true effects, and a knob without effect shows none")
    func effectsCoverTruth() {
        let factors = SimDrive.grid(big: false)
        // log speed: block 8M +10 %, queue depth 128 +5 %, single submit 0, overlap −3 %, io_parallel 2/4/8: +8/+12/+12 %.
        let truth: [Int: [Int: Double]] = [0: [8 << 20: log(1.10)], 1: [128: log(1.05)], 2: [1: 0], 3: [1: log(0.97)],
                                           4: [2: log(1.08), 4: log(1.12), 8: log(1.12)]]
        let speeds = factors.map { f in
            exp(truth.reduce(0) { sum, knob in sum + (knob.value[f[knob.key]] ?? 0) })
        }
        var covered = 0, total = 0, singleShown = 0
        for seed in 0..<20 {
            var rng = SplitMix64(seed: UInt64(seed))
            let observations = factors.indices.flatMap { c in
                (1...2).map { round in
                    let u = rng.nextUnitInterval(), v = rng.nextUnitInterval()
                    let noise = 0.04 * (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
                    return RaceObservation(config: c, round: round, score: log(speeds[c]) + noise)
                }
            }
            let a = Race().assess(observations, factors: factors, costRank: SimDrive.costRank(factors))
            for e in a.effects {
                let expected = truth[e.knob]?[e.value] ?? 0
                total += 1
                if abs(e.estimate - expected) <= e.halfWidth { covered += 1 }
                if e.knob == 2, e.isShown { singleShown += 1 }
            }
        }
        #expect(Double(covered) >= 0.9 * Double(total), "\(covered) of \(total) intervals cover the truth")
        #expect(singleShown <= 3, "single submit shown to matter in \(singleShown) of 20")
    }

    @Test("a drift common to each round of 10 % does not mislead the pick (round effects): within 3 % in 19 of 20",
          .disabled(if: underSanitizer, sanitizerReason))
    func driftCancels() {
        var good = 0
        for seed in 0..<20 {
            let drive = SimDrive.smooth(big: false, seed: UInt64(seed))
            let outcome = simulate(drive, noise: 0.05, seed: UInt64(seed), drift: 0.10)
            if drive.score[outcome.pick] >= 0.97 * drive.score.max()! { good += 1 }
        }
        #expect(good >= 19, "within 3 %: \(good) of 20")
    }

    @Test("a configuration whose own runs disagree with its knobs is judged on its own runs")
    func lackOfFitFlagsTheOutlier() {
        let factors = SimDrive.grid(big: false)
        let odd = 21
        var observations: [RaceObservation] = []
        var rng = SplitMix64(seed: 3)
        for c in factors.indices {
            for round in 1...(c == odd ? 4 : 1) {
                let u = rng.nextUnitInterval(), v = rng.nextUnitInterval()
                let noise = 0.03 * (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
                let base = log(Double(factors[c][4])) * 0.1 + (factors[c][0] == 8 << 20 ? 0.1 : 0)
                observations.append(RaceObservation(config: c, round: round, score: base + noise + (c == odd ? -0.25 : 0)))
            }
        }
        let a = Race().assess(observations, factors: factors, costRank: SimDrive.costRank(factors))
        #expect(a.outliers == [odd], "\(a.outliers)")
        let own = observations.filter { $0.config == odd }.map(\.score).reduce(0, +) / 4
        #expect(abs(a.estimates[odd] - own) < 0.05, "estimate \(a.estimates[odd]) against its own mean \(own)")
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
