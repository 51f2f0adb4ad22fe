import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `--mpi` end to end: the MPI build of aio-bench under `mpirun` on this node (ranks share the node).
@Suite("MPI: io, failures and tune across ranks under mpirun", .serialized,
       .enabled(if: MPIJob.available, MPIJob.skipReason))
struct MPICLITests {
    /// The `--json` document of an `io --mpi` run.
    struct JobJSON: Decodable {
        struct Rank: Decodable {
            struct Result: Decodable {
                var tasks: Int
                var validated: Bool?
            }
            var rank: Int
            var host: String
            var result: Result
        }
        var totalBytes: Int
        var e2eSpeedGiBps: Double
        var ranks: [Rank]
    }

    @Test("2 and 4 ranks of io --mpi --validate, read and write: data matches, the job's bytes are the ranks' sum",
          arguments: [2, 4], ["write", "read"])
    func ioAcrossRanks(ranks: Int, operation: String) throws {
        let scratch = try ScratchFolder("mpi-io")
        defer { scratch.remove() }
        let data = try scratch.folder("data")
        let args = ["io", "--mpi", "--folder", data, "--io_size", "4M", "--loops", "2", "--validate", "--json"]
            + (operation == "read" ? ["--read"] : [])
        let r = try CLI.runProgram(MPIJob.argv(ranks: ranks, args))
        #expect(r.status == 0, "\(r)")
        let job = try JSONDecoder().decode(JobJSON.self, from: Data(r.stdout.utf8))
        #expect(job.ranks.map(\.rank) == Array(0..<ranks))
        #expect(job.ranks.allSatisfy { $0.result.validated == true && $0.result.tasks == 1 }, "\(r)")
        #expect(job.totalBytes == ranks * (4 << 20) * 2)
        #expect(job.e2eSpeedGiBps > 0)
        #expect(listing(data).isEmpty, "data files left: \(listing(data))")
    }

    @Test("2 ranks striping over the same two folders: each rank its own set, data matches, nothing left",
          arguments: ["write", "read"])
    func stripedAcrossRanks(operation: String) throws {
        let scratch = try ScratchFolder("mpi-stripe")
        defer { scratch.remove() }
        let a = try scratch.folder("a"), b = try scratch.folder("b")
        let args = ["io", "--mpi", "--stripe", a, b, "--io_size", "3M", "--loops", "2", "--validate", "--json"]
            + (operation == "read" ? ["--read"] : [])
        let r = try CLI.runProgram(MPIJob.argv(ranks: 2, args))
        #expect(r.status == 0, "\(r)")
        let job = try JSONDecoder().decode(JobJSON.self, from: Data(r.stdout.utf8))
        #expect(job.ranks.allSatisfy { $0.result.validated == true }, "\(r)")
        #expect(job.totalBytes == 2 * (3 << 20) * 2)
        #expect(listing(a).isEmpty && listing(b).isEmpty, "files left: \(listing(a)) \(listing(b))")
    }

    @Test("io --mpi as text: rank 0 alone prints the table of ranks and DeepSpeed's four lines for the job")
    func ioText() throws {
        let scratch = try ScratchFolder("mpi-text")
        defer { scratch.remove() }
        let data = try scratch.folder("data")
        let r = try CLI.runProgram(MPIJob.argv(ranks: 2, ["io", "--mpi", "--folder", data, "--io_size", "4M"]))
        #expect(r.status == 0, "\(r)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("E2E Write Speed = ") }.count == 1, "\(r)")
        #expect(lines.suffix(4).map { $0.split(separator: " ").prefix(3).joined(separator: " ") }
            == ["Task Write Latency", "Task Write Speed", "E2E Write Latency", "E2E Write Speed"])
        #expect(lines.contains { $0.hasSuffix("slowest") } && lines.contains { $0.hasSuffix("fastest") }, "\(r)")
        #expect(lines.contains { $0.hasPrefix("write: 4 MiB × 2 tasks") }, "\(r)")
    }

    @Test("MPMD: a rank with a missing folder fails the job; rank 0 prints one line naming rank 1; no data left")
    func missingFolderOnOneRank() throws {
        let scratch = try ScratchFolder("mpi-missing")
        defer { scratch.remove() }
        let data = try scratch.folder("data")
        let missing = scratch.child("MISSING")
        let common = ["io", "--mpi", "--io_size", "8M", "--loops", "2"]
        let r = try RunningCLI.start(
            MPIJob.argv(eachRank: [common + ["--folder", data], common + ["--folder", missing]]).dropFirst()
                .map { RawArgument($0) }, executable: MPIJob.mpirun).finish(timeout: 120)
        #expect(r.status != 0 && r.status != -1, "\(r)")
        let lines = MPIJob.toolLines(r.stderr)
        #expect(lines.count == 1, "\(r)")
        #expect(lines.first?.hasPrefix("aio-bench: rank 1 (") == true, "\(r)")
        #expect(lines.first?.contains("'\(missing)' does not exist") == true, "\(r)")
        #expect(listing(data).isEmpty)
    }

    @Test("MPMD: a rank given another --io_size: one line naming the rank and the flag")
    func argumentMismatch() throws {
        let scratch = try ScratchFolder("mpi-mismatch")
        defer { scratch.remove() }
        let data = try scratch.folder("data")
        let common = ["io", "--mpi", "--folder", data, "--loops", "1"]
        let r = try CLI.runProgram(MPIJob.argv(eachRank: [common + ["--io_size", "4M"], common + ["--io_size", "8M"]]))
        #expect(r.status == 64, "\(r)")
        #expect(MPIJob.toolLines(r.stderr) == ["aio-bench: rank 1 (\(MPIJob.hostName)): --io_size is 8M on this rank "
            + "and 4M on rank 0: give every rank the same arguments"], "\(r)")
        #expect(listing(data).isEmpty)
    }

    @Test("2-rank tune of two points, SIGINT to mpirun, run again: no data left, one complete log per point and op")
    func tuneInterruptedAndResumed() throws {
        let scratch = try ScratchFolder("mpi-tune")
        defer { scratch.remove() }
        let data = try scratch.folder("data")
        let logs = scratch.child("logs")
        let space = scratch.child("space.json")
        try Data(#"{"block_size": ["1M"], "queue_depth": [4, 8]}"#.utf8).write(to: URL(fileURLWithPath: space))
        let args = ["tune", "--mpi", "--nvme_dir", data, "--sweep_config", space, "--io_size", "64M", "--loops", "6",
                    "--trials", "3", "--log_dir", logs, "--no-report"]
        let names = { () -> [String] in
            ["_aio_bench_read_logs", "_aio_bench_write_logs"].flatMap { sub in
                ((try? FileManager.default.contentsOfDirectory(atPath: logs + "/" + sub)) ?? [])
                    .filter { $0.hasSuffix(".txt") && !$0.hasPrefix(".") }
            }
        }
        let running = try RunningCLI.start(MPIJob.argv(ranks: 2, args, killAfter: 3).dropFirst().map { RawArgument($0) },
                                           executable: MPIJob.mpirun)
        #expect(waitUntil { running.hasExited || names().count >= 2 }, "no log appeared")
        #expect(!running.hasExited, "the tune ended before the signal; give it more work")
        running.signal(SIGINT)
        let first = running.finish(timeout: 120)
        #expect(first.status != -1, "mpirun hung after SIGINT: \(first)")
        #expect(first.status != 0, "\(first)")
        // Round 1 writes every log; the interruption must come before round 3 finished them all.
        let finished = { () -> Int in
            ["_aio_bench_read_logs", "_aio_bench_write_logs"].reduce(0) { count, sub in
                count + names().filter { name in
                    let text = (try? String(contentsOfFile: logs + "/" + sub + "/" + name, encoding: .utf8)) ?? ""
                    return text.contains("note: trials 3 of 3")
                }.count
            }
        }
        #expect(finished() < 4, "every log was already complete: \(names())")
        #expect(listing(data).isEmpty, "data files left after SIGINT: \(listing(data))")
        let again = try CLI.runProgram(MPIJob.argv(ranks: 2, args))
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.contains("\"aio\""), "\(again)")
        #expect(Set(names()) == ["read_block_overlap_ftd1_d4_bs1M_p1.txt", "read_block_overlap_ftd1_d8_bs1M_p1.txt",
                                 "write_block_overlap_ftd1_d4_bs1M_p1.txt", "write_block_overlap_ftd1_d8_bs1M_p1.txt"])
        for sub in ["_aio_bench_read_logs", "_aio_bench_write_logs"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: logs + "/" + sub)) ?? [] {
                let text = (try? String(contentsOfFile: logs + "/" + sub + "/" + name, encoding: .utf8)) ?? ""
                #expect(text.split(separator: "\n").filter { $0.hasPrefix("trial ") }.count == 3, "\(name)")
                #expect(text.contains("note: ranks 2 on 1 host"), "\(name)")
            }
        }
        let manifest = (try? String(contentsOfFile: logs + "/manifest.json", encoding: .utf8)) ?? ""
        #expect(manifest.contains("\"ranks\" : 2"), "\(manifest)")
        #expect(listing(data).isEmpty)
    }
}

extension MPIJob {
    /// This node's name as MPI reports it (`MPI_Get_processor_name` is the host name).
    static var hostName: String { ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "" }
}
