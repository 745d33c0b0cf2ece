import PluginAPI

/// Checks a configuration (or job parameters) against the keys a plugin declared: unknown keys, wrong
/// types and missing required keys are refused with the key named; defaults are filled in.
public enum ConfigSchema {
    public static func validated(_ config: [String: JSONValue], against keys: [ConfigKey], what: String = "config") throws -> [String: JSONValue] {
        let known = Dictionary(keys.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for name in config.keys.sorted() where known[name] == nil {
            throw HostError.invalid("\(what): unknown key \(name.debugDescription) (known: \(keys.map(\.key).joined(separator: ", ")))")
        }
        var out = config
        for key in keys {
            switch config[key.key] {
            case .none, .some(.null):
                if let d = key.defaultValue { out[key.key] = d } else if key.required {
                    throw HostError.invalid("\(what): \(key.key.debugDescription) is required (\(key.description))")
                } else { out[key.key] = nil }
            case .some(let v):
                guard matches(v, key.type) else {
                    throw HostError.invalid("\(what): \(key.key.debugDescription) must be \(key.type.rawValue), got \(v.typeName)")
                }
            }
        }
        return out
    }

    static func matches(_ v: JSONValue, _ type: ConfigKey.ValueType) -> Bool {
        switch (type, v) {
        case (_, .null): true
        case (.string, .string), (.boolean, .bool), (.object, .object): true
        case (.integer, _): v.intValue != nil
        case (.number, .int), (.number, .double): true
        case (.stringList, .array(let a)): a.allSatisfy { $0.stringValue != nil }
        default: false
        }
    }

    /// The configuration as responses show it: secret values replaced by "***".
    public static func redacted(_ config: [String: JSONValue], keys: [ConfigKey]) -> [String: JSONValue] {
        var out = config
        for key in keys where key.secret && out[key.key] != nil && out[key.key] != .null { out[key.key] = .string(SecretMasker.mask) }
        return out
    }

    /// The secret values of a configuration, for masking logs.
    public static func secretValues(_ config: [String: JSONValue], keys: [ConfigKey]) -> [String] {
        keys.filter(\.secret).compactMap { config[$0.key]?.stringValue }.filter { !$0.isEmpty }
    }
}
