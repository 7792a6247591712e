// Layers of settings: the defaults, a run folder's config.yaml, a `--config` file, the flags.
// Each layer is a dictionary keyed by the snake_case setting names (the flag names with `_` for
// `-`), tagged with where it came from, so that a bad value is reported where the user wrote it:
// `--epochs 0 is not allowed: ...` for a flag, `run.yaml: blur: 'fa' is not allowed, ...` for a file.
import Foundation
import Yams

/// Where a setting's value came from.
public enum ConfigSource: Equatable, Sendable {
    /// The per-dataset defaults (or a value derived from other settings).
    case defaults
    /// A YAML file: `--config`, or a run folder's config.yaml when resuming.
    case file(String)
    /// The command line.
    case flags
    /// A value set in code (a `TrainConfig` built by a library user).
    case code
}

/// One named setting and where its value came from, for messages.
public struct ConfigSetting: Equatable, Sendable {
    /// The snake_case key ("batch_size").
    public var key: String
    public var source: ConfigSource

    public init(_ key: String, from source: ConfigSource = .code) {
        self.key = key
        self.source = source
    }

    /// The flag that sets `key` ("batch_size" -> "--batch-size").
    public static func flag(_ key: String) -> String { "--" + key.replacingOccurrences(of: "_", with: "-") }

    /// "`--batch-size 1` is not allowed: expected ..." or "`run.yaml: batch_size: 1` is not allowed, expected ...".
    func refusal(value: String, expected: String) -> String {
        switch source {
        case let .file(path): return "\(path): \(key): \(value) is not allowed, expected \(expected)"
        case .defaults, .flags, .code: return "\(Self.flag(key)) \(value) is not allowed: expected \(expected)"
        }
    }
}

/// Where each key's value came from (keys no layer set: `fallback`).
public struct ConfigOrigins: Sendable, Equatable {
    public var sources: [String: ConfigSource] = [:]
    public var fallback: ConfigSource

    public init(_ sources: [String: ConfigSource] = [:], fallback: ConfigSource = .code) {
        self.sources = sources
        self.fallback = fallback
    }

    /// Values set in code (messages name the flags).
    public static let code = ConfigOrigins()

    /// `key` with its source.
    public func setting(_ key: String) -> ConfigSetting { ConfigSetting(key, from: sources[key] ?? fallback) }

    /// A refusal of `key`'s `value`.
    public func refusal(_ key: String, _ value: Any, _ expected: String) -> TrainConfigError {
        .invalid(setting: setting(key), value: "\(value)", expected: expected)
    }
}

/// A refused setting; the message names the flag or the file and key, the value and what is allowed.
public enum TrainConfigError: LocalizedError, Equatable {
    case invalid(setting: ConfigSetting, value: String, expected: String)
    case unknownKeys(file: String, keys: [String], known: [String])
    case unreadable(file: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .invalid(setting, value, expected):
            return setting.refusal(value: value, expected: expected)
        case let .unknownKeys(file, keys, known):
            return "\(file): unknown key\(keys.count == 1 ? "" : "s") \(keys.joined(separator: ", ")); "
                + "allowed keys: \(known.joined(separator: ", "))"
        case let .unreadable(file, reason):
            return "\(file): \(reason)"
        }
    }
}

/// Settings from one source.
public struct ConfigLayer: @unchecked Sendable {
    public var source: ConfigSource
    /// Values by snake_case key, as YAML or JSON give them (String, Int, Double, Bool, [Int], NSNull).
    public var values: [String: Any]

    public init(_ values: [String: Any], from source: ConfigSource) {
        self.values = values
        self.source = source
    }

    /// Parses a YAML mapping (a `--config` file or a run's config.yaml); refuses keys not in
    /// `known`, naming the file.
    public init(yaml text: String, file: String, known: [String]) throws {
        let object: Any?
        do {
            object = try Yams.load(yaml: text)
        } catch {
            throw TrainConfigError.unreadable(file: file, reason: "not valid YAML (\(error))")
        }
        let map: [String: Any]
        switch object {
        case nil: map = [:]
        case let m as [String: Any]: map = m
        default: throw TrainConfigError.unreadable(file: file, reason: "expected a mapping of keys to values, such as 'epochs: 20'")
        }
        let allowed = Set(known)
        let unknown = map.keys.filter { !allowed.contains($0) }.sorted()
        if !unknown.isEmpty { throw TrainConfigError.unknownKeys(file: file, keys: unknown, known: known) }
        self.init(map, from: .file(file))
    }

    /// Reads a YAML layer from a file.
    public init(contentsOf url: URL, known: [String]) throws {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw TrainConfigError.unreadable(file: url.path, reason: "cannot read the file (\(error.localizedDescription))")
        }
        try self.init(yaml: text, file: url.path, known: known)
    }
}

/// A value of `T` merged from layers over defaults, remembering which layer set each key.
public struct Layered<T: Codable> {
    public var value: T
    /// The source of each key's final value.
    public var origins: ConfigOrigins

    /// Merges `layers` (later wins) over `defaults` and decodes. A value of the wrong type or an
    /// unknown name throws `TrainConfigError.invalid` naming its flag or file and key, with
    /// `expected(key)` as the allowed values.
    public init(defaults: T, layers: [ConfigLayer], expected: (String) -> String) throws {
        let defaultValues = try SettingsDictionary.encode(defaults)
        var merged = defaultValues
        var origins = ConfigOrigins(fallback: .defaults)
        for layer in layers {
            for (k, v) in layer.values {
                merged[k] = v
                origins.sources[k] = layer.source
            }
        }
        func refusal(_ key: String) -> TrainConfigError {
            origins.refusal(key, SettingsDictionary.render(merged[key]), expected(key))
        }
        if let bad = merged.keys.sorted().first(where: { !JSONSerialization.isValidJSONObject([merged[$0]!]) }) {
            throw refusal(bad)
        }
        do {
            value = try SettingsDictionary.decode(T.self, from: merged)
        } catch let error as DecodingError {
            guard let key = error.settingKey ?? Self.firstUndecodable(merged, over: defaultValues) else { throw error }
            throw refusal(key)
        }
        self.origins = origins
    }

    /// The first key (sorted) whose merged value alone, over `defaults`, does not decode: for
    /// decoding errors that name no key (Foundation's JSONDecoder reports a fractional number
    /// for an integer field without its coding path).
    private static func firstUndecodable(_ merged: [String: Any], over defaults: [String: Any]) -> String? {
        merged.keys.sorted().first { key in
            var one = defaults
            one[key] = merged[key]
            return (try? SettingsDictionary.decode(T.self, from: one)) == nil
        }
    }
}

/// Conversions between settings values and their snake_case dictionaries.
enum SettingsDictionary {
    static func encode<T: Encodable>(_ value: T) throws -> [String: Any] {
        let data = try JSONEncoder().encode(value)
        guard let map = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            preconditionFailure("\(T.self) must encode as a keyed container")
        }
        return map
    }

    static func decode<T: Decodable>(_ type: T.Type, from map: [String: Any]) throws -> T {
        try JSONDecoder().decode(type, from: try JSONSerialization.data(withJSONObject: map))
    }

    /// A value as the user would have typed it: strings quoted, null as null, lists in brackets.
    static func render(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return "null"
        case let b as Bool where type(of: value!) == Bool.self: return b ? "true" : "false"
        case let s as String: return "'\(s)'"
        case let list as [Any]: return "[" + list.map { render($0) }.joined(separator: ", ") + "]"
        case let v?: return "\(v)"
        }
    }
}

extension DecodingError {
    /// The top-level key the error is about.
    var settingKey: String? {
        let path: [CodingKey]
        switch self {
        case let .typeMismatch(_, c), let .valueNotFound(_, c), let .dataCorrupted(c): path = c.codingPath
        case let .keyNotFound(key, c): path = c.codingPath + [key]
        @unknown default: return nil
        }
        return path.first?.stringValue
    }
}
