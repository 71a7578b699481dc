// swift-tools-version: 6.2
import Foundation
import PackageDescription

// Layout: pure core targets (TuttiWire, TuttiAudio, TuttiTiming, TuttiSync) do no I/O and take
// time as a parameter; adapter targets (TuttiSources, TuttiServer) touch files, processes and
// sockets; TuttiCLI holds the whole `tutti` command tree and the executable only calls it.
let package = Package(
    name: "Tutti",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tutti", targets: ["tutti"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
    ],
    targets: [
        // Pure core.
        .target(name: "TuttiWire", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        .target(name: "TuttiAudio"),
        .target(name: "TuttiTiming"),
        .target(name: "TuttiSync", dependencies: ["TuttiTiming"]),
        .target(name: "TuttiMeasure"),
        .target(name: "TuttiFLAC", dependencies: ["TuttiAudio"]),
        // The system model (speakers, groups, streams, pairs, party mode) and the JSON-RPC API.
        .target(name: "TuttiControl"),
        // The TOML config file (a parser written here), apart so that the fuzzer reaches it alone.
        .target(name: "TuttiConfig"),

        // Adapters.
        .target(name: "TuttiOpus", dependencies: ["TuttiAudio"]),  // libopus through dlopen
        // The D-Bus wire protocol over a Unix socket (BlueZ's API lives on the system bus).
        .target(
            name: "TuttiDBus",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // Bluetooth speakers through BlueZ's D-Bus API.
        .target(name: "TuttiBluetooth", dependencies: ["TuttiDBus", "TuttiControl", .product(name: "Logging", package: "swift-log")]),
        .target(name: "TuttiStore", dependencies: ["TuttiControl", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "TuttiSources",
            // TuttiOutputs for its PulseAudio client library (line-in records through it).
            dependencies: ["TuttiAudio", "TuttiTiming", "TuttiOutputs", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "TuttiOutputs",
            dependencies: ["TuttiAudio", "TuttiTiming", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "TuttiServer",
            dependencies: [
                "TuttiWire", "TuttiAudio", "TuttiTiming", "TuttiSources", "TuttiFLAC", "TuttiOpus", "TuttiControl", "TuttiStore", "TuttiMeasure",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ],
            // The web page, compiled into the binary: plain HTML, CSS and JavaScript modules.
            resources: [
                .embedInCode("Web/index.html"), .embedInCode("Web/app.js"), .embedInCode("Web/rpc.js"), .embedInCode("Web/style.css"),
            ]
        ),
        .target(
            name: "TuttiSpeaker",
            dependencies: [
                "TuttiWire", "TuttiAudio", "TuttiTiming", "TuttiSync", "TuttiOutputs", "TuttiFLAC", "TuttiOpus", "TuttiControl",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "TuttiCLI",
            dependencies: [
                "TuttiServer", "TuttiSpeaker", "TuttiSources", "TuttiAudio", "TuttiTiming", "TuttiHarness", "TuttiMeasure", "TuttiFLAC",
                "TuttiBluetooth", "TuttiDBus", "TuttiControl", "TuttiOutputs", "TuttiConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(name: "tutti", dependencies: ["TuttiCLI"]),

        // Runs and measures real processes: the demo, the benchmarks and the integration tests.
        .target(name: "TuttiHarness", dependencies: ["TuttiTiming"]),

        // Helpers for tests that drive real processes and raw protocol peers.
        .target(
            name: "TuttiTestSupport",
            dependencies: [
                "TuttiHarness", "TuttiWire", "TuttiServer", "TuttiSources", "TuttiControl", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Tests: one target per library target.
        .testTarget(
            name: "TuttiWireTests",
            dependencies: [
                "TuttiWire", "TuttiTiming", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "TuttiAudioTests", dependencies: ["TuttiAudio"]),
        .testTarget(name: "TuttiControlTests", dependencies: ["TuttiControl"]),
        .testTarget(name: "TuttiConfigTests", dependencies: ["TuttiConfig"]),
        .testTarget(
            name: "TuttiStoreTests", dependencies: ["TuttiStore", "TuttiControl", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "TuttiTimingTests", dependencies: ["TuttiTiming"]),
        .testTarget(
            name: "TuttiBluetoothTests",
            dependencies: ["TuttiBluetooth", "TuttiDBus", "TuttiHarness", .product(name: "Logging", package: "swift-log")],
            exclude: ["Scripts"]  // the BlueZ stand-in the tests run, read from the source tree
        ),
        .testTarget(
            name: "TuttiDBusTests",
            dependencies: ["TuttiDBus", "TuttiHarness", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOTestUtils", package: "swift-nio")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "TuttiSyncTests", dependencies: ["TuttiSync", "TuttiTiming"]),
        .testTarget(name: "TuttiMeasureTests", dependencies: ["TuttiMeasure", "TuttiTiming"]),
        .testTarget(name: "TuttiFLACTests", dependencies: ["TuttiFLAC", "TuttiAudio", "TuttiTiming"]),
        .testTarget(name: "TuttiOpusTests", dependencies: ["TuttiOpus", "TuttiAudio", "TuttiTiming"]),
        .testTarget(
            name: "TuttiSourcesTests",
            dependencies: ["TuttiSources", "TuttiAudio", "TuttiTiming", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "TuttiOutputsTests",
            dependencies: ["TuttiOutputs", "TuttiAudio", "TuttiTiming", "TuttiHarness"]
        ),
        .testTarget(
            name: "TuttiSpeakerTests",
            dependencies: [
                "TuttiSpeaker", "TuttiServer", "TuttiWire", "TuttiAudio", "TuttiSync", "TuttiCLI", "TuttiTestSupport", "TuttiFLAC", "TuttiControl",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "TuttiServerTests",
            dependencies: [
                "TuttiServer", "TuttiWire", "TuttiAudio", "TuttiCLI", "TuttiTestSupport", "TuttiControl", "TuttiMeasure",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Scripts"]  // Python peers the tests run, read from the source tree
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets for the parsers of untrusted input, built only by `Fuzz/run` (which sets
// TUTTI_FUZZ and builds with -sanitize=fuzzer,address in .build-fuzz); other builds leave them out.
if ProcessInfo.processInfo.environment["TUTTI_FUZZ"] != nil {
    package.products.append(.executable(name: "tutti-fuzz", targets: ["TuttiFuzz"]))
    package.targets.append(.executableTarget(
        name: "TuttiFuzz",
        dependencies: ["TuttiWire", "TuttiControl", "TuttiFLAC", "TuttiDBus", "TuttiConfig", "TuttiSources", .product(name: "NIOCore", package: "swift-nio")],
        path: "Fuzz/Sources/TuttiFuzz",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
}
