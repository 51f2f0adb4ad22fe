import AsyncIO
import Foundation
import Testing

@testable import AIOBench

/// Report inputs shaped like real sweeps.
enum ReportSamples {
    /// DeepSpeed's default grid: block 1M, 8M × queue depth 32, 128 × sequential true/false ×
    /// single_submit false/true × io_parallel 1, 2, 4, 8 = 64 configurations, for read and for write,
    /// three trials each, every median different; the fastest read is `block_overlap_d128_bs8M_p8`, the
    /// fastest write `block_overlap_d32_bs1M_p4`.
    static func grid64() -> [ReportRow] {
        var rows: [ReportRow] = []
        for operation in IOOperation.allCases {
            var k = 0.0
            for single in [false, true] {
                for overlap in [true, false] {
                    for blockSize in [1 << 20, 8 << 20] {
                        for queueDepth in [32, 128] {
                            for parallel in [1, 2, 4, 8] {
                                k += 1
                                var median = 0.5 + k * 0.031 + Double(parallel) * 0.05
                                if operation == .read, !single, overlap, blockSize == 8 << 20, queueDepth == 128,
                                    parallel == 8
                                {
                                    median = 9.75
                                }
                                if operation == .write, !single, overlap, blockSize == 1 << 20, queueDepth == 32,
                                    parallel == 4
                                {
                                    median = 7.125
                                }
                                rows.append(ReportRow(
                                    operation: operation, blockSize: blockSize, queueDepth: queueDepth,
                                    singleSubmit: single, overlapEvents: overlap, intraOpParallelism: parallel,
                                    trials: [median + 0.04, median, median - 0.03]))
                            }
                        }
                    }
                }
            }
        }
        return rows
    }

    /// Four configurations per operation, one trial each: block 1M, queue depth 8 and 32, io_parallel 1 and 2.
    static func grid4() -> [ReportRow] {
        var rows: [ReportRow] = []
        for operation in IOOperation.allCases {
            for (i, (queueDepth, parallel)) in [(8, 1), (8, 2), (32, 1), (32, 2)].enumerated() {
                rows.append(ReportRow(
                    operation: operation, blockSize: 1 << 20, queueDepth: queueDepth, singleSubmit: false,
                    overlapEvents: true, intraOpParallelism: parallel,
                    trials: [Double(i + 1) * (operation == .read ? 1.1 : 0.7)]))
            }
        }
        return rows
    }

    static let hostile = "nvme<script>alert(1)</script> & \"q\" 'x' </td>"

    static func input(_ rows: [ReportRow], ceiling: Double? = nil) -> ReportInput {
        ReportInput(
            title: "Sweep of /data/<b>models</b> & more", rows: rows,
            recommendedJSON: """
                {
                  "aio": {
                    "block_size": 8388608,
                    "queue_depth": 128,
                    "intra_op_parallelism": 8,
                    "single_submit": false,
                    "overlap_events": true,
                    "use_gds": false
                  }
                }
                """,
            machine: ["host: bench-1", "kernel: Linux 6.1.0", "CPU: 2 cores", "engine: io_uring"],
            device: ["folder: /data/<b>models</b> & more", "model: \(hostile)", "logical block size: 512 B"],
            deviceCeilingBytesPerSecond: ceiling)
    }
}

/// The heatmap cells of rendered HTML.
struct RenderedCell: Equatable {
    var classes: String
    var operation: String
    var configuration: String
    var gibps: String
    var over: Bool

    static func all(in html: String) throws -> [RenderedCell] {
        let pattern = try Regex(
            #"<td class="(cell(?: best)?)" data-op="([a-z]+)" data-config="([^"]*)" data-gibps="([^"]*)"([^>]*)>"#)
        return html.matches(of: pattern).map { match in
            RenderedCell(
                classes: String(match.output[1].substring ?? ""), operation: String(match.output[2].substring ?? ""),
                configuration: String(match.output[3].substring ?? ""), gibps: String(match.output[4].substring ?? ""),
                over: (match.output[5].substring ?? "").contains("data-over"))
        }
    }
}

@Suite("Report model")
struct ReportModelTests {
    @Test func medianMinimumMaximum() {
        func row(_ trials: [Double]) -> ReportRow {
            ReportRow(operation: .read, blockSize: 1 << 20, queueDepth: 8, singleSubmit: false, overlapEvents: true,
                      intraOpParallelism: 1, trials: trials)
        }
        #expect(row([3, 1, 2]).median == 2)
        #expect(row([4, 1, 3, 2]).median == 2)  // the lower middle trial (Median)
        #expect(row([5]).median == 5)
        #expect(row([]).median == nil)
        #expect(row([2, .nan, 1, 3]).median == 2)
        #expect(row([3, 1, 2]).minimum == 1)
        #expect(row([3, 1, 2]).maximum == 3)
        #expect(row([]).configuration == "block_overlap_d8_bs1M_p1")
    }

    @Test func duplicatesMergeTheirTrials() {
        let a = ReportRow(operation: .write, blockSize: 1 << 20, queueDepth: 8, singleSubmit: true,
                          overlapEvents: false, intraOpParallelism: 2, trials: [1, 2])
        var b = a
        b.trials = [3]
        let input = ReportInput(title: "t", rows: [a, b])
        let merged = input.rows(for: .write)
        #expect(merged.count == 1)
        #expect(merged.first?.trials == [1, 2, 3])
        #expect(merged.first?.configuration == "single_sequential_d8_bs1M_p2")
        #expect(input.rows(for: .read).isEmpty)
    }
}

@Suite("HTML report")
struct ReportHTMLTests {
    @Test("one cell per configuration and operation, one best each", arguments: [64, 4])
    func cellsAndBest(size: Int) throws {
        let rows = size == 64 ? ReportSamples.grid64() : ReportSamples.grid4()
        let html = HTMLReport.render(ReportSamples.input(rows))
        let cells = try RenderedCell.all(in: html)
        for operation in IOOperation.allCases {
            let expected = rows.filter { $0.operation == operation }
            let got = cells.filter { $0.operation == operation.rawValue }
            #expect(expected.count == size)
            #expect(got.count == size)
            #expect(Set(got.map(\.configuration)) == Set(expected.map(\.configuration)))
            for row in expected {
                let cell = try #require(got.first { $0.configuration == row.configuration })
                #expect(Double(cell.gibps) == row.median)
            }
            let best = got.filter { $0.classes == "cell best" }
            #expect(best.count == 1)
            let fastest = try #require(expected.max { ($0.median ?? 0) < ($1.median ?? 0) })
            #expect(best.first?.configuration == fastest.configuration)
        }
        #expect(html.components(separatedBy: "class=\"cell").count - 1 == 2 * size)
        if size == 64 {
            #expect(cells.first { $0.classes == "cell best" && $0.operation == "read" }?.configuration
                == "block_overlap_d128_bs8M_p8")
            #expect(cells.first { $0.classes == "cell best" && $0.operation == "write" }?.configuration
                == "block_overlap_d32_bs1M_p4")
            // Four heatmaps per operation, each 2 block sizes × 2 queue depths × 4 io_parallel.
            #expect(html.components(separatedBy: "<figure class=\"heatmap\">").count - 1 == 8)
            // Min–max of three trials is printed in the cell.
            #expect(html.contains("<span class=\"r\">9.72&ndash;9.79</span>"))
        } else {
            #expect(html.components(separatedBy: "<figure class=\"heatmap\">").count - 1 == 2)
            #expect(!html.contains("<span class=\"r\">"))
        }
    }

    @Test func selfContained() {
        let html = HTMLReport.render(ReportSamples.input(ReportSamples.grid64(), ceiling: 8e9))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("http://"))
        #expect(!html.contains("https://"))
        #expect(!html.contains("<link"))
        #expect(!html.contains("src="))
        #expect(!html.contains("@import"))
        #expect(html.contains("<style>"))
        #expect(html.contains("<svg"))
        #expect(html.contains("<table class=\"top\">"))
        #expect(html.contains("<button type=\"button\" id=\"copy\">"))
        #expect(html.contains("&quot;intra_op_parallelism&quot;: 8"))
    }

    @Test func escapesHostileText() throws {
        var rows = ReportSamples.grid4()
        rows[0].trials = []
        rows[0].error = "ENOSPC on /data/<i>x</i> & \"y\""
        let html = HTMLReport.render(ReportSamples.input(rows))
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("<b>models</b>"))
        #expect(!html.contains("<i>x</i>"))
        #expect(html.contains("nvme&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; &#39;x&#39; &lt;/td&gt;"))
        #expect(html.contains("<title>Sweep of /data/&lt;b&gt;models&lt;/b&gt; &amp; more</title>"))
        #expect(html.contains("ENOSPC on /data/&lt;i&gt;x&lt;/i&gt; &amp; &quot;y&quot;"))
        // The failed configuration still has its cell, with no speed, and is not the best.
        let cells = try RenderedCell.all(in: html)
        let failed = try #require(cells.first { $0.configuration == rows[0].configuration && $0.operation == "read" })
        #expect(failed.gibps == "")
        #expect(failed.classes == "cell")
        #expect(cells.filter { $0.operation == "read" }.count == 4)
        #expect(HTMLReport.escape("<&>\"'") == "&lt;&amp;&gt;&quot;&#39;")
    }

    @Test func ceilingPercentageAndWarning() throws {
        // 8 GiB/s ceiling: only the fastest read (9.75 GiB/s median) is above it.
        let ceiling = 8.0 * Double(1 << 30)
        let html = HTMLReport.render(ReportSamples.input(ReportSamples.grid64(), ceiling: ceiling))
        let over = try RenderedCell.all(in: html).filter(\.over)
        #expect(over.map(\.configuration) == ["block_overlap_d128_bs8M_p8"])
        #expect(html.contains("role=\"alert\""))
        #expect(html.contains("1 result is above the device ceiling of 8.00 GiB/s"))
        #expect(html.contains("122 % of the device ceiling"))  // 9.75 / 8
        #expect(html.contains("89 % of the device ceiling"))  // 7.125 / 8

        let unlimited = HTMLReport.render(ReportSamples.input(ReportSamples.grid64()))
        #expect(try RenderedCell.all(in: unlimited).filter(\.over).isEmpty)
        #expect(!unlimited.contains("role=\"alert\""))
        #expect(unlimited.contains("No device ceiling known"))

        let high = HTMLReport.render(ReportSamples.input(ReportSamples.grid64(), ceiling: 1e12))
        #expect(!high.contains("role=\"alert\""))
    }

    @Test func noRecommendationAndEmptyInput() throws {
        var input = ReportSamples.input([])
        input.recommendedJSON = nil
        let html = HTMLReport.render(input)
        #expect(try RenderedCell.all(in: html).isEmpty)
        #expect(html.contains("No recommendation"))
        #expect(html.hasSuffix("</html>\n"))
    }

    /// Writes the 64-configuration sample to the path in `AIO_REPORT_SAMPLE` (for looking at it in a browser).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["AIO_REPORT_SAMPLE"] != nil, "set AIO_REPORT_SAMPLE"))
    func writeSample() throws {
        let path = try #require(ProcessInfo.processInfo.environment["AIO_REPORT_SAMPLE"])
        var rows = ReportSamples.grid64()
        rows[5].trials = []
        rows[5].error = "EIO at offset 4194304"
        let html = HTMLReport.render(ReportSamples.input(rows, ceiling: 8.0 * Double(1 << 30)))
        try Data(html.utf8).write(to: URL(fileURLWithPath: path))
        let small = (path as NSString).deletingPathExtension + "-4.html"
        try Data(HTMLReport.render(ReportSamples.input(ReportSamples.grid4())).utf8)
            .write(to: URL(fileURLWithPath: small))
        print("wrote \(path) and \(small)")
    }
}

@Suite("Report exports")
struct ReportExportTests {
    static func tricky() -> [ReportRow] {
        var rows = ReportSamples.grid4()
        rows[0].trials = [0.1, 1.2345678901234567, 1e-5, 12345.678]
        rows[1].trials = []
        rows[1].error = "failed: \"ENOSPC\", disk full\r\nsecond line, with; semicolon"
        rows[2].error = "warning only, trials kept"
        rows[3].trials = [.infinity, 2]
        return rows
    }

    @Test("round trip", arguments: [0, 1, 2])
    func csvRoundTrip(sample: Int) throws {
        let rows = [Self.tricky(), ReportSamples.grid64(), []][sample]
        let text = ReportExport.csv(rows)
        #expect(text.hasPrefix(ReportExport.columns.joined(separator: ",") + "\r\n"))
        #expect(try ReportExport.rows(fromCSV: text) == rows)
        // Plain LF line ends read the same.
        let lf = text.replacingOccurrences(of: "\r\n", with: "\n")
        if sample == 1 { #expect(try ReportExport.rows(fromCSV: lf) == rows) }
    }

    @Test("round trip", arguments: [0, 1, 2])
    func jsonRoundTrip(sample: Int) throws {
        let rows = [Self.tricky(), ReportSamples.grid64(), []][sample]
        let text = ReportExport.json(rows)
        #expect(try ReportExport.rows(fromJSON: text) == rows)
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        #expect(objects.count == rows.count)
        if sample == 1 {
            let first = try #require(objects.first)
            #expect(Set(first.keys) == Set(ReportExport.columns))
            #expect(first["block_size"] as? Int == 1 << 20)
            #expect(first["single_submit"] as? Bool == false)
        }
    }

    @Test func csvFieldsFollowRFC4180() throws {
        #expect(ReportExport.quote("plain") == "plain")
        #expect(ReportExport.quote("a,b") == "\"a,b\"")
        #expect(ReportExport.quote("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(ReportExport.quote("two\nlines") == "\"two\nlines\"")
        #expect(ReportExport.quote("crlf\r\nend") == "\"crlf\r\nend\"")
        #expect(try ReportExport.parseCSV("a,\"b \"\"c\"\"\",d\r\n,\"\",x\r\n\"multi\nline\",2")
            == [["a", "b \"c\"", "d"], ["", "", "x"], ["multi\nline", "2"]])
        let text = ReportExport.csv(Self.tricky())
        let records = try ReportExport.parseCSV(text)
        #expect(records.count == Self.tricky().count + 1)
        #expect(records.allSatisfy { $0.count == ReportExport.columns.count })
        #expect(records[1][6] == "0.1;1.2345678901234567;1e-05;12345.678")
        #expect(records[1][7] == "0.1")  // the median trial: the lower middle of four (Median)
    }

    @Test func badInputIsAUsageError() {
        #expect(throws: BenchError.self) { try ReportExport.rows(fromCSV: "") }
        #expect(throws: BenchError.self) { try ReportExport.rows(fromCSV: "operation,block_size\r\nread,1\r\n") }
        let header = ReportExport.columns.joined(separator: ",")
        #expect(throws: BenchError.self) {
            try ReportExport.rows(fromCSV: header + "\nerase,1,1,true,true,1,1,,,,\n")
        }
        #expect(throws: BenchError.self) {
            try ReportExport.rows(fromCSV: header + "\nread,1M,1,true,true,1,1,,,,\n")
        }
        #expect(throws: BenchError.self) {
            try ReportExport.rows(fromCSV: header + "\nread,1,1,yes,true,1,1,,,,\n")
        }
        #expect(throws: BenchError.self) {
            try ReportExport.rows(fromCSV: header + "\nread,1,1,true,true,1,fast,,,,\n")
        }
        #expect(throws: BenchError.self) { try ReportExport.rows(fromCSV: header + "\n\"open,1\n") }
        #expect(throws: BenchError.self) { try ReportExport.rows(fromCSV: header + "\nre\"ad,1\n") }
        #expect(throws: BenchError.self) { try ReportExport.rows(fromJSON: "{}") }
        #expect(throws: BenchError.self) { try ReportExport.rows(fromJSON: "[{\"operation\": \"read\"}]") }
        #expect(throws: BenchError.self) { try ReportExport.rows(fromJSON: "not json") }
        let one = ReportExport.json([ReportSamples.grid4()[0]]).replacingOccurrences(of: "\"read\"", with: "\"rd\"")
        #expect(throws: BenchError.self) { try ReportExport.rows(fromJSON: one) }
    }
}
