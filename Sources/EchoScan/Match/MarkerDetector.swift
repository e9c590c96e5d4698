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
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try YAMLDecoder().decode(MarkerList.self, from: text)
    }
}

/// Finds marker phrases in one pass over a document's tokens: an Aho-Corasick automaton whose
/// alphabet is token hashes, so phrases match whatever the case, punctuation or line breaks.
public struct MarkerDetector: Sendable {
    struct Node: Sendable {
        var transitions: [UInt64: Int32] = [:]
        var failure: Int32 = 0
        /// Phrases ending here (indices into `phrases`), including those reached by failure links.
        var outputs: [Int32] = []
    }

    public let phrases: [MarkerPhrase]
    private let lengths: [Int]
    private var nodes: [Node] = [Node()]

    public init(phrases: [MarkerPhrase], tokenizer: Tokenizer) {
        self.phrases = phrases
        var lengths: [Int] = []
        var tokens = TokenSequence()
        for (index, marker) in phrases.enumerated() {
            var text = marker.phrase
            text.withUTF8 { tokenizer.tokenize($0, into: &tokens) }
            lengths.append(tokens.count)
            guard tokens.count > 0 else { continue }
            var state = 0
            for hash in tokens.hashes {
                if let nextState = nodes[state].transitions[hash] {
                    state = Int(nextState)
                } else {
                    nodes.append(Node())
                    nodes[state].transitions[hash] = Int32(nodes.count - 1)
                    state = nodes.count - 1
                }
            }
            nodes[state].outputs.append(Int32(index))
        }
        self.lengths = lengths
        buildFailureLinks()
    }

    private mutating func buildFailureLinks() {
        var queue: [Int] = []
        for (_, child) in nodes[0].transitions.sorted(by: { $0.key < $1.key }) {
            nodes[Int(child)].failure = 0
            queue.append(Int(child))
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            for (hash, child) in nodes[state].transitions.sorted(by: { $0.key < $1.key }) {
                var fallback = Int(nodes[state].failure)
                while fallback != 0 && nodes[fallback].transitions[hash] == nil { fallback = Int(nodes[fallback].failure) }
                let target = nodes[fallback].transitions[hash].map(Int.init) ?? 0
                nodes[Int(child)].failure = Int32(target)
                nodes[Int(child)].outputs += nodes[target].outputs
                queue.append(Int(child))
            }
        }
    }

    /// Every occurrence of every phrase, in document order.
    public func find(in tokens: TokenSequence) -> [MarkerHit] {
        var hits: [MarkerHit] = []
        var state = 0
        for (position, hash) in tokens.hashes.enumerated() {
            while state != 0 && nodes[state].transitions[hash] == nil { state = Int(nodes[state].failure) }
            state = nodes[state].transitions[hash].map(Int.init) ?? 0
            for output in nodes[state].outputs {
                let phrase = phrases[Int(output)]
                let first = position - lengths[Int(output)] + 1
                hits.append(MarkerHit(phrase: phrase.phrase, vendor: phrase.vendor,
                                      span: Int(tokens.starts[first])..<Int(tokens.ends[position])))
            }
        }
        return hits
    }
}
