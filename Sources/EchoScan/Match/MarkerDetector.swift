import Foundation
import Yams

/// A self-identification phrase and the vendor it points to.
public struct MarkerPhrase: Codable, Sendable, Equatable {
    public var phrase: String
    public var vendor: String
}

/// The versioned list of marker phrases (pipelines/markers/markers-v1.yaml).
public struct MarkerList: Codable, Sendable {
    public var version: Int
    public var markers: [MarkerPhrase]

    public static func load(path: String) throws -> MarkerList {
        try parse(try String(contentsOfFile: path, encoding: .utf8), source: path)
    }

    /// A marker list from its YAML text; errors name `source`.
    public static func parse(_ text: String, source: String) throws -> MarkerList {
        do {
            return try YAMLDecoder().decode(MarkerList.self, from: text)
        } catch {
            throw PipelineConfiguration.Error(path: source, reason: "invalid marker list: \(error)")
        }
    }
}

/// Finds marker phrases in one pass over a document's tokens: an Aho-Corasick automaton whose
/// alphabet is token hashes, so phrases match whatever the case, punctuation or line breaks.
///
/// Transitions live in one flat open-addressing table keyed by (state, token hash): the scan
/// does one probe per token, and from the root almost every probe misses at once.
public struct MarkerDetector: Sendable {
    public let phrases: [MarkerPhrase]
    private let lengths: [Int]
    private var failure: [Int32] = [0]
    /// Phrases ending at each state, including those reached through failure links.
    private var outputs: [[Int32]] = [[]]
    private var table = TransitionTable()
    /// Bits set for the first tokens of phrases: from the root, a token whose bit is clear
    /// cannot start a phrase, which is almost every token.
    private var firstTokens = Self.emptyFilter
    /// Bits set for the first two tokens of phrases, and for one-token phrases: first tokens
    /// such as "a" and "I" are common, but rarely followed by a phrase's second token.
    private var openingPairs = Self.emptyFilter
    private var singleTokens = Self.emptyFilter
    private static let emptyFilter = [UInt64](repeating: 0, count: 64)

    public init(phrases: [MarkerPhrase], tokenizer: Tokenizer) {
        self.phrases = phrases
        var lengths: [Int] = []
        var tokens = TokenSequence()
        var children: [[(UInt64, Int32)]] = [[]]
        for (index, marker) in phrases.enumerated() {
            var text = marker.phrase
            text.withUTF8 { tokenizer.tokenize($0, into: &tokens) }
            lengths.append(tokens.count)
            guard tokens.count > 0 else { continue }
            Self.insert(tokens.hashes[0], into: &firstTokens)
            if tokens.count == 1 {
                Self.insert(tokens.hashes[0], into: &singleTokens)
            } else {
                Self.insert(Self.pairKey(tokens.hashes[0], tokens.hashes[1]), into: &openingPairs)
            }
            var state = 0
            for hash in tokens.hashes {
                if let next = children[state].first(where: { $0.0 == hash })?.1 {
                    state = Int(next)
                } else {
                    children.append([])
                    outputs.append([])
                    failure.append(0)
                    children[state].append((hash, Int32(children.count - 1)))
                    state = children.count - 1
                }
            }
            outputs[state].append(Int32(index))
        }
        self.lengths = lengths
        table = TransitionTable(capacity: children.count * 2)
        for (state, edges) in children.enumerated() {
            for (hash, child) in edges { table.insert(state: Int32(state), hash: hash, next: child) }
        }
        // Failure links, breadth first.
        var queue = children[0].map { Int($0.1) }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            for (hash, child) in children[state] {
                var fallback = Int(failure[state])
                while fallback != 0 && table.next(state: Int32(fallback), hash: hash) == nil { fallback = Int(failure[fallback]) }
                let target = state == 0 ? 0 : Int(table.next(state: Int32(fallback), hash: hash) ?? 0)
                failure[Int(child)] = Int32(target)
                outputs[Int(child)] += outputs[target]
                queue.append(Int(child))
            }
        }
    }

    /// Every occurrence of every phrase, in document order.
    public func find(in tokens: TokenSequence) -> [MarkerHit] {
        var hits: [MarkerHit] = []
        tokens.hashes.withUnsafeBufferPointer { hashes in
            var state: Int32 = 0
            var position = 0
            while position < hashes.count {
                if state == 0 {
                    // At the root, skip to the next token that can open a phrase. Skipping is
                    // exact: a token that opens no phrase here leaves the automaton at the root.
                    while position < hashes.count, !opensPhrase(at: position, in: hashes) { position += 1 }
                    guard position < hashes.count else { break }
                }
                let hash = hashes[position]
                while state != 0 && table.next(state: state, hash: hash) == nil { state = failure[Int(state)] }
                state = table.next(state: state, hash: hash) ?? 0
                for output in outputs[Int(state)] {
                    let phrase = phrases[Int(output)]
                    let first = position - lengths[Int(output)] + 1
                    hits.append(MarkerHit(phrase: phrase.phrase, vendor: phrase.vendor,
                                          span: Int(tokens.starts[first])..<Int(tokens.ends[position])))
                }
                position += 1
            }
        }
        return hits
    }

    @inline(__always)
    private func opensPhrase(at position: Int, in hashes: UnsafeBufferPointer<UInt64>) -> Bool {
        let hash = hashes[position]
        guard Self.contains(hash, in: firstTokens) else { return false }
        if Self.contains(hash, in: singleTokens) { return true }
        return position + 1 < hashes.count && Self.contains(Self.pairKey(hash, hashes[position + 1]), in: openingPairs)
    }

    private static func pairKey(_ first: UInt64, _ second: UInt64) -> UInt64 {
        StableHash.mix(first ^ (second &* 0x9E37_79B9_7F4A_7C15))
    }

    private static func insert(_ key: UInt64, into filter: inout [UInt64]) {
        filter[Int(key & 4095) >> 6] |= 1 << (key & 63)
    }

    @inline(__always)
    private static func contains(_ key: UInt64, in filter: [UInt64]) -> Bool {
        filter[Int(key & 4095) >> 6] & (1 << (key & 63)) != 0
    }
}

/// Open addressing from (state, token hash) to the next state.
struct TransitionTable: Sendable {
    private var keys: [UInt64] = []
    private var states: [Int32] = []
    private var targets: [Int32] = []
    private var mask = 0

    init(capacity: Int = 0) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: 0, count: size)
        states = Array(repeating: -1, count: size)
        targets = Array(repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private func slot(_ state: Int32, _ hash: UInt64) -> Int {
        Int(truncatingIfNeeded: StableHash.mix(hash ^ UInt64(UInt32(bitPattern: state)))) & mask
    }

    mutating func insert(state: Int32, hash: UInt64, next: Int32) {
        var index = slot(state, hash)
        while states[index] >= 0 { index = (index + 1) & mask }
        keys[index] = hash
        states[index] = state
        targets[index] = next
    }

    @inline(__always)
    func next(state: Int32, hash: UInt64) -> Int32? {
        var index = slot(state, hash)
        while states[index] >= 0 {
            if keys[index] == hash && states[index] == state { return targets[index] }
            index = (index + 1) & mask
        }
        return nil
    }
}
