// swift-tools-version:6.0
import PackageDescription

// Every plugin exports exactly one symbol (its entry point); everything else in the .so is local,
// so plugins carrying their own copies of the SDK (or of NIO, Foundation helpers...) never clash.
let exportsOnlyEntry: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/PluginABI/exports.map"])
]

/// One in-tree plugin: a `.dynamic` product `lib<Name>.so`. Its code is the target `<Name>Plugin`
/// (`Plugins/<Name>/Sources`), which its unit tests (`Plugins/<Name>/Tests`, against PluginTesting's fake host)
/// link too; the one exported entry symbol lives apart in `<Name>Export` (`Plugins/<Name>/Export`), so the
/// plugins' tests share one test binary without five definitions of it. Whatever a plugin links besides the SDK
/// is linked into its .so and stays local to it (the version script).
func plugin(_ name: String, _ extra: [Target.Dependency] = []) -> (product: Product, targets: [Target]) {
    (
        .library(name: name, type: .dynamic, targets: ["\(name)Export"]),
        [
            .target(name: "\(name)Plugin", dependencies: ["PluginAPI"] + extra, path: "Plugins/\(name)/Sources"),
            .target(name: "\(name)Export", dependencies: [.target(name: "\(name)Plugin")], path: "Plugins/\(name)/Export", linkerSettings: exportsOnlyEntry),
            .testTarget(name: "\(name)PluginTests", dependencies: [.target(name: "\(name)Plugin"), "PluginTesting"], path: "Plugins/\(name)/Tests"),
        ]
    )
}

let plugins = [
    plugin("VOS"), plugin("Guanke"), plugin("WeCom"),
    // Access tokens are HS256 JWTs (jwt-kit).
    plugin("ProjectSync", [.product(name: "JWTKit", package: "jwt-kit")]),
    // Aliyun SMS signs with HMAC-SHA1 (swift-crypto); e-mail goes through libcurl's SMTP.
    plugin("Notify", [.product(name: "Crypto", package: "swift-crypto"), "CCurl"]),
]

/// A plugin's upstream simulator (`Plugins/<Name>/Simulator`): a loopback HTTP server used by the tests,
/// the benchmarks and `synchost demo`. It never links into the plugin or the host.
func simulator(_ name: String, _ target: String? = nil, _ extra: [Target.Dependency] = []) -> Target {
    .target(name: target ?? "\(name)Simulator", dependencies: ["SimulatorKit"] + extra, path: "Plugins/\(name)/Simulator")
}

let simulators = [
    simulator("VOS"), simulator("Guanke"), simulator("WeCom"), simulator("ProjectSync", "ProjectServiceSimulator"),
    // Notify's upstreams besides WeCom: Aliyun SMS (it verifies signatures, hence swift-crypto).
    simulator("Notify", "AliyunSMSSimulator", [.product(name: "Crypto", package: "swift-crypto")]),
]

let package = Package(
    name: "synchost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "synchost", targets: ["synchost"]),
        .library(name: "PluginAPI", targets: ["PluginAPI"]),
        .library(name: "PluginTesting", targets: ["PluginTesting"]),
        // The kernel as a library, for tools built beside the host (benchmarks).
        .library(name: "SynchostKernel", targets: ["Host"]),
        .library(name: "Simulators", targets: simulators.map(\.name)),
    ] + plugins.map(\.product),
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.25.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.0.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
    ],
    targets: [
        // libcurl (system library, libcurl4-openssl-dev), with C wrappers for its variadic setopt.
        .systemLibrary(name: "CCurl", path: "Sources/CCurl"),
        // The system libsqlite3 (libsqlite3-dev): the embedded database, driven directly.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        // The contract: a C header. Nothing Swift-typed crosses the plugin boundary.
        .target(name: "PluginABI"),
        // The plugin author's Swift SDK on top of the C ABI (no third-party dependencies on purpose).
        .target(name: "PluginAPI", dependencies: ["PluginABI"]),
        // An in-process fake host for plugins' unit tests (also in the SDK package, SDK/Package.swift).
        .target(name: "PluginTesting", dependencies: ["PluginAPI"]),
        // The kernel: loader, host services, admin API, CLI.
        .target(
            name: "Host",
            dependencies: [
                "PluginABI", "PluginAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                // The admin listener's optional HTTPS.
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                "CSQLite",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // Secret config values sealed with AES-GCM.
                .product(name: "Crypto", package: "swift-crypto"),
                // Reports as XLSX: the OOXML parts zipped (zlib, zlib1g-dev).
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            // The admin page's files: embedded at build time as generated code, so the binary stays one file.
            exclude: ["Admin/Web"],
            plugins: ["EmbedWeb"]
        ),
        // The build tool that embeds them (BuildTools/EmbedWeb) and the program it runs.
        .executableTarget(name: "EmbedWebTool", path: "BuildTools/EmbedWebTool"),
        .plugin(name: "EmbedWeb", capability: .buildTool(), dependencies: ["EmbedWebTool"], path: "BuildTools/EmbedWeb"),
        .executableTarget(name: "synchost", dependencies: ["Host", "Demo"]),
        // `synchost demo`: the simulators wired to a host (kept out of the kernel, which knows no plugin).
        .target(
            name: "Demo",
            dependencies: ["Host", "PluginAPI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")] + simulators.filter { $0.name != "AliyunSMSSimulator" }.map { .target(name: $0.name) }),
        // What every upstream simulator shares: a loopback server, deterministic randomness, fault counters.
        .target(name: "SimulatorKit", dependencies: [.product(name: "Hummingbird", package: "hummingbird")]),
        // Tests, by what they need. TestKit is what they share: builds, hosts, backends, HTTP, processes.
        .target(
            name: "TestKit",
            dependencies: ["Host", "PluginAPI", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            path: "Tests/TestKit"
        ),
        // Pure: no plugin, no database file, no process; seconds.
        .testTarget(name: "UnitTests", dependencies: ["Host", "PluginAPI"], path: "Tests/UnitTests"),
        // The real .so files through the real loader, SQLite and PostgreSQL, simulators on loopback.
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["TestKit", "Host", "PluginAPI", "SimulatorKit", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "HummingbirdTLS", package: "hummingbird")]
                + simulators.map { .target(name: $0.name) },
            path: "Tests/IntegrationTests"
        ),
        // The synchost binary as a user runs it: browser, fuzzing, demo, SIGKILL, scale-out.
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["TestKit", "Host", "PluginAPI", "SimulatorKit", .product(name: "AsyncHTTPClient", package: "async-http-client")]
                + simulators.map { .target(name: $0.name) },
            path: "Tests/EndToEndTests"
        ),
    ] + plugins.flatMap(\.targets) + simulators,
    swiftLanguageModes: [.v6]
)
