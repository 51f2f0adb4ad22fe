import Glibc

/// Finding, checking and replacing the member files of a striped set in its folders.
enum StripeMembers {
    /// The member files of set `name` in `folder`, parsed from their names.
    static func members(of name: String, in folder: String) throws(AsyncIOError) -> [StripeMemberName] {
        try FileSystem.contentsOfDirectory(folder)
            .compactMap { StripeMemberName(fileName: $0) }
            .filter { $0.name == name }
            .sorted { $0.fileName < $1.fileName }
    }

    /// The member paths of set `name` as `layout` expects it, and the set's size from member 0.
    ///
    /// - Throws: `AsyncIOError` naming the first member file that is missing or belongs to another set
    ///   (another member count, stripe size or size, or a member in another member's folder).
    static func locate(_ name: String, in layout: StripeLayout) throws(AsyncIOError)
        -> (paths: [String], totalBytes: Int)
    {
        let count = layout.memberCount
        let first = layout.folders[0]
        let found = try members(of: name, in: first)
        let matches = found.filter { $0.index == 0 && $0.count == count && $0.stripeSize == layout.stripeSize }
        if matches.count > 1 {
            throw .invalid("read stripe set", "\(matches.count) sets named '\(name)' of different sizes are here ("
                + matches.map(\.fileName).joined(separator: ", ") + "): remove the stale ones", path: first)
        }
        guard let reference = matches.first else {
            let expected = StripeMemberName(name: name, index: 0, count: count, stripeSize: layout.stripeSize,
                                            totalBytes: 0)
            throw mismatch(expected, found: found, folder: first, sizeKnown: false)
        }
        var paths = [StripeLayout.join(first, reference.fileName)]
        for member in 1..<count {
            let expected = StripeMemberName(name: name, index: member, count: count, stripeSize: layout.stripeSize,
                                            totalBytes: reference.totalBytes)
            let folder = layout.folders[member]
            let path = StripeLayout.join(folder, expected.fileName)
            if try FileSystem.statusIfPresent(of: path) != nil {
                paths.append(path)
                continue
            }
            throw mismatch(expected, found: try members(of: name, in: folder), folder: folder, sizeKnown: true)
        }
        return (paths, reference.totalBytes)
    }

    /// The error for a folder that does not hold the member `expected`: missing, or what differs in the
    /// member file that is there instead. Member 0 gives the set's size, so it has no expected size.
    private static func mismatch(_ expected: StripeMemberName, found: [StripeMemberName], folder: String,
                                 sizeKnown: Bool) -> AsyncIOError {
        let set = "the \(expected.count)-member set '\(expected.name)' with stripe size \(expected.stripeSize)"
        guard let other = found.first(where: { $0.index == expected.index }) ?? found.first else {
            return AsyncIOError(.system, operation: "read stripe set", path: folder, errno: ENOENT,
                                message: "member \(expected.index) of \(set) is missing from this folder")
        }
        var wanted = expected
        if !sizeKnown { wanted.totalBytes = other.totalBytes }
        var differences = other.differences(from: wanted)
        if other.count == expected.count && other.index != expected.index {
            differences.append("the folders are not in the order the set was written in")
        }
        return .invalid("read stripe set",
                        "not member \(expected.index) of \(set): " + differences.joined(separator: "; "),
                        path: StripeLayout.join(folder, other.fileName))
    }

    /// Removes the member files of set `name` in the layout's folders other than `keeping`, so that a
    /// write replaces any earlier set of that name and a later read finds exactly one.
    static func removeStale(_ name: String, in layout: StripeLayout, keeping: [String]) throws(AsyncIOError) {
        for (member, folder) in layout.folders.enumerated() {
            for other in try members(of: name, in: folder) {
                let path = StripeLayout.join(folder, other.fileName)
                if path != keeping[member] { _ = FileSystem.removeFileIfPresent(path) }
            }
        }
    }

    /// Checks that the member file of `path` has the size its place in the set gives it.
    static func checkSize(of file: IOFile, member: Int, expected: Int, totalBytes: Int) throws(AsyncIOError) {
        let size = try file.size()
        guard size != Int64(expected) else { return }
        let message = "the file is \(size) bytes; member \(member) of a set of \(totalBytes) bytes holds \(expected)"
            + (size < Int64(expected) ? " (cut short or partly written)" : "")
        throw AsyncIOError(size < Int64(expected) ? .unexpectedEndOfFile : .invalidArgument,
                           operation: "read stripe set", path: file.path, message: message)
    }
}
