// Preview: a picture of what the augmentation pipeline does to a few images, to check a config
// by eye (`simclr preview`). One row per image: the image resized to the view size, then its
// views, separated by a small white gap.

public enum Preview {
    /// A grid of `images.count` rows and `1 + views` columns of size x size tiles with `gap`-pixel
    /// white borders: width gap + (1 + views) (size + gap), height gap + rows (size + gap).
    ///
    /// Column 0 is the whole image resized to size x size (aspect not kept); columns 1 ... views are
    /// its first `views` views of epoch 0 under `seed`, the ones the loader would produce
    /// (RandomState(seed, 0, index)), before normalisation. Throws the dataset's read error.
    public static func grid(dataset: any ImageDataset, images: [Int], views: Int, pipeline: AugmentationPipeline,
                            seed: UInt64, gap: Int = 2) throws -> RGBImage {
        precondition(views >= 0 && gap >= 0, "Preview.grid: views \(views), gap \(gap)")
        let s = pipeline.config.size
        let columns = 1 + views
        let width = gap + columns * (s + gap), height = gap + images.count * (s + gap)
        var grid = RGBImage(width: width, height: height,
                            pixels: [UInt8](repeating: 255, count: width * height * 3))
        let renderer = ViewRenderer(pipeline: pipeline)
        for (row, index) in images.enumerated() {
            guard (0..<dataset.count).contains(index) else {
                throw DataLoaderError.invalidOption(name: "images", value: "\(index)",
                                                    expected: "indices in 0 ..< \(dataset.count) of \(dataset.name)")
            }
            let image = try dataset.image(at: index)
            guard image.width >= 1, image.height >= 1 else {
                throw AugmentationError.emptyImage(index: index, width: image.width, height: image.height)
            }
            var tiles = [renderer.renderResized(image)]
            var rng = AugmentationPipeline.randomState(seed: seed, epoch: 0, index: index)
            for _ in 0..<views {
                let p = pipeline.sampleView(width: image.width, height: image.height, rng: &rng)
                tiles.append(renderer.render(image, p))
            }
            for (column, tile) in tiles.enumerated() {
                paste(tile, into: &grid, x: gap + column * (s + gap), y: gap + row * (s + gap))
            }
        }
        return grid
    }

    /// The grid of the first `images` images of the dataset.
    public static func grid(dataset: any ImageDataset, images: Int, views: Int, pipeline: AugmentationPipeline,
                            seed: UInt64, gap: Int = 2) throws -> RGBImage {
        try grid(dataset: dataset, images: Array(0..<min(images, dataset.count)), views: views, pipeline: pipeline,
                 seed: seed, gap: gap)
    }

    /// Copies `tile` into `grid` with its top-left corner at (x, y).
    static func paste(_ tile: RGBImage, into grid: inout RGBImage, x: Int, y: Int) {
        let rowBytes = tile.width * 3
        let gridWidth = grid.width
        tile.pixels.withUnsafeBufferPointer { src in
            grid.pixels.withUnsafeMutableBufferPointer { dst in
                for r in 0..<tile.height {
                    (dst.baseAddress! + ((y + r) * gridWidth + x) * 3)
                        .update(from: src.baseAddress! + r * rowBytes, count: rowBytes)
                }
            }
        }
    }
}
