@_spi(Testing) import AsyncIO
import Foundation

/// A scratch folder on the real disk (O_DIRECT needs a file system that supports it; /tmp here
/// is ext4), removed when the value is dropped.
final class ScratchFolder: @unchecked Sendable {
    let path: String

    static var base: String { ProcessInfo.processInfo.environment["AIO_TEST_DIR"] ?? NSTemporaryDirectory() }

    init(_ name: String = "aio") {
        path = (Self.base as NSString).appendingPathComponent("swift-aio-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Folders named `name` whose process has ended: an exit test's child stops without running
    /// deinitializers, so its folder stays behind.
    static func orphans(_ name: String) -> [String] {
        let prefix = "swift-aio-\(name)-"
        return ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).filter { entry in
            guard entry.hasPrefix(prefix), let pid = Int32(entry.dropFirst(prefix.count).prefix { $0 != "-" }),
                  pid != getpid() else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }.map { (base as NSString).appendingPathComponent($0) }
    }

    /// Removes the `orphans(name)`, after an exit test.
    static func removeOrphans(_ name: String) {
        for folder in orphans(name) { try? FileManager.default.removeItem(atPath: folder) }
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A buffer filled with seeded random bytes.
func randomBuffer(_ count: Int, seed: UInt64) throws -> AlignedBuffer {
    let buffer = try AlignedBuffer(count: count, lock: false)
    buffer.fillRandom(seed: seed)
    return buffer
}

/// Reads a whole file with ordinary I/O, for checking what the engine wrote.
func plainRead(_ path: String) -> [UInt8] {
    (FileManager.default.contents(atPath: path)).map { [UInt8]($0) } ?? []
}

/// Writes bytes with ordinary I/O.
func plainWrite(_ path: String, _ bytes: [UInt8]) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

extension AlignedBuffer {
    /// The first `n` bytes as an array.
    func bytes(_ n: Int? = nil) -> [UInt8] {
        withUnsafeBytes { Array($0.prefix(n ?? count)) }
    }
}

/// Engines that do real I/O on this machine.
let realEngines: [EngineKind] = EngineKind.available.filter { $0 != .null }

/// What the kernel allows here, probed once, for the condition traits of engine-specific tests.
enum KernelProbe {
    /// Why io_uring cannot be used here (the probe's reason), or nil when it can.
    static let ioUringRefusal: String? = {
        let probe = EngineProbe.probe(.uring)
        return probe.works ? nil : probe.reason ?? "unavailable"
    }()

    /// Whether io_uring works here.
    static var ioUringWorks: Bool { ioUringRefusal == nil }
}

/// nil when equal, else where the first difference is (short text for a failure message).
func firstDifference(_ a: AlignedBuffer, _ b: AlignedBuffer) -> String? {
    if a.count != b.count { return "sizes differ: \(a.count) vs \(b.count)" }
    let x = a.bytes()
    let y = b.bytes()
    guard let i = x.indices.first(where: { x[$0] != y[$0] }) else { return nil }
    var last = i
    for j in stride(from: x.count - 1, through: i, by: -1) where x[j] != y[j] {
        last = j
        break
    }
    return "first difference at byte \(i), last at byte \(last) of \(x.count)"
}

extension HandleConfig {
    /// This configuration with `faults` injected into its requests.
    func injecting(_ faults: FaultInjection) -> HandleConfig {
        var config = self
        config.faults = faults
        return config
    }
}

extension EngineOptions {
    /// io_uring options that ask for a ring of `entries` entries, whatever the queue depth.
    static func ring(entries: Int) -> EngineOptions {
        var options = EngineOptions()
        options.uring.ringEntries = entries
        return options
    }

    /// io_uring options under which buffer registration behaves as if it failed.
    static var failingRegistration: EngineOptions {
        var options = EngineOptions()
        options.uring.simulateRegistrationFailure = true
        return options
    }
}

/// The process's umask, read from /proc (setting it to read it would race with other tests).
func currentUmask() -> UInt32 {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("Umask:") }
    return line.flatMap { UInt32($0.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8) } ?? 0o022
}

extension IOTicket {
    /// Blocks until the operation has ended, then returns what it moved (`wait()` and `transfer`).
    func waitForTransfer() throws(AsyncIOError) -> IOTransfer {
        try wait()
        return transfer!
    }
}
