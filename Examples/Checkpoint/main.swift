// A checkpoint of several tensors saved through AsyncIO's streaming writer, striped over the folders
// given (one per drive), loaded back, verified, with the speed of each direction.
//
//   swift run -c release checkpoint-example /mnt/nvme0 /mnt/nvme1 [--size 4G] [--tensors 6] [--keep]
//
// The tensors are ordinary Swift arrays (the raw bytes of bf16 weights). The checkpoint is one byte
// stream — the tensors one after the other — cut into stripes of `stripeSize` bytes dealt round-robin
// over the folders: stripe k goes to folder k mod n, through that folder's own `StreamWriter` (its own
// handle, workers and bounce buffers), so every drive writes at once while the copies from the arrays
// hide behind the I/O. Loading reads every folder's file through a `StreamReader` and copies each
// stripe back into fresh arrays.
import AsyncIO
import Foundation

/// One folder's stream (a class, because `StreamWriter` is `~Copyable` and an array holds copies).
@MainActor
final class Member {
    let path: String
    let handle: AIOHandle
    var writer: StreamWriter?

    init(folder: String, index: Int, count: Int, stripeSize: Int) throws {
        path = (folder as NSString).appendingPathComponent(
            "checkpoint.\(index)-of-\(count).stripe-\(stripeSize).bin")
        handle = try AIOHandle(HandleConfig(blockSize: 1 << 20, queueDepth: 32, intraOpParallelism: 1))
    }
}

struct Options {
    var folders: [String] = []
    var size = 2 << 30
    var tensors = 4
    var keep = false
    /// Bytes per stripe, and per bounce buffer of each folder's stream.
    var stripeSize = 16 << 20

    init(_ arguments: [String]) throws {
        var args = arguments[...]
        while let arg = args.popFirst() {
            switch arg {
            case "--size": size = try Options.bytes(args.popFirst() ?? "")
            case "--tensors": tensors = Int(args.popFirst() ?? "") ?? 0
            case "--stripe_size": stripeSize = try Options.bytes(args.popFirst() ?? "")
            case "--keep": keep = true
            case let flag where flag.hasPrefix("--"): throw ExampleError("unknown flag \(flag)")
            default: folders.append(arg)
            }
        }
        guard !folders.isEmpty else {
            throw ExampleError("usage: checkpoint-example FOLDER... [--size 2G] [--tensors 4] [--stripe_size 16M] [--keep]")
        }
        guard tensors >= 1, size >= tensors else { throw ExampleError("--tensors must be between 1 and --size") }
        guard stripeSize > 0, stripeSize % 4096 == 0 else { throw ExampleError("--stripe_size must be a multiple of 4K") }
    }

    static func bytes(_ text: String) throws -> Int {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let unit = text.last.flatMap({ units[$0] }), let n = Int(text.dropLast()) { return n * unit }
        guard let n = Int(text) else { throw ExampleError("not a size: '\(text)'") }
        return n
    }
}

struct ExampleError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The tensors: `count` arrays whose sizes add up to `total`, filled with a seeded pattern.
func makeTensors(total: Int, count: Int) -> [[UInt8]] {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    return (0..<count).map { t in
        let bytes = total / count + (t < total % count ? 1 : 0)
        return [UInt8](unsafeUninitializedCapacity: bytes) { buffer, initialized in
            var i = 0
            while i < bytes {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                var word = state
                for _ in 0..<min(8, bytes - i) {
                    buffer[i] = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                    i += 1
                }
            }
            initialized = bytes
        }
    }
}

/// Streams the tensors, stripe by stripe, round-robin over the members; returns the seconds taken
/// (from the first byte to every file closed and fsynced).
@MainActor
func save(_ tensors: [[UInt8]], to members: [Member], stripeSize: Int) async throws -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    for member in members {
        member.writer = try StreamWriter(path: member.path, handle: member.handle, bufferSize: stripeSize)
    }
    var position = 0  // in the checkpoint's byte stream
    for tensor in tensors {
        var from = 0
        while from < tensor.count {
            let stripe = position / stripeSize
            let n = min(tensor.count - from, stripeSize - position % stripeSize)
            try await members[stripe % members.count].writer!.write(tensor[from..<from + n])
            from += n
            position += n
        }
    }
    for member in members {
        guard let writer = member.writer.take() else { continue }
        try await writer.finish()
    }
    return (clock.now - start).seconds
}

/// Reads every member back and copies each stripe into `tensors` (the model's tensors, which exist
/// already, as when a training job restores a checkpoint); returns the seconds taken.
@MainActor
func load(_ members: [Member], into tensors: inout [[UInt8]], stripeSize: Int) async throws -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    let shapes = tensors.map(\.count)
    // Where the checkpoint's byte p lands: tensor and index within it.
    let starts = shapes.reduce(into: [0]) { $0.append($0.last! + $1) }
    let total = starts.last!
    var iterators = try members.map {
        try StreamReader(path: $0.path, handle: $0.handle, bufferSize: stripeSize).makeAsyncIterator()
    }
    var position = 0
    var stripe = 0
    while position < total {
        guard let chunk = try await iterators[stripe % members.count].next(isolation: #isolation) else {
            throw ExampleError("\(members[stripe % members.count].path) ended early: the checkpoint is incomplete")
        }
        chunk.withUnsafeBytes { bytes in
            var done = 0
            while done < bytes.count {
                let t = starts.lastIndex { $0 <= position + done }!
                let inTensor = position + done - starts[t]
                let n = min(bytes.count - done, shapes[t] - inTensor)
                tensors[t].withUnsafeMutableBytes { destination in
                    destination.baseAddress!.advanced(by: inTensor)
                        .copyMemory(from: bytes.baseAddress!.advanced(by: done), byteCount: n)
                }
                done += n
            }
        }
        position += chunk.count
        stripe += 1
    }
    return (clock.now - start).seconds
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

@main @MainActor
struct CheckpointExample {
    static func main() async {
        do {
            let options = try Options(Array(CommandLine.arguments.dropFirst()))
            let members = try options.folders.enumerated().map {
                try Member(folder: $1, index: $0, count: options.folders.count, stripeSize: options.stripeSize)
            }
            defer { if !options.keep { for m in members { try? FileManager.default.removeItem(atPath: m.path) } } }
            let gib = Double(options.size) / Double(1 << 30)
            print("checkpoint: \(options.tensors) tensors, \(String(format: "%.2f", gib)) GiB, striped over "
                + "\(members.count) folder\(members.count == 1 ? "" : "s") in \(options.stripeSize >> 20) MiB stripes")
            let tensors = makeTensors(total: options.size, count: options.tensors)
            let saveSeconds = try await save(tensors, to: members, stripeSize: options.stripeSize)
            print(String(format: "save: %.3f GiB/s (%.3f s)", gib / saveSeconds, saveSeconds))
            var loaded = tensors.map { [UInt8](repeating: 0, count: $0.count) }
            let loadSeconds = try await load(members, into: &loaded, stripeSize: options.stripeSize)
            print(String(format: "load: %.3f GiB/s (%.3f s)", gib / loadSeconds, loadSeconds))
            guard loaded == tensors else { throw ExampleError("verify: the loaded tensors differ from the saved ones") }
            print("verify: every tensor matches")
        } catch {
            FileHandle.standardError.write(Data("checkpoint-example: \(error)\n".utf8))
            exit(1)
        }
    }
}
