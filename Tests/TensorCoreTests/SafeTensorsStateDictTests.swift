// The strict state-dict saver / loader over [Parameter] and [Buffer]: file round trip, each
// refusal (missing, extra, wrong shape, wrong dtype) naming the tensor and expected vs found,
// all-or-nothing loading, and the prefix / exclusion filters used by `export` and `eval`.
import Foundation
import TestSupport
import XCTest

@testable import TensorCore

/// A tiny model state with torchvision naming: a conv, a BatchNorm (with I64 counter) and a head.
struct SafeTensorsTinyState {
    var conv: Parameter
    var gamma: Parameter
    var beta: Parameter
    var mean: Buffer
    var variance: Buffer
    var count: Buffer
    var headWeight: Parameter
    var headBias: Parameter

    init(seed: UInt64) {
        var rng = TestRNG(seed: seed)
        conv = Parameter(name: "conv1.weight", role: .weight, value: rng.tensor([4, 3, 3, 3]))
        gamma = Parameter(name: "bn1.weight", role: .normScale, value: rng.tensor([4], 0.5, 1.5))
        beta = Parameter(name: "bn1.bias", role: .normShift, value: rng.tensor([4]))
        mean = Buffer(name: "bn1.running_mean", value: rng.tensor([4]))
        variance = Buffer(name: "bn1.running_var", value: rng.tensor([4], 0.1, 2))
        count = Buffer(name: "bn1.num_batches_tracked", value: Tensor(shape: [], values: [Float(seed % 1000)]), isInteger: true)
        headWeight = Parameter(name: "head.0.weight", role: .weight, value: rng.tensor([2, 4]))
        headBias = Parameter(name: "head.0.bias", role: .bias, value: rng.tensor([2]))
    }

    var encoderParameters: [Parameter] { [conv, gamma, beta] }
    var headParameters: [Parameter] { [headWeight, headBias] }
    var parameters: [Parameter] { encoderParameters + headParameters }
    var buffers: [Buffer] { [mean, variance, count] }
    var all: [Tensor] { parameters.map(\.value) + buffers.map(\.value) }
}

final class SafeTensorsStateDictTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("safetensors-test") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// Saves `SafeTensorsTinyState(seed: 1)` (with `extra`) and returns the file.
    func savedFile(extra: [String: Tensor] = [:]) throws -> URL {
        let url = directory.appendingPathComponent("model.safetensors")
        let s = SafeTensorsTinyState(seed: 1)
        try SafeTensors.save(parameters: s.parameters, buffers: s.buffers, extra: extra, metadata: ["epoch": "3"], to: url)
        return url
    }

    func assertUnchanged(_ s: SafeTensorsTinyState, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        for (a, b) in zip(s.all, SafeTensorsTinyState(seed: seed).all) {
            XCTAssertEqual(a.array, b.array, "a failed load must not modify the model", file: file, line: line)
        }
    }

    func testSaveLoadRoundTripIsBitExact() throws {
        var rng = TestRNG(seed: 99)
        let momentum = rng.tensor([4, 3, 3, 3])
        let url = try savedFile(extra: ["optim.momentum.conv1.weight": momentum])
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file.metadata, ["epoch": "3"])
        XCTAssertEqual(try file.entry("bn1.num_batches_tracked").dtype, .i64)
        XCTAssertEqual(try file.entry("bn1.num_batches_tracked").shape, [])
        XCTAssertEqual(try file.entry("bn1.running_var").dtype, .f32)

        let loaded = SafeTensorsTinyState(seed: 2)
        let momentumOut = Tensor(shape: [4, 3, 3, 3])
        try SafeTensors.load(
            into: loaded.parameters, buffers: loaded.buffers, extra: ["optim.momentum.conv1.weight": momentumOut], from: url)
        for (a, b) in zip(loaded.all, SafeTensorsTinyState(seed: 1).all) { XCTAssertEqual(a.array, b.array) }
        XCTAssertEqual(loaded.count.value[0], 1)
        XCTAssertEqual(momentumOut.array, momentum.array)
        // Parameters are filled in place: the same Tensor objects, new values.
        XCTAssertTrue(loaded.conv.value === loaded.parameters[0].value)
    }

    func testRefusesMissingTensorNamingItAndExpectedShape() throws {
        let url = try savedFile()
        let s = SafeTensorsTinyState(seed: 2)
        let extraBuffer = Buffer(name: "layer1.0.bn1.running_mean", value: Tensor(shape: [64]))
        assertThrowsMessage(
            try SafeTensors.load(into: s.parameters, buffers: s.buffers + [extraBuffer], from: url),
            containing: [url.path, "missing tensor", "'layer1.0.bn1.running_mean'", "F32 [64]"])
        assertUnchanged(s, seed: 2)
        // strict: false tolerates extra file tensors, never missing ones.
        assertThrowsMessage(
            try SafeTensors.load(into: s.parameters, buffers: s.buffers + [extraBuffer], from: url, strict: false),
            containing: ["'layer1.0.bn1.running_mean'"])
    }

    func testRefusesExtraTensorWhenStrict() throws {
        let url = try savedFile()
        let s = SafeTensorsTinyState(seed: 2)
        // The model without its head: the file's head tensors are unexpected.
        assertThrowsMessage(
            try SafeTensors.load(into: s.encoderParameters, buffers: s.buffers, from: url),
            containing: [url.path, "unexpected", "'head.0.bias'", "'head.0.weight'"])
        assertUnchanged(s, seed: 2)
        // Not strict: the encoder loads and the head stays as it was.
        try SafeTensors.load(into: s.encoderParameters, buffers: s.buffers, from: url, strict: false)
        XCTAssertEqual(s.conv.value.array, SafeTensorsTinyState(seed: 1).conv.value.array)
        XCTAssertEqual(s.headWeight.value.array, SafeTensorsTinyState(seed: 2).headWeight.value.array)
    }

    func testRefusesWrongShapeNamingExpectedAndFound() throws {
        let url = try savedFile()
        let s = SafeTensorsTinyState(seed: 2)
        let wide = Parameter(name: "conv1.weight", role: .weight, value: Tensor(shape: [4, 3, 7, 7]))
        assertThrowsMessage(
            try SafeTensors.load(into: [wide, s.gamma, s.beta] + s.headParameters, buffers: s.buffers, from: url),
            containing: [url.path, "'conv1.weight'", "[4, 3, 3, 3]", "expected [4, 3, 7, 7]"])
        XCTAssertEqual(wide.value.array, Array(repeating: 0, count: 4 * 3 * 7 * 7))
        assertUnchanged(s, seed: 2)
        // A scalar and a one-element vector are different shapes (as in PyTorch).
        let vectorCount = Buffer(name: "bn1.num_batches_tracked", value: Tensor(shape: [1]), isInteger: true)
        assertThrowsMessage(
            try SafeTensors.load(into: s.parameters, buffers: [s.mean, s.variance, vectorCount], from: url),
            containing: ["'bn1.num_batches_tracked'", "shape []", "expected [1]"])
    }

    func testRefusesWrongDtypeNamingExpectedAndFound() throws {
        let url = try savedFile()
        let s = SafeTensorsTinyState(seed: 2)
        // The model expects a float buffer where the file has I64 ...
        let floatCount = Buffer(name: "bn1.num_batches_tracked", value: Tensor(shape: []))
        assertThrowsMessage(
            try SafeTensors.load(into: s.parameters, buffers: [s.mean, s.variance, floatCount], from: url),
            containing: [url.path, "'bn1.num_batches_tracked'", "dtype I64", "expected F32"])
        // ... and an integer buffer where the file has F32.
        let intMean = Buffer(name: "bn1.running_mean", value: Tensor(shape: [4]), isInteger: true)
        assertThrowsMessage(
            try SafeTensors.load(into: s.parameters, buffers: [intMean, s.variance, s.count], from: url),
            containing: ["'bn1.running_mean'", "dtype F32", "expected I64"])
        assertUnchanged(s, seed: 2)
    }

    func testEvaluationLoadsEncoderExcludingHead() throws {
        let url = try savedFile()
        let s = SafeTensorsTinyState(seed: 2)
        try SafeTensors.load(into: s.encoderParameters, buffers: s.buffers, from: url, excluding: ["head."])
        XCTAssertEqual(s.conv.value.array, SafeTensorsTinyState(seed: 1).conv.value.array)
        XCTAssertEqual(s.count.value[0], 1)
        XCTAssertEqual(s.headBias.value.array, SafeTensorsTinyState(seed: 2).headBias.value.array)
    }

    func testPrefixLoadsOnlyTheHeadUnderEitherNaming() throws {
        let url = try savedFile()
        let saved = SafeTensorsTinyState(seed: 1)
        // Head parameters named with the prefix ...
        let s = SafeTensorsTinyState(seed: 2)
        try SafeTensors.load(into: s.headParameters, buffers: [], from: url, prefix: "head.")
        XCTAssertEqual(s.headWeight.value.array, saved.headWeight.value.array)
        XCTAssertEqual(s.headBias.value.array, saved.headBias.value.array)
        XCTAssertEqual(s.conv.value.array, SafeTensorsTinyState(seed: 2).conv.value.array)
        // ... or named relative to the head module.
        let w = Parameter(name: "0.weight", role: .weight, value: Tensor(shape: [2, 4]))
        let b = Parameter(name: "0.bias", role: .bias, value: Tensor(shape: [2]))
        try SafeTensors.load(into: [w, b], buffers: [], from: url, prefix: "head.")
        XCTAssertEqual(w.value.array, saved.headWeight.value.array)
        // Strict within the prefix: a head missing its bias leaves 'head.0.bias' unexpected.
        assertThrowsMessage(
            try SafeTensors.load(into: [w], buffers: [], from: url, prefix: "head."),
            containing: ["unexpected", "'head.0.bias'"])
    }

    func testSaveRefusesNonIntegerCounterAndDuplicateNamesAndLeavesOldFile() throws {
        let url = try savedFile()
        let before = try Data(contentsOf: url)
        let s = SafeTensorsTinyState(seed: 2)
        s.count.value[0] = 0.5
        assertThrowsMessage(
            try SafeTensors.save(parameters: s.parameters, buffers: s.buffers, metadata: [:], to: url),
            containing: [url.path, "'bn1.num_batches_tracked'", "0.5"])
        let twin = Parameter(name: "conv1.weight", role: .weight, value: Tensor(shape: [1]))
        assertThrowsMessage(
            try SafeTensors.save(parameters: s.parameters + [twin], buffers: [], metadata: [:], to: url),
            containing: [url.path, "'conv1.weight'"])
        XCTAssertEqual(try Data(contentsOf: url), before)
    }

    func testLoadRefusesModelWithDuplicateNames() throws {
        let url = try savedFile()
        let s = SafeTensorsTinyState(seed: 2)
        let twin = Parameter(name: "bn1.bias", role: .normShift, value: Tensor(shape: [4]))
        assertThrowsMessage(
            try SafeTensors.load(into: s.parameters + [twin], buffers: s.buffers, from: url),
            containing: [url.path, "'bn1.bias'", "unique"])
        assertUnchanged(s, seed: 2)
    }

    func testLoadFromMissingOrForeignFileThrowsNamingIt() throws {
        let s = SafeTensorsTinyState(seed: 2)
        let absent = directory.appendingPathComponent("absent.safetensors")
        assertThrowsMessage(try SafeTensors.load(into: s.parameters, buffers: s.buffers, from: absent), containing: [absent.path])
        let text = directory.appendingPathComponent("notes.txt")
        try Data("hello, this is not a weights file".utf8).write(to: text)
        assertThrowsMessage(try SafeTensors.load(into: s.parameters, buffers: s.buffers, from: text), containing: [text.path])
    }
}
