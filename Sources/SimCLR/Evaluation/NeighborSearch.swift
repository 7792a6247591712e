// The nearest training images of a few query images, in h (encoder output, BN in eval mode, no
// augmentation): what `simclr neighbors` and the end of `simclr train` draw. Queries are spread
// over the classes (see `queryIndices(count:of:)`); for unlabeled data, index i * n / Q.
import Foundation

/// A few query images of one dataset and, for each, its most similar images of a bank in h.
public struct NeighborSearch: Sendable {
    /// The queries' indices in their dataset.
    public var queryIndices: [Int]
    /// Per query, its neighbours' bank indices and cosine similarities, best first.
    public var neighbors: [[Neighbor]]

    public init(queryIndices: [Int], neighbors: [[Neighbor]]) {
        self.queryIndices = queryIndices
        self.neighbors = neighbors
    }

    /// `count` indices spread evenly over `0 ..< n`: i * n / count (all of them when count >= n).
    public static func queryIndices(count: Int, of n: Int) -> [Int] {
        let q = min(max(count, 0), n)
        return (0..<q).map { $0 * n / q }
    }

    /// `count` labelled images of `dataset` spread over its C classes: the classes i * C / m of the
    /// sorted labels (i < m = min(count, C)) take turns, each giving its next image in dataset
    /// order, until `count` images (fewer if those classes run out). Unlabeled datasets: the
    /// evenly spaced indices.
    public static func queryIndices(count: Int, of dataset: any ImageDataset) -> [Int] {
        var byClass: [Int: [Int]] = [:]
        for i in 0..<dataset.count { if let y = dataset.label(at: i) { byClass[y, default: []].append(i) } }
        guard !byClass.isEmpty else { return queryIndices(count: count, of: dataset.count) }
        let classes = byClass.keys.sorted()
        let wanted = min(max(count, 0), dataset.count)
        let spread = (0..<min(wanted, classes.count)).map { classes[$0 * classes.count / min(wanted, classes.count)] }
        var taken: [Int: Int] = [:]
        var out: [Int] = []
        while out.count < wanted {
            for c in spread where out.count < wanted {
                let members = byClass[c]!, next = taken[c, default: 0]
                if next < members.count { out.append(members[next]); taken[c] = next + 1 }
            }
            if spread.allSatisfy({ taken[$0, default: 0] >= byClass[$0]!.count }) { break }
        }
        return out
    }

    /// h of the chosen queries (and of the bank, unless `bankFeatures` holds it), then the `k` most
    /// similar bank images of each query by cosine similarity.
    ///
    /// - Parameters:
    ///   - queriesAreBank: the queries are bank images (same dataset): each query's own image is left out.
    ///   - augmentation: the view size and normalisation of the evaluation views.
    ///   - progress: (images done, total) while the bank's features are extracted.
    public init(
        encoder: ResNet, bank: any ImageDataset, bankFeatures: ExtractedFeatures? = nil, queries: any ImageDataset,
        queryCount: Int, k: Int, queriesAreBank: Bool = false, augmentation: AugmentationConfig, batchSize: Int = 256,
        loaderThreads: Int = 1, progress: ((Int, Int) -> Void)? = nil
    ) throws {
        let indices = Self.queryIndices(count: queryCount, of: queries)
        let bankH = try bankFeatures ?? FeatureExtraction.extract(encoder: encoder, dataset: bank, augmentation: augmentation,
                                                                  batchSize: batchSize, loaderThreads: loaderThreads, progress: progress)
        precondition(bankH.labels.count == bank.count, "NeighborSearch: bank features of \(bankH.labels.count) images for \(bank.count)")
        let chosen = DatasetSubset(queries, indices: indices, name: queries.name)
        let queryH = try FeatureExtraction.extract(encoder: encoder, dataset: chosen, augmentation: augmentation,
                                                   batchSize: batchSize, loaderThreads: loaderThreads)
        self.init(queryIndices: indices,
                  neighbors: NearestNeighbors.search(bank: bankH.features, queries: queryH.features, k: k,
                                                     excluding: queriesAreBank ? indices : []))
    }
}
