// swift-tools-version:6.0
// The ABI benchmark: a plugin (.so) and a driver that loads it through the real kernel and compares each
// figure with the same work called in-process. Run by scripts/bench.sh, never by the tests.
import PackageDescription

let package = Package(
    name: "ABIBench",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BenchPlugin", type: .dynamic, targets: ["BenchPlugin"]),
        .executable(name: "abi-bench", targets: ["ABIBench"]),
    ],
    dependencies: [.package(name: "synchost", path: "../..")],
    targets: [
        .target(name: "BenchWorkload", dependencies: [.product(name: "PluginAPI", package: "synchost")]),
        .target(
            name: "BenchPlugin", dependencies: ["BenchWorkload"],
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/../../Sources/PluginABI/exports.map"])]
        ),
        .executableTarget(
            name: "ABIBench",
            dependencies: ["BenchWorkload", .product(name: "SynchostKernel", package: "synchost")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
