import Foundation

/// The report's opening: the race's pick, what is known of it, and an effects chart — one row per knob
/// level, its estimated change in speed against the knob's first level as a point and its 95 % interval
/// as a bar, the margin of the pick shaded around zero. Drawn as inline SVG (`<svg class="effects">`,
/// one `<g class="effect">` per row with `data-label`, `data-change`, `data-low`, `data-high`, `data-shown`).
enum HTMLEffects {
    /// The section, or "" when the logs come from no race (a fixed schedule or DeepSpeed's own run).
    static func section(_ race: RaceRecord?) -> String {
        guard let race else { return "" }
        var html = "<section class=\"decision\"><h2>Recommendation</h2>\n"
        html += "<p class=\"pick\"><strong>\(HTMLReport.escape(race.pick))</strong></p>\n"
        html += "<p class=\"guarantee\">\(HTMLReport.escape(race.guarantee))</p>\n"
        if !race.effects.isEmpty {
            html += chart(race)
            html += "<p class=\"effects-note\">What each knob does on this drive: the change in speed of each level"
                + " against the knob's first level, averaged over the other knobs (a point, and its 95 % interval)."
                + (race.margin.map { " Shaded: ±\(Race.percent($0)), the margin of the pick." } ?? "")
                + " A bar that crosses zero shows no effect.</p>\n"
        }
        return html + "</section>\n"
    }

    /// The chart: a label column, then an axis of percent change symmetric about zero.
    static func chart(_ race: RaceRecord) -> String {
        let rowHeight = 26.0, labelWidth = 230.0, plotWidth = 440.0, top = 8.0
        let extent = max(0.05, race.margin ?? 0, race.effects.map { max(abs($0.low), abs($0.high)) }.max() ?? 0) * 1.1
        func x(_ change: Double) -> Double { labelWidth + (change / extent + 1) / 2 * plotWidth }
        let height = top + Double(race.effects.count) * rowHeight + 24
        var svg = String(format: "<svg class=\"effects\" role=\"img\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\">",
                         labelWidth + plotWidth + 20, height, labelWidth + plotWidth + 20, height)
        svg += "<title>Knob effects with 95 % intervals</title>\n"
        let plotBottom = top + Double(race.effects.count) * rowHeight
        if let margin = race.margin {
            svg += String(format: "<rect class=\"margin\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#e3ecfa\"/>\n",
                          x(-margin), top, x(margin) - x(-margin), plotBottom - top)
        }
        svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>\n",
                      x(0), top, x(0), plotBottom)
        for (i, e) in race.effects.enumerated() {
            let y = top + (Double(i) + 0.5) * rowHeight
            let colour = e.isShown ? "#1f5fbf" : "#9aa1ad"
            svg += "<g class=\"effect\" data-label=\"\(HTMLReport.escape(e.label))\""
                + String(format: " data-change=\"%.4f\" data-low=\"%.4f\" data-high=\"%.4f\"", e.change, e.low, e.high)
                + " data-shown=\"\(e.isShown)\">"
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"12\">%@</text>",
                          labelWidth - 10, y + 4, HTMLReport.escape(e.label))
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"3\"/>",
                          x(e.low), y, x(e.high), y, colour)
            svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%@\"/>", x(e.change), y, colour)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#333\">%+.1f %%</text>",
                          min(x(e.high) + 6, labelWidth + plotWidth - 30), y - 6, e.change * 100)
            svg += "</g>\n"
        }
        for tick in [-extent / 1.1, 0, extent / 1.1] {
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" fill=\"#5b6475\">%+.0f %%</text>\n",
                          x(tick), plotBottom + 16, tick * 100)
        }
        return svg + "</svg>\n"
    }
}
