import Foundation
import PluginAPI

/// One file the loader looked at: a working plugin, or a failure with the reason a person can act on.
public struct PluginEntry: Sendable {
    public enum Status: Sendable, Equatable {
        case loaded
        case failed(reason: String)
    }

    /// The file in the plugin directory.
    public var path: String
    public var status: Status
    /// Present when the descriptor was read far enough to know them.
    public var name: String?
    public var version: String?
    public var kind: PluginKind?
    public var abiVersion: UInt32?
    public var toolchain: String?
    public var manifest: PluginManifest?
    /// Content fingerprint at load time, to tell a changed file on rescan.
    public var fingerprint: String
    public var handle: PluginHandle?
    /// Something the operator should know that does not make the plugin fail (e.g. "changed on disk").
    public var notice: String?

    public var isLoaded: Bool { status == .loaded }
    public var failureReason: String? {
        if case .failed(let r) = status { return r }
        return nil
    }
    public var abiDescription: String? {
        abiVersion.map { "\($0 >> 16).\($0 & 0xFFFF)" }
    }
}
