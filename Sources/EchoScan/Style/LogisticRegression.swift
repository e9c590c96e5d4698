import CEchoScanShims
import Foundation

/// Sparse texts for `LogisticRegression`: per text its (bucket, value) pairs, L2-normalised, and
/// its class; flat arrays, so that a training set of N texts costs two allocations.
struct SparseTexts {
    private(set) var buckets: [UInt32] = []
    private(set) var values: [Float] = []
    private(set) var starts: [Int] = [0]
    private(set) var labels: [Int] = []

    var count: Int { labels.count }

    mutating func append(buckets newBuckets: [UInt32], values newValues: [Float], label: Int) {
        buckets += newBuckets
        values += newValues
        starts.append(buckets.count)
        labels.append(label)
    }

    func range(_ text: Int) -> Range<Int> { starts[text]..<starts[text + 1] }
}

/// One-vs-rest L2-regularised logistic regression fitted by stochastic gradient descent, as
/// scikit-learn's `SGDClassifier(loss="log_loss")` fits it (its "optimal" learning-rate schedule,
/// the intercept's 0.01 decay for sparse input), in a fixed order: the same texts give the same
/// weights, byte for byte. The classes' weights of a bucket are one SIMD row (up to 8 classes).
struct LogisticRegression {
    typealias Row = SIMD8<Double>
    let classes: Int
    let alpha: Double
    let epochs: Int
    private(set) var weights: [Row]
    private(set) var biases: [Double]

    init(classes: Int, alpha: Double = 2e-6, epochs: Int = 5) {
        precondition(classes <= Row.scalarCount)
        self.classes = classes
        self.alpha = alpha
        self.epochs = epochs
        weights = Array(repeating: Row(repeating: 0), count: StyleFeatures.bucketCount)
        biases = Array(repeating: 0, count: classes)
    }

    /// Entries ahead of the one read whose weight rows are fetched.
    static let prefetchDistance = 32

    /// Fits on the texts `members` of `texts` (each epoch in another fixed order).
    mutating func fit(_ texts: SparseTexts, members: [Int]) {
        let typicalWeight = (1 / alpha.squareRoot()).squareRoot()
        let start = 1 / (typicalWeight * alpha)
        // The weights are kept divided by a scale per class, so that the L2 decay of a step is
        // one multiplication of the scale instead of one of every weight.
        var scales = Row(repeating: 1)
        var intercepts = Row(repeating: 0)
        for c in 0..<classes { intercepts[c] = biases[c] }
        var step = 0.0
        let classes = classes
        for epoch in 0..<epochs {
            let order = members.sorted {
                let (a, b) = (StableHash.mix(UInt64($0) ^ UInt64(epoch) << 40), StableHash.mix(UInt64($1) ^ UInt64(epoch) << 40))
                return a != b ? a < b : $0 < $1
            }
            weights.withUnsafeMutableBufferPointer { weights in
                guard let rows = weights.baseAddress else { return }
                for text in order {
                    let eta = 1 / (alpha * (start + step))
                    step += 1
                    let range = texts.range(text)
                    var margins = Row(repeating: 0)
                    // A text's rows (64 bytes each, of a 16 MB table) are fetched
                    // `prefetchDistance` entries ahead, so that their misses overlap; the update
                    // below finds them in the cache.
                    for entry in range {
                        if entry + Self.prefetchDistance < range.upperBound {
                            echoscan_prefetch(rows + Int(texts.buckets[entry + Self.prefetchDistance]))
                        }
                        margins += weights[Int(texts.buckets[entry])] * Double(texts.values[entry])
                    }
                    var updates = Row(repeating: 0)
                    for c in 0..<classes {
                        let y: Double = texts.labels[text] == c ? 1 : -1
                        let z = (margins[c] * scales[c] + intercepts[c]) * y
                        let loss = z > 18 ? exp(-z) * -y : (z < -18 ? -y : -y / (exp(z) + 1))
                        updates[c] = -eta * loss
                    }
                    intercepts += updates * 0.01
                    let factors = updates / scales
                    for entry in range { weights[Int(texts.buckets[entry])] += factors * Double(texts.values[entry]) }
                    scales *= max(0, 1 - eta * alpha)
                    if scales.min() < 1e-9 {
                        for bucket in weights.indices { weights[bucket] *= scales }
                        scales = Row(repeating: 1)
                    }
                }
            }
        }
        for bucket in weights.indices { weights[bucket] *= scales }
        for c in 0..<classes { biases[c] = intercepts[c] }
    }

    /// The decision function of each class for one text.
    func decisions(_ texts: SparseTexts, text: Int) -> [Double] {
        var sum = Row(repeating: 0)
        for entry in texts.range(text) { sum += weights[Int(texts.buckets[entry])] * Double(texts.values[entry]) }
        return (0..<classes).map { sum[$0] + biases[$0] }
    }

    func weight(bucket: Int, class c: Int) -> Double { weights[bucket][c] }
}
