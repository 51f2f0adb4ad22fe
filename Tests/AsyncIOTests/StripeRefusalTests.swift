import AsyncIO
import Foundation
import Testing

/// Striping: a read of the wrong set is refused with one error naming the file and what differs, and
/// bad layouts, names and sizes are refused before anything is touched.
@Suite("Striping: wrong sets and bad input refused")
struct StripeRefusalTests {
    /// Two member folders holding the set "w" (3 full 4 KiB chunks and a tail) written with `stripe`.
    final class WrittenSet: Sendable {
        let folders: [ScratchFolder]
        let paths: [String]
        let size = 3 * 4096 + 100

        init(members: Int = 2, stripe: Int = 4096) throws {
            folders = (0..<members).map { ScratchFolder("refuse\($0)") }
            paths = folders.map(\.path)
            let striped = try StripedHandle(StripeLayout(folders: paths, stripeSize: stripe))
            try striped.submitWrite(from: try randomBuffer(size, seed: 3), to: "w").wait()
        }

        /// Reads "w" with `folders` and `stripe`; returns the error, or nil when the read worked.
        func readError(_ folders: [String], stripe: Int = 4096, count: Int? = nil) throws -> AsyncIOError? {
            let handle = try StripedHandle(StripeLayout(folders: folders, stripeSize: stripe))
            let sink = try AlignedBuffer(count: count ?? size, lock: false)
            do {
                try handle.submitRead(into: sink, from: "w").wait()
                return nil
            } catch {
                return error
            }
        }
    }

    @Test func missingMember() throws {
        let set = try WrittenSet()
        let member1 = set.paths[1] + "/w.1-of-2.stripe-4096.size-\(set.size)"
        #expect(unlink(member1) == 0)
        let error = try #require(try set.readError(set.paths))
        #expect(error.errno == .noSuchFile && error.path == set.paths[1], "\(error)")
        #expect(error.description.contains("member 1 of the 2-member set 'w'"), "\(error)")
        #expect(unlink(set.paths[0] + "/w.0-of-2.stripe-4096.size-\(set.size)") == 0)
        let first = try #require(try set.readError(set.paths))
        #expect(first.errno == .noSuchFile && first.description.contains("member 0"), "\(first)")
    }

    @Test func otherMemberCount() throws {
        let set = try WrittenSet()
        let third = ScratchFolder("refuse-extra")
        let error = try #require(try set.readError(set.paths + [third.path]))
        #expect(error.kind == .invalidArgument, "\(error)")
        #expect(error.path == set.paths[0] + "/w.0-of-2.stripe-4096.size-\(set.size)", "\(error)")
        #expect(error.description.contains("member 0 of 2, expected member 0 of 3"), "\(error)")
        let fewer = try #require(try set.readError([set.paths[0]]))
        #expect(fewer.description.contains("expected member 0 of 1"), "\(fewer)")
    }

    @Test func otherStripeSize() throws {
        let set = try WrittenSet()
        let error = try #require(try set.readError(set.paths, stripe: 8192))
        #expect(error.path?.hasSuffix("w.0-of-2.stripe-4096.size-\(set.size)") == true, "\(error)")
        #expect(error.description.contains("stripe size is 4096, expected 8192"), "\(error)")
    }

    @Test func foldersSwapped() throws {
        let set = try WrittenSet()
        let error = try #require(try set.readError(Array(set.paths.reversed())))
        #expect(error.path == set.paths[1] + "/w.1-of-2.stripe-4096.size-\(set.size)", "\(error)")
        #expect(error.description.contains("member 1 of 2, expected member 0 of 2"), "\(error)")
        #expect(error.description.contains("not in the order"), "\(error)")
    }

    @Test func memberOfAnotherSize() throws {
        let set = try WrittenSet()
        // Member 1 replaced by the member 1 of a bigger set of the same name.
        let member1 = set.paths[1] + "/w.1-of-2.stripe-4096.size-\(set.size)"
        #expect(rename(member1, set.paths[1] + "/w.1-of-2.stripe-4096.size-999999") == 0)
        let error = try #require(try set.readError(set.paths))
        #expect(error.description.contains("holds 999999 bytes, expected \(set.size)"), "\(error)")
    }

    @Test func memberCutShort() throws {
        let set = try WrittenSet()
        let member1 = set.paths[1] + "/w.1-of-2.stripe-4096.size-\(set.size)"
        #expect(truncate(member1, 4096) == 0)
        let error = try #require(try set.readError(set.paths))
        #expect(error.kind == .unexpectedEndOfFile && error.path == member1, "\(error)")
        #expect(error.description.contains("member 1 of a set of \(set.size) bytes holds \(4096 + 100)"), "\(error)")
    }

    @Test func moreThanTheSetHolds() throws {
        let set = try WrittenSet()
        let error = try #require(try set.readError(set.paths, count: set.size + 1))
        #expect(error.kind == .unexpectedEndOfFile, "\(error)")
        #expect(error.description.contains("holds \(set.size) bytes, fewer than the \(set.size + 1) requested"))
    }

    @Test func badLayouts() throws {
        let a = ScratchFolder("refuse-dup")
        for folders in [[a.path, a.path], [a.path, a.path + "/"], [a.path, a.path + "/."]] {
            #expect(throws: AsyncIOError.self) { try StripeLayout(folders: folders) }
            do {
                _ = try StripeLayout(folders: folders)
            } catch {
                #expect(error.kind == .invalidArgument && error.description.contains("given twice"), "\(error)")
            }
        }
        #expect(throws: AsyncIOError.self) { try StripeLayout(folders: []) }
        #expect(throws: AsyncIOError.self) { try StripeLayout(folders: [a.path], stripeSize: 0) }
        #expect(throws: AsyncIOError.self) { try StripeLayout(folders: [""]) }
    }

    @Test func badNamesAndCounts() throws {
        let a = ScratchFolder("refuse-name")
        let handle = try StripedHandle(StripeLayout(folders: [a.path]))
        let buffer = try AlignedBuffer(count: 4096, lock: false)
        for name in ["", ".", "..", "a/b", "x\u{0}y"] {
            #expect(throws: AsyncIOError.self) { try handle.submitWrite(from: buffer, to: name).wait() }
            #expect(throws: AsyncIOError.self) { try handle.submitRead(into: buffer, from: name).wait() }
        }
        #expect(throws: AsyncIOError.self) { try handle.submitWrite(from: buffer, to: "n", count: 4097).wait() }
        #expect(throws: AsyncIOError.self) { try handle.submitWrite(from: buffer, to: "n", count: -1).wait() }
        #expect(try FileManager.default.contentsOfDirectory(atPath: a.path).isEmpty)
    }

    @Test("a stripe size that is not a multiple of the direct-I/O alignment")
    func unalignedStripe() throws {
        let a = ScratchFolder("refuse-align")
        let handle = try StripedHandle(StripeLayout(folders: [a.path], stripeSize: 1000))
        let buffer = try AlignedBuffer(count: 4096, lock: false)
        do {
            try handle.submitWrite(from: buffer, to: "u").wait()
            Issue.record("a 1000-byte stripe was accepted for direct I/O")
        } catch {
            #expect(error.description.contains("stripe size 1000 is not a multiple of the direct I/O alignment"),
                    "\(error)")
        }
        // Buffered, any stripe size works.
        let buffered = try StripedHandle(StripeLayout(folders: [a.path], stripeSize: 1000),
                                         config: HandleConfig(blockSize: 1000, direct: false))
        let source = try randomBuffer(4096, seed: 9)
        try buffered.submitWrite(from: source, to: "u").wait()
        let sink = try AlignedBuffer(count: 4096, lock: false)
        try buffered.submitRead(into: sink, from: "u").wait()
        #expect(firstDifference(sink, source) == nil)
    }

    @Test("a missing folder names the folder")
    func missingFolder() throws {
        let a = ScratchFolder("refuse-missing")
        let gone = a.path + "/nope"
        let handle = try StripedHandle(StripeLayout(folders: [a.path, gone]))
        let buffer = try AlignedBuffer(count: 4096, lock: false)
        do {
            try handle.submitWrite(from: buffer, to: "m").wait()
            Issue.record("a write into a missing folder worked")
        } catch {
            #expect(error.errno == .noSuchFile && error.path == gone, "\(error)")
        }
    }
}
