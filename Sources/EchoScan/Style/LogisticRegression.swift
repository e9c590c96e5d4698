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
/// weights, byte for byte.
struct LogisticRegression {
    let classes: Int
    let alpha: Double
    let epochs: Int
    /// `classes` weights per bucket, then one bias per class.
    private(set) var weights: [Double]
    private(set) var biases: [Double]

    init(classes: Int, alpha: Double = 2e-6, epochs: Int = 5) {
        self.classes = classes
        self.alpha = alpha
        self.epochs = epochs
        weights = Array(repeating: 0, count: StyleFeatures.bucketCount * classes)
        biases = Array(repeating: 0, count: classes)
    }

    /// Fits on the texts `members` of `texts` (each epoch in another fixed order).
    mutating func fit(_ texts: SparseTexts, members: [Int]) {
        let typicalWeight = (1 / alpha.squareRoot()).squareRoot()
        let start = 1 / (typicalWeight * alpha)
        var scales = [Double](repeating: 1, count: classes)
        var step = 0.0
        var margins = [Double](repeating: 0, count: classes)
        var updates = [Double](repeating: 0, count: classes)
        let classes = classes
        for epoch in 0..<epochs {
            let order = members.sorted {
                let (a, b) = (StableHash.mix(UInt64($0) ^ UInt64(epoch) << 40), StableHash.mix(UInt64($1) ^ UInt64(epoch) << 40))
                return a != b ? a < b : $0 < $1
            }
            weights.withUnsafeMutableBufferPointer { weights in
                for text in order {
                    let eta = 1 / (alpha * (start + step))
                    step += 1
                    let range = texts.range(text)
                    for c in 0..<classes { margins[c] = 0 }
                    for entry in range {
                        let base = Int(texts.buckets[entry]) * classes
                        let value = Double(texts.values[entry])
                        for c in 0..<classes { margins[c] += weights[base + c] * value }
                    }
                    for c in 0..<classes {
                        let y: Double = texts.labels[text] == c ? 1 : -1
                        let z = (margins[c] * scales[c] + biases[c]) * y
                        let loss = z > 18 ? exp(-z) * -y : (z < -18 ? -y : -y / (exp(z) + 1))
                        updates[c] = -eta * loss
                        biases[c] += updates[c] * 0.01
                    }
                    for entry in range {
                        let base = Int(texts.buckets[entry]) * classes
                        let value = Double(texts.values[entry])
                        for c in 0..<classes { weights[base + c] += updates[c] / scales[c] * value }
                    }
                    for c in 0..<classes {
                        scales[c] *= max(0, 1 - eta * alpha)
                        if scales[c] < 1e-9 {
                            for bucket in 0..<StyleFeatures.bucketCount { weights[bucket * classes + c] *= scales[c] }
                            scales[c] = 1
                        }
                    }
                }
            }
        }
        for bucket in 0..<StyleFeatures.bucketCount {
            for c in 0..<classes { weights[bucket * classes + c] *= scales[c] }
        }
    }

    /// The decision function of each class for one text.
    func decisions(_ texts: SparseTexts, text: Int) -> [Double] {
        var result = biases
        for entry in texts.range(text) {
            let base = Int(texts.buckets[entry]) * classes
            for c in 0..<classes { result[c] += weights[base + c] * Double(texts.values[entry]) }
        }
        return result
    }

    func weight(bucket: Int, class c: Int) -> Double { weights[bucket * classes + c] }
}
