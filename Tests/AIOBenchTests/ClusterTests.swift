@testable import AIOBench
import AsyncIO
import Foundation
import Testing

/// The coordination of a job's ranks (`--mpi`), over ranks that are threads (`ThreadJob`): agreement,
/// failures reaching every rank at the next meeting, io and sweeps across ranks, the aggregate.
@Suite("Cluster: agreement, failure at the next meeting, io and sweep across ranks")
struct ClusterTests {
    /// An io plan on `folder` (buffered, posix: runs on any file system).
    static func plan(_ folder: String, ioSize: Int = 256 << 10, loops: Int = 2) -> BenchPlan {
        var plan = BenchPlan(targets: [BenchTarget(folder: folder)], ioSize: ioSize)
        plan.loops = loops
        plan.warmupLoops = 1
        plan.buffered = true
        plan.lockMemory = false
        plan.validate = true
        return plan
    }

    static let config = HandleConfig(blockSize: 64 << 10, queueDepth: 4, engine: .posix)

    @Test("a rank given other arguments: every rank fails with one usage line naming that rank and the flag")
    func agreementNamesRankAndFlag() throws {
        let folder = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let outcomes = ThreadJob(size: 3).run { coordinator throws(BenchError) in
            let size = coordinator.rank == 2 ? 512 << 10 : 256 << 10
            let plan = ClusterTests.plan(folder, ioSize: size)
            try coordinator.agree(on: plan.clusterArguments(config: ClusterTests.config, operation: .write),
                                  setupError: nil)
        }
        for outcome in outcomes {
            guard case .failure(let error) = outcome else {
                Issue.record("a rank went on despite the mismatch")
                continue
            }
            #expect(error == .usage("rank 2 (node2): --io_size is 512K on this rank and 256K on rank 0: "
                + "give every rank the same arguments"))
        }
    }

    @Test("the first differing flag is named; arguments in another order or all equal are no difference")
    func differenceOfArguments() {
        let leader = [ClusterArgument("--loops", "3"), ClusterArgument("--read", true)]
        #expect(ClusterCoordinator.difference(mine: leader.reversed(), leaders: leader) == nil)
        let mine = [ClusterArgument("--loops", "3"), ClusterArgument("--read", false)]
        #expect(ClusterCoordinator.difference(mine: mine, leaders: leader)
            == "--read is off on this rank and on on rank 0: give every rank the same arguments")
        #expect(ClusterCoordinator.difference(mine: [leader[0]], leaders: leader)?
            .hasPrefix("--read is not given on this rank and on on rank 0") == true)
    }

    /// What each rank saw: meetings passed before the end, and its error.
    struct Seen: Sendable, Equatable {
        var meetings: Int
        var error: BenchError?
    }

    @Test("a failure on any rank, at any point, reaches every rank at the next meeting, named, and nothing hangs",
          arguments: [1, 2, 3, 4, 5, 6])
    func failureReachesEveryRank(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let size = Int.random(in: 2...4, using: &random)
        let failing = Int.random(in: 0..<size, using: &random)
        let failAfter = Int.random(in: 0...5, using: &random)
        let outcomes = ThreadJob(size: size).run { coordinator throws(BenchError) -> Seen in
            var meetings = 0
            do throws(BenchError) {
                try coordinator.together { () throws(BenchError) in
                    for _ in 0..<8 {
                        if coordinator.rank == failing && meetings == failAfter {
                            throw .runtime("disk on fire", cause: .system("write", errno: EIO, path: "/x"))
                        }
                        try coordinator.checkpoint()
                        meetings += 1
                    }
                }
            } catch {
                return Seen(meetings: meetings, error: error)
            }
            return Seen(meetings: meetings, error: nil)
        }
        for (rank, outcome) in outcomes.enumerated() {
            let seen = try? outcome.get()
            #expect(seen?.meetings == failAfter, "rank \(rank) of \(size)")
            #expect(seen?.error?.description == "rank \(failing) (node\(failing)): disk on fire", "rank \(rank)")
            // The system error travels with it: a sweep stops on a device failure of any rank.
            #expect(seen?.error?.isDeviceFailure == true, "rank \(rank)")
        }
        // After a failure the ranks go on together (a sweep's next configuration).
        let again = ThreadJob(size: size).run { coordinator throws(BenchError) in
            try coordinator.together { () throws(BenchError) in try coordinator.checkpoint() }
        }
        #expect(again.allSatisfy { (try? $0.get()) != nil })
    }

    @Test("io across 3 ranks in one folder: each rank's data reads back, no file collides, bytes are the sum",
          arguments: [IOOperation.write, .read])
    func ioAcrossRanks(operation: IOOperation) throws {
        let folder = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var random = SplitMix64(seed: operation == .read ? 7 : 8)
        let ioSize = Int.random(in: 4...40, using: &random) * 4096 + Int.random(in: 0..<4096, using: &random)
        let outcomes = ThreadJob(size: 3).run { coordinator throws(BenchError) in
            let plan = ClusterTests.plan(folder, ioSize: ioSize)
            try coordinator.agree(on: plan.clusterArguments(config: ClusterTests.config, operation: operation),
                                  setupError: nil)
            return try coordinator.runIO(plan: plan, config: ClusterTests.config, operation: operation)
        }
        let results = try outcomes.map { try $0.get() }
        #expect(results.allSatisfy { $0 == results[0] }, "every rank has the same result")
        let result = results[0]
        #expect(result.ranks.map(\.rank) == [0, 1, 2])
        #expect(result.ranks.map { $0.result.validated } == [true, true, true])
        #expect(result.aggregate.totalBytes == 3 * ioSize * 2)
        #expect(result.aggregate.e2eLatency == result.ranks.map(\.result.e2eLatency).max())
        #expect(result.ranks.allSatisfy { $0.meetingSeconds.count == 3 }, "one meeting before each of 3 loops")
        try result.checkValidated()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty, "data files left")
    }

    @Test("a rank with a missing folder: every rank fails naming it, and the others remove their files")
    func missingFolderOnOneRank() throws {
        let folder = try SweepFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let outcomes = ThreadJob(size: 2).run { coordinator throws(BenchError) in
            let plan = ClusterTests.plan(coordinator.rank == 1 ? folder + "/MISSING" : folder)
            return try coordinator.runIO(plan: plan, config: ClusterTests.config, operation: .write)
        }
        for outcome in outcomes {
            guard case .failure(let error) = outcome else {
                Issue.record("a rank succeeded")
                continue
            }
            #expect(error.exitCode == 64)
            #expect(error.description.hasPrefix("rank 1 (node1): --folder '\(folder)/MISSING' does not exist"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty, "data files left")
    }

    @Test("the aggregate is the bytes of all ranks over the slowest rank's latency (seeded random ranks)")
    func aggregateOfRanks() throws {
        var random = SplitMix64(seed: 11)
        for _ in 0..<20 {
            let size = Int.random(in: 1...6, using: &random)
            let template = try #require(try? JSONDecoder().decode(RankResult.self, from: Data(Self.rankJSON.utf8)))
            let ranks = (0..<size).map { rank -> RankResult in
                var r = template
                r.rank = rank
                r.host = "node\(rank % 2)"
                r.result.tasks = Int.random(in: 1...4, using: &random)
                r.result.e2eLatency = Double.random(in: 0.01...2, using: &random)
                r.result.taskLatency = r.result.e2eLatency * 0.9
                return r
            }
            let job = ClusterResult(ranks: ranks)
            let bytes = ranks.reduce(0) { $0 + $1.result.totalBytes }
            let slowest = ranks.map(\.result.e2eLatency).max()!
            #expect(job.aggregate.totalBytes == bytes)
            #expect(job.aggregate.e2eLatency == slowest)
            #expect(abs(job.aggregate.e2eSpeed - Double(bytes) / slowest / 1_073_741_824) < 1e-9)
            #expect(job.deepSpeedLines.last == "E2E Write Speed = \(PythonRepr.float(job.aggregate.e2eSpeed)) GB/sec")
            let table = job.summaryLines.filter { $0.hasSuffix("slowest") }
            if size > 1 {
                #expect(table.count == 1)
                let slow = ranks.first { $0.result.e2eLatency == slowest }!
                #expect(table.first?.hasPrefix(String(format: "  %4d  node", slow.rank)) == true)
            }
        }
    }

    static let rankJSON = """
        {"rank":0,"host":"n","warnings":[],"meetingSeconds":[],"result":{"operation":"write","ioSize":1048576,
        "tasks":1,"loops":2,"config":\(String(decoding: try! JSONEncoder().encode(config), as: UTF8.self)),
        "target":"native","notes":[],"enginePath":"posix","engineFallbacks":[],"pageLocked":true,
        "hugePageBytes":0,"bufferBytes":1048576,"taskLoopSeconds":[[0.1,0.1]],"taskLatency":0.2,"e2eLatency":0.2,
        "requests":32,"latencyMicros":{},"cpuUser":0,"cpuSystem":0,"folders":["/d"],"ioSeconds":0.2,
        "removalSeconds":0,"syncSeconds":0}}
        """
}
