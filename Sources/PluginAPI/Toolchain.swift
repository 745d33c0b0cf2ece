/// The Swift runtime a plugin was built for. Host and Swift plugins share one runtime in the process and
/// Swift has no stable ABI on Linux, so the host refuses a Swift plugin built with another toolchain.
public enum SwiftToolchain {
    public static let current: String = {
        #if compiler(>=7.0)
            "swift-7+"
        #elseif compiler(>=6.4)
            "swift-6.4"
        #elseif compiler(>=6.3)
            "swift-6.3"
        #elseif compiler(>=6.2)
            "swift-6.2"
        #elseif compiler(>=6.1)
            "swift-6.1"
        #else
            "swift-6.0"
        #endif
    }()
}
