/// Pinned fingerprint values (see FingerprintTests.testGoldenValues); they must never change
/// without a new index format version.
enum GoldenValues {
    static let tokens = ["967d3d910ce43596", "1d0c2ce30a6ac8f3", "49d0f208050296c3"]
    static let signature: [UInt32] = [2_722_529_964, 560_943_606, 560_943_606, 560_943_606]
    static let exactHash = "76a2a6c3b9b7b8a5"
    static let winnowedPositions: [UInt32] = [0, 2, 5]
}
