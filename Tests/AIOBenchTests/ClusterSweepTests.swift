@testable import AIOBench
import AsyncIO
import Foundation
import Testing

/// `sweep --mpi` over ranks that are threads: rank 0 leads and logs, the others follow.
@Suite("Cluster sweep: every configuration on all ranks, one log each by rank 0")
struct ClusterSweepTests {
    /// A two-point sweep across `ranks`, each rank on its own data folder under `root`; logs in `root/logs`.
    static func sweep(ranks: Int, root: String, missingOn: Int? = nil) -> [Result<SweepSummary?, BenchError>] {
        let config = root + "/space.json"
        _ = FileManager.default.createFile(atPath: config,
                                           contents: Data(#"{"block_size": ["64K"], "queue_depth": [4, 8]}"#.utf8))
        return ThreadJob(size: ranks).run { coordinator throws(BenchError) -> SweepSummary? in
            let data = root + "/data\(coordinator.rank)"
            if coordinator.rank != missingOn {
                try? FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            }
            var setup: SweepRunner?
            var setupError: BenchError?
            do throws(BenchError) {
                var options = SweepOptions(nvmeDirs: [data])
                options.sweepConfig = config
                options.ioSize = 256 << 10
                options.trials = 1
                options.loops = 2
                options.buffered = true
                options.engine = .posix
                options.logDir = root + "/logs"
                setup = try SweepRunner(options: options)
            } catch {
                setupError = error
            }
            try coordinator.agree(on: setup?.clusterArguments ?? [], setupError: setupError)
            let cluster = ClusterSweep(coordinator)
            guard let runner = setup else { return nil }
            guard coordinator.isLeader else {
                try cluster.follow(runner)
                return nil
            }
            do {
                return try cluster.lead(runner) { $0 }
            } catch let error as BenchError {
                throw error
            } catch {
                throw .runtime("\(error)")
            }
        }
    }

    @Test("3 ranks: one log per configuration and operation, each trial the bytes of all ranks; no data left")
    func sweepAcrossRanks() throws {
        let root = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let outcomes = Self.sweep(ranks: 3, root: root)
        let summary = try #require(try outcomes[0].get())
        #expect(summary.failed.isEmpty && summary.runsDone == 4)
        for outcome in outcomes.dropFirst() {
            if case .failure(let error) = outcome { Issue.record("a follower failed: \(error)") }
        }
        var logs = 0
        for op in IOOperation.allCases {
            let folder = root + "/logs/" + op.logFolderName
            for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
                let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
                let log = LogParser.parse(text, operation: op)
                let trial = try #require(log.trialResults.first, "\(name)")
                // bytes = speed × latency: 3 ranks × 256 KiB × 2 loops.
                let bytes = trial.e2eSpeed * trial.e2eLatency * 1_073_741_824
                #expect(abs(bytes - Double(3 * (256 << 10) * 2)) < 1, "\(name): \(bytes) bytes")
                #expect(text.contains("note: ranks 3 on 3 hosts"), "\(name)")
                logs += 1
            }
        }
        #expect(logs == 4)
        let manifest = try String(contentsOfFile: root + "/logs/manifest.json", encoding: .utf8)
        #expect(manifest.contains("\"ranks\" : 3") && manifest.contains("\"node2\""), "\(manifest)")
        for rank in 0..<3 { #expect(listing(root + "/data\(rank)").isEmpty, "rank \(rank)'s data left") }
    }

    @Test("a follower's missing folder stops every rank before anything runs, naming it; no logs")
    func missingFolderOnFollower() throws {
        let root = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let outcomes = Self.sweep(ranks: 2, root: root, missingOn: 1)
        for outcome in outcomes {
            guard case .failure(let error) = outcome else {
                Issue.record("a rank went on")
                continue
            }
            #expect(error.description.hasPrefix("rank 1 (node1): --nvme_dir '\(root)/data1' does not exist"))
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/logs/manifest.json"))
    }

    /// Every file under `folder`, recursively.
    func listing(_ folder: String) -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).filter { path in
            var isFolder: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isFolder)
            return exists && !isFolder.boolValue
        }
    }
}
