import AsyncIO
import Glibc
import Testing

/// `PathName` against POSIX `dirname` and `basename` (glibc's libgen versions), on a table of
/// edge cases and on seeded random paths made of `a`, `.` and `/`.
@Suite("Path names")
struct PathNameTests {
    /// glibc's POSIX `dirname` of `path` (it writes into its argument, so a copy).
    static func posixDirname(_ path: String) -> String {
        var bytes = Array(path.utf8CString)
        return String(cString: dirname(&bytes))
    }

    /// glibc's POSIX `basename` (`__xpg_basename`, what libgen.h names `basename`).
    static func posixBasename(_ path: String) -> String {
        var bytes = Array(path.utf8CString)
        return String(cString: __xpg_basename(&bytes))
    }

    @Test("one-character and other edge cases: parent and last component as dirname and basename give them")
    func table() {
        let cases: [(path: String, parent: String, last: String)] = [
            ("l", ".", "l"), ("l/", ".", "l"), ("/l", "/", "l"), ("a/b", "a", "b"), ("a/b/", "a", "b"),
            ("a//b//", "a", "b"), ("/", "/", "/"), ("//", "/", "/"), ("", ".", ""), (".", ".", "."),
            ("..", ".", ".."), ("/a/b/c.json", "/a/b", "c.json"), ("./x", ".", "x"),
        ]
        for c in cases {
            #expect(PathName.parent(of: c.path) == c.parent, "parent of '\(c.path)'")
            #expect(PathName.lastComponent(of: c.path) == c.last, "last component of '\(c.path)'")
        }
    }

    @Test("random paths: parent is dirname, last component is basename, join puts them back together")
    func randomPaths() {
        var random = SplitMix64(seed: TestSeed.base)
        let alphabet: [Character] = ["a", ".", "/"]
        for _ in 0..<5_000 {
            let length = Int(random.next() % 9) + 1
            let path = String((0..<length).map { _ in alphabet[Int(random.next() % 3)] })
            let parent = PathName.parent(of: path), last = PathName.lastComponent(of: path)
            // POSIX leaves the parent of `//a` to the implementation (`/` or `//`); glibc says `//`.
            let posixParent = Self.posixDirname(path)
            #expect(parent == (posixParent == "//" ? "/" : posixParent), "parent of '\(path)'")
            #expect(last == Self.posixBasename(path), "last component of '\(path)'")
            // The two halves name the same entry again (a name without a folder is put in ".").
            if !path.contains("//"), !path.hasSuffix("/") {
                #expect(PathName.join(parent, last) == (path.contains("/") ? path : "./" + path), "'\(path)'")
            }
        }
    }

    @Test("join: one slash between folder and name, whatever either holds")
    func join() {
        #expect(PathName.join("a", "b") == "a/b")
        #expect(PathName.join("a/", "b") == "a/b")
        #expect(PathName.join("a//", "/b") == "a/b")
        #expect(PathName.join("/", "b") == "/b")
        #expect(PathName.join("", "b") == "b")
        #expect(PathName.join("a", "") == "a")
        #expect(PathName.join("l", "_aio_bench_read_logs") == "l/_aio_bench_read_logs")
    }
}
