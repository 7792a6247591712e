// A view of some images of another dataset, in a given order: the train and held-out parts of
// an image folder split by `--val-fraction`, or any subset a caller picks. Nothing is copied:
// reads go to the base dataset.
import Foundation

/// The images of `base` at `indices`, renumbered 0 ..< indices.count.
public struct DatasetSubset: ImageDataset {
    public let base: any ImageDataset
    /// Index in `base` of each image of the subset.
    public let indices: [Int]
    public let name: String
    public var count: Int { indices.count }
    public var classNames: [String] { base.classNames }

    /// - Precondition: every index is in 0 ..< base.count.
    public init(_ base: any ImageDataset, indices: [Int], name: String) {
        precondition(indices.allSatisfy { (0..<base.count).contains($0) }, "DatasetSubset: an index outside 0..<\(base.count)")
        self.base = base
        self.indices = indices
        self.name = name
    }

    public func image(at index: Int) throws -> RGBImage { try base.image(at: indices[index]) }
    public func label(at index: Int) -> Int? { base.label(at: indices[index]) }
}
