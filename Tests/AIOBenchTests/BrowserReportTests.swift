@testable import AIOBench
import AsyncIO
import Foundation
import Testing

/// The HTML report as a real browser renders it: headless Chromium's DOM has one heatmap cell per
/// configuration and operation, one best cell per operation, and the recommended JSON.
@Suite("Report in a browser")
struct BrowserReportTests {
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The DOM headless Chromium makes of `page` (ChildProcess, posix_spawn, not Foundation's Process:
    /// see `CLI.runProgram`).
    static func dom(_ chromium: String, page: String, profile: String) throws -> String {
        let run = try ChildProcess.run(
            chromium, arguments: ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)",
                                  "--dump-dom", URL(fileURLWithPath: page).absoluteString],
            timeout: .seconds(300))
        #expect(run.succeeded, "chromium: \(run.termination)")
        return String(decoding: run.standardOutput, as: UTF8.self)
    }

    static func fixtureLogs() -> String {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return here.appendingPathComponent("Fixtures/.deepspeed-0.19.8").path
    }

    @Test("chromium renders every heatmap cell and the recommended JSON",
          .enabled(if: chromium != nil, "chromium is not installed (apt-get install chromium); .ci/run installs it"))
    func rendered() throws {
        let chromium = try #require(Self.chromium)
        let folder = try LogParser.parseFolder(Self.fixtureLogs())
        let built = ReportBuilder.build(folder: folder, machine: ["test machine"], device: nil)
        let dir = NSTemporaryDirectory() + "swift-aio-browser-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let page = dir + "/report.html"
        try built.html.write(toFile: page, atomically: true, encoding: .utf8)

        let dom = try Self.dom(chromium, page: page, profile: dir + "/profile")

        let cells = dom.components(separatedBy: "class=\"cell").count - 1
        let best = dom.components(separatedBy: "class=\"cell best").count - 1
        #expect(cells == folder.records.count, "one cell per configuration and operation")
        #expect(best == 2, "one best cell for read and one for write")
        #expect(dom.contains("\"intra_op_parallelism\""))
        #expect(dom.contains("id=\"copy\""))
        // The fixture's fastest read (DeepSpeed's run) is in the DOM with its value.
        let fastest = folder.records(for: .read).compactMap(\.metric).max() ?? 0
        #expect(dom.contains(String(format: "%.2f", fastest)))
    }

    @Test("chromium renders the recommendation first, with one effects row per knob level",
          .enabled(if: chromium != nil, "chromium is not installed (apt-get install chromium); .ci/run installs it"))
    func effectsChart() throws {
        let chromium = try #require(Self.chromium)
        let dir = NSTemporaryDirectory() + "swift-aio-effects-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logs = dir + "/logs"
        try FileManager.default.copyItem(atPath: Self.fixtureLogs(), toPath: logs)
        let effects: [[String: Any]] = [
            ["label": "io_parallel 2 vs 1", "change": 0.118, "low": 0.097, "high": 0.139, "shown": true],
            ["label": "single submit vs batch", "change": -0.004, "low": -0.023, "high": 0.015, "shown": false],
            ["label": "block_size 8M vs 1M", "change": -0.2, "low": -0.26, "high": -0.14, "shown": true],
        ]
        let race: [String: Any] = ["pick": "block_size=1M queue_depth=32", "margin": 0.03, "lines": ["race: ..."],
                                   "guarantee": "within 3 % of the best of the 8 at 95 % confidence",
                                   "effects": effects]
        let data = try JSONSerialization.data(withJSONObject: ["race": race, "folders": ["/x"]])
        try data.write(to: URL(fileURLWithPath: logs + "/manifest.json"))
        let built = ReportBuilder.build(folder: try LogParser.parseFolder(logs), machine: [], device: nil)
        let page = dir + "/report.html"
        try built.html.write(toFile: page, atomically: true, encoding: .utf8)
        let dom = try Self.dom(chromium, page: page, profile: dir + "/profile")
        #expect(dom.components(separatedBy: "<g class=\"effect\"").count - 1 == 3)
        #expect(dom.contains("data-shown=\"false\""))
        #expect(dom.contains("within 3 % of the best of the 8 at 95 % confidence"))
        #expect(dom.contains("class=\"margin\""))
        let decision = try #require(dom.range(of: "class=\"decision\""))
        let card = try #require(dom.range(of: "class=\"card\""))
        #expect(decision.lowerBound < card.lowerBound)
    }
}
