// The split of a dataset a reader opens, parsed once from its text form ("train", "val",
// "train+unlabeled", "batches:1,2") and written back the same way in configs and logs.
import Foundation

/// Which part of a dataset to read. Not every dataset has every split (`DatasetSpec.make`
/// refuses the others, listing the allowed ones).
public enum DatasetSplit: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The training images (CIFAR-10: data_batch_1..5 minus the validation batches).
    case train
    /// The held-out validation images (CIFAR-10: the `--val-batches`; synthetic: its own seed).
    case validation
    /// The official test images.
    case test
    /// STL-10's 100,000 unlabeled images.
    case unlabeled
    /// STL-10's train and unlabeled images together (105,000).
    case trainAndUnlabeled
    /// CIFAR-10: exactly these training batches (numbers in 1...5).
    case batches([Int])

    /// Parses "train", "val" (or "validation"), "test", "unlabeled", "train+unlabeled" or
    /// "batches:N[,N...]" (case-insensitive).
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch t {
        case "train": self = .train
        case "val", "validation": self = .validation
        case "test": self = .test
        case "unlabeled": self = .unlabeled
        case "train+unlabeled": self = .trainAndUnlabeled
        case let s where s.hasPrefix("batches:"):
            let list = s.dropFirst("batches:".count).split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !list.isEmpty, list.allSatisfy({ $0.map { (1...5).contains($0) } ?? false }) else {
                throw DatasetError.invalidOption(name: "split", value: text, expected: "batches:N[,N...] with N in 1...5")
            }
            self = .batches(list.map { $0! })
        default:
            throw DatasetError.invalidOption(name: "split", value: text, expected: Self.grammar)
        }
    }

    /// The accepted spellings, for messages.
    public static let grammar = "train, val, test, unlabeled, train+unlabeled or batches:N[,N...]"

    /// The text form `init(parsing:)` reads back.
    public var description: String {
        switch self {
        case .train: return "train"
        case .validation: return "val"
        case .test: return "test"
        case .unlabeled: return "unlabeled"
        case .trainAndUnlabeled: return "train+unlabeled"
        case let .batches(list): return "batches:" + list.map(String.init).joined(separator: ",")
        }
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try DatasetSplit(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error.localizedDescription)"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
