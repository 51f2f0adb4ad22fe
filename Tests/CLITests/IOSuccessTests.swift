import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `aio-bench io` runs that must work: DeepSpeed's four lines, JSON, every engine, several
/// tasks, and nothing left in the folder afterwards.
@Suite("aio-bench io: runs")
struct IOSuccessTests {
    /// Parses `--json` output; records an issue and returns nil when it is not a JSON object.
    func json(_ r: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) -> [String: Any]? {
        let object = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
        let dict = object as? [String: Any]
        #expect(dict != nil, "--json output is not a JSON object: \(r)", sourceLocation: sourceLocation)
        return dict
    }

    @Test(arguments: ["Read", "Write"])
    func deepSpeedLines(_ operation: String) throws {
        let scratch = try ScratchFolder("ok")
        defer { scratch.remove() }
        let before = listing(scratch.path)
        let args = ["--folder", scratch.path, "--io_size", "4M"] + (operation == "Read" ? ["--read"] : [])
        let r = try CLI.io(args)
        expectSuccess(r, operation: operation)
        #expect(r.stderr.isEmpty || r.stderrLines.allSatisfy { $0.hasPrefix("aio-bench: warning: ") }, "\(r)")
        #expect(listing(scratch.path) == before, "files left behind")
    }

    @Test(arguments: [["--read"], []])
    func jsonOutput(_ extra: [String]) throws {
        let scratch = try ScratchFolder("json")
        defer { scratch.remove() }
        let r = try CLI.io(["--folder", scratch.path, "--io_size", "2M", "--json"] + extra)
        #expect(r.status == 0, "\(r)")
        guard let doc = json(r) else { return }
        let result = doc["result"] as? [String: Any]
        #expect(result?["operation"] as? String == (extra.isEmpty ? "write" : "read"))
        #expect(result?["ioSize"] as? Int == 2 << 20)
        #expect((doc["e2eSpeedGiBps"] as? Double ?? 0) > 0)
        #expect(listing(scratch.path).isEmpty)
    }

    @Test(arguments: ["null", "posix", "aio", "io_uring"])
    func engine(_ name: String) throws {
        let scratch = try ScratchFolder("eng")
        defer { scratch.remove() }
        for operation in ["Read", "Write"] {
            let args = ["--folder", scratch.path, "--io_size", "2M", "--block_size", "256K", "--engine", name]
                + (operation == "Read" ? ["--read"] : [])
            let r = try CLI.io(args)
            expectSuccess(r, operation: operation)
            let engineLine = r.stdout.split(separator: "\n").first { $0.hasPrefix("engine: ") }
            #expect(engineLine?.lowercased().contains(name) == true, "the engine line names \(name): \(r)")
        }
        #expect(listing(scratch.path).isEmpty)
    }

    @Test(arguments: [["--read"], []])
    func validate(_ extra: [String]) throws {
        let scratch = try ScratchFolder("val")
        defer { scratch.remove() }
        let r = try CLI.io(["--folder", scratch.path, "--io_size", "4M", "--io_parallel", "2", "--validate"] + extra)
        expectSuccess(r, operation: extra.isEmpty ? "Write" : "Read")
        #expect(r.stdout.contains("data matches"), "\(r)")
        #expect(listing(scratch.path).isEmpty)
    }

    @Test func twoFoldersByMapping() throws {
        let scratch = try ScratchFolder("map")
        defer { scratch.remove() }
        let a = try scratch.folder("A")
        let b = try scratch.folder("B")
        let r = try CLI.io(["--folder_to_device_mapping", "\(a):0", "\(b):1", "--io_size", "1M", "--read"])
        expectSuccess(r)
        #expect(r.stdout.contains("2 tasks"), "\(r)")
        let j = try CLI.io(["--folder_to_device_mapping", "\(a):0", "\(b):1", "--io_size", "1M", "--json"])
        if let result = json(j)?["result"] as? [String: Any] {
            #expect(result["tasks"] as? Int == 2)
            #expect(result["folders"] as? [String] == [a, b])
        }
        #expect(listing(scratch.path) == ["A", "B"])
    }

    @Test func multiProcess() throws {
        let scratch = try ScratchFolder("mp")
        defer { scratch.remove() }
        let r = try CLI.io(["--folder", scratch.path, "--io_size", "1M", "--multi_process", "2", "--read", "--validate"])
        expectSuccess(r)
        #expect(r.stdout.contains("2 tasks"), "\(r)")
        #expect(r.stdout.contains("data matches"), "\(r)")
        let j = try CLI.io(["--folder", scratch.path, "--io_size", "1M", "--multi_process", "2", "--json"])
        #expect((json(j)?["result"] as? [String: Any])?["tasks"] as? Int == 2)
        #expect(listing(scratch.path).isEmpty)
    }

    /// tmpfs: O_DIRECT works from Linux 6.6; before that it is refused with the folder named.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/shm"), "no /dev/shm here"))
    func tmpfsFolder() throws {
        let scratch = try ScratchFolder("shm", in: "/dev/shm")
        defer { scratch.remove() }
        let direct = try CLI.io(["--folder", scratch.path, "--io_size", "2M", "--read"])
        if supportsDirectIO(scratch.path) {
            expectSuccess(direct)
        } else {
            expectUsage(direct, mentioning: [scratch.path, "O_DIRECT", "--buffered"])
        }
        #expect(listing(scratch.path).isEmpty)
        let buffered = try CLI.io(["--folder", scratch.path, "--io_size", "2M", "--read", "--buffered", "--validate"])
        expectSuccess(buffered)
        #expect(buffered.stdout.contains("buffered"), "\(buffered)")
        #expect(buffered.stdout.contains("data matches"), "\(buffered)")
        #expect(listing(scratch.path).isEmpty)
    }

    /// A read file of the wrong size (shorter or longer) is replaced with a correct one.
    @Test(arguments: [100, 3 << 20])
    func readFileWrongSizeReplaced(_ staleSize: Int) throws {
        let scratch = try ScratchFolder("stale")
        defer { scratch.remove() }
        let file = scratch.child("_aio_read_1048576.pt.0")
        #expect(FileManager.default.createFile(atPath: file, contents: Data(count: staleSize)))
        let kept = try CLI.io(["--folder", scratch.path, "--io_size", "1M", "--read", "--validate", "--keep_files"])
        expectSuccess(kept)
        #expect(kept.stdout.contains("data matches"), "\(kept)")
        #expect(fileSize(file) == 1 << 20, "the read file was not replaced with one of --io_size bytes")
        // Without --keep_files the (replaced) stale file goes too.
        #expect(FileManager.default.createFile(atPath: file, contents: Data(count: staleSize)))
        let r = try CLI.io(["--folder", scratch.path, "--io_size", "1M", "--read", "--validate"])
        expectSuccess(r)
        #expect(r.stdout.contains("data matches"), "\(r)")
        #expect(listing(scratch.path).isEmpty)
    }

    /// A read file of the right size is reused and kept: it was there before.
    @Test func readFileRightSizeKept() throws {
        let scratch = try ScratchFolder("reuse")
        defer { scratch.remove() }
        let file = scratch.child("_aio_read_1048576.pt.0")
        #expect(FileManager.default.createFile(atPath: file, contents: Data(count: 1 << 20)))
        expectSuccess(try CLI.io(["--folder", scratch.path, "--io_size", "1M", "--read"]))
        #expect(listing(scratch.path) == ["_aio_read_1048576.pt.0"])
        #expect(fileSize(file) == 1 << 20)
    }

    @Test func keepFiles() throws {
        let scratch = try ScratchFolder("keep")
        defer { scratch.remove() }
        expectSuccess(try CLI.io(["--folder", scratch.path, "--io_size", "1M", "--keep_files"]), operation: "Write")
        expectSuccess(try CLI.io(["--folder", scratch.path, "--io_size", "1M", "--read", "--keep_files"]))
        #expect(listing(scratch.path) == ["_aio_read_1048576.pt.0", "_aio_write_1048576.pt.0"])
        #expect(fileSize(scratch.child("_aio_write_1048576.pt.0")) == 1 << 20)
    }

    /// Spaces, quotes, `;`, `$(...)`, backquotes and a newline in the folder name: used as a
    /// name, never run by a shell.
    @Test func awkwardFolderName() throws {
        let scratch = try ScratchFolder("odd")
        defer { scratch.remove() }
        let folder = try scratch.folder(IOErrorTests.awkwardName)
        for extra in [["--read"], []] {
            let r = try CLI.run(["io", "--folder", folder, "--io_size", "1M", "--validate"] + extra,
                                currentDirectory: scratch.path)
            expectSuccess(r, operation: extra.isEmpty ? "Write" : "Read")
            #expect(r.stdout.contains("data matches"), "\(r)")
        }
        let mapped = try CLI.run(["io", "--folder_to_device_mapping", "\(folder):0", "--io_size", "1M"],
                                 currentDirectory: scratch.path)
        expectSuccess(mapped, operation: "Write")
        #expect(listing(scratch.path) == [IOErrorTests.awkwardName], "MARKER created or files left behind")
        #expect(listing(folder).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: scratch.child("MARKER")))
        #expect(!FileManager.default.fileExists(atPath: "MARKER"))
    }

    @Test func differentFileEachIteration() throws {
        let scratch = try ScratchFolder("dfei")
        defer { scratch.remove() }
        for extra in [["--read"], []] {
            let r = try CLI.io(["--folder", scratch.path, "--io_size", "1M", "--different_file_each_iteration"] + extra)
            expectSuccess(r, operation: extra.isEmpty ? "Write" : "Read")
        }
        #expect(listing(scratch.path).isEmpty)
    }
}
