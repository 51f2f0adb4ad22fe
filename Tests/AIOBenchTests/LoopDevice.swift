import AsyncIO
import Foundation
import Testing

/// Runs the tools the loop-device tests need, and probes whether they work here.
enum LoopDevice {
    static let losetup = "/usr/sbin/losetup"
    static let mkfs = "/usr/sbin/mkfs.ext4"

    /// Root, losetup and /dev/loop-control: a loop device can be attached.
    static var usable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: losetup)
            && FileManager.default.fileExists(atPath: "/dev/loop-control")
    }

    /// Whether an ext4 file system on a loop device can be made and mounted here: tried once, for real
    /// (a container may have every tool and still be refused the mount). Records no issue.
    static let mountable: Bool = {
        guard usable, FileManager.default.isExecutableFile(atPath: mkfs), let work = try? FakeTree(),
              let (_, loop) = attach(in: work, megabytes: 16) else { return false }
        defer { _ = run(losetup, ["-d", loop]) }
        let mountPoint = work.path + "/mnt"
        guard (try? FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)) != nil,
              run(mkfs, ["-q", "-F", loop]) != nil, run("/usr/bin/mount", [loop, mountPoint]) != nil
        else { return false }
        _ = run("/usr/bin/umount", [mountPoint])
        return true
    }()

    /// Creates a sparse image in `work` and attaches it to a free loop device; nil when that fails.
    static func attach(in work: FakeTree, megabytes: Int) -> (image: String, loop: String)? {
        let image = work.path + "/backing.img"
        guard FileManager.default.createFile(atPath: image, contents: nil),
              truncate(image, off_t(megabytes << 20)) == 0,
              let loop = run(losetup, ["-f", "--show", image])?.trimmingCharacters(in: .whitespacesAndNewlines),
              loop.hasPrefix("/dev/loop")
        else { return nil }
        return (image, loop)
    }

    /// Attaches a fresh sparse image to a free loop device, runs `body` with the image's folder, the
    /// image and the device, and detaches. Fails the test when attaching fails.
    static func withAttachedImage(sourceLocation: SourceLocation = #_sourceLocation,
                                  _ body: (_ folder: String, _ image: String, _ loop: String) throws -> Void) throws {
        let work = try FakeTree()
        let attached = try #require(attach(in: work, megabytes: 32), "losetup -f --show failed",
                                    sourceLocation: sourceLocation)
        defer { _ = run(losetup, ["-d", attached.loop]) }
        try body(work.path, attached.image, attached.loop)
    }

    /// Runs `tool` with `arguments` (no shell); its standard output, or nil when it fails.
    static func run(_ tool: String, _ arguments: [String]) -> String? {
        // ChildProcess (posix_spawn), not Foundation's Process: see `CLI.runProgram`.
        guard let run = try? ChildProcess.run(tool, arguments: arguments, timeout: .seconds(120)),
              run.succeeded else { return nil }
        return String(decoding: run.standardOutput, as: UTF8.self)
    }
}
