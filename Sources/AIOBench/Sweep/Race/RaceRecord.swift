import Foundation

/// What a race concluded, as the sweep's manifest keeps it (under `"race"`) and the report draws it:
/// the pick, what is known of it, the lines `sweep` printed and each knob's effect.
struct RaceRecord: Sendable, Equatable {
    /// The pick (`SweepConfiguration.description`).
    var pick: String
    /// What is known of it: `within 3 % of the best of the 64 at 95 % confidence`, or the wider margin
    /// and why.
    var guarantee: String
    /// The margin shown, as a fraction of the best's speed (nil when nothing could be picked yet).
    var margin: Double?
    /// Every line the race printed.
    var lines: [String]
    /// Each knob level's effect.
    var effects: [Effect]

    /// One knob level's effect against the knob's first level.
    struct Effect: Sendable, Equatable {
        /// `io_parallel 2 vs 1`.
        var label: String
        /// The change in speed (0.118 for +11.8 %) and its interval's ends.
        var change: Double
        var low: Double
        var high: Double
        /// Whether the interval excludes no change.
        var isShown: Bool
    }

    /// The record of a race summary.
    init(_ summary: RaceSummary) {
        let a = summary.assessment
        pick = a.map { summary.names[$0.pick] } ?? ""
        let prefix = "pick: \(pick): "
        guarantee = summary.lines.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) } ?? ""
        margin = a?.marginFraction.map(RaceSummary.roundedUp)
        lines = summary.lines
        effects = (a?.effects ?? []).map { e in
            Effect(label: RaceSummary.effectLabel(e), change: e.change, low: exp(e.estimate - e.halfWidth) - 1,
                   high: exp(e.estimate + e.halfWidth) - 1, isShown: e.isShown)
        }
    }

    /// The record as a JSON object.
    var json: [String: Any] {
        var object: [String: Any] = [
            "pick": pick, "guarantee": guarantee, "lines": lines,
            "effects": effects.map { ["label": $0.label, "change": $0.change, "low": $0.low, "high": $0.high,
                                      "shown": $0.isShown] as [String: Any] },
        ]
        if let margin { object["margin"] = margin }
        return object
    }

    /// Reads a record from a manifest's `"race"` value; nil when it is missing or not a record.
    init?(json value: Any?) {
        guard let object = value as? [String: Any], let pick = object["pick"] as? String, !pick.isEmpty,
              let guarantee = object["guarantee"] as? String, let lines = object["lines"] as? [String]
        else { return nil }
        self.pick = pick
        self.guarantee = guarantee
        self.lines = lines
        margin = (object["margin"] as? NSNumber)?.doubleValue
        let list = object["effects"] as? [[String: Any]] ?? []
        effects = list.compactMap { item in
            guard let label = item["label"] as? String, let change = (item["change"] as? NSNumber)?.doubleValue,
                  let low = (item["low"] as? NSNumber)?.doubleValue, let high = (item["high"] as? NSNumber)?.doubleValue,
                  [change, low, high].allSatisfy(\.isFinite) else { return nil }
            return Effect(label: label, change: change, low: low, high: high, isShown: item["shown"] as? Bool ?? false)
        }
    }
}
