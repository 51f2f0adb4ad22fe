import Foundation
import Testing

/// `Examples/Checkpoint`: a checkpoint of Swift arrays streamed, striped over folders, loaded back.
@Suite("Example: checkpoint-example")
struct CheckpointExampleTests {
    static func example() throws -> String {
        let path = try CLI.binary().deletingLastPathComponent().appendingPathComponent("checkpoint-example").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CLIHarnessError(description: "checkpoint-example is not built: run `swift build` before `swift test`")
        }
        return path
    }

    @Test("saves over 1 to 3 folders with a tail in every tensor, loads back, verifies, removes its files",
          arguments: [1, 2, 3])
    func roundTrip(folders: Int) throws {
        let scratch = try ScratchFolder("example")
        defer { scratch.remove() }
        let dirs = try (0..<folders).map { try scratch.folder("d\($0)") }
        // 5 tensors of a size that is no multiple of anything: each has an unaligned tail.
        let r = try CLI.runProgram([try Self.example()] + dirs + ["--size", "37748741", "--tensors", "5",
                                                                  "--stripe_size", "4M"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("verify: every tensor matches"), "\(r)")
        #expect(r.stdout.contains("save: ") && r.stdout.contains("load: "), "\(r)")
        for dir in dirs { #expect(listing(dir).isEmpty, "files left in \(dir): \(listing(dir))") }
    }

    @Test("--keep leaves one member file per folder, named with its index, the count and the stripe size")
    func keep() throws {
        let scratch = try ScratchFolder("example-keep")
        defer { scratch.remove() }
        let a = try scratch.folder("a"), b = try scratch.folder("b")
        let r = try CLI.runProgram([try Self.example(), a, b, "--size", "9M", "--stripe_size", "4M", "--keep"])
        #expect(r.status == 0, "\(r)")
        #expect(listing(a) == ["checkpoint.0-of-2.stripe-4194304.bin"])
        #expect(listing(b) == ["checkpoint.1-of-2.stripe-4194304.bin"])
        // 9 MiB in 4 MiB stripes: a gets stripes 0 and 2 (4 + 1 MiB), b stripe 1 (4 MiB).
        let size = { (p: String) in (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? -1 }
        #expect(size(a + "/" + listing(a)[0]) == 5 << 20 && size(b + "/" + listing(b)[0]) == 4 << 20)
    }

    @Test("no folder, a missing folder, a bad flag: one line on stderr and exit 1", arguments: [
        [String](), ["/nonexistent-folder-of-the-example", "--size", "1M"], ["--frobnicate"],
    ])
    func badInput(_ args: [String]) throws {
        let r = try CLI.runProgram([try Self.example()] + args)
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.hasPrefix("checkpoint-example: "), "\(r)")
    }
}
