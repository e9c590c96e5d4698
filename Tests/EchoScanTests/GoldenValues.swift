/// Pinned fingerprint values (see FingerprintTests.testGoldenValues); they must never change
/// without a new index format version.
enum GoldenValues {
    static let tokens = ["967d3d910ce43596", "1d0c2ce30a6ac8f3", "49d0f208050296c3"]
    static let signature: [UInt32] = [2_447_017_541, 898_779_409, 898_779_409, 1_073_399_797]
    static let winnowedPositions: [UInt32] = [0, 2, 5]
}
