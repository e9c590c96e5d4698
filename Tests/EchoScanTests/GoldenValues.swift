/// Pinned fingerprint values (see FingerprintTests.testGoldenValues), recorded from the first
/// implementation; they must never change without a new index format version.
enum GoldenValues {
    static let tokens = ["43e76613ac54ebd7", "fa97f1f8f84e4ea4", "6a9943395c777d7c"]
    static let signature: [UInt32] = [2_563_896_312, 2_563_896_312, 2_706_721_412, 2_286_791_975]
    static let winnowedPositions: [UInt32] = [1, 3]
}
