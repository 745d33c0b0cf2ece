// swift-tools-version:6.0
// A plugin built OUTSIDE the synchost package, the way a third party would: against the plugin kit alone
// (synchost's SDK/ package: PluginAPI and PluginTesting, no server dependencies). @SDK_PATH@ is replaced by the
// test with the kit's location; a real plugin names its checkout of the kit the same way.
import PackageDescription

let sdk = "@SDK_PATH@"

let package = Package(
    name: "ExternalPlugin",
    products: [.library(name: "Greeter", type: .dynamic, targets: ["Greeter"])],
    dependencies: [.package(name: "synchost-sdk", path: sdk)],
    targets: [
        .target(
            name: "Greeter", dependencies: [.product(name: "PluginAPI", package: "synchost-sdk")],
            // Only the entry symbol is exported: several plugins' copies of the SDK live side by side in one host.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(sdk)/Sources/PluginABI/exports.map"])]
        ),
        .testTarget(name: "GreeterTests", dependencies: ["Greeter", .product(name: "PluginTesting", package: "synchost-sdk")]),
    ],
    swiftLanguageModes: [.v6]
)
