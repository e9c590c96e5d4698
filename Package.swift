// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "echoscan",
    products: [
        .executable(name: "echoscan", targets: ["echoscan"]),
        .executable(name: "echoscan-fuzz", targets: ["echoscan-fuzz"]),
        .library(name: "EchoScan", targets: ["EchoScan"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    ],
    targets: [
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CBrotli", pkgConfig: "libbrotlidec", providers: [.apt(["libbrotli-dev"])]),
        // SHA-256 for provenance, from the system's libcrypto.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // C that Swift cannot express: the tokenizer's SSE2 byte classifier, syncfs(2).
        .target(name: "CEchoScanShims"),
        .target(
            name: "EchoScan",
            dependencies: [
                "CZstd", "CLZ4", "CZlib", "CSnappy", "CBrotli", "COpenSSL", "CEchoScanShims",
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "echoscan",
            dependencies: [
                "EchoScan",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // libFuzzer target over the reader: scripts/fuzz.sh builds it with --sanitize=fuzzer.
        .executableTarget(
            name: "echoscan-fuzz",
            dependencies: ["EchoScan"],
            path: "Sources/EchoScanFuzz",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        // What both test targets share: sample paths, real compressors, the pipeline runner and
        // the built CLI.
        .target(
            name: "EchoScanTestSupport",
            dependencies: ["EchoScan", "CZstd", "CLZ4", "CZlib"],
            path: "Tests/EchoScanTestSupport"
        ),
        // One component at a time, in this process: fingerprints, normalization, evidence, the
        // index, the readers, style training.
        .testTarget(
            name: "EchoScanUnitTests",
            dependencies: ["EchoScan", "EchoScanTestSupport", "CEchoScanShims", "CZlib"]
        ),
        // Whole pipelines, the CLI, real writers (pyarrow, DuckDB, polars), Chromium, Slurm.
        .testTarget(
            name: "EchoScanIntegrationTests",
            dependencies: ["EchoScan", "echoscan", "EchoScanTestSupport", "CZlib"]
        ),
    ]
)
