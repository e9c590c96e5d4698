/// Pinned fingerprint values (see FingerprintTests.testGoldenValues), recorded from the first
/// implementation; they must never change without a new index format version.
enum GoldenValues {
    static let tokens = ["43e76613ac54ebd7", "fa97f1f8f84e4ea4", "6a9943395c777d7c"]
    static let signature: [UInt32] = [1_644_276_134, 31_883_719, 861_626_065, 132_781_666]
    static let winnowedPositions: [UInt32] = [1, 3]
}
