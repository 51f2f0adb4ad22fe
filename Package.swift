// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "swift-aio",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "AsyncIO", targets: ["AsyncIO"]),
        .library(name: "AIOBench", targets: ["AIOBench"]),
        .executable(name: "aio-bench", targets: ["aio-bench"]),
        // The C entry points of the Python package (python/): `libswiftaio.so`, loaded with ctypes.
        .library(name: "swiftaio", type: .dynamic, targets: ["AsyncIOCABI"]),
    ],
    // Opt-in features: `swift build -c release --traits MPI`. A default build needs nothing more.
    traits: [
        .trait(name: "MPI",
               description: "--mpi on io, sweep and tune over Open MPI (needs libopenmpi-dev, pkg-config ompi-c)."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // Property-based tests of the parsers (AIOBenchTests only).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // `swift package generate-documentation --target AsyncIO` (the DocC catalog in Sources/AsyncIO).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // Kernel UAPI structs, raw syscall wrappers and ring-index atomics. No logic.
        .target(name: "CAsyncIO"),
        // The engine library: no package dependencies, only CAsyncIO, Glibc and the standard library.
        .target(name: "AsyncIO", dependencies: ["CAsyncIO"]),
        // `@_cdecl` functions over AsyncIO for the Python package: DeepSpeed's aio_handle on caller memory,
        // page-locked memory, the streamed writer of `swift_aio.open`.
        .target(name: "AsyncIOCABI", dependencies: ["AsyncIO"]),
        // Benchmark, sweep, logs, tuning and reports.
        .target(
            name: "AIOBench",
            dependencies: [
                "AsyncIO",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // Open MPI's C API (trait MPI only): a module map over a header of `static inline` wrappers for what
        // Swift cannot import (MPI_COMM_WORLD, MPI_BYTE, MPI_MAX are macros over opaque globals in Open MPI).
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        // The ranks of an MPI job as AIOBench's `Collective` (trait MPI only): the one target that touches MPI.
        // Its source is all under `#if MPI`, and CMPI is a dependency only with the trait, so a default build
        // compiles it empty and asks pkg-config for nothing.
        .target(name: "AIOCluster",
                dependencies: ["AIOBench", .target(name: "CMPI", condition: .when(traits: ["MPI"]))]),
        // The command-line tool: parses flags and delegates to AIOBench.
        .executableTarget(
            name: "aio-bench",
            dependencies: [
                "AIOBench",
                "AsyncIO",
                .target(name: "AIOCluster", condition: .when(traits: ["MPI"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Feeds bytes to the log, sweep-config and log-name parsers: a libFuzzer fuzzer when built by
        // scripts/fuzz.sh (-sanitize=fuzzer -DFUZZING), else a replayer of saved inputs.
        .executableTarget(name: "aio-bench-fuzz", dependencies: ["AIOBench", "AsyncIO"]),
        // Examples/Checkpoint: a checkpoint of Swift arrays streamed, striped over folders, loaded back.
        .executableTarget(name: "checkpoint-example", dependencies: ["AsyncIO"], path: "Examples/Checkpoint"),
        .testTarget(name: "AsyncIOTests", dependencies: ["AsyncIO"]),
        .testTarget(
            name: "AIOBenchTests",
            dependencies: [
                "AIOBench",
                "AsyncIO",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "CLITests", dependencies: ["AIOBench", "AsyncIO"]),
    ],
    swiftLanguageModes: [.v6]
)
