/// Where one buffer is striped: an ordered set of folders (one per drive) and the stripe size.
///
/// RAID-0 in user space. The buffer is cut into `stripeSize` chunks dealt round-robin over the
/// folders: chunk `k` goes to member `k % memberCount`, at offset `(k / memberCount) * stripeSize` of
/// that member's file. Any byte count works: the last chunk may be shorter than `stripeSize`, and a
/// member may hold one chunk fewer than another, or none at all (its file is then empty).
///
/// Each member file's name carries its index and the set's geometry,
/// `<name>.<index>-of-<memberCount>.stripe-<stripeSize>.size-<totalBytes>`, for example
/// `ckpt.1-of-2.stripe-1048576.size-3145728`, so a read with the wrong set (a member missing, another
/// member count or stripe size, folders in another order) is refused with an error naming the file and
/// what differs, instead of returning bytes in the wrong places.
public struct StripeLayout: Sendable, Hashable {
    /// The default stripe size, 1 MiB (DeepSpeed's default block size).
    public static let defaultStripeSize = 1 << 20

    /// The member folders, in stripe order: chunk `k` goes to `folders[k % folders.count]`.
    package let folders: [String]
    /// Bytes per chunk.
    package let stripeSize: Int

    /// Number of members (folders).
    package var memberCount: Int { folders.count }

    /// Creates a layout.
    ///
    /// - Parameters:
    ///   - folders: one or more folders, each named once (the same folder under two spellings, such as
    ///     `/a` and `/a/`, counts as twice).
    ///   - stripeSize: bytes per chunk, positive; with direct I/O it must also be a multiple of each
    ///     folder's direct-I/O alignment (checked when the member files are opened).
    /// - Throws: `AsyncIOError` of kind `.invalidArgument` naming the bad value.
    public init(folders: [String], stripeSize: Int = StripeLayout.defaultStripeSize) throws(AsyncIOError) {
        guard !folders.isEmpty else {
            throw .invalid("stripe", "no folder given: a striped set needs at least one folder")
        }
        guard stripeSize > 0 else {
            throw .invalid("stripe", "stripe size \(stripeSize) must be positive")
        }
        var seen: [String: String] = [:]
        for folder in folders {
            guard !folder.isEmpty else { throw .invalid("stripe", "a folder name is empty") }
            let key = StripeLayout.identity(of: folder)
            if let first = seen[key] {
                let also = first == folder ? "" : " (also as '\(first)')"
                throw .invalid("stripe", "folder '\(folder)' is given twice\(also): each member needs its own folder",
                               path: folder)
            }
            seen[key] = folder
        }
        self.folders = folders
        self.stripeSize = stripeSize
    }

    /// How many bytes of a `totalBytes` set member `member` holds.
    package func memberBytes(_ member: Int, totalBytes: Int) -> Int {
        precondition(member >= 0 && member < memberCount, "member \(member) of \(memberCount)")
        let fullChunks = totalBytes / stripeSize
        let tail = totalBytes % stripeSize
        var bytes = (fullChunks / memberCount + (member < fullChunks % memberCount ? 1 : 0)) * stripeSize
        if tail > 0 && member == fullChunks % memberCount { bytes += tail }
        return bytes
    }

    /// Where byte `position` of member `member`'s file lives in the buffer.
    package func bufferOffset(member: Int, position: Int) -> Int {
        let chunk = position / stripeSize
        return (chunk * memberCount + member) * stripeSize + position % stripeSize
    }

    /// The file name of member `member` of the set `name` holding `totalBytes` bytes.
    package func memberFileName(_ name: String, member: Int, totalBytes: Int) -> String {
        StripeMemberName(name: name, index: member, count: memberCount, stripeSize: stripeSize,
                         totalBytes: totalBytes).fileName
    }

    /// The paths of every member file of the set `name` holding `totalBytes` bytes, in member order.
    package func memberPaths(_ name: String, totalBytes: Int) -> [String] {
        folders.indices.map { StripeLayout.join(folders[$0], memberFileName(name, member: $0, totalBytes: totalBytes)) }
    }

    /// Checks a set name: not empty, not `.` or `..`, no `/` and no NUL (it is a file name in every folder).
    ///
    /// - Throws: `AsyncIOError` of kind `.invalidArgument` naming the name and what is allowed.
    package static func checkName(_ name: String) throws(AsyncIOError) {
        if name.isEmpty || name == "." || name == ".." || name.contains("/") || name.contains("\0") {
            throw .invalid("stripe", "set name '\(name)' must be a file name: not empty, not '.' or '..', "
                + "without '/' or NUL")
        }
    }

    /// `folder/name` without a doubled slash.
    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    /// What makes two folder spellings the same folder: the resolved path when it exists, else the
    /// text without trailing slashes.
    private static func identity(of folder: String) -> String {
        if let resolved = try? FileSystem.resolvedPath(folder) { return resolved }
        var text = Substring(folder)
        while text.count > 1 && text.hasSuffix("/") { text = text.dropLast() }
        return String(text)
    }
}

/// The parts of a member file's name: `<name>.<index>-of-<count>.stripe-<stripeSize>.size-<totalBytes>`.
struct StripeMemberName: Hashable {
    var name: String
    var index: Int
    var count: Int
    var stripeSize: Int
    var totalBytes: Int

    /// The file name these parts make.
    var fileName: String { "\(name).\(index)-of-\(count).stripe-\(stripeSize).size-\(totalBytes)" }

    init(name: String, index: Int, count: Int, stripeSize: Int, totalBytes: Int) {
        self.name = name
        self.index = index
        self.count = count
        self.stripeSize = stripeSize
        self.totalBytes = totalBytes
    }

    /// Parses a file name; nil when it is not a member name written by `fileName` (leading zeros,
    /// signs and out-of-range indices are not).
    init?(fileName: String) {
        let parts = fileName.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 4 else { return nil }
        let position = parts[parts.count - 3].split(separator: "-", omittingEmptySubsequences: false)
        guard position.count == 3, position[1] == "of",
              parts[parts.count - 2].hasPrefix("stripe-"), parts[parts.count - 1].hasPrefix("size-"),
              let index = StripeMemberName.number(position[0]), let count = StripeMemberName.number(position[2]),
              let stripe = StripeMemberName.number(parts[parts.count - 2].dropFirst(7)),
              let total = StripeMemberName.number(parts[parts.count - 1].dropFirst(5)),
              index < count, stripe > 0
        else { return nil }
        self.init(name: parts.dropLast(3).joined(separator: "."), index: index, count: count, stripeSize: stripe,
                  totalBytes: total)
        guard !name.isEmpty, self.fileName == fileName else { return nil }
    }

    /// A decimal number of digits only.
    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// How these parts differ from `expected`, in words ("member 1 of 3, stripe size 524288"), for errors.
    func differences(from expected: StripeMemberName) -> [String] {
        var found: [String] = []
        if index != expected.index || count != expected.count {
            found.append("it is member \(index) of \(count), expected member \(expected.index) of \(expected.count)")
        }
        if stripeSize != expected.stripeSize {
            found.append("its stripe size is \(stripeSize), expected \(expected.stripeSize)")
        }
        if totalBytes != expected.totalBytes {
            found.append("its set holds \(totalBytes) bytes, expected \(expected.totalBytes) (from member 0)")
        }
        return found
    }
}
