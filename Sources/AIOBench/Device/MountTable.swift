/// One line of `/proc/self/mountinfo`.
struct MountEntry: Equatable {
    /// `major:minor` of the filesystem (field 3).
    var major: Int
    /// See `major`.
    var minor: Int
    /// The mount point, unescaped.
    var mountPoint: String
    /// The filesystem type.
    var fsType: String
    /// The mount source, unescaped.
    var source: String
    /// The superblock options (overlay's `upperdir=` lives here).
    var superOptions: String

    /// Parses mountinfo text; malformed lines are skipped.
    static func parse(_ text: String) -> [MountEntry] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 7, let dash = fields.firstIndex(of: "-"), dash >= 6, dash + 2 < fields.count
            else { return nil }
            let numbers = fields[2].split(separator: ":")
            guard numbers.count == 2, let major = Int(numbers[0]), let minor = Int(numbers[1]) else { return nil }
            return MountEntry(
                major: major, minor: minor, mountPoint: unescape(fields[4]), fsType: fields[dash + 1],
                source: unescape(fields[dash + 2]), superOptions: dash + 3 < fields.count ? fields[dash + 3] : "")
        }
    }

    /// The kernel writes space, tab, newline and backslash as `\040`, `\011`, `\012`, `\134`.
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        let input = Array(field.utf8)
        var i = 0
        while i < input.count {
            if input[i] == UInt8(ascii: "\\"), i + 3 < input.count,
                let value = UInt8(String(decoding: input[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                i += 4
            } else {
                bytes.append(input[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The mount holding `path`: the deepest mount point above it with the same device number, else the
    /// deepest mount point above it. Later entries win ties (they are mounted over earlier ones).
    static func best(for path: String, major: Int, minor: Int, in mounts: [MountEntry]) -> MountEntry? {
        func contains(_ mount: MountEntry) -> Bool {
            mount.mountPoint == "/" || path == mount.mountPoint || path.hasPrefix(mount.mountPoint + "/")
        }
        let above = mounts.filter(contains)
        let same = above.filter { $0.major == major && $0.minor == minor }
        let pool = same.isEmpty ? above : same
        return pool.enumerated().max { a, b in
            a.element.mountPoint.count != b.element.mountPoint.count
                ? a.element.mountPoint.count < b.element.mountPoint.count : a.offset < b.offset
        }?.element
    }

    /// What a filesystem without a block device means for a benchmark.
    static func remark(for mount: MountEntry) -> String {
        switch mount.fsType {
        case "tmpfs", "ramfs":
            return "\(mount.fsType) lives in memory: figures measure RAM, not storage (and O_DIRECT may be refused)"
        case "overlay":
            let upper = mount.superOptions.split(separator: ",").first { $0.hasPrefix("upperdir=") }
            let place = upper.map { " in \($0.dropFirst("upperdir=".count))" } ?? ""
            return "overlay filesystem: new files land in its upper layer\(place); benchmark a folder on the"
                + " disk itself (a bind mount or volume) to measure the device"
        case "nfs", "nfs4", "cifs", "smb3", "9p", "virtiofs", "ceph", "glusterfs":
            return "\(mount.fsType) is a network or shared filesystem: no local block device"
        default:
            if mount.fsType.hasPrefix("fuse") { return "\(mount.fsType) is a user-space filesystem: no block device" }
            return "\(mount.fsType) has no block device behind it"
        }
    }
}
