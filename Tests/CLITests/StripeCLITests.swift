import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `aio-bench io --stripe D1 D2 ... [--stripe_size N]`: one task striped over the folders, DeepSpeed's
/// four lines for the aggregate, one speed per folder, `--validate`, every engine, nothing left behind;
/// every bad input one line and exit 64.
@Suite("aio-bench io --stripe")
struct StripeCLITests {
    /// `count` fresh member folders in one scratch folder.
    static func folders(_ scratch: ScratchFolder, _ count: Int) throws -> [String] {
        try (0..<count).map { try scratch.folder("d\($0)") }
    }

    /// The per-folder lines of the summary, in order.
    static func folderLines(_ r: CLIResult) -> [Substring] {
        r.stdout.split(separator: "\n").filter { $0.hasPrefix("  folder ") }
    }

    @Test("write and read, validated, with a tail and members of unequal size", arguments: ["Read", "Write"])
    func validated(_ operation: String) throws {
        let scratch = try ScratchFolder("stripe-ok")
        defer { scratch.remove() }
        let dirs = try Self.folders(scratch, 3)
        // 5 full 256K chunks and a 12345-byte tail: members of 2, 2 and 1 chunks plus the tail on member 2.
        let args = ["--stripe"] + dirs + ["--stripe_size", "256K", "--block_size", "128K", "--io_size",
                                          String(5 * 256 * 1024 + 12345), "--io_parallel", "2", "--validate"]
        let r = try CLI.io(args + (operation == "Read" ? ["--read"] : []))
        expectSuccess(r, operation: operation)
        #expect(r.stdout.contains("data matches"), "\(r)")
        #expect(r.stdout.contains("stripe: 3 folders, stripe size 256K"), "\(r)")
        let lines = Self.folderLines(r)
        #expect(lines.count == 3, "\(r)")
        for (index, line) in lines.enumerated() {
            #expect(line.hasPrefix("  folder \(index): ") && line.hasSuffix(dirs[index]), "\(line)")
            #expect(line.contains("GiB/s") && !line.contains(" 0.000 GiB/s"), "\(line)")
        }
        for dir in dirs { #expect(listing(dir).isEmpty, "files left in \(dir): \(listing(dir))") }
    }

    @Test("--json carries the per-folder figures")
    func json() throws {
        let scratch = try ScratchFolder("stripe-json")
        defer { scratch.remove() }
        let dirs = try Self.folders(scratch, 2)
        let r = try CLI.io(["--stripe"] + dirs + ["--io_size", "3M", "--json", "--read"])
        #expect(r.status == 0, "\(r)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let result = try #require(doc["result"] as? [String: Any], "\(r)")
        #expect(result["tasks"] as? Int == 1)
        #expect(result["folders"] as? [String] == dirs)
        let stripe = try #require(result["stripe"] as? [String: Any], "\(r)")
        #expect(stripe["stripeSize"] as? Int == 1 << 20)
        let members = try #require(stripe["members"] as? [[String: Any]])
        #expect(members.map { $0["folder"] as? String } == dirs)
        // Three 1 MiB chunks: two on member 0, one on member 1.
        #expect(members.map { $0["bytesPerLoop"] as? Int } == [2 << 20, 1 << 20])
        #expect(members.map { $0["file"] as? String } == [
            "_aio_read_3145728.pt.0-of-2.stripe-1048576.size-3145728",
            "_aio_read_3145728.pt.1-of-2.stripe-1048576.size-3145728",
        ])
        #expect(members.allSatisfy { ($0["gibPerSecond"] as? Double ?? 0) > 0 }, "\(members)")
        for dir in dirs { #expect(listing(dir).isEmpty) }
    }

    @Test(arguments: ["null", "posix", "aio", "io_uring"])
    func engine(_ name: String) throws {
        let scratch = try ScratchFolder("stripe-eng")
        defer { scratch.remove() }
        let dirs = try Self.folders(scratch, 2)
        for operation in ["Read", "Write"] {
            let args = ["--stripe"] + dirs + ["--io_size", "2M", "--block_size", "256K", "--stripe_size", "512K",
                                              "--engine", name] + (operation == "Read" ? ["--read"] : [])
            let r = try CLI.io(args + (name == "null" ? [] : ["--validate"]))
            expectSuccess(r, operation: operation)
            let engineLine = r.stdout.split(separator: "\n").first { $0.hasPrefix("engine: ") }
            #expect(engineLine?.lowercased().contains(name) == true, "the engine line names \(name): \(r)")
            if name != "null" { #expect(r.stdout.contains("data matches"), "\(r)") }
        }
        for dir in dirs { #expect(listing(dir).isEmpty) }
    }

    @Test("one folder, and more folders than chunks (a member gets nothing)")
    func edgeCounts() throws {
        let scratch = try ScratchFolder("stripe-edge")
        defer { scratch.remove() }
        let one = try Self.folders(scratch, 1)
        expectSuccess(try CLI.io(["--stripe"] + one + ["--io_size", "1M", "--validate", "--read"]))
        _ = try scratch.folder("four")
        let dirs = try (0..<4).map { try scratch.folder("four/m\($0)") }
        let r = try CLI.io(["--stripe"] + dirs + ["--io_size", String((1 << 20) + 100), "--stripe_size", "512K",
                                                  "--block_size", "512K", "--validate"])
        expectSuccess(r, operation: "Write")
        #expect(r.stdout.contains("data matches"), "\(r)")
        let lines = Self.folderLines(r)
        #expect(lines.count == 4 && lines[3].contains("0.000 GiB/s, 0 B per loop"), "\(r)")
        for dir in dirs + one { #expect(listing(dir).isEmpty) }
    }

    @Test("--keep_files leaves member files named by index and geometry, mode 0600")
    func keptFiles() throws {
        let scratch = try ScratchFolder("stripe-keep")
        defer { scratch.remove() }
        let dirs = try Self.folders(scratch, 2)
        let r = try CLI.io(["--stripe"] + dirs + ["--io_size", "3M", "--keep_files"])
        expectSuccess(r, operation: "Write")
        for (index, dir) in dirs.enumerated() {
            let name = "_aio_write_3145728.pt.\(index)-of-2.stripe-1048576.size-3145728"
            #expect(listing(dir) == [name], "\(listing(dir))")
            var st = stat()
            #expect(lstat(dir + "/" + name, &st) == 0 && st.st_mode & 0o777 == 0o600)
            #expect(fileSize(dir + "/" + name) == (index == 0 ? 2 : 1) << 20)
        }
    }

    @Test("bad input: one line, exit 64, nothing created")
    func badInput() throws {
        let scratch = try ScratchFolder("stripe-bad")
        defer { scratch.remove() }
        let dirs = try Self.folders(scratch, 2)
        let missing = scratch.child("missing")
        let file = scratch.child("plain-file")
        #expect(FileManager.default.createFile(atPath: file, contents: Data([1])))
        let cases: [([String], [String])] = [
            (["--stripe", dirs[0], missing], ["--stripe", missing, "does not exist"]),
            (["--stripe", dirs[0], file], ["not a folder"]),
            (["--stripe", dirs[0], dirs[1], dirs[0]], ["given twice"]),
            (["--stripe", dirs[0], dirs[0] + "/"], ["given twice"]),
            (["--stripe", dirs[0], "--folder", dirs[1]], ["--stripe", "--folder"]),
            (["--stripe", dirs[0], "--folder_to_device_mapping", dirs[1] + ":0"], ["--folder_to_device_mapping"]),
            (["--folder", dirs[0], "--stripe_size", "1M"], ["--stripe_size", "needs --stripe"]),
            (["--stripe", dirs[0], "--stripe_size", "1536K"], ["--stripe_size 1536K", "multiple of --block_size"]),
            (["--stripe", dirs[0], "--stripe_size", "768K", "--block_size", "512K"], ["--stripe_size 768K"]),
            (["--stripe", dirs[0], "--stripe_size", "12Q"], ["--stripe_size", "12Q"]),
            (["--stripe", dirs[0], "--stripe_size", "0"], ["--stripe_size", "greater than 0"]),
            (["--stripe", dirs[0], "--stripe_size", "-1"], ["--stripe_size", "-1"]),
            (["--stripe", dirs[0], "--block_size", "1000", "--stripe_size", "1000"], ["--block_size 1000"]),
            (["--stripe", dirs[0], "--multi_process", "2"], ["--multi_process", "--stripe"]),
            (["--stripe", dirs[0], "--different_file_each_iteration"], ["--different_file_each_iteration"]),
            (["--stripe"], ["--stripe"]),
        ]
        for (args, needles) in cases {
            let r = try CLI.io(args + ["--io_size", "1M"])
            expectUsage(r, mentioning: needles)
        }
        for dir in dirs { #expect(listing(dir).isEmpty, "\(listing(dir))") }
    }

    @Test("SIGINT during a striped run removes the member files", arguments: ["Read", "Write"])
    func interrupted(_ operation: String) throws {
        let scratch = try ScratchFolder("stripe-sig")
        defer { scratch.remove() }
        let dirs = try Self.folders(scratch, 2)
        let args = ["io", "--stripe"] + dirs + ["--io_size", "64M", "--loops", "100000", "--warmup_loops", "0"]
            + (operation == "Read" ? ["--read"] : [])
        let running = try RunningCLI.start(args.map { RawArgument($0) })
        let started = waitUntil { running.hasExited || dirs.allSatisfy { !listing($0).isEmpty } }
        #expect(started && !running.hasExited, "the run did not start its files")
        usleep(200_000)
        running.signal(SIGINT)
        let r = running.finish()
        #expect(r.status == 128 + SIGINT, "\(r)")
        #expect(r.stderr.contains("interrupted"), "\(r)")
        for dir in dirs { #expect(listing(dir).isEmpty, "files left: \(listing(dir))") }
    }
}
