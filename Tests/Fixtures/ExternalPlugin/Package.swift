// swift-tools-version:6.0
// A plugin built OUTSIDE the synchost package, the way a third party would. It carries its own copy of the
// SDK (SDK/PluginABI + SDK/PluginAPI, copied from synchost's Sources/ by the test) — nothing Swift-typed
// crosses the boundary, so several copies of the SDK live side by side in one host process.
import PackageDescription

let package = Package(
    name: "ExternalPlugin",
    products: [.library(name: "Greeter", type: .dynamic, targets: ["Greeter"])],
    targets: [
        .target(name: "PluginABI", path: "SDK/PluginABI"),
        .target(name: "PluginAPI", dependencies: ["PluginABI"], path: "SDK/PluginAPI"),
        .target(
            name: "Greeter", dependencies: ["PluginAPI"],
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/SDK/PluginABI/exports.map"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
