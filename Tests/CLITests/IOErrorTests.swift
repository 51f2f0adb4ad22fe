import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `aio-bench io` with bad input: one clear line on stderr, exit 64 (usage) or 1 (runtime),
/// no crash, no stack trace, no file left behind.
@Suite("aio-bench io: errors and bad input")
struct IOErrorTests {
    /// Runs `io` with `args` in a fresh scratch folder (`args` may use `FOLDER`), checks that the
    /// folder's listing is unchanged, and returns the result.
    func inScratch(_ args: [String], prepare: (ScratchFolder) throws -> Void = { _ in },
                   prefix: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> CLIResult {
        let scratch = try ScratchFolder("err")
        defer { scratch.remove() }
        try prepare(scratch)
        let before = listing(scratch.path)
        let r = try CLI.io(args.map { $0.replacingOccurrences(of: "FOLDER", with: scratch.path) }, prefix: prefix)
        #expect(listing(scratch.path) == before, "files left behind: \(r)", sourceLocation: sourceLocation)
        return r
    }

    @Test func missingFolder() throws {
        let scratch = try ScratchFolder("err")
        defer { scratch.remove() }
        let missing = scratch.child("does-not-exist")
        let before = listing(scratch.path)
        let r = try CLI.io(["--folder", missing, "--io_size", "1M"])
        expectUsage(r, mentioning: [missing, "does not exist"])
        #expect(listing(scratch.path) == before)
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test func fileGivenAsFolder() throws {
        let r = try inScratch(["--folder", "FOLDER/plain-file", "--io_size", "1M"]) { scratch in
            #expect(FileManager.default.createFile(atPath: scratch.child("plain-file"), contents: Data("x".utf8)))
        }
        expectUsage(r, mentioning: ["plain-file", "not a folder"])
    }

    @Test func noFolderAtAll() throws {
        expectUsage(try CLI.io(["--io_size", "1M"]), mentioning: ["--folder"])
    }

    @Test func missingIOSize() throws {
        expectUsage(try inScratch(["--folder", "FOLDER"]), mentioning: ["--io_size"])
    }

    @Test func unknownOption() throws {
        expectUsage(try inScratch(["--folder", "FOLDER", "--io_size", "1M", "--no-such-option"]),
                    mentioning: ["--no-such-option"])
    }

    /// A 0500 folder. Root ignores permission bits, so as root the tool runs as `nobody` through
    /// `setpriv` (an argv prefix, no shell).
    @Test(.enabled(if: PermissionProbe.permissionsApply, PermissionProbe.skipReason))
    func unwritableFolder() throws {
        let scratch = try ScratchFolder("ro")
        defer { scratch.remove() }
        let folder = try scratch.folder("read-only", mode: 0o500)
        chmod(folder, 0o500)
        let prefix = try PermissionProbe.prefix(reaching: scratch.path)
        let before = listing(folder)
        let r = try CLI.io(["--folder", folder, "--io_size", "1M"], prefix: prefix)
        expectUsage(r, mentioning: [folder, "not writable"])
        #expect(listing(folder) == before)
        // Read runs need to create their read file too.
        let read = try CLI.io(["--folder", folder, "--io_size", "1M", "--read", "--buffered"], prefix: prefix)
        expectUsage(read, mentioning: [folder, "not writable"])
        #expect(listing(folder) == before)
    }

    /// /proc cannot hold files, even for root: refused up front (no O_DIRECT, or not writable)
    /// and, with --buffered, when the file is created.
    @Test func procAsFolder() throws {
        let direct = try CLI.io(["--folder", "/proc", "--io_size", "1M"])
        expectUsage(direct, mentioning: ["/proc"])
        let buffered = try CLI.io(["--folder", "/proc", "--io_size", "1M", "--buffered"])
        #expect(buffered.status == 1 || buffered.status == 64)
        expectFailure(buffered, status: buffered.status, mentioning: ["/proc"])
        #expect(!FileManager.default.fileExists(atPath: "/proc/_aio_write_1048576.pt.0"))
    }

    @Test(arguments: ["0", "-1", "12Q", "1.5G", "", " ", "0M", "M", "1e6", "99999999999T"])
    func badIOSize(_ value: String) throws {
        let r = try inScratch(["--folder", "FOLDER", "--io_size", value])
        expectUsage(r, mentioning: ["--io_size"])
        if !value.trimmingCharacters(in: .whitespaces).isEmpty {
            #expect(r.stderr.contains("'\(value)'"), "the message names the value: \(r)")
        }
    }

    @Test func badIOSizeWithEquals() throws {
        expectUsage(try inScratch(["--folder", "FOLDER", "--io_size=-1"]), mentioning: ["--io_size", "-1"])
    }

    @Test(arguments: [["--read"], []])
    func blockSizeNotAlignedUnderDirectIO(_ extra: [String]) throws {
        let scratch = try ScratchFolder("align")
        defer { scratch.remove() }
        let before = listing(scratch.path)
        let r = try CLI.io(["--folder", scratch.path, "--io_size", "4M", "--block_size", "1000"] + extra)
        if supportsDirectIO(scratch.path) {
            expectUsage(r, mentioning: ["--block_size 1000", "multiple", scratch.path])
        } else {
            expectUsage(r, mentioning: [scratch.path, "O_DIRECT"])
        }
        #expect(listing(scratch.path) == before)
    }

    @Test(arguments: [["--block_size", "0"], ["--block_size", "-4K"], ["--block_size", "1X"]])
    func badBlockSize(_ args: [String]) throws {
        expectUsage(try inScratch(["--folder", "FOLDER", "--io_size", "4M"] + args), mentioning: ["--block_size"])
    }

    @Test(arguments: ["0", "-1", "100000000", "x"])
    func badQueueDepth(_ value: String) throws {
        expectUsage(try inScratch(["--folder", "FOLDER", "--io_size", "4M", "--queue_depth", value]),
                    mentioning: ["queue_depth", value])
    }

    @Test func ioParallelZero() throws {
        expectUsage(try inScratch(["--folder", "FOLDER", "--io_size", "4M", "--io_parallel", "0"]),
                    mentioning: ["--io_parallel 0"])
    }

    @Test func ioParallelMoreThanBlocks() throws {
        let r = try inScratch(["--folder", "FOLDER", "--io_size", "4M", "--block_size", "1M", "--io_parallel", "8"])
        expectUsage(r, mentioning: ["--io_parallel 8", "4"])
    }

    @Test(arguments: [["--multi_process", "0"], ["--loops", "0"], ["--warmup_loops", "-1"], ["--multi_process", "-2"]])
    func badCounts(_ args: [String]) throws {
        expectUsage(try inScratch(["--folder", "FOLDER", "--io_size", "1M"] + args), mentioning: [args[0]])
    }

    @Test func folderAndMappingTogether() throws {
        let r = try inScratch(["--folder", "FOLDER", "--folder_to_device_mapping", "FOLDER:0", "--io_size", "1M"])
        expectUsage(r, mentioning: ["--folder", "--folder_to_device_mapping"])
    }

    @Test func mappingWithoutColon() throws {
        let r = try inScratch(["--folder_to_device_mapping", "FOLDER", "--io_size", "1M"])
        expectUsage(r, mentioning: ["--folder_to_device_mapping", "':'"])
    }

    @Test(arguments: ["FOLDER:x", ":0", "FOLDER:-1", "FOLDER/missing:0"])
    func badMapping(_ mapping: String) throws {
        expectUsage(try inScratch(["--folder_to_device_mapping", mapping, "--io_size", "1M"]))
    }

    @Test func torchEngine() throws {
        for engine in ["torch_io", "torch_fastio"] {
            let r = try inScratch(["--folder", "FOLDER", "--io_size", "1M", "--engine", engine])
            expectUsage(r, mentioning: [engine, "not supported"])
        }
    }

    @Test(arguments: ["bogus", "", "IO_URINGX"])
    func unknownEngine(_ engine: String) throws {
        let r = try inScratch(["--folder", "FOLDER", "--io_size", "1M", "--engine", engine])
        expectUsage(r, mentioning: ["--engine", "'\(engine)'", "io_uring"])
    }

    @Test(arguments: ["--gpu", "--use_gds"])
    func gpuFeatures(_ flag: String) throws {
        let r = try inScratch(["--folder", "FOLDER", "--io_size", "1M", flag])
        let hasCUDA = ["libcudart.so", "libcudart.so.12", "libcudart.so.11.0"].contains { name in
            guard let h = dlopen(name, RTLD_LAZY) else { return false }
            dlclose(h)
            return true
        }
        expectUsage(r, mentioning: hasCUDA ? [flag, "not supported"] : [flag, "not supported on this machine"])
    }

    // MARK: - Read files that are in the way

    static let readFile1M = "_aio_read_1048576.pt.0"

    /// A folder where the read file should be: refused, and left where it was.
    @Test func readFileIsAFolder() throws {
        let scratch = try ScratchFolder("rf")
        defer { scratch.remove() }
        _ = try scratch.folder(Self.readFile1M)
        let before = listing(scratch.path)
        let r = try CLI.io(["--folder", scratch.path, "--io_size", "1M", "--read"])
        expectRuntime(r, mentioning: [Self.readFile1M])
        #expect(listing(scratch.path) == before)
    }

    /// A symbolic link where the read file should be: never followed, never removed.
    @Test func readFileIsASymlink() throws {
        let scratch = try ScratchFolder("rf")
        defer { scratch.remove() }
        let target = scratch.child("precious")
        #expect(FileManager.default.createFile(atPath: target, contents: Data("keep me".utf8)))
        try FileManager.default.createSymbolicLink(atPath: scratch.child(Self.readFile1M), withDestinationPath: target)
        let before = listing(scratch.path)
        let r = try CLI.io(["--folder", scratch.path, "--io_size", "1M", "--read"])
        expectRuntime(r, mentioning: [Self.readFile1M])
        #expect(listing(scratch.path) == before)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me")
        let dangling = try ScratchFolder("rf")
        defer { dangling.remove() }
        try FileManager.default.createSymbolicLink(atPath: dangling.child(Self.readFile1M),
                                                   withDestinationPath: dangling.child("nowhere"))
        let before2 = listing(dangling.path)
        expectRuntime(try CLI.io(["--folder", dangling.path, "--io_size", "1M", "--read"]),
                      mentioning: [Self.readFile1M])
        #expect(listing(dangling.path) == before2)
    }

    /// A read file of the wrong size that the user may not replace: refused, left as it was.
    @Test(.enabled(if: PermissionProbe.permissionsApply, PermissionProbe.skipReason))
    func readFileWrongSizeNotWritable() throws {
        let scratch = try ScratchFolder("rf")
        defer { scratch.remove() }
        let folder = try scratch.folder("open", mode: 0o777)
        chmod(folder, 0o777)
        let prefix = try PermissionProbe.prefix(reaching: folder)
        let file = (folder as NSString).appendingPathComponent(Self.readFile1M)
        #expect(FileManager.default.createFile(atPath: file, contents: Data(count: 100),
                                               attributes: [.posixPermissions: 0o444]))
        let before = listing(folder)
        let r = try CLI.io(["--folder", folder, "--io_size", "1M", "--read"], prefix: prefix)
        expectRuntime(r, mentioning: [Self.readFile1M, "cannot be replaced"])
        #expect(listing(folder) == before)
        #expect(fileSize(file) == 100)
    }

    // MARK: - Folder names

    static let awkwardName = "a b 'single' \"double\" ;semi $(touch MARKER) `touch MARKER2`\nnewline"

    /// A missing folder whose name has a newline still gives one line (the newline is escaped).
    @Test func awkwardMissingFolder() throws {
        let scratch = try ScratchFolder("odd")
        defer { scratch.remove() }
        let missing = scratch.child(Self.awkwardName)
        let r = try CLI.run(["io", "--folder", missing, "--io_size", "1M"], currentDirectory: scratch.path)
        expectUsage(r, mentioning: ["does not exist", "$(touch MARKER)", "\\nnewline"])
        #expect(listing(scratch.path).isEmpty)
    }

    // MARK: - Help

    @Test func help() throws {
        let r = try CLI.run(["io", "--help"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("--io_size"))
        #expect(r.stderr.isEmpty)
    }
}
