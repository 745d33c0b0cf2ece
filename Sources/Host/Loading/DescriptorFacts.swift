import Foundation
import PluginAPI

/// What a plugin's descriptor says, read once: from the descriptor in this process, or as a plugin worker
/// read it in its own (the `hello` frame). The loader checks both the same way.
struct DescriptorFacts: Sendable, Codable, Equatable {
    var magic: UInt64
    var abiVersion: UInt32
    var structSize: UInt32
    var name: String?
    var version: String?
    var kind: UInt32
    var toolchain: String?
    var hasInvoke: Bool
    /// The manifest's bytes (UTF-8 JSON).
    var manifest: [UInt8]

    enum CodingKeys: String, CodingKey {
        case magic, name, version, kind, toolchain, manifest
        case abiVersion = "abi_version"
        case structSize = "struct_size"
        case hasInvoke = "has_invoke"
    }

    init(_ d: UnsafePointer<sh_plugin_descriptor>) {
        magic = d.pointee.magic
        abiVersion = d.pointee.abi_version
        structSize = d.pointee.struct_size
        // Past the checks of magic and size only; the loader refuses a descriptor whose magic is wrong before
        // it trusts the strings.
        let sane = magic == SH_PLUGIN_MAGIC && Int(structSize) >= PluginLoader.minimumDescriptorSize
        name = sane ? d.pointee.name.map { String(cString: $0) } : nil
        version = sane ? d.pointee.version.map { String(cString: $0) } : nil
        kind = d.pointee.kind
        toolchain = sane ? d.pointee.toolchain.map { String(cString: $0) } : nil
        hasInvoke = d.pointee.invoke != nil
        manifest = sane ? d.pointee.manifest.map { Array(UnsafeBufferPointer(start: $0, count: d.pointee.manifest_len)) } ?? [] : []
    }
}
