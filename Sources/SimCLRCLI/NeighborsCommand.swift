// `simclr neighbors`: a PNG of a few query images and their nearest training images in h.
import ArgumentParser
import Foundation
import SimCLR

struct NeighborsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbors",
        abstract: "Write a PNG: one row per query image, then its k nearest training images in h (cosine).",
        discussion: """
            Queries come from --split (default: the evaluation split, else train), spread over its classes; \
            neighbours come from the labelled training split (a query from that split is not its own \
            neighbour). A neighbour is framed green when its label is the query's, red when it is another, \
            and not framed when unlabeled; its cosine similarity is written under it. Features: h, BN in eval \
            mode, no augmentation.
            """)

    @OptionGroup var encoder: EncoderOptions
    @OptionGroup var data: DatasetOptions
    @Option(help: "Split of the query images (default: the evaluation split, else train).") var split: DatasetSplit?
    @Option(help: "Query images (rows).") var queries: Int = 8
    @Option(help: "Neighbours per query (columns).") var k: Int = 8
    @Option(help: "Tile side in pixels (default: the image size, within 64...128).") var tile: Int?
    @Option(help: "Output PNG.") var out: String = "neighbors.png"

    func validate() throws {
        guard queries >= 1 else { throw ValidationError("--queries \(queries) is not allowed: expected >= 1") }
        guard k >= 1 else { throw ValidationError("--k \(k) is not allowed: expected >= 1") }
        if let tile, !(8...512).contains(tile) { throw ValidationError("--tile \(tile) is not allowed: expected 8...512 pixels") }
        let settings = try data.settings()
        if let split, !settings.dataset.has(split) {
            throw ValidationError("--split \(split) is not allowed: expected a split of \(settings.dataset.rawValue): "
                                  + settings.dataset.splitNames.joined(separator: ", "))
        }
    }

    func run() throws {
        let loaded = try LoadedEncoder(encoder, data: data)
        let bankSplit = loaded.data.labelledTrainingSplit
        let querySplit = split ?? loaded.data.evaluationSplit ?? bankSplit
        let bank = try loaded.data.open(bankSplit)
        let queryImages = querySplit == bankSplit ? bank : try loaded.data.open(querySplit)
        let bar = ProgressBar(label: "features \(bank.name)", total: bank.count, unit: "img")
        let search = try NeighborSearch(
            encoder: loaded.encoder, bank: bank, queries: queryImages, queryCount: queries, k: k,
            queriesAreBank: querySplit == bankSplit, augmentation: loaded.data.augmentation(),
            batchSize: encoder.evalBatch, loaderThreads: encoder.loaderThreads) { done, _ in bar.update(done) }
        bar.finish()
        let side = tile ?? NeighborPicture.defaultTile(imageSize: loaded.data.imageSize)
        let picture = try NeighborPicture.render(search, queries: queryImages, bank: bank, tile: side)
        let url = URL(fileURLWithPath: out)
        try PNGCodec.write(picture, to: url)
        let framed = search.queryIndices.enumerated().flatMap { row, q in
            search.neighbors[row].map { NeighborPicture.frameColor(query: queryImages.label(at: q), neighbor: bank.label(at: $0.index)) }
        }.compactMap { $0 }
        let same = framed.filter { $0 == NeighborPicture.sameLabel }.count
        print("wrote \(url.path) (\(picture.width)x\(picture.height)): \(search.queryIndices.count) queries of \(queryImages.name), "
              + "\(k) nearest of \(bank.count) images of \(bank.name) each, \(loaded.source)"
              + (framed.isEmpty ? "" : "; \(same) of \(framed.count) neighbours share the query's label"))
    }
}
