// Reading and writing TrainConfig as layers of snake_case settings (flags, YAML files, the JSON
// a checkpoint carries), and the YAML of a run folder's config.yaml (written with Yams' encoder).
import Foundation
import Yams

extension TrainConfig {
    /// Every key a config file may hold, sorted.
    public static let keys: [String] = (try? SettingsDictionary.encode(TrainConfig()).keys.sorted()) ?? []

    /// The dataset the layers name (the last layer that sets `dataset` wins; default synthetic).
    static func datasetName(in layers: [ConfigLayer]) throws -> DatasetSpec.Name {
        guard let layer = layers.last(where: { $0.values["dataset"] != nil }) else { return .synthetic }
        let value = layer.values["dataset"]!
        guard let text = value as? String, let name = DatasetSpec.Name(parsing: text) else {
            throw TrainConfigError.invalid(setting: ConfigSetting("dataset", from: layer.source),
                                           value: SettingsDictionary.render(value), expected: DatasetSpec.Name.choicesText)
        }
        return name
    }

    /// Merges `layers` (later wins) over the defaults of the dataset they name and decodes, without
    /// range checks. Defaults that depend on other settings are derived from them: the warmup of a
    /// recipe is at most the run's epochs unless a layer sets `warmup_epochs`.
    public static func layered(_ layers: [ConfigLayer]) throws -> Layered<TrainConfig> {
        let name = try datasetName(in: layers)
        var layered = try Layered(defaults: defaults(for: name), layers: layers, expected: expectation)
        if layered.origins.sources["warmup_epochs"] == nil {
            layered.value.optimization.warmupEpochs = min(DatasetRecipe.of(name).warmupEpochs, Double(layered.value.optimization.epochs))
        }
        return layered
    }

    /// `layered(_:)` then `validate`, naming the flag or the file and key of a bad value.
    public static func resolve(_ layers: [ConfigLayer]) throws -> TrainConfig {
        let l = try layered(layers)
        try l.value.validate(l.origins)
        return l.value
    }

    /// What `key` accepts, for messages ("an integer", "resnet18, resnet34 or resnet50").
    public static func expectation(_ key: String) -> String {
        for section in Mirror(reflecting: TrainConfig()).children {
            for field in Mirror(reflecting: section.value).children where field.label.map(snakeCase) == key {
                return describe(field.value)
            }
        }
        return "see --help"
    }

    static func describe(_ value: Any) -> String {
        switch value {
        case let choice as any ConfigChoice: return type(of: choice).choicesText
        case is DatasetSplit: return DatasetSplit.grammar
        case is Bool: return "true or false"
        case is Double: return "a number"
        case is Int, is UInt64: return "an integer"
        case is String: return "a string"
        case is [Int]: return "a list of integers"
        default: return "see --help"
        }
    }

    static func snakeCase(_ name: String) -> String {
        name.reduce(into: "") { out, c in
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
    }

    // MARK: Writing

    /// The configuration as a dictionary of snake_case keys (the layer format).
    public func dictionary() -> [String: Any] {
        // Encoding plain values and enums to JSON cannot fail.
        try! SettingsDictionary.encode(self)
    }

    /// The configuration as compact JSON (a checkpoint's `config` metadata).
    public func json() -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try! e.encode(self), as: UTF8.self)
    }

    /// The configuration as YAML (sorted keys), readable by `ConfigLayer(yaml:file:known:)`.
    public func yaml() throws -> String {
        let encoder = YAMLEncoder()
        encoder.options.sortKeys = true
        return "# swift-simclr training configuration (simclr train --config accepts this file)\n" + (try encoder.encode(self))
    }
}
