// Optimizer tests: 3-step updates against PyTorch (SGD, Adam, AdamW) and the official SimCLR LARS
// formula (tools/make_optim_fixtures.py), a hand-computed LARS step, checkpoint state round trips
// and the refused settings / states.
import Foundation
import Optim
import TensorCore
import TestSupport
import XCTest

final class OptimizerTests: XCTestCase {
    private struct Reference {
        let tensors: [String: Tensor]
        let params: [(name: String, role: ParameterRole)]
        let lrs: [Float]
        let cases: [String: [String: Any]]

        init() throws {
            tensors = try Fixtures.tensors("optim_updates")
            let meta = try XCTUnwrap(try Fixtures.json("optim_updates")["meta"] as? [String: Any])
            let list = try XCTUnwrap(meta["params"] as? [[String: String]])
            params = try list.map { (try XCTUnwrap($0["name"]), try XCTUnwrap(ParameterRole(rawValue: $0["role"] ?? ""))) }
            lrs = try XCTUnwrap(meta["lrs"] as? [Double]).map(Float.init)
            cases = try XCTUnwrap(meta["cases"] as? [String: [String: Any]])
        }

        func initialParameters() -> [Parameter] {
            params.map { Parameter(name: $0.name, role: $0.role, value: tensors["init." + $0.name]!.copy()) }
        }

        func setGradients(_ parameters: [Parameter], step: Int) {
            for p in parameters { p.grad.assign(tensors["grad.\(step).\(p.name)"]!) }
        }
    }

    private func settings(_ c: [String: Any]) -> OptimizerSettings {
        var s = OptimizerSettings()
        s.momentum = Float(c["momentum"] as? Double ?? 0.9)
        s.nesterov = c["nesterov"] as? Bool ?? false
        s.weightDecay = Float(c["weight_decay"] as? Double ?? 0)
        s.excludeNormAndBiasFromDecay = c["exclude"] as? Bool ?? false
        s.trustCoefficient = Float(c["eta"] as? Double ?? 0.001)
        if let betas = c["betas"] as? [Double] { s.beta1 = Float(betas[0]); s.beta2 = Float(betas[1]) }
        s.epsilon = Float(c["eps"] as? Double ?? 1e-8)
        return s
    }

    /// Every case of the fixture, 3 steps with changing learning rates.
    ///
    /// Tolerances: the reference runs in float64 from the same float32 inputs; a Float32 step rounds
    /// w (|w| < 2) to ~1e-7 and Adam's m / (sqrt(v) + eps) to a few ulps, so final values within
    /// 1e-6 absolute + 1e-6 relative. Updates (w_final - w_init) are compared separately with an
    /// absolute 5e-7 (three roundings of w): LARS moves weights by only ~1e-3, which the final
    /// values alone would barely see. State buffers: 1e-5 relative, 1e-6 absolute.
    func testMatchesReferenceUpdates() throws {
        let ref = try Reference()
        XCTAssertEqual(ref.cases.count, 9)
        for (caseName, c) in ref.cases.sorted(by: { $0.key < $1.key }) {
            let kind = try OptimizerKind(parsing: try XCTUnwrap(c["kind"] as? String))
            let parameters = ref.initialParameters()
            let optimizer = try kind.make(parameters: parameters, settings: settings(c))
            XCTAssertEqual(optimizer.kind, kind)
            let lrScale = Float(c["lr_scale"] as? Double ?? 1)
            for (step, lr) in ref.lrs.enumerated() {
                ref.setGradients(parameters, step: step)
                optimizer.step(learningRate: lr * lrScale)
            }
            for p in parameters {
                let expected = try XCTUnwrap(ref.tensors["\(caseName).\(p.name)"], "\(caseName).\(p.name)")
                let initial = ref.tensors["init." + p.name]!
                assertClose(p.value, expected, rtol: 1e-6, atol: 1e-6, "\(caseName) \(p.name)")
                let delta = (0..<p.value.count).map { p.value[$0] - initial[$0] }
                let expectedDelta = (0..<p.value.count).map { expected[$0] - initial[$0] }
                assertClose(delta, expectedDelta, rtol: 1e-5, atol: 5e-7, "\(caseName) \(p.name) update")
            }
            let state = optimizer.state()
            let prefix = caseName + ".state."
            let expectedKeys = Set(ref.tensors.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
            XCTAssertEqual(Set(state.keys), expectedKeys, caseName)
            for key in expectedKeys {
                assertClose(state[key]!, ref.tensors[prefix + key]!, rtol: 1e-5, atol: 1e-6, "\(caseName) state \(key)")
            }
        }
    }

    /// One LARS step by hand: w = [3, 4] (norm 5), g = [0, 2] (norm 2), eta 0.001, lr 1:
    /// trust = 0.001 * 5 / 2 = 0.0025, v = [0, 0.005], w = [3, 3.995]. A bias with the same numbers
    /// is excluded: trust 1, v = [0, 2], w = [3, 2]. A zero weight has trust 1.
    func testLARSHandComputedStep() throws {
        let w = Parameter(name: "w", role: .weight, value: Tensor(shape: [2], values: [3, 4]))
        let b = Parameter(name: "b", role: .bias, value: Tensor(shape: [2], values: [3, 4]))
        let z = Parameter(name: "z", role: .weight, value: Tensor(shape: [2]))
        for p in [w, b, z] { p.grad.assign(Tensor(shape: [2], values: [0, 2])) }
        let lars = try LARS(parameters: [w, b, z], momentum: 0.9, weightDecay: 0.5)
        // With wd = 0.5 the weight's g' = [1.5, 4] (norm sqrt(18.25)); the bias ignores wd.
        lars.step(learningRate: 1)
        let trust = Float(0.001 * 5 / Double(18.25).squareRoot())
        XCTAssertEqual(lars.lastTrustRatios[0], trust, accuracy: 1e-9)
        XCTAssertEqual(lars.lastTrustRatios[1], 1)
        XCTAssertEqual(lars.lastTrustRatios[2], 1)
        assertClose(w.value.array, [3 - trust * 1.5, 4 - trust * 4], rtol: 1e-7)
        assertClose(b.value.array, [3, 2], rtol: 0, atol: 0)
        assertClose(z.value.array, [0, -2], rtol: 0, atol: 0)

        let plain = Parameter(name: "w", role: .weight, value: Tensor(shape: [2], values: [3, 4]))
        plain.grad.assign(Tensor(shape: [2], values: [0, 2]))
        try LARS(parameters: [plain]).step(learningRate: 1)
        assertClose(plain.value.array, [3, 3.995], rtol: 1e-7)
    }

    /// The vectorised norm (SIMD blocks + tail, Double fold) against a plain Double loop on a size
    /// that is not a multiple of the block or the vector width.
    func testLARSTrustRatioOnLargeTensor() throws {
        var rng = TestRNG(seed: 4)
        let n = 3 * 4096 + 37
        let w = Parameter(name: "w", role: .weight, value: rng.tensor([n]))
        w.grad.assign(rng.tensor([n]))
        var ww = 0.0, gg = 0.0
        for k in 0..<n {
            ww += Double(w.value[k]) * Double(w.value[k])
            let g = Double(w.grad[k]) + 0.1 * Double(w.value[k])
            gg += g * g
        }
        let lars = try LARS(parameters: [w], weightDecay: 0.1)
        lars.step(learningRate: 1)
        XCTAssertEqual(Double(lars.lastTrustRatios[0]), 0.001 * (ww / gg).squareRoot(), accuracy: 1e-6 * 0.001)
    }

    // MARK: Checkpoint state

    /// 2 steps, save, restore into a fresh optimizer over copied parameters, 1 more step: identical
    /// to 3 uninterrupted steps (bit for bit, including Adam's step counter in the bias correction).
    func testStateRoundTripContinuesExactly() throws {
        let ref = try Reference()
        for kind in OptimizerKind.allCases {
            let s = OptimizerSettings(momentum: 0.9, nesterov: kind == .sgd, weightDecay: 0.01)
            let straight = ref.initialParameters()
            let a = try kind.make(parameters: straight, settings: s)
            for step in 0..<3 {
                ref.setGradients(straight, step: step)
                a.step(learningRate: ref.lrs[step])
            }

            let first = ref.initialParameters()
            let b = try kind.make(parameters: first, settings: s)
            for step in 0..<2 {
                ref.setGradients(first, step: step)
                b.step(learningRate: ref.lrs[step])
            }
            let saved = b.state()
            let resumed = first.map { Parameter(name: $0.name, role: $0.role, value: $0.value.copy()) }
            let c = try kind.make(parameters: resumed, settings: s)
            try c.loadState(saved)
            if let adam = c as? Adam { XCTAssertEqual(adam.stepCount, 2) }
            ref.setGradients(resumed, step: 2)
            c.step(learningRate: ref.lrs[2])
            for (p, q) in zip(resumed, straight) { XCTAssertEqual(p.value.array, q.value.array, "\(kind) \(p.name)") }
        }
    }

    func testLoadStateRefusesMismatches() throws {
        let ref = try Reference()
        let parameters = ref.initialParameters()
        let sgd = try SGD(parameters: parameters, momentum: 0.9)
        ref.setGradients(parameters, step: 0)
        sgd.step(learningRate: 0.1)
        let good = sgd.state()
        XCTAssertEqual(good.count, parameters.count)

        var missing = good
        missing["fc.bias.momentum_buffer"] = nil
        XCTAssertThrowsError(try sgd.loadState(missing)) { error in
            XCTAssertEqual(error as? OptimizerError, .missingState(key: "fc.bias.momentum_buffer"))
            XCTAssertTrue(error.localizedDescription.contains("fc.bias.momentum_buffer"), error.localizedDescription)
        }
        // A mis-shaped entry after a valid one: refused, and nothing is half-loaded.
        var misShaped = good
        for key in good.keys { misShaped[key] = Tensor(shape: good[key]!.shape, repeating: 7) }
        misShaped["zero.weight.momentum_buffer"] = Tensor(shape: [6])
        XCTAssertThrowsError(try sgd.loadState(misShaped)) { error in
            XCTAssertEqual(error as? OptimizerError, .stateShapeMismatch(key: "zero.weight.momentum_buffer", shape: [6], expected: [5]))
            XCTAssertTrue(error.localizedDescription.contains("[6]"), error.localizedDescription)
        }
        for (key, value) in sgd.state() { XCTAssertEqual(value.array, good[key]!.array, key) }

        var extra = good
        extra["head.weight.momentum_buffer"] = Tensor(shape: [2])
        XCTAssertThrowsError(try sgd.loadState(extra)) { error in
            XCTAssertEqual(error as? OptimizerError, .unexpectedState(keys: ["head.weight.momentum_buffer"]))
        }
        // An Adam checkpoint is not an SGD one (and vice versa).
        let adam = try Adam(parameters: ref.initialParameters())
        XCTAssertThrowsError(try sgd.loadState(adam.state()))
        XCTAssertThrowsError(try adam.loadState(good))
        var badStep = adam.state()
        badStep["step"] = Tensor(shape: [1], values: [1.5])
        XCTAssertThrowsError(try adam.loadState(badStep)) { error in
            XCTAssertTrue(error.localizedDescription.contains("step"), error.localizedDescription)
        }
        // SGD without momentum has no state and accepts only an empty one.
        let plain = try SGD(parameters: ref.initialParameters(), momentum: 0)
        XCTAssertTrue(plain.state().isEmpty)
        XCTAssertNoThrow(try plain.loadState([:]))
        XCTAssertThrowsError(try plain.loadState(good))
    }

    // MARK: Settings

    func testRefusesInvalidSettings() throws {
        let p = [Parameter(name: "w", role: .weight, value: Tensor(shape: [2]))]
        func refused(_ name: String, _ make: () throws -> Any) {
            XCTAssertThrowsError(try make(), name) { error in
                guard case .invalidSetting(let setting, _, _) = error as? OptimizerError else { return XCTFail("\(error)") }
                XCTAssertEqual(setting, name)
                XCTAssertTrue(error.localizedDescription.contains(name), error.localizedDescription)
            }
        }
        refused("momentum") { try SGD(parameters: p, momentum: 1) }
        refused("momentum") { try SGD(parameters: p, momentum: -0.1) }
        refused("momentum") { try SGD(parameters: p, momentum: 0, nesterov: true) }
        refused("weight decay") { try SGD(parameters: p, weightDecay: -1e-4) }
        refused("momentum") { try LARS(parameters: p, momentum: 1.5) }
        refused("trust coefficient") { try LARS(parameters: p, trustCoefficient: 0) }
        refused("weight decay") { try LARS(parameters: p, weightDecay: .nan) }
        refused("beta1") { try Adam(parameters: p, beta1: 1) }
        refused("beta2") { try Adam(parameters: p, beta2: -0.5) }
        refused("epsilon") { try Adam(parameters: p, epsilon: 0) }
        refused("weight decay") { try Adam(parameters: p, weightDecay: -1) }
    }

    func testKindParsing() throws {
        XCTAssertEqual(try OptimizerKind(parsing: "SGD"), .sgd)
        XCTAssertEqual(try OptimizerKind(parsing: "lars"), .lars)
        XCTAssertEqual(try OptimizerKind(parsing: "AdamW"), .adamw)
        XCTAssertThrowsError(try OptimizerKind(parsing: "rmsprop")) { error in
            XCTAssertEqual(error as? OptimizerError, .unknownKind("rmsprop"))
            XCTAssertTrue(error.localizedDescription.contains("sgd, lars, adam, adamw"), error.localizedDescription)
        }
        let p = [Parameter(name: "w", role: .weight, value: Tensor(shape: [2]))]
        XCTAssertTrue(try OptimizerKind.lars.make(parameters: p) is LARS)
        let adamw = try XCTUnwrap(try OptimizerKind.adamw.make(parameters: p) as? Adam)
        XCTAssertTrue(adamw.decoupledWeightDecay)
        XCTAssertEqual(adamw.kind, .adamw)
    }
}
