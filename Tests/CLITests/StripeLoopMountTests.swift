import AsyncIO
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Striping over two separate drives: two small ext4 file systems, each on its own loop device.
/// Disabled where loop mounts cannot be made (not root, tools or loop devices missing).
@Suite("Striping over two loop-mounted file systems")
struct StripeLoopMountTests {
    static let mib = 1 << 20

    @Test(.enabled(if: LoopFilesystem.works, LoopFilesystem.skipReason))
    func twoDrives() throws {
        let scratch = try ScratchFolder("stripe-loop")
        defer { scratch.remove() }
        // One scratch folder per file system (each holds its image and mount point); each is unmounted
        // (the later `defer`, run first) before its folder is removed.
        let folderA = try ScratchFolder("stripe-loopA", in: scratch.path)
        defer { folderA.remove() }
        let first = try LoopFilesystem.make(in: folderA, megabytes: 48).get()
        defer { first.remove() }
        let folderB = try ScratchFolder("stripe-loopB", in: scratch.path)
        defer { folderB.remove() }
        let second = try LoopFilesystem.make(in: folderB, megabytes: 48).get()
        defer { second.remove() }
        let mounts = [first.mountPoint, second.mountPoint]
        #expect(first.device != second.device)
        let before = mounts.map(listing)

        // The library: seeded random sizes, stripe sizes and parallelism, read back equal.
        var rng = SplitMix64(seed: 0x5EED_5712)
        for _ in 0..<6 {
            let stripe = 4096 * Int.random(in: 1...64, using: &rng)
            let size = Int.random(in: 1...(12 * Self.mib), using: &rng)
            let parallel = Int.random(in: 1...3, using: &rng)
            let what = "stripe \(stripe), size \(size), io_parallel \(parallel)"
            let handle = try StripedHandle(StripeLayout(folders: mounts, stripeSize: stripe),
                                           config: HandleConfig(blockSize: 4096 * Int.random(in: 1...4, using: &rng),
                                                                queueDepth: 16, intraOpParallelism: parallel))
            let source = try AlignedBuffer(count: size, lock: false)
            source.fillRandom(seed: UInt64(size))
            let ticket = try handle.submitWrite(from: source, to: "loop")
            try ticket.wait()
            let written = try #require(ticket.transfer)
            #expect(written.members.map(\.bytes).reduce(0, +) == size, "\(what)")
            let sink = try AlignedBuffer(count: size, lock: false)
            try handle.submitRead(into: sink, from: "loop").wait()
            #expect(sink.contentsEqual(source), "\(what)")
            for path in written.members.map(\.path) { unlink(path) }
        }

        // The tool: write and read, validated, a speed per drive, nothing left.
        for extra in [[], ["--read"]] {
            let r = try CLI.io(["--stripe"] + mounts + ["--io_size", "16M", "--stripe_size", "256K",
                                                        "--block_size", "128K", "--validate"] + extra)
            expectSuccess(r, operation: extra.isEmpty ? "Write" : "Read")
            #expect(r.stdout.contains("data matches"), "\(r)")
            let folderLines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("  folder ") }
            #expect(folderLines.count == 2 && zip(folderLines, mounts).allSatisfy { $0.hasSuffix($1) }, "\(r)")
            #expect(mounts.map(listing) == before, "files left: \(mounts.map(listing))")
        }

        // More than both drives hold: ENOSPC, one line, exit 1, nothing left.
        let tooBig = (first.freeBytes + second.freeBytes) / Self.mib + 8
        let r = try CLI.io(["--stripe"] + mounts + ["--io_size", "\(tooBig)M"])
        expectRuntime(r, mentioning: ["ENOSPC"])
        #expect(mounts.map(listing) == before, "partial files left: \(mounts.map(listing))")
    }
}
