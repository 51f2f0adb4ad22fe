import AsyncIO
import Foundation
import Testing

/// `io --stream [--fast_io_size N]`: the streaming writer and reader measured through the built tool.
@Suite("aio-bench io --stream")
struct StreamCLITests {
    @Test("streamed writes and reads print DeepSpeed's four lines, say they were streamed, validate, clean up",
          arguments: ["posix", "auto"], [[], ["--read"], ["--read", "--stream_async"], ["--fresh_file_each_loop"]])
    func streamed(engine: String, mode: [String]) throws {
        let scratch = try ScratchFolder("stream")
        defer { scratch.remove() }
        // 3 MiB + 5 bytes: bounce buffers of 64 KiB leave an unaligned tail.
        var args = ["--folder", scratch.path, "--io_size", "3145733", "--engine", engine, "--stream",
                    "--fast_io_size", "64K", "--validate", "--loops", "2", "--block_size", "16K"]
        args += mode
        let r = try CLI.io(args)
        #expect(r.status == 0, "\(r)")
        let read = mode.contains("--read")
        let op = read ? "Read" : "Write"
        for line in ["Task \(op) Latency = ", "Task \(op) Speed = ", "E2E \(op) Latency = ", "E2E \(op) Speed = "] {
            #expect(r.stdout.split(separator: "\n").filter { $0.hasPrefix(line) }.count == 1, "\(line): \(r)")
        }
        let how = mode.contains("--stream_async") ? "Reader (for try await)" : "Reader (blocking forEachChunk, "
        #expect(r.stdout.contains("\nnote: streamed: Stream\(read ? how : "Writer")"), "\(r)")
        #expect(r.stdout.contains("bounce buffers of 64K"), "\(r)")
        #expect(r.stdout.contains("\nvalidate: data matches"), "\(r)")
        // A streamed write's fsync is timed apart from its loops (a whole-buffer write has none).
        #expect(r.stdout.contains("\nflush: fsync after each loop, outside its time: ") == !read, "\(r)")
        #expect(!r.stderr.contains("fast_io_size"), "no 'ignored' note with --stream: \(r)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: scratch.path)) ?? ["?"]).isEmpty)
    }

    @Test("bad --fast_io_size values and --stream with --target deepspeed: one line each, exit 64",
          arguments: [["--fast_io_size", "5000"], ["--fast_io_size", "12Q"], ["--fast_io_size", "0"],
                      ["--fast_io_size", "-1"], ["--target", "deepspeed"]])
    func refused(extra: [String]) throws {
        let scratch = try ScratchFolder("stream-bad")
        defer { scratch.remove() }
        let r = try CLI.io(["--folder", scratch.path, "--io_size", "1M", "--stream"] + extra)
        #expect(r.status == 64, "\(r)")
        #expect(r.stderrLines.count == 1, "\(r)")
        #expect(r.stderr.contains(extra[0]) || r.stderr.contains("--stream"), "\(r)")
    }

    @Test("--stream_async without --stream or without --read: one line, exit 64",
          arguments: [["--read"], ["--stream"]])
    func asyncAlone(extra: [String]) throws {
        let scratch = try ScratchFolder("stream-async-bad")
        defer { scratch.remove() }
        let r = try CLI.io(["--folder", scratch.path, "--io_size", "1M", "--stream_async"] + extra)
        #expect(r.status == 64, "\(r)")
        #expect(r.stderrLines.count == 1 && r.stderr.contains("--stream_async needs --stream and --read"), "\(r)")
    }
}
