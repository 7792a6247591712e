// SplitMix64 against its published output, and the seed mixing pinned to values computed
// independently in Python (tools/simclr_random.py and the formula in SeedMixing.swift): every
// loader order, augmentation and synthetic image depends on these bits.
import TensorCore
import XCTest

final class SeedMixingTests: XCTestCase {
    func testSplitMix64FromZeroGivesThePublishedSequence() {
        var state: UInt64 = 0
        let outputs = (0..<4).map { _ in splitMix64(&state) }
        XCTAssertEqual(outputs, [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC])
        XCTAssertEqual(state, 4 &* splitMix64Gamma)
        XCTAssertEqual(splitMix64(of: 0), 0xE220_A839_7B1D_CDAF)
    }

    func testMixSeedIsPinnedAndSeedsTheKeyedRandomState() {
        XCTAssertEqual(mixSeed(7), 7)
        XCTAssertEqual(mixSeed(7, 3), 0xA796_98F2_A0CD_E86D)
        XCTAssertEqual(mixSeed(7, 3, 11), 0x77CD_B82D_6E17_FB2A)
        XCTAssertNotEqual(mixSeed(7, 11, 3), mixSeed(7, 3, 11), "the key order matters")
        var keyed = RandomState(seed: 7, 3, 11)
        XCTAssertEqual(keyed, RandomState(seed: mixSeed(7, [3, 11])))
        XCTAssertEqual([keyed.next(), keyed.next()], [0x1CC2_F1FD_9C9A_C17D, 0x1C51_7CD8_E536_B785])
    }
}
