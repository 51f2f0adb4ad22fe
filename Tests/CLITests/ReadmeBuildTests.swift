import Foundation
import Testing

/// The README's library example, as written there, built against this package as a dependency (a
/// package of its own in a scratch folder, `.package(path:)`), run, and its output checked against
/// its comments.
@Suite("README library example, built as a dependent package")
struct ReadmeBuildTests {
    /// The package's root (this file is Tests/CLITests/ReadmeBuildTests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The Swift blocks of README.md's "## The library" section, in order.
    static func librarySource() throws -> String {
        let readme = try String(contentsOfFile: root + "/README.md", encoding: .utf8)
        guard let start = readme.range(of: "## The library\n") else {
            throw CLIHarnessError(description: "README.md has no '## The library' section")
        }
        let section = readme[start.upperBound...]
        let end = section.range(of: "\n## ")?.lowerBound ?? section.endIndex
        var blocks: [String] = []
        var rest = section[..<end]
        while let open = rest.range(of: "```swift\n"), let close = rest[open.upperBound...].range(of: "```") {
            blocks.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return blocks.joined(separator: "\n")
    }

    @Test("compiles as written and prints what its comments say")
    func buildsAndRuns() throws {
        let scratch = try ScratchFolder("readme-build")
        defer { scratch.remove() }
        let package = try scratch.folder("client")
        let sources = package + "/Sources/client"
        try FileManager.default.createDirectory(atPath: sources, withIntermediateDirectories: true)
        try """
        // swift-tools-version: 6.1
        import PackageDescription
        let package = Package(
            name: "client",
            dependencies: [.package(path: "\(Self.root)")],
            targets: [.executableTarget(name: "client", dependencies: [.product(name: "AsyncIO", package: "main")])],
            swiftLanguageModes: [.v6])
        """.replacingOccurrences(of: "package: \"main\"", with: "package: \"\(URL(fileURLWithPath: Self.root).lastPathComponent)\"")
            .write(toFile: package + "/Package.swift", atomically: true, encoding: .utf8)
        try Self.librarySource().write(toFile: sources + "/main.swift", atomically: true, encoding: .utf8)

        let build = try CLI.runProgram(["/usr/bin/env", "swift", "build", "--package-path", package,
                                        "--scratch-path", package + "/.build", "-Xswiftc", "-warnings-as-errors"])
        #expect(build.status == 0, "\(build)")
        guard build.status == 0 else { return }
        let a = try scratch.folder("a"), b = try scratch.folder("b")
        let run = try CLI.runProgram([package + "/.build/debug/client", a, b])
        #expect(run.status == 0, "\(run)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 6, "\(run)")
        guard lines.count == 6 else { return }
        // io_uring where it works here (the comment's case), else the engine the probe fell back to.
        #expect(lines[0].hasPrefix("io_uring: plain READ/WRITE")
                    || lines[0].hasPrefix("kernel AIO") || lines[0].hasPrefix("POSIX"), "engine path: \(lines[0])")
        #expect(lines[1] == "67108864")
        #expect(lines[2] == "true")
        #expect(lines[3] == "1")
        #expect(lines[4] == "8000000")
        #expect(lines[5] == "[33554432, 33554432]")
    }
}
