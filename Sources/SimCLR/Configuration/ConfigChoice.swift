// Settings whose value is one name out of a fixed list (--arch, --stem, --optimizer, ...): the
// configuration stores the enum, parses text once at the edge (flags, YAML) and lists the
// allowed names in every refusal.
import Foundation

/// A configuration value that is one of a fixed set of names.
public protocol ConfigChoice: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {}

extension ConfigChoice {
    /// The allowed names for messages: "a, b or c".
    public static var choicesText: String {
        let names = allCases.map(\.rawValue)
        guard names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    /// Parses `text` (case-insensitive) or returns nil.
    public init?(parsing text: String) {
        self.init(rawValue: text.lowercased())
    }
}

/// The encoder's ResNet depth, by torchvision's model name.
public enum Architecture: String, ConfigChoice {
    case resnet18, resnet34, resnet50

    /// The NN-level depth.
    public var depth: ResNetConfig.Depth {
        switch self {
        case .resnet18: return .resnet18
        case .resnet34: return .resnet34
        case .resnet50: return .resnet50
        }
    }

    public init(_ depth: ResNetConfig.Depth) {
        switch depth {
        case .resnet18: self = .resnet18
        case .resnet34: self = .resnet34
        case .resnet50: self = .resnet50
        }
    }
}

extension DatasetSpec.Name: ConfigChoice {}
extension ResNetConfig.Stem: ConfigChoice {}
extension OptimizerKind: ConfigChoice {}
extension LearningRateSchedule.Scaling: ConfigChoice {}
extension ConvolutionAlgorithm: ConfigChoice {}
extension ImageFolderDataset.BadImagePolicy: ConfigChoice {}
extension CIFARDataset.LabelKind: ConfigChoice {}
