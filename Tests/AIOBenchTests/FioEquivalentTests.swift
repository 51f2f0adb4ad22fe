import AsyncIO
import Foundation
import Testing

@testable import AIOBench

@Suite("FioEquivalent")
struct FioEquivalentTests {
    @Test func argumentsMirrorVsFio() {
        let fio = FioEquivalent(
            directory: "/mnt/nvme", operation: .read, ioSize: 1 << 30, blockSize: 1 << 20, queueDepth: 32,
            intraOpParallelism: 4, singleSubmit: false, engine: .libaio)
        #expect(fio.sizePerJob == 1 << 28)
        #expect(fio.arguments == [
            "--name=vsfio", "--filename=/mnt/nvme/_vsfio_data", "--ioengine=libaio", "--direct=1", "--rw=read",
            "--bs=1048576", "--iodepth=32", "--numjobs=4", "--size=268435456", "--offset_increment=268435456",
            "--group_reporting", "--output-format=json", "--iodepth_batch_submit=32",
        ])
        #expect(fio.displayCommand == "fio " + fio.arguments.joined(separator: " "))

        var single = fio
        single.config.singleSubmit = true
        #expect(single.arguments == Array(fio.arguments.dropLast()))
        #expect(!single.arguments.contains { $0.hasPrefix("--iodepth_batch_submit") })

        let uneven = FioEquivalent(directory: "/d/", operation: .write, ioSize: 1 << 30, blockSize: 4096,
                                   queueDepth: 1, intraOpParallelism: 3, singleSubmit: true, engine: .psync)
        #expect(uneven.sizePerJob == (1 << 30) / 3)
        #expect(uneven.filePath == "/d/_vsfio_data")

        let colon = FioEquivalent(directory: "/mnt/a:b", operation: .read, ioSize: 1 << 20, blockSize: 4096,
                                  queueDepth: 1, intraOpParallelism: 1, singleSubmit: true)
        #expect(colon.arguments[1] == "--filename=/mnt/a\\:b/_vsfio_data")
    }

    static let directories = [
        "/mnt/nvme", "/", "/data/with space", "/data/it's", "/data/$HOME `id` \"q\"", "/data/a;b|c&d>e<f*?",
        "/data/tab\there", "/data/new\nline", "/data/ünïcødé", "relative/dir", "/data/back\\slash", "/mnt/a:b",
    ]

    @Test("round trip through the printed form", arguments: directories, FioEquivalent.Engine.allCases)
    func roundTrip(directory: String, engine: FioEquivalent.Engine) throws {
        for (operation, single) in [(IOOperation.read, false), (.write, true)] {
            let fio = FioEquivalent(
                directory: directory, operation: operation, ioSize: 400 << 20, blockSize: 8 << 20, queueDepth: 128,
                intraOpParallelism: 8, singleSubmit: single, engine: engine)
            let back = try FioEquivalent.parse(displayCommand: fio.displayCommand)
            #expect(back == fio)
            #expect(try FioEquivalent.shellWords(fio.displayCommand) == [FioEquivalent.program] + fio.arguments)
            #expect(try FioEquivalent.parse(arguments: fio.arguments) == fio)
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/bin/sh"), "no /bin/sh here"))
    func aRealShellReadsThePrintedFormTheSameWay() throws {
        let sh = "/bin/sh"
        for directory in Self.directories {
            let fio = FioEquivalent(directory: directory, operation: .read, ioSize: 1 << 30, blockSize: 1 << 20,
                                    queueDepth: 32, intraOpParallelism: 2, singleSubmit: false)
            // The test's own constant text, printed by the shell one word per NUL.
            let run = try ChildProcess.run(sh, arguments: ["-c", "printf '%s\\0' " + fio.displayCommand],
                                           timeout: .seconds(60))
            #expect(run.succeeded)
            let data = run.standardOutput
            let words = String(decoding: data, as: UTF8.self).split(separator: "\0", omittingEmptySubsequences: false)
                .dropLast().map(String.init)
            #expect(words == [FioEquivalent.program] + fio.arguments)
        }
    }

    @Test func shellQuoting() throws {
        #expect(FioEquivalent.shellQuote("--bs=1048576") == "--bs=1048576")
        #expect(FioEquivalent.shellQuote("") == "''")
        #expect(FioEquivalent.shellQuote("it's") == "'it'\\''s'")
        #expect(FioEquivalent.shellQuote("a b") == "'a b'")
        let words = try FioEquivalent.shellWords("a 'b c' \"d \\\"e\\\" \\x\" f\\ g  ''")
        #expect(words == ["a", "b c", "d \"e\" \\x", "f g", ""])
        #expect(throws: BenchError.self) { try FioEquivalent.shellWords("'open") }
        #expect(throws: BenchError.self) { try FioEquivalent.shellWords("\"open") }
        #expect(throws: BenchError.self) { try FioEquivalent.shellWords("trailing\\") }
    }

    @Test func parseAcceptsSizeSuffixesAndRejectsStrangers() throws {
        let base = [
            "--name=x", "--filename=/d/f", "--ioengine=io_uring", "--direct=1", "--rw=write", "--bs=1M",
            "--iodepth=8", "--numjobs=2", "--size=200M", "--offset_increment=200M", "--group_reporting",
            "--output-format=json",
        ]
        let parsed = try FioEquivalent.parse(arguments: base)
        #expect(parsed.blockSize == 1 << 20)
        #expect(parsed.sizePerJob == 200 << 20)
        #expect(parsed.singleSubmit)
        #expect(parsed.directory == "/d" && parsed.fileName == "f" && parsed.name == "x")

        func fails(_ change: (inout [String]) -> Void) {
            var args = base
            change(&args)
            #expect(throws: BenchError.self) { try FioEquivalent.parse(arguments: args) }
        }
        fails { $0[3] = "--direct=0" }
        fails { $0.remove(at: 3) }
        fails { $0[2] = "--ioengine=spdk" }
        fails { $0[4] = "--rw=randread" }
        fails { $0[9] = "--offset_increment=100M" }
        fails { $0.append("--iodepth_batch_submit=4") }
        fails { $0.append("--runtime=10") }
        fails { $0.append("--bs=4k") }
        fails { $0.append("stray") }
        fails { $0[7] = "--numjobs=0" }
        fails { $0[5] = "--bs=12Q" }
        #expect(throws: BenchError.self) { try FioEquivalent.parse(displayCommand: "dd if=/dev/zero") }
        #expect(throws: BenchError.self) { try FioEquivalent.parse(displayCommand: "") }
    }
}

@Suite("FioEquivalent output")
struct FioEquivalentOutputTests {
    static let sample = """
        note: both iodepth >= 1 and synchronous I/O engine are selected, queue depth will be capped at 1
        {
          "fio version" : "fio-3.33",
          "jobs" : [
            {
              "jobname" : "vsfio",
              "error" : 0,
              "read" : { "io_bytes" : 1073741824, "bw_bytes" : 2147483648, "bw" : 2097152, "iops" : 2048.0 },
              "write" : { "io_bytes" : 0, "bw_bytes" : 0, "bw" : 0, "iops" : 0.0 }
            }
          ]
        }
        fio: trailing remark
        """

    @Test func readsBandwidth() throws {
        let result = try FioResult.parse(json: Self.sample)
        #expect(result.readBytesPerSecond == 2_147_483_648)
        #expect(result.writeBytesPerSecond == 0)
        #expect(result.totalBytesPerSecond == 2_147_483_648)
    }

    @Test func oldFioWithoutBytesAndSeveralJobs() throws {
        let text = """
            {"jobs": [{"jobname": "a", "error": 0, "read": {"bw": 100}, "write": {"bw": 0}},
                      {"jobname": "b", "error": 0, "read": {"bw": 50}, "write": {"bw": 1}}]}
            """
        let result = try FioResult.parse(json: text)
        #expect(result.readBytesPerSecond == 150 * 1024)
        #expect(result.writeBytesPerSecond == 1024)
    }

    @Test func failuresAreRuntimeErrors() {
        #expect(throws: BenchError.self) { try FioResult.parse(json: "") }
        #expect(throws: BenchError.self) { try FioResult.parse(json: "fio: engine io_uring not loadable") }
        #expect(throws: BenchError.self) { try FioResult.parse(json: "{\"jobs\": []}") }
        #expect(throws: BenchError.self) { try FioResult.parse(json: "{\"jobs\": [{]}") }
        let failed = "{\"jobs\": [{\"jobname\": \"vsfio\", \"error\": 5, \"read\": {\"bw_bytes\": 0}}]}"
        do {
            _ = try FioResult.parse(json: failed)
            Issue.record("a failed job must throw")
        } catch {
            #expect(error.description.contains("error 5"))
            #expect(error.exitCode == 1)
        }
    }

    /// Runs the real fio (null engine: no I/O, nothing written) when it is installed.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/fio"), "needs fio in /usr/bin"))
    func realFioNullEngine() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/aio-fio-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fio = FioEquivalent(directory: dir, operation: .write, ioSize: 16 << 20, blockSize: 1 << 20,
                                queueDepth: 8, intraOpParallelism: 2, singleSubmit: false, engine: .null)
        // fio names its data file with --filename; the working folder is only where it starts.
        let run = try ChildProcess.run("/usr/bin/fio", arguments: fio.arguments, timeout: .seconds(300))
        try #require(run.succeeded, "fio: \(run.termination)")
        let data = run.standardOutput
        let result = try FioResult.parse(json: String(decoding: data, as: UTF8.self))
        #expect(result.writeBytesPerSecond > 0)
        #expect(result.readBytesPerSecond == 0)
    }
}
