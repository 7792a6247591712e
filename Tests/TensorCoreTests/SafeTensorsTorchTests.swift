// Interoperability: a file written by the `safetensors` Python package from the state_dict of
// torchvision's CIFAR-stem resnet18 (Tests/Fixtures/torch_written.safetensors, made by
// tools/make_safetensors_fixture.py, with its values in torch_written.json) must read back exactly.
import Foundation
import TestSupport
import XCTest

@testable import TensorCore

final class SafeTensorsTorchTests: XCTestCase {
    let url = Fixtures.directory.appendingPathComponent("torch_written.safetensors")

    func testEveryTensorMatchesPyTorchValuesExactly() throws {
        let file = try SafeTensorsFile(contentsOf: url)
        let expected = try Fixtures.tensors("torch_written")
        let meta = try XCTUnwrap(try Fixtures.json("torch_written")["meta"] as? [String: Any])
        XCTAssertEqual(file.metadata, meta["metadata"] as? [String: String])
        XCTAssertEqual(Set(file.names), Set(expected.keys))
        XCTAssertEqual(expected.count, 19)

        let torchNames = ["float32": "F32", "float64": "F64", "float16": "F16", "bfloat16": "BF16", "int64": "I64", "int32": "I32"]
        let dtypes = try XCTUnwrap(meta["dtypes"] as? [String: String])
        for (name, want) in expected {
            let e = try file.entry(name)
            XCTAssertEqual(e.dtype.rawValue, torchNames[dtypes[name] ?? ""], name)
            // Exact (rtol = atol = 0): each value is the Float32 rounding PyTorch itself computes
            // (`t.to(torch.float32)`), so any conversion error would show.
            assertClose(try file.tensor(named: name), want, rtol: 0, atol: 0, name)
        }
        // Signed zero survives F16 and F64.
        XCTAssertEqual(try file.tensor(named: "dtypes.f16")[1].sign, .minus)
        XCTAssertEqual(try file.tensor(named: "dtypes.f64")[4].sign, .minus)
        // Integers are exact through `integers(named:)`, beyond Float's 2^24.
        let integers = try XCTUnwrap(meta["integers"] as? [String: [Int]])
        for (name, values) in integers {
            XCTAssertEqual(try file.integers(named: name), values.map(Int64.init), name)
        }
        XCTAssertEqual(try file.integers(named: "dtypes.i64")[2], (1 << 40) + 3)
    }

    /// Parameters and buffers named and shaped as torchvision's resnet18 state_dict (the kept subset).
    func torchvisionSubset() -> (parameters: [Parameter], buffers: [Buffer]) {
        func bn(_ prefix: String, _ c: Int) -> ([Parameter], [Buffer]) {
            (
                [
                    Parameter(name: prefix + ".weight", role: .normScale, value: Tensor(shape: [c])),
                    Parameter(name: prefix + ".bias", role: .normShift, value: Tensor(shape: [c])),
                ],
                [
                    Buffer(name: prefix + ".running_mean", value: Tensor(shape: [c])),
                    Buffer(name: prefix + ".running_var", value: Tensor(shape: [c])),
                    Buffer(name: prefix + ".num_batches_tracked", value: Tensor(shape: []), isInteger: true),
                ]
            )
        }
        let (p1, b1) = bn("bn1", 64)
        let (p2, b2) = bn("layer2.0.downsample.1", 128)
        let conv = Parameter(name: "conv1.weight", role: .weight, value: Tensor(shape: [64, 3, 3, 3]))
        let head = [
            Parameter(name: "head.0.weight", role: .weight, value: Tensor(shape: [3, 4])),
            Parameter(name: "head.0.bias", role: .bias, value: Tensor(shape: [3])),
        ]
        return ([conv] + p1 + p2 + head, b1 + b2)
    }

    func testStrictLoadOfTorchStateDictIntoNamedModel() throws {
        let expected = try Fixtures.tensors("torch_written")
        let model = torchvisionSubset()
        // The file also holds `dtypes.*` test tensors, which the model does not have.
        assertThrowsMessage(
            try SafeTensors.load(into: model.parameters, buffers: model.buffers, from: url),
            containing: ["unexpected", "'dtypes.bf16'", "'dtypes.i64'"])
        try SafeTensors.load(into: model.parameters, buffers: model.buffers, from: url, excluding: ["dtypes."])
        for p in model.parameters { assertClose(p.value, expected[p.name]!, rtol: 0, atol: 0, p.name) }
        for b in model.buffers { assertClose(b.value, expected[b.name]!, rtol: 0, atol: 0, b.name) }
        XCTAssertEqual(model.buffers.first { $0.name == "bn1.num_batches_tracked" }?.value[0], 391)
        XCTAssertEqual(model.buffers.first { $0.name == "layer2.0.downsample.1.num_batches_tracked" }?.value[0], 782)
    }

    func testSwiftRewriteOfTorchFileReadsTheSame() throws {
        // Load the torch file into a model, save it here, read it back: same names, dtypes, values.
        let model = torchvisionSubset()
        try SafeTensors.load(into: model.parameters, buffers: model.buffers, from: url, excluding: ["dtypes."])
        let dir = try makeTemporaryDirectory("safetensors-torch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("rewritten.safetensors")
        try SafeTensors.save(parameters: model.parameters, buffers: model.buffers, metadata: ["format": "pt"], to: out)
        let original = try SafeTensorsFile(contentsOf: url)
        let rewritten = try SafeTensorsFile(contentsOf: out)
        XCTAssertEqual(rewritten.names, original.names.filter { !$0.hasPrefix("dtypes.") })
        for name in rewritten.names {
            XCTAssertEqual(try rewritten.entry(name).dtype, try original.entry(name).dtype, name)
            XCTAssertEqual(try rewritten.entry(name).shape, try original.entry(name).shape, name)
            XCTAssertEqual(try rewritten.tensor(named: name).array, try original.tensor(named: name).array, name)
        }
    }
}
