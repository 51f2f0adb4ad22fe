import Glibc

/// Facts about the machine and the process: kernel, processors, privileges, environment.
package enum SystemInfo {
    /// The kernel's name, `Linux` (`uname -s`).
    package static var kernelName: String { unameField(\.sysname) }
    /// The kernel release, for example `6.18.0` (`uname -r`).
    package static var kernelRelease: String { unameField(\.release) }
    /// The machine architecture, for example `x86_64` (`uname -m`).
    package static var machine: String { unameField(\.machine) }
    /// The host name (`uname -n`).
    package static var hostName: String { unameField(\.nodename) }

    private static func unameField<T>(_ field: KeyPath<utsname, T>) -> String {
        var uts = utsname()
        guard uname(&uts) == 0 else { return "unknown" }
        let value = uts[keyPath: field]
        return withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// Processors online.
    package static var processorCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// CPU seconds this process has used so far, in user and in kernel mode.
    ///
    /// The corresponding C function is `getrusage(RUSAGE_SELF)`.
    package static func cpuTime() -> (user: Double, system: Double) {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return (seconds(usage.ru_utime), seconds(usage.ru_stime))
    }

    /// What each descriptor this process has open now points at (the link targets in
    /// `/proc/self/fd`: paths, `anon_inode:[io_uring]`, `pipe:[...]`), less the one the listing
    /// itself uses; for checks that nothing leaks. Empty where `/proc` is absent.
    ///
    /// The corresponding C functions are `opendir`, `readdir` and `readlink`.
    package static func openDescriptorTargets() -> [String] {
        guard let dir = opendir("/proc/self/fd") else { return [] }
        defer { closedir(dir) }
        let own = "\(dirfd(dir))"
        var targets: [String] = []
        var link = [CChar](repeating: 0, count: 4097)
        while let entry = readdir(dir) {
            let name = String(decoding: directoryEntryName(entry), as: UTF8.self)
            if name == "." || name == ".." || name == own { continue }
            let n = readlink("/proc/self/fd/" + name, &link, link.count - 1)
            guard n >= 0 else { continue }
            targets.append(link.prefix(n).withUnsafeBufferPointer {
                String(decoding: UnsafeRawBufferPointer($0), as: UTF8.self)
            })
        }
        return targets
    }

    /// Whether the process runs as root (effective user 0).
    package static var isRoot: Bool { geteuid() == 0 }

    /// The process id.
    package static var processID: Int32 { getpid() }

    /// The value of environment variable `name`, or nil when it is not set.
    package static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// Whether standard error is a terminal (progress lines may redraw themselves).
    package static var standardErrorIsTerminal: Bool { isatty(2) == 1 }

    /// The folders searched for programs when `PATH` is not set.
    package static let defaultSearchPath = "/usr/bin:/bin"

    /// The first executable regular file called `name` in the folders of `searchPath` (the
    /// environment's `PATH` when nil, else `defaultSearchPath`), searched in order as a shell
    /// does; a name with a `/` is taken as a path. Nil when there is none.
    package static func findExecutable(_ name: String, searchPath: String? = nil) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = searchPath ?? environment("PATH") ?? defaultSearchPath
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(name)"
            var st = stat()
            if stat(candidate, &st) == 0, st.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// Whether a shared library (for example `libcudart.so`) can be loaded here.
    ///
    /// The corresponding C function is `dlopen`.
    package static func canLoadLibrary(_ name: String) -> Bool {
        guard let handle = dlopen(name, RTLD_LAZY) else { return false }
        dlclose(handle)
        return true
    }

    /// Ends the process at once with `status`, running no exit handlers (for signal paths).
    package static func exitImmediately(_ status: Int32) -> Never { _exit(status) }

    /// The bytes of `argv[1...]` as the process received them.
    ///
    /// Swift's `CommandLine.arguments` has already replaced bytes that are not UTF-8, so a path
    /// given in another encoding would silently name another file; callers check these instead.
    package static func rawArguments() -> [[UInt8]] {
        (1..<max(1, Int(CommandLine.argc))).map { index in
            CommandLine.unsafeArgv[index].map { Array(UnsafeRawBufferPointer(start: $0, count: strlen($0))) } ?? []
        }
    }
}
