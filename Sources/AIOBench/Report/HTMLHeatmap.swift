import AsyncIO
import Foundation

extension HTMLReport {
    /// The heatmaps, legend and top-10 table of one operation.
    static func section(_ input: ReportInput, _ operation: IOOperation) -> String {
        let rows = input.rows(for: operation)
        let ranking = input.ranking(for: operation)
        // Figures above the device ceiling are errors: they get the top colour, not a share of the scale.
        let medians = ranking.compactMap(\.median)
        let possible = input.ceilingGiBps.map { ceiling in medians.filter { $0 <= ceiling } } ?? medians
        let range = possible.isEmpty ? medians : possible
        let scale = ColorScale(low: range.min() ?? 0, high: range.max() ?? 0)
        let best = ranking.first?.configuration
        let columns = Array(Set(rows.map { Column(blockSize: $0.blockSize, queueDepth: $0.queueDepth) })).sorted()
        let parallels = Array(Set(rows.map(\.intraOpParallelism))).sorted()
        let title = operation == .read ? "Read" : "Write"

        var html = "<section class=\"op\" id=\"\(operation.rawValue)\">\n<h2>\(title)</h2>\n"
        html += legend(scale, operation: operation, input: input)
        html += "<div class=\"maps\">\n"
        for mode in Mode.all {
            let cells = rows.filter { $0.singleSubmit == mode.singleSubmit && $0.overlapEvents == mode.overlapEvents }
            guard !cells.isEmpty else { continue }
            html += heatmap(cells, mode: mode, columns: columns, parallels: parallels, scale: scale,
                            best: best, input: input)
        }
        html += "</div>\n"
        html += topTable(Array(ranking.prefix(10)), input: input, title: title)
        let failed = rows.filter { $0.median == nil }
        if !failed.isEmpty {
            html += "<h3>Failed configurations</h3>\n<ul class=\"failed\">\n"
            for row in failed {
                html += "<li><code>\(escape(row.configuration))</code>: \(escape(row.error ?? "no result"))</li>\n"
            }
            html += "</ul>\n"
        }
        return html + "</section>\n"
    }

    /// One heatmap: rows io_parallel, columns block size × queue depth.
    private static func heatmap(
        _ rows: [ReportRow], mode: Mode, columns: [Column], parallels: [Int], scale: ColorScale, best: String?,
        input: ReportInput
    ) -> String {
        var byPlace: [Place: ReportRow] = [:]
        for row in rows {
            byPlace[Place(column: Column(blockSize: row.blockSize, queueDepth: row.queueDepth),
                          intraOpParallelism: row.intraOpParallelism)] = row
        }
        var html = "<figure class=\"heatmap\">\n<figcaption>\(mode.caption)</figcaption>\n<table class=\"map\">\n"
        // Two header rows: block sizes spanning their queue depths, then the queue depths.
        var blocks: [(Int, Int)] = []
        for column in columns {
            if let last = blocks.last, last.0 == column.blockSize {
                blocks[blocks.count - 1].1 += 1
            } else {
                blocks.append((column.blockSize, 1))
            }
        }
        html += "<thead><tr><th class=\"corner\" rowspan=\"2\">io_parallel<span>block size →<br>"
            + "queue depth →</span></th>"
        for (size, span) in blocks {
            html += "<th class=\"bs\" colspan=\"\(span)\">\(escape(ByteSize.compact(size)))</th>"
        }
        html += "</tr>\n<tr>"
        for column in columns { html += "<th class=\"qd\">qd \(column.queueDepth)</th>" }
        html += "</tr></thead>\n<tbody>\n"
        for parallel in parallels {
            html += "<tr><th class=\"par\">\(parallel)</th>"
            for column in columns {
                if let row = byPlace[Place(column: column, intraOpParallelism: parallel)] {
                    html += cell(row, scale: scale, isBest: row.configuration == best, input: input)
                } else {
                    html += "<td class=\"none\" title=\"not measured\">&ndash;</td>"
                }
            }
            html += "</tr>\n"
        }
        return html + "</tbody></table>\n</figure>\n"
    }

    /// One heatmap cell.
    private static func cell(_ row: ReportRow, scale: ColorScale, isBest: Bool, input: ReportInput) -> String {
        let attributes = "data-op=\"\(row.operation.rawValue)\" data-config=\"\(escape(row.configuration))\""
        guard let median = row.median, let low = row.minimum, let high = row.maximum else {
            let why = row.error ?? "no result"
            return "<td class=\"cell\" \(attributes) data-gibps=\"\" data-error=\"\(escape(why))\""
                + " title=\"\(escape("\(row.operation.rawValue), \(row.label): failed: \(why)"))\">"
                + "<span class=\"v\">failed</span></td>"
        }
        let over = input.isAboveCeiling(row)
        var tip = "\(row.operation.rawValue), \(row.label): median \(format(median)) GiB/s"
        tip += row.trials.count > 1
            ? " of \(row.trials.count) trials (min \(format(low)), max \(format(high)))" : " (1 trial)"
        if isBest { tip += "; best \(row.operation.rawValue)" }
        if let round = row.leftRaceAfter { tip += "; left the race after round \(round) (slower than the leader)" }
        if over { tip += "; ABOVE THE DEVICE CEILING: likely page cache or a sparse/short file" }
        let (background, foreground) = scale.colors(median)
        var html = "<td class=\"\(isBest ? "cell best" : "cell")\" \(attributes) data-gibps=\"\(median)\""
        if over { html += " data-over=\"true\"" }
        if let round = row.leftRaceAfter { html += " data-left=\"\(round)\"" }
        html += " style=\"background:\(background);color:\(foreground)\" title=\"\(escape(tip))\">"
        html += "<span class=\"v\">\(over ? "&#9888;" : "")\(format(median))</span>"
        if row.trials.count > 1 {
            html += "<span class=\"r\">\(format(low))&ndash;\(format(high))</span>"
                + "<span class=\"n\">\(row.trials.count) trials</span>"
        }
        return html + "</td>"
    }

    /// The colour bar of one operation's scale, with units and the meaning of the marks.
    private static func legend(_ scale: ColorScale, operation: IOOperation, input: ReportInput) -> String {
        let width = 260.0
        var stops = ""
        for i in 0...8 {
            let t = Double(i) / 8
            stops += "<stop offset=\"\(format(t * 100))%\" stop-color=\"\(ColorScale.color(at: t))\"/>"
        }
        let id = "grad-\(operation.rawValue)"
        var svg = "<svg class=\"bar\" width=\"\(Int(width) + 40)\" height=\"40\" viewBox=\"0 0 \(Int(width) + 40) 40\""
            + " role=\"img\" aria-label=\"colour scale from \(format(scale.low)) to \(format(scale.high)) GiB/s\">"
        svg += "<defs><linearGradient id=\"\(id)\">\(stops)</linearGradient></defs>"
        svg += "<rect x=\"20\" y=\"2\" width=\"\(Int(width))\" height=\"14\" fill=\"url(#\(id))\" stroke=\"#888\"/>"
        for (t, value) in [(0.0, scale.low), (0.5, (scale.low + scale.high) / 2), (1.0, scale.high)] {
            let x = 20 + t * width
            svg += "<line x1=\"\(format(x))\" x2=\"\(format(x))\" y1=\"16\" y2=\"21\" stroke=\"#555\"/>"
            svg += "<text x=\"\(format(x))\" y=\"34\" text-anchor=\"middle\">\(format(value))</text>"
        }
        svg += "</svg>"
        var marks = "<span class=\"mark best-mark\">fastest</span> outlined"
        if input.rows.contains(where: { $0.operation == operation && $0.trials.count > 1 }) {
            marks += " &middot; small figures: min&ndash;max over the trials"
        }
        marks += " &middot; hover a cell for details"
        if input.ceilingGiBps != nil {
            marks += " &middot; &#9888; above the device ceiling (drawn in the top colour)"
        }
        return "<div class=\"legend\"><span class=\"legend-title\">median \(operation.rawValue) GiB/s</span>"
            + svg + "<span class=\"legend-marks\">\(marks)</span></div>\n"
    }

    /// The ten fastest configurations of one operation.
    private static func topTable(_ rows: [ReportRow], input: ReportInput, title: String) -> String {
        guard !rows.isEmpty else { return "" }
        let ceiling = input.ceilingGiBps
        var html = "<h3>Top \(rows.count): \(title.lowercased())</h3>\n<div class=\"scroll\"><table class=\"top\">\n"
        html += "<thead><tr>"
        html += "<th>#</th><th>block size</th><th>queue depth</th><th>single_submit</th><th>overlap_events</th>"
        html += "<th>io_parallel</th><th>median GiB/s</th><th>min&ndash;max</th><th>trials</th>"
        if ceiling != nil { html += "<th>% of ceiling</th>" }
        html += "</tr></thead>\n<tbody>\n"
        for (rank, row) in rows.enumerated() {
            guard let median = row.median, let low = row.minimum, let high = row.maximum else { continue }
            let over = input.isAboveCeiling(row)
            html += "<tr\(over ? " class=\"over\"" : "")><td>\(rank + 1)</td>"
            html += "<td>\(ByteSize.compact(row.blockSize))</td><td>\(row.queueDepth)</td>"
            html += "<td>\(row.singleSubmit)</td><td>\(row.overlapEvents)</td><td>\(row.intraOpParallelism)</td>"
            html += "<td class=\"num\">\(over ? "&#9888; " : "")\(format(median))</td>"
            html += "<td class=\"num\">\(format(low))&ndash;\(format(high))</td>"
            html += "<td class=\"num\">\(row.trials.count)</td>"
            if let ceiling { html += "<td class=\"num\">\(String(format: "%.0f", median / ceiling * 100)) %</td>" }
            html += "</tr>\n"
        }
        return html + "</tbody></table></div>\n"
    }

    /// A (block size, queue depth) column.
    private struct Column: Hashable, Comparable {
        var blockSize: Int
        var queueDepth: Int

        static func < (a: Column, b: Column) -> Bool { (a.blockSize, a.queueDepth) < (b.blockSize, b.queueDepth) }
    }

    /// A cell position in a heatmap.
    private struct Place: Hashable {
        var column: Column
        var intraOpParallelism: Int
    }

    /// A submit mode and overlap mode pair: one heatmap.
    private struct Mode {
        var singleSubmit: Bool
        var overlapEvents: Bool

        /// The four pairs in the order they are drawn (two per line: overlap left, sequential right).
        static let all = [
            Mode(singleSubmit: false, overlapEvents: true), Mode(singleSubmit: false, overlapEvents: false),
            Mode(singleSubmit: true, overlapEvents: true), Mode(singleSubmit: true, overlapEvents: false),
        ]

        var caption: String {
            let submit = singleSubmit ? "single" : "block"
            let order = overlapEvents ? "overlap" : "sequential"
            return "<b>\(submit) submit &middot; \(order)</b> <span>single_submit=\(singleSubmit),"
                + " overlap_events=\(overlapEvents)</span>"
        }
    }

    /// A sequential colour scale (viridis) from `low` to `high`.
    private struct ColorScale {
        var low: Double
        var high: Double

        /// Viridis at nine points, dark blue-purple (slow) to yellow (fast).
        static let stops: [(Double, Double, Double)] = [
            (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
            (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
        ]

        /// The colour at `t` in 0...1.
        static func color(at t: Double) -> String {
            let (r, g, b) = rgb(at: t)
            return String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(b.rounded()))
        }

        static func rgb(at t: Double) -> (Double, Double, Double) {
            let clamped = min(max(t.isFinite ? t : 0, 0), 1)
            let position = clamped * Double(stops.count - 1)
            let i = min(Int(position), stops.count - 2)
            let f = position - Double(i)
            let (a, b) = (stops[i], stops[i + 1])
            return (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f)
        }

        /// Background and text colour for `value`: white or near-black text, whichever contrasts more
        /// (WCAG relative luminance).
        func colors(_ value: Double) -> (String, String) {
            let t = high > low ? (value - low) / (high - low) : 1
            let (r, g, b) = Self.rgb(at: t)
            func linear(_ channel: Double) -> Double {
                let c = channel / 255
                return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
            }
            let luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
            let darkInk = 0.0056  // #111
            let onWhite = 1.05 / (luminance + 0.05)
            let onDark = (luminance + 0.05) / (darkInk + 0.05)
            return (Self.color(at: t), onDark > onWhite ? "#111" : "#fff")
        }
    }
}
