import Foundation
import PluginAPI

#if canImport(Glibc)
    import Glibc
#endif

/// Loads one plugin file and checks its descriptor before anything else of it is called. Every failure
/// becomes a reason a person can act on; nothing here can take the host down short of a crash inside the
/// plugin's own entry function.
struct PluginLoader {
    let router: ServiceRouter

    /// Size of the descriptor as ABI 1.0 defined it: anything shorter cannot be a 1.x descriptor.
    static let minimumDescriptorSize = MemoryLayout<sh_plugin_descriptor>.size
    nonisolated(unsafe) static let namePattern = /^[a-z][a-z0-9_]{0,39}$/

    /// Plugins (by name or file stem) that run in a worker process, and how the workers are kept.
    var isolation = IsolationPolicy()

    func load(_ file: URL) -> PluginEntry {
        let fingerprint = PluginDiscovery.fingerprint(of: file)
        let entry = PluginEntry(path: file.path, status: .failed(reason: "not loaded"), fingerprint: fingerprint)
        if isolation.isolates(file: file) { return WorkerPlugin.load(file, entry: entry, router: router, policy: isolation) }
        let services = PluginServiceContext(router: router, provisionalName: file.lastPathComponent)
        let d: UnsafePointer<sh_plugin_descriptor>
        switch Self.open(file, fingerprint: fingerprint, api: services.api) {
        case .failure(let reason):
            var failed = entry
            failed.status = .failed(reason: reason.message)
            return failed
        case .success(let descriptor): d = descriptor
        }
        var checked = Self.check(DescriptorFacts(d), entry: entry)
        if let manifest = checked.manifest, let name = checked.name, checked.isLoaded {
            services.name = name
            checked.handle = PluginHandle(name: name, manifest: manifest, backend: .inProcess(d), abiVersion: d.pointee.abi_version, services: services)
        }
        return checked
    }

    struct OpenFailure: Error {
        var message: String
    }

    /// dlopen of a private copy, then the entry function with `api`: the descriptor, or why not. The same in the
    /// host and in a plugin worker.
    static func open(_ file: URL, fingerprint: String, api: UnsafeMutablePointer<sh_host_api>) -> Result<UnsafePointer<sh_plugin_descriptor>, OpenFailure> {
        // Load a private copy: replacing the file in the plugin directory while the host runs must never
        // change code that is mapped (cp over a loaded .so crashes the process). The copy is unlinked at once;
        // the mapping keeps it alive.
        let copy: URL
        do { copy = try privateCopy(of: file, fingerprint: fingerprint) } catch {
            return .failure(OpenFailure(message: "cannot read the file: \(error.localizedDescription)"))
        }
        defer { try? FileManager.default.removeItem(at: copy) }

        // RTLD_NODELETE: a Swift image must never be unmapped, even by a mistaken dlclose.
        guard let image = dlopen(copy.path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let message = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            return .failure(OpenFailure(message: "dlopen failed: " + message.replacingOccurrences(of: copy.path, with: file.path)))
        }
        guard let symbol = dlsym(image, SH_ENTRY_SYMBOL) else {
            return .failure(OpenFailure(message: "missing entry symbol \(SH_ENTRY_SYMBOL): not a synchost plugin, or built for another ABI major version"))
        }
        let entryFn = unsafeBitCast(symbol, to: sh_entry_fn.self)
        guard let d = entryFn(api, (SH_ABI_MAJOR << 16) | SH_ABI_MINOR) else {
            return .failure(OpenFailure(message: "the entry function returned no descriptor (the plugin refused host ABI \(SH_ABI_MAJOR).\(SH_ABI_MINOR))"))
        }
        return .success(d)
    }

    /// The checks every descriptor passes, in order, whichever process read it; a loaded entry but no handle yet.
    static func check(_ d: DescriptorFacts, entry start: PluginEntry) -> PluginEntry {
        var entry = start
        func fail(_ reason: String) -> PluginEntry {
            entry.status = .failed(reason: reason)
            return entry
        }
        guard d.magic == SH_PLUGIN_MAGIC else {
            return fail(String(format: "wrong magic 0x%016llx in the descriptor (expected 0x%016llx)", d.magic, SH_PLUGIN_MAGIC))
        }
        let abi = d.abiVersion
        entry.abiVersion = abi
        let major = abi >> 16, minor = abi & 0xFFFF
        guard major == SH_ABI_MAJOR else {
            return fail("ABI major version mismatch: plugin built for ABI \(major).\(minor), host provides \(SH_ABI_MAJOR).\(SH_ABI_MINOR)")
        }
        guard minor <= SH_ABI_MINOR else {
            return fail("ABI minor version too new: plugin needs ABI \(major).\(minor), host provides \(SH_ABI_MAJOR).\(SH_ABI_MINOR); upgrade the host")
        }
        guard Int(d.structSize) >= Self.minimumDescriptorSize else {
            return fail("descriptor too short: struct_size \(d.structSize), ABI \(major).x needs at least \(Self.minimumDescriptorSize) bytes")
        }
        guard let name = d.name, let version = d.version else {
            return fail("the descriptor has no name or no version")
        }
        entry.name = name
        entry.version = version
        guard name.wholeMatch(of: Self.namePattern) != nil else {
            return fail("invalid plugin name \(name.debugDescription): use 1-40 characters a-z, 0-9, _ starting with a letter")
        }
        guard !version.isEmpty else { return fail("the descriptor's version is empty") }
        let kind: PluginKind
        switch d.kind {
        case SH_KIND_CONNECTOR.rawValue: kind = .connector
        case SH_KIND_NOTIFIER.rawValue: kind = .notifier
        default: return fail("unknown plugin kind \(d.kind) (1 = connector, 2 = notifier)")
        }
        entry.kind = kind
        let toolchain = d.toolchain ?? "c"
        entry.toolchain = toolchain
        if toolchain.hasPrefix("swift"), toolchain != SwiftToolchain.current {
            return fail("built with \(toolchain), host runs \(SwiftToolchain.current): Swift plugins share the host's runtime, rebuild with the host's toolchain")
        }
        guard d.hasInvoke else { return fail("the descriptor has no invoke function") }

        let manifestBytes = d.manifest
        let body: PluginManifest.Body
        do {
            body = try WireJSON.decode(PluginManifest.Body.self, from: manifestBytes)
        } catch {
            return fail("invalid manifest: \(ManifestValidation.describe(decodingError: error))")
        }
        let manifest = PluginManifest(name: name, version: version, kind: kind, body: body)
        let problems = ManifestValidation.problems(in: manifest)
        guard problems.isEmpty else { return fail("invalid manifest: " + problems.joined(separator: "; ")) }
        entry.manifest = manifest

        entry.status = .loaded
        return entry
    }

    static func privateCopy(of file: URL, fingerprint: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synchost-plugins-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let copy = dir.appendingPathComponent("\(fingerprint)-\(UUID().uuidString.prefix(8))-\(file.lastPathComponent)")
        try FileManager.default.copyItem(at: file, to: copy)
        return copy
    }
}
