import Foundation

/// Locality-sensitive hashing bands over MinHash signatures: b bands of r rows; two documents
/// become candidates when all r rows of some band agree, which happens with probability
/// 1 - (1 - J^r)^b for Jaccard similarity J.
///
/// (b, r) are chosen as datasketch does: among all b·r ≤ P, minimise
/// w_fp·∫₀ᵗ P(candidate | J) dJ + w_fn·∫ₜ¹ (1 − P(candidate | J)) dJ, the areas of false positives
/// below the threshold t and false negatives above it. datasketch weighs both 0.5 (t = 0.8,
/// P = 128: 9 bands of 13 rows, so a pair at J = 0.85 is a candidate only 69% of the time).
/// echoscan verifies every candidate by its estimated Jaccard, so a false positive costs one
/// signature comparison while a false negative loses a duplicate: the defaults weigh them 0.05
/// and 0.95 (16 bands of 8 rows: 95% at J = 0.8, 99.4% at 0.85). On scripts/bench-dedup.sh this
/// raised the recall of duplicate pairs from 0.86 (9 × 13) to about 0.97 with the same precision.
public struct LSHBanding: Sendable, Equatable, Codable {
    public let bands: Int
    public let rows: Int

    public init(bands: Int, rows: Int) {
        self.bands = bands
        self.rows = rows
    }

    public init(threshold: Double, permutations: Int, falsePositiveWeight: Double = 0.05, falseNegativeWeight: Double = 0.95) {
        let key = BandingSearches.Key(threshold: threshold, permutations: permutations,
                                      falsePositiveWeight: falsePositiveWeight, falseNegativeWeight: falseNegativeWeight)
        self = BandingSearches.shared.banding(for: key) {
            Self.search(threshold: threshold, permutations: permutations,
                        falsePositiveWeight: falsePositiveWeight, falseNegativeWeight: falseNegativeWeight)
        }
    }

    /// Every (b, r) with b·r ≤ P, in the order and with the arithmetic of the formula: x^r and
    /// (1 − x^r)^b are built by one multiplication per step from the previous r and b (the same
    /// products, in the same order, as `pow(j:_:)`), which makes the search about P/2 times cheaper.
    private static func search(threshold: Double, permutations: Int, falsePositiveWeight: Double, falseNegativeWeight: Double) -> LSHBanding {
        let below = IntegrationGrid(from: 0, to: threshold)
        let above = IntegrationGrid(from: threshold, to: 1)
        // errors[bands][rows]
        var errors = (0...permutations).map { [Double](repeating: .infinity, count: permutations / max(1, $0) + 1) }
        var rowPowerBelow = [Double](repeating: 1, count: IntegrationGrid.steps)
        var rowPowerAbove = rowPowerBelow
        for rows in 1...permutations {
            for step in 0..<IntegrationGrid.steps {
                rowPowerBelow[step] *= below.points[step]
                rowPowerAbove[step] *= above.points[step]
            }
            var missBelow = [Double](repeating: 1, count: IntegrationGrid.steps)
            var missAbove = missBelow
            for bands in 1...(permutations / rows) {
                var candidates = 0.0
                var misses = 0.0
                for step in 0..<IntegrationGrid.steps {
                    missBelow[step] *= 1 - rowPowerBelow[step]
                    missAbove[step] *= 1 - rowPowerAbove[step]
                    candidates += 1 - missBelow[step]
                    misses += missAbove[step]
                }
                let falsePositive = candidates * below.width
                let falseNegative = misses * above.width
                errors[bands][rows] = falsePositiveWeight * falsePositive + falseNegativeWeight * falseNegative
            }
        }
        var best = (error: Double.infinity, bands: 1, rows: permutations)
        for bands in 1...permutations {
            for rows in 1...(permutations / bands) where errors[bands][rows] < best.error - 1e-12 {
                best = (errors[bands][rows], bands, rows)
            }
        }
        return LSHBanding(bands: best.bands, rows: best.rows)
    }

    /// Probability that two documents of Jaccard similarity `similarity` share a band.
    public func candidateProbability(_ similarity: Double) -> Double {
        1 - pow(j: 1 - pow(j: similarity, rows), bands)
    }

    /// Hash of band `band` of a signature, for bucketing: a polynomial over the band's values,
    /// two to a 64-bit word, mixed once (a mix per value was 1–2% of a scan or a dedup, and
    /// bands that differ stay apart but for chance collisions, which verification drops).
    @inline(__always)
    public func bandHash(_ signature: UnsafeBufferPointer<UInt32>, band: Int) -> UInt64 {
        let base: UInt64 = 0x9E37_79B9_7F4A_7C15
        var hash = UInt64(band) &+ 0x42414E44
        var row = band * rows
        let end = row + rows
        while row + 1 < end {
            hash = hash &* base &+ (UInt64(signature[row]) | UInt64(signature[row + 1]) << 32)
            row += 2
        }
        if row < end { hash = hash &* base &+ UInt64(signature[row]) }
        return StableHash.mix(hash)
    }

}

/// Midpoint rule with 200 steps over [lower, upper]: smooth integrands, deterministic result.
private struct IntegrationGrid {
    static let steps = 200
    let width: Double
    let points: [Double]

    init(from lower: Double, to upper: Double) {
        let width = (upper - lower) / Double(Self.steps)
        self.width = width
        points = (0..<Self.steps).map { lower + (Double($0) + 0.5) * width }
    }
}

/// x^n for a small integer exponent, by repeated multiplication (exact and platform-independent).
func pow(j base: Double, _ exponent: Int) -> Double {
    var result = 1.0
    for _ in 0..<exponent { result *= base }
    return result
}

/// The (b, r) searches done in this process: one takes about 10 ms (millions of multiplications),
/// and the stages of one run ask for the same parameters several times.
private final class BandingSearches: @unchecked Sendable {
    struct Key: Hashable {
        var threshold: Double
        var permutations: Int
        var falsePositiveWeight: Double
        var falseNegativeWeight: Double
    }

    static let shared = BandingSearches()
    private let lock = NSLock()
    private var found: [Key: LSHBanding] = [:]

    func banding(for key: Key, search: () -> LSHBanding) -> LSHBanding {
        lock.lock()
        defer { lock.unlock() }
        if let known = found[key] { return known }
        let banding = search()
        found[key] = banding
        return banding
    }
}
