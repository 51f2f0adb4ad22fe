import AsyncIO
@testable import AIOBench
import Foundation
import Testing

/// Where the sweep tests find their fixtures, and scratch folders for them.
enum SweepFixtures {
    /// `Tests/AIOBenchTests/Fixtures`, found from this file's path (no SwiftPM resources needed).
    static let folder: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    /// Four read and four write logs from DeepSpeed 0.19.8, laid out as a `--log_dir`. The folder name starts
    /// with a dot so that SwiftPM does not warn about unhandled files in the test target.
    static let deepSpeedLogs = folder + "/.deepspeed-0.19.8"

    /// DeepSpeed's own `parse` output for the full fixture folder.
    static let expectedParse = folder + "/.expected"

    /// The full DeepSpeed 0.19.8 run (128 logs): `Tests/Fixtures/deepspeed-0.19.8-tune`, found from this
    /// file's path, outside every test target so that SwiftPM does not take it for a resource.
    static let fullDeepSpeedRun: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/deepspeed-0.19.8-tune").path

    /// The full run's `--log_dir`.
    static let fullDeepSpeedLogs = fullDeepSpeedRun + "/_aio_bench_logs"

    /// The full run's `--log_dir`, or a failure of the calling test (never a skip) when the fixture is missing.
    static func requireFullDeepSpeedLogs(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        for operation in IOOperation.allCases {
            let folder = fullDeepSpeedLogs + "/" + operation.logFolderName
            try #require(FileManager.default.fileExists(atPath: folder),
                         "fixture folder \(folder) is missing: it is part of the repository (Tests/Fixtures)",
                         sourceLocation: sourceLocation)
        }
        return fullDeepSpeedLogs
    }

    /// A new empty folder under the temporary directory.
    static func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "/aio-sweep-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes `text` to `folder/name`, creating the folder.
    static func write(_ text: String, _ folder: String, _ name: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: folder + "/" + name))
    }

    /// DeepSpeed's four closing lines.
    static func deepSpeedLines(_ operation: IOOperation, speed: Double, latency: Double = 0.25) -> String {
        let title = operation.title
        return """
            Task \(title) Latency = \(latency) sec
            Task \(title) Speed = \(speed) GB/sec
            E2E \(title) Latency = \(latency) sec
            E2E \(title) Speed = \(speed) GB/sec

            """
    }
}
