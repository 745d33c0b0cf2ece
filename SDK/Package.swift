// swift-tools-version:6.0
// The plugin kit: what a plugin built outside this repository depends on — the C contract (PluginABI), the
// Swift SDK (PluginAPI) and an in-process fake host for its unit tests (PluginTesting). It has no package
// dependencies, so a plugin resolves and builds without any of the host's (Hummingbird, GRDB, PostgresNIO,
// NIO, jwt-kit, swift-crypto). Its sources are the host's own (symlinks into ../Sources): one copy of the SDK.
import PackageDescription

let package = Package(
    name: "synchost-sdk",
    products: [
        .library(name: "PluginAPI", targets: ["PluginAPI"]),
        .library(name: "PluginTesting", targets: ["PluginTesting"]),
    ],
    targets: [
        .target(name: "PluginABI", path: "Sources/PluginABI"),
        .target(name: "PluginAPI", dependencies: ["PluginABI"], path: "Sources/PluginAPI"),
        .target(name: "PluginTesting", dependencies: ["PluginAPI"], path: "Sources/PluginTesting"),
    ],
    swiftLanguageModes: [.v6]
)
