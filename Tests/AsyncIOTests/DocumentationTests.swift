import Foundation
import Testing

/// Every public declaration of the library keeps its `///` comment (the DocC catalog is built
/// from them; `.ci/run` builds it and fails on a DocC warning).
@Suite("Documentation")
struct DocumentationTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/AsyncIO").standardized

    /// `file:line: declaration` of every public declaration without a `///` line above it (attributes
    /// and ordinary `//` comments in between are allowed).
    static func undocumented(in root: URL) -> [String] {
        var found: [String] = []
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
        for file in files.sorted(by: { $0.path < $1.path }) {
            guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
            let lines = text.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            for (i, line) in lines.enumerated() where isPublicDeclaration(line) {
                var j = i - 1
                while j >= 0, lines[j].hasPrefix("@") || (lines[j].hasPrefix("//") && !lines[j].hasPrefix("///")) {
                    j -= 1
                }
                if j < 0 || !lines[j].hasPrefix("///") {
                    found.append("\(file.lastPathComponent):\(i + 1): \(line.prefix(80))")
                }
            }
        }
        return found
    }

    static func isPublicDeclaration(_ line: String) -> Bool {
        var rest = Substring(line)
        while rest.hasPrefix("@") {
            guard let space = rest.firstIndex(of: " ") else { return false }
            rest = rest[rest.index(after: space)...]
        }
        return (rest.hasPrefix("public ") || rest.hasPrefix("open ")) && !rest.hasPrefix("public import ")
    }

    @Test("every public declaration of AsyncIO has a /// comment")
    func everyPublicSymbolIsDocumented() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path)
        #expect(!files.isEmpty, "no sources at \(Self.sources.path)")
        let missing = Self.undocumented(in: Self.sources)
        #expect(missing.isEmpty, "undocumented:\n\(missing.joined(separator: "\n"))")
    }

    @Test("the check finds a public declaration without a comment, and accepts one with a comment")
    func checkerCatchesAMissingComment() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("doccheck-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = """
            /// Documented.
            public struct A {}
            @inlinable public func b() {}
            /// Documented, behind an attribute.
            @discardableResult
            public func c() -> Int { 0 }
            """
        try source.write(to: folder.appendingPathComponent("x.swift"), atomically: true, encoding: .utf8)
        #expect(Self.undocumented(in: folder) == ["x.swift:3: @inlinable public func b() {}"])
    }
}
