// swift-tools-version:6.0
// The benchmark suite behind `make bench` (scripts/bench.sh), never run by the tests. Each driver prints one
// JSON object of figures, each beside an anchor measured in the same run.
//   abi-bench:   a plugin (.so) loaded through the real kernel vs the same code called in-process
//   store-bench: raw SQLite prepared inserts vs the store's batched upsert of realistic CDRs
//   scheduler-bench: next-fire cost vs Foundation's Calendar; 10k schedules: lateness vs a bare timer, idle CPU
//   sync-bench:  a 1M-CDR day synced from the VOS simulator through the dlopen'd libVOS.so vs the store alone
//   read-bench:  wrk at 64 connections: bare Hummingbird route vs cached grade-stats and collection reads;
//                the live grade-stats path; start-up (all plugins loaded, /healthz answered) and idle RSS
//   pg-bench:    the store's upsert and the cached reads on PostgreSQL, beside postgres-nio doing the same bare
//   bench-worker: `synchost plugin-worker` for the process-isolation figures (abi-bench, sync-bench)
import PackageDescription

let package = Package(
    name: "ABIBench",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BenchPlugin", type: .dynamic, targets: ["BenchPlugin"]),
        .executable(name: "abi-bench", targets: ["ABIBench"]),
        .executable(name: "store-bench", targets: ["StoreBench"]),
        .executable(name: "scheduler-bench", targets: ["SchedulerBench"]),
        .executable(name: "sync-bench", targets: ["SyncBench"]),
        .executable(name: "read-bench", targets: ["ReadBench"]),
        .executable(name: "pg-bench", targets: ["PGBench"]),
        .executable(name: "bench-worker", targets: ["BenchWorker"]),
    ],
    dependencies: [
        .package(name: "synchost", path: "../.."),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.25.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.70.0"),
    ],
    targets: [
        .target(name: "BenchWorkload", dependencies: [.product(name: "PluginAPI", package: "synchost")]),
        .target(name: "RawInsertAnchor", dependencies: [.product(name: "SynchostKernel", package: "synchost")]),
        .target(
            name: "BenchPlugin", dependencies: ["BenchWorkload"],
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/../../Sources/PluginABI/exports.map"])]
        ),
        .executableTarget(
            name: "ABIBench",
            dependencies: ["BenchWorkload", .product(name: "SynchostKernel", package: "synchost")]
        ),
        .executableTarget(
            name: "SyncBench",
            dependencies: ["BenchWorkload", "RawInsertAnchor", .product(name: "SynchostKernel", package: "synchost"),
                           .product(name: "Simulators", package: "synchost"), .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOFoundationCompat", package: "swift-nio")]
        ),
        .executableTarget(
            name: "ReadBench",
            dependencies: ["BenchWorkload", .product(name: "SynchostKernel", package: "synchost"), .product(name: "Simulators", package: "synchost"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "NIOEmbedded", package: "swift-nio")]
        ),
        .executableTarget(
            name: "PGBench",
            dependencies: ["BenchWorkload", .product(name: "SynchostKernel", package: "synchost"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        .executableTarget(name: "BenchWorker", dependencies: [.product(name: "SynchostKernel", package: "synchost")]),
        .executableTarget(
            name: "SchedulerBench",
            dependencies: ["BenchWorkload", .product(name: "SynchostKernel", package: "synchost")]
        ),
        .executableTarget(
            name: "StoreBench",
            dependencies: [
                "BenchWorkload", "RawInsertAnchor", .product(name: "SynchostKernel", package: "synchost"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
