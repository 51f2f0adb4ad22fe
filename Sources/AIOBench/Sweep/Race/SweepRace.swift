import AsyncIO
import Foundation

extension Race {
    /// The `note:` of a log whose configuration was shown slower than the best by more than the
    /// tolerance: `left the race after round 2` (its last round).
    static let leftNotePrefix = "left the race after round"
    /// The `note:` of the race's pick.
    static let leaderNote = "race: the pick"
    /// The `note:` of a configuration shown within the pick's margin of the best (the pick is the
    /// cheapest of these).
    static let equivalentNote = "race: within the margin of the best"
    /// What older versions wrote for the pick and for a configuration left undecided.
    static let legacyLeaderNote = "race: the leader"
    static let undecidedNote = "race: could not be told apart from the leader"
}

/// How a sweep's race went: rounds, what is known of the pick, what each knob does, what it cost.
struct RaceSummary: Sendable {
    /// The decision rule.
    var race: Race
    /// Rounds run.
    var rounds: Int
    /// Configurations in the grid.
    var configurations: Int
    /// The last assessment (nil when no round finished).
    var assessment: RaceAssessment?
    /// Each configuration's description, by index.
    var names: [String]
    /// Runs spent (trials of every configuration and operation), resumed ones included.
    var runs: Int
    /// What a fixed 3-trial sweep spends.
    var fixedRuns: Int
    /// The most runs the race could spend.
    var budget: Int
    /// Why the race stopped.
    var stopReason: String

    /// The lines `sweep` and `tune` print: the cost, the pick and its guarantee, the noise and the model,
    /// then each knob's effect.
    var lines: [String] {
        let percent = Race.percent(race.confidence)
        var lines = ["race: \(configurations) configurations, \(rounds) round\(rounds == 1 ? "" : "s"), "
            + "\(runs) runs against \(fixedRuns) for a fixed 3-trial sweep "
            + String(format: "(%.0f %%); stopped: %@", Double(runs) / Double(max(fixedRuns, 1)) * 100, stopReason)]
        guard let a = assessment else {
            lines.append("race: no round finished: nothing is known yet (run the same command again to go on)")
            return lines
        }
        let pick = names[a.pick]
        if let margin = a.marginFraction {
            let shown = Race.percent(Self.roundedUp(margin))
            if a.reachedTolerance {
                lines.append("pick: \(pick): within \(shown) of the best of the \(configurations) at \(percent) confidence")
            } else {
                lines.append("pick: \(pick): within \(shown) of the best of the \(configurations) at \(percent): "
                    + "the budget could not resolve \(Race.percent(race.tolerance)) at today's noise of "
                    + String(format: "±%.1f %% per run", a.noiseFraction * 100))
            }
            if a.equivalent.count > 1 {
                lines.append("  \(a.equivalent.count) configurations are within that margin; the pick is the cheapest "
                    + "(fewest io_parallel, then lowest queue depth, then smallest block)")
            }
        } else {
            lines.append("pick: \(pick): the best estimate, but no configuration has the \(Race.ownRunsToPick) runs "
                + "a guarantee needs (run the same command again, or give a larger budget)")
        }
        lines.append(modelLine(a))
        lines.append("knob effects (\(percent) intervals, against the first level, averaged over the other knobs):")
        lines += a.effects.map { "  " + Self.effectText($0) }
        return lines
    }

    /// What the model holds: noise per run, interactions, outliers, degrees of freedom.
    private func modelLine(_ a: RaceAssessment) -> String {
        let pairs = a.pairs.map { "\(Self.knobNames[$0.0]) × \(Self.knobNames[$0.1])" }
        var text = String(format: "model: noise ±%.1f %% per run; knob effects", a.noiseFraction * 100)
            + (pairs.isEmpty ? "" : " + interactions \(pairs.joined(separator: ", "))")
            + (rounds > 1 ? " + round" : "") + "; \(a.degreesOfFreedom) degrees of freedom"
        if !a.outliers.isEmpty {
            text += "; judged on their own runs (the knobs do not predict them): "
                + a.outliers.map { names[$0] }.joined(separator: ", ")
        }
        return text
    }

    /// A margin rounded up to the next 0.1 %.
    static func roundedUp(_ fraction: Double) -> Double { (fraction * 1000 - 1e-9).rounded(.up) / 1000 }

    /// The knobs of `Race.factorLevels`, by index.
    static let knobNames = ["block_size", "queue_depth", "single_submit", "overlap_events", "io_parallel",
                            "threads", "engine"]

    /// `io_parallel 2 vs 1`, `single submit vs batch`, `block_size 8M vs 1M`.
    static func effectLabel(_ e: KnobEffect) -> String {
        switch e.knob {
        case 0: return "block_size \(ByteSize.compact(e.value)) vs \(ByteSize.compact(e.reference))"
        case 2: return "single submit vs batch"
        case 3: return "overlap events vs sequential"
        case 6: return "engine \(e.value) vs \(e.reference)"
        default: return "\(knobNames[e.knob]) \(e.value) vs \(e.reference)"
        }
    }

    /// `io_parallel 2 vs 1: +11.8 % (±2.1 %)`, `single submit vs batch: -0.4 % (±1.9 %): no effect shown`.
    static func effectText(_ e: KnobEffect) -> String {
        effectLabel(e) + String(format: ": %+.1f %% (±%.1f %%)", e.change * 100, e.changeHalfWidth * 100)
            + (e.isShown ? "" : ": no effect shown")
    }
}
