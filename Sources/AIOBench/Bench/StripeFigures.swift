import AsyncIO
import Foundation

/// What a striped `io` run measured per member folder, beside the aggregate of `BenchResult`.
package struct StripeFigures: Sendable, Codable, Equatable {
    /// One member folder's share.
    package struct Member: Sendable, Codable, Equatable {
        /// The folder.
        var folder: String
        /// The member file's name in it.
        var file: String
        /// Bytes this member moves per loop.
        var bytesPerLoop: Int
        /// Seconds summed over the measured loops, each from the operation's start to this member's last
        /// completed request.
        var seconds: Double
        /// Speed: bytes of the measured loops / seconds / 1024³ (0 for a member with nothing to move).
        var gibPerSecond: Double
    }

    /// Bytes per stripe chunk.
    var stripeSize: Int
    /// The members, in stripe order.
    var members: [Member]

    /// The summary lines: the geometry, then one line per folder with its speed.
    var summaryLines: [String] {
        var lines = ["stripe: \(members.count) folder\(members.count == 1 ? "" : "s"), stripe size "
            + "\(ByteSize.compact(stripeSize)), round-robin"]
        for (index, member) in members.enumerated() {
            lines.append("  folder \(index): " + String(format: "%.3f GiB/s", member.gibPerSecond)
                + ", \(ByteSize.human(member.bytesPerLoop)) per loop, \(member.folder)")
        }
        return lines
    }
}

extension StripeFigures {
    /// Accumulates the per-member figures of measured loops.
    struct Accumulator {
        let paths: [String]
        let folders: [String]
        var bytes: [Int]
        var seconds: [Double]
        var loops = 0

        init(folders: [String], paths: [String]) {
            self.folders = folders
            self.paths = paths
            bytes = Array(repeating: 0, count: paths.count)
            seconds = Array(repeating: 0, count: paths.count)
        }

        mutating func add(_ transfer: IOTransfer) {
            for (index, member) in transfer.members.enumerated() {
                bytes[index] = member.bytes
                seconds[index] += member.seconds
            }
            loops += 1
        }

        func figures(stripeSize: Int) -> StripeFigures {
            let members = paths.indices.map { index in
                let total = Double(bytes[index] * loops)
                return Member(folder: folders[index], file: PathName.lastComponent(of: paths[index]),
                              bytesPerLoop: bytes[index], seconds: seconds[index],
                              gibPerSecond: seconds[index] > 0 ? total / seconds[index] / 1_073_741_824 : 0)
            }
            return StripeFigures(stripeSize: stripeSize, members: members)
        }
    }
}
