// The typed settings flags parse into directly (their names are the enums' raw values).
import ArgumentParser
import SimCLR

extension DatasetSplit: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public static var defaultCompletionKind: CompletionKind { .list(["train", "val", "test", "unlabeled", "train+unlabeled"]) }
}

extension Architecture: ExpressibleByArgument {}
extension ResNetConfig.Stem: ExpressibleByArgument {}
extension ConvolutionAlgorithm: ExpressibleByArgument {}
