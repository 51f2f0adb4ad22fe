@testable import AIOBench
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Hostile names and planted symbolic links: folder and log-folder names are only ever names
/// (never run by a shell, never turned into other names), and no test file is written through
/// a link someone put in its place.
@Suite("aio-bench with hostile input")
struct HostileInputTests {
    /// Shell syntax, quotes, a newline, markup; and a name that starts like an option.
    static let names = [
        "a b 'single' \"double\" ;semi; $(touch MARKER) `touch MARKER2` | tee MARKER3 &\nnewline <b onmouseover=alert(1)>bold &amp;",
        "-lead dash",
    ]

    static let sweepConfig = #"{"block_size": ["128K"], "queue_depth": [4, 8], "io_parallel": [1]}"#

    /// `io`, `sweep`, `parse`, `report` and `generate` with the name as data folder, config folder,
    /// log folder and report file: all work, nothing is executed, nothing is left.
    @Test(arguments: names)
    func namesAreOnlyNames(_ name: String) throws {
        let scratch = try ScratchFolder("names")
        defer { scratch.remove() }
        let data = try scratch.folder(name)
        let configFolder = try scratch.folder("cfg " + name)
        let config = (configFolder as NSString).appendingPathComponent("sweep " + name + ".json")
        #expect(FileManager.default.createFile(atPath: config, contents: Data(Self.sweepConfig.utf8)))
        let logs = scratch.child(name + " logs")
        let run = { (args: [String]) throws -> CLIResult in try CLI.run(args, currentDirectory: scratch.path) }

        for extra in [[], ["--read"]] {
            let r = try run(["io", "--folder", data, "--io_size", "1M", "--validate"] + extra)
            expectSuccess(r, operation: extra.isEmpty ? "Write" : "Read")
            #expect(r.stdout.contains("data matches"), "\(r)")
            #expect(r.stdout.contains(data), "the summary names the folder as it is: \(r)")
        }
        #expect(listing(data).isEmpty)

        let sweep = try run(["sweep", "--nvme_dir", data, "--sweep_config", config, "--io_size", "1M",
                             "--trials", "1", "--log_dir", logs, "--quiet"])
        #expect(sweep.status == 0, "\(sweep)")
        #expect(sweep.stderr.isEmpty, "\(sweep)")
        #expect(listing(data).isEmpty, "test files left: \(listing(data))")
        let folder = try LogParser.parseFolder(logs)
        #expect(folder.records.count == 4 && folder.records.allSatisfy { $0.metric != nil })
        let manifest = FileManager.default.contents(atPath: logs + "/manifest.json")
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        #expect(manifest?["folders"] as? [String] == [data], "the manifest keeps the name exactly")

        for metric in ["read_speed", "write_speed"] {
            let parse = try run(["parse", "--log_dir", logs, "--metric", metric])
            #expect(parse.status == 0, "\(parse)")
            let lines = parse.stdout.split(separator: "\n")
            #expect(lines.count == 2 && lines.allSatisfy { $0.hasPrefix("('") }, "\(parse)")
        }
        let generate = try run(["generate", "--log_dir", logs])
        #expect(generate.status == 0, "\(generate)")
        #expect(generate.stdout.contains("\"aio\""), "\(generate)")

        let html = (logs as NSString).appendingPathComponent("report " + name + ".html")
        let csv = (logs as NSString).appendingPathComponent("report " + name + ".csv")
        let json = (logs as NSString).appendingPathComponent("report " + name + ".json")
        let report = try run(["report", "--log_dir", logs, "--output", html, "--csv", csv, "--json", json])
        #expect(report.status == 0, "\(report)")
        for file in [html, csv, json] { #expect(FileManager.default.fileExists(atPath: file), "\(file)") }
        if name.contains("<b "), let page = try? String(contentsOfFile: html, encoding: .utf8) {
            #expect(!page.contains("<b onmouseover"), "markup from a folder name reached the page unescaped")
            #expect(page.contains("&lt;b onmouseover"), "the page names the log folder, escaped")
        }

        let everything = listing(scratch.path)
        #expect(!everything.contains { ($0 as NSString).lastPathComponent.hasPrefix("MARKER") },
                "a shell ran part of a name: \(everything)")
        #expect(!FileManager.default.fileExists(atPath: "MARKER"))
    }

    /// A name that starts with `-`, given relative to the working folder: with `--flag=value` it
    /// is a name; with `--flag value` it is taken for an option and refused (as Python's argparse
    /// does for DeepSpeed's scripts), creating nothing.
    @Test func leadingDashRelative() throws {
        let scratch = try ScratchFolder("dash")
        defer { scratch.remove() }
        _ = try scratch.folder("-data")
        #expect(FileManager.default.createFile(atPath: scratch.child("-sweep.json"),
                                               contents: Data(Self.sweepConfig.utf8)))
        let run = { (args: [String]) throws -> CLIResult in try CLI.run(args, currentDirectory: scratch.path) }
        expectSuccess(try run(["io", "--folder=-data", "--io_size", "1M", "--read"]))
        let sweep = try run(["sweep", "--nvme_dir=-data", "--sweep_config=-sweep.json", "--io_size", "1M",
                             "--trials", "1", "--log_dir=-logs", "--quiet"])
        #expect(sweep.status == 0, "\(sweep)")
        #expect(try LogParser.parseFolder(scratch.child("-logs")).records.count == 4)
        let parse = try run(["parse", "--log_dir=-logs"])
        #expect(parse.status == 0 && parse.stdout.split(separator: "\n").count == 2, "\(parse)")
        let report = try run(["report", "--log_dir=-logs", "--output=-report.html"])
        #expect(report.status == 0, "\(report)")
        #expect(FileManager.default.fileExists(atPath: scratch.child("-report.html")))
        #expect(listing(scratch.child("-data")).isEmpty)

        let before = listing(scratch.path)
        for args in [["io", "--folder", "-data", "--io_size", "1M"],
                     ["parse", "--log_dir", "-logs"],
                     ["sweep", "--nvme_dir", "-data", "--io_size", "1M", "--log_dir", "-other"]] {
            let r = try run(args)
            expectUsage(r)
        }
        #expect(listing(scratch.path) == before, "a refused command created something")
    }

    /// One-character names relative to the working folder (`d`, `l`, `r.html`): Foundation's
    /// `deletingLastPathComponent` traps on such a path on Linux, and `tune --log_dir l` crashed
    /// on it. Every command that takes a folder or a file works with them.
    @Test func oneCharacterRelativeNames() throws {
        let scratch = try ScratchFolder("onechar")
        defer { scratch.remove() }
        _ = try scratch.folder("d")
        #expect(FileManager.default.createFile(atPath: scratch.child("s"), contents: Data(Self.sweepConfig.utf8)))
        let run = { (args: [String]) throws -> CLIResult in try CLI.run(args, currentDirectory: scratch.path) }
        expectSuccess(try run(["io", "--folder", "d", "--io_size", "1M", "--read"]))
        let tune = try run(["tune", "--nvme_dir", "d", "--sweep_config", "s", "--io_size", "1M", "--trials", "1",
                            "--log_dir", "l", "--no-report", "--target", "native", "--quiet"])
        #expect(tune.status == 0, "\(tune)")
        #expect(tune.stdout.contains("\"aio\""), "\(tune)")
        #expect(try LogParser.parseFolder(scratch.child("l")).records.count == 4)
        for args in [["parse", "--log_dir", "l"], ["generate", "--log_dir", "l"],
                     ["report", "--log_dir", "l", "--output", "r", "--csv", "c", "--json", "j"]] {
            let r = try run(args)
            #expect(r.status == 0, "\(r)")
        }
        for file in ["r", "c", "j"] { #expect(FileManager.default.fileExists(atPath: scratch.child(file)), "\(file)") }
        let missing = try run(["sweep", "--nvme_dir", "d", "--sweep_config", "s", "--log_dir", "x/l"])
        expectUsage(missing)
        #expect(missing.stderr.contains("'x' is not an existing folder"), "\(missing)")
        #expect(listing(scratch.child("d")).isEmpty)
    }

    /// Names whose bytes are not UTF-8, passed as raw argv bytes: Swift would read them as other
    /// names (U+FFFD), so the tool refuses them with one usage line that shows the bytes, and
    /// creates nothing (in particular no look-alike folder). Files with such names inside a log
    /// folder are skipped by `parse` and `report`, which still work.
    @Test func nonUTF8Names() throws {
        let scratch = try ScratchFolder("bytes")
        defer { scratch.remove() }
        let okData = try scratch.folder("data")
        let config = try writeSweepConfig(scratch, Self.sweepConfig)
        let bad = Array(scratch.path.utf8) + Array("/bad".utf8) + [0xFF, 0xFE] + Array(" dir".utf8)
        #expect(mkdirRaw(bad, mode: 0o755) == 0)
        let badLogs = Array(scratch.path.utf8) + Array("/logs".utf8) + [0xC3, 0x28]
        let before = rawNames(scratch.path)
        let cases: [[RawArgument]] = [
            ["io", "--folder", RawArgument(bad), "--io_size", "1M"],
            ["io", "--folder_to_device_mapping", RawArgument(bad + Array(":0".utf8)), "--io_size", "1M", "--read"],
            ["sweep", "--nvme_dir", RawArgument(bad), "--sweep_config", RawArgument(config), "--io_size", "1M"],
            ["sweep", "--nvme_dir", RawArgument(okData), "--sweep_config", RawArgument(config), "--io_size", "1M",
             "--trials", "1", "--log_dir", RawArgument(badLogs)],
            ["parse", "--log_dir", RawArgument(bad)],
            ["report", "--log_dir", RawArgument(bad), "--output", RawArgument(bad + Array("/r.html".utf8))],
        ]
        for args in cases {
            let r = try CLI.run(raw: args, currentDirectory: scratch.path)
            expectUsage(r, mentioning: ["not valid UTF-8", args.contains(RawArgument(badLogs)) ? "logs\\xc3(" : "bad\\xff\\xfe dir"])
        }
        #expect(rawNames(scratch.path) == before, "something was created: \(rawNames(scratch.path))")
        #expect(rawNamesRaw(bad).isEmpty)
        #expect(listing(okData).isEmpty)

        // Stray files with such names inside a log folder and a data folder.
        let logs = scratch.child("logs")
        let sweepArgs = ["sweep", "--nvme_dir", okData, "--sweep_config", config, "--io_size", "1M", "--trials", "1",
                         "--log_dir", logs, "--quiet"]
        #expect(try CLI.run(sweepArgs).status == 0)
        let readLogs = logs + "/_aio_bench_read_logs"
        #expect(createRaw(Array(readLogs.utf8) + Array("/read_".utf8) + [0xFF] + Array(".txt".utf8)))
        #expect(mkdirRaw(Array(readLogs.utf8) + Array("/dir".utf8) + [0xFE], mode: 0o755) == 0)
        #expect(createRaw(Array(okData.utf8) + Array("/stranger".utf8) + [0xFF]))
        let parse = try CLI.run(["parse", "--log_dir", logs])
        #expect(parse.status == 0, "\(parse)")
        #expect(parse.stdout.split(separator: "\n").count == 2, "\(parse)")
        #expect(parse.stderrLines.allSatisfy { $0.hasPrefix("aio-bench: warning: skipped ") }, "\(parse)")
        let report = try CLI.run(["report", "--log_dir", logs, "--output", scratch.child("r.html")])
        #expect(report.status == 0, "\(report)")
        let again = try CLI.run(sweepArgs + ["--force"])
        #expect(again.status == 0, "\(again)")
        #expect(rawNamesRaw(Array(okData.utf8)) == [Array("stranger".utf8) + [0xFF]], "the stranger's file is kept")
    }

    // MARK: - Planted symbolic links

    /// A link planted where `io` writes its file (every loop's name with
    /// `--different_file_each_iteration` too): the link's target keeps its bytes.
    @Test(arguments: [false, true])
    func ioWriteFileIsASymlink(differentFiles: Bool) throws {
        let scratch = try ScratchFolder("link-io")
        defer { scratch.remove() }
        let data = try scratch.folder("data")
        let target = try precious(scratch)
        let names = differentFiles ? (0..<3).map { "_aio_write_1048576.pt.0_\($0)" } : ["_aio_write_1048576.pt.0"]
        for name in names {
            try FileManager.default.createSymbolicLink(atPath: (data as NSString).appendingPathComponent(name),
                                                       withDestinationPath: target.path)
        }
        let r = try CLI.io(["--folder", data, "--io_size", "1M", "--loops", "2"]
            + (differentFiles ? ["--different_file_each_iteration"] : []))
        if r.status != 0 { expectRuntime(r) }
        #expect(target.unchanged, "the link's target was written through")
        // Only the planted links may remain (or none): no test file.
        #expect(Set(listing(data)).isSubset(of: Set(names)), "\(listing(data))")
        for name in listing(data) {
            var st = stat()
            #expect(lstat((data as NSString).appendingPathComponent(name), &st) == 0 && st.st_mode & S_IFMT == S_IFLNK)
        }
    }

    /// A link planted in a sweep's own test folder where the write file goes: the target keeps
    /// its bytes and the sweep completes.
    @Test func sweepWriteFileIsASymlink() throws {
        let scratch = try ScratchFolder("link-sweep")
        defer { scratch.remove() }
        let data = try scratch.folder("data")
        let target = try precious(scratch)
        let io = (data as NSString).appendingPathComponent("_aio_bench_write_io")
        #expect(mkdir(io, 0o755) == 0)
        try FileManager.default.createSymbolicLink(atPath: io + "/_aio_write_1048576.pt.0",
                                                   withDestinationPath: target.path)
        let config = try writeSweepConfig(scratch, Self.sweepConfig)
        let r = try CLI.run(["sweep", "--nvme_dir", data, "--sweep_config", config, "--io_size", "1M", "--trials", "1",
                             "--no_read", "--log_dir", scratch.child("logs"), "--quiet"])
        #expect(r.status == 0, "\(r)")
        #expect(target.unchanged, "the link's target was written through")
        let logs = try LogParser.parseFolder(scratch.child("logs"))
        #expect(logs.records.count == 2 && logs.records.allSatisfy { $0.metric != nil })
        #expect(!listing(data).contains { $0.hasSuffix(".pt.0") && !isLink(data + "/" + $0) }, "\(listing(data))")
    }

    /// The sweep's test folders themselves planted as links to another folder that holds files
    /// with the test files' names (the right size, too): the sweep refuses to use them, and the
    /// other folder is left exactly as it was.
    @Test func sweepTestFolderIsASymlink() throws {
        let scratch = try ScratchFolder("link-dir")
        defer { scratch.remove() }
        let data = try scratch.folder("data")
        let elsewhere = try scratch.folder("elsewhere")
        var baits: [(path: String, bytes: Data)] = []
        for name in ["_aio_write_1048576.pt.0", "_aio_read_1048576.pt.0"] {
            let path = (elsewhere as NSString).appendingPathComponent(name)
            let bytes = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 * 7) })
            #expect(FileManager.default.createFile(atPath: path, contents: bytes))
            baits.append((path, bytes))
        }
        for sub in ["_aio_bench_read_io", "_aio_bench_write_io"] {
            try FileManager.default.createSymbolicLink(atPath: (data as NSString).appendingPathComponent(sub),
                                                       withDestinationPath: elsewhere)
        }
        let before = listing(elsewhere)
        let config = try writeSweepConfig(scratch, Self.sweepConfig)
        let r = try CLI.run(["sweep", "--nvme_dir", data, "--sweep_config", config, "--io_size", "1M", "--trials", "1",
                             "--log_dir", scratch.child("logs")])
        #expect(r.stderr.contains("is not a folder"), "\(r)")
        for bait in baits {
            #expect(FileManager.default.contents(atPath: bait.path) == bait.bytes, "\(bait.path) was changed")
        }
        #expect(listing(elsewhere) == before)
        let logs = try LogParser.parseFolder(scratch.child("logs"))
        #expect(logs.records.allSatisfy { $0.log.error?.contains("is not a folder") == true })
    }
}

// MARK: - Helpers

/// A file outside the folder under test, whose bytes must not change.
struct PreciousFile {
    let path: String
    let bytes: Data
    var unchanged: Bool { FileManager.default.contents(atPath: path) == bytes }
}

private func precious(_ scratch: ScratchFolder) throws -> PreciousFile {
    let outside = try scratch.folder("outside")
    let path = (outside as NSString).appendingPathComponent("precious")
    let bytes = Data("keep me: not a test file\n".utf8)
    guard FileManager.default.createFile(atPath: path, contents: bytes) else {
        throw CLIHarnessError(description: "cannot create \(path)")
    }
    return PreciousFile(path: path, bytes: bytes)
}

private func isLink(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK
}

/// `mkdir` with a path given as raw bytes.
func mkdirRaw(_ path: [UInt8], mode: mode_t) -> Int32 {
    (path + [0]).withUnsafeBufferPointer { buf in
        buf.withMemoryRebound(to: CChar.self) { mkdir($0.baseAddress!, mode) }
    }
}

/// Creates an empty file whose path is given as raw bytes.
func createRaw(_ path: [UInt8]) -> Bool {
    let fd = (path + [0]).withUnsafeBufferPointer { buf in
        buf.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
    }
    guard fd >= 0 else { return false }
    close(fd)
    return true
}

/// The entry names of a folder as raw bytes, sorted (FileManager would repair non-UTF-8 names).
func rawNamesRaw(_ folder: [UInt8]) -> [[UInt8]] {
    let dir = (folder + [0]).withUnsafeBufferPointer { buf in
        buf.withMemoryRebound(to: CChar.self) { opendir($0.baseAddress!) }
    }
    guard let dir else { return [] }
    defer { closedir(dir) }
    var names: [[UInt8]] = []
    while let entry = readdir(dir) {
        // Read in place: copying `d_name` (declared 256 bytes) reads past the last packed entry.
        let field = UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        let name = Array(UnsafeBufferPointer(start: field.assumingMemoryBound(to: UInt8.self),
                                             count: strlen(field.assumingMemoryBound(to: CChar.self))))
        if name != [0x2E] && name != [0x2E, 0x2E] { names.append(name) }
    }
    return names.sorted { $0.lexicographicallyPrecedes($1) }
}

/// `rawNamesRaw` of a folder given as a string.
func rawNames(_ folder: String) -> [[UInt8]] { rawNamesRaw(Array(folder.utf8)) }
