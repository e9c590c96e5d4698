import Foundation

/// Dedup stage 1, one task per shard: reads the shard and writes each document's MinHash
/// signature and exact-content hash (of its normalized tokens), with its line, offset and id.
struct SignatureStage {
    let layout: DedupLayout
    let options: DedupOptions
    let reader: ReaderOptions

    func run(shard: Int) throws {
        let fingerprinter = Fingerprinter(parameters: options.parameters)
        var scratch = DocumentFingerprint()
        var documents: [UInt8] = []
        var result: ShardReadResult? = nil
        var options = reader
        options.computeSHA256 = true
        let encoder = DedupFiles.encoder()
        try SignatureFile.write(to: layout.signaturePath(shard), permutations: self.options.parameters.permutations) { emit in
            result = try ShardReader(path: layout.shards[shard], shardIndex: shard, options: options).read { batch in
                for document in batch.documents {
                    batch.withText(of: document) { fingerprinter.fingerprint($0, into: &scratch) }
                    emit(document.line, scratch.tokens.count, StableHash.sequence(scratch.tokens.hashes), scratch.signature)
                    documents += try encoder.encode(DedupDocument(line: document.line, offset: document.offset, id: document.id))
                    documents.append(0x0A)
                }
            }
        }
        try AtomicFile.write(documents, to: layout.documentsPath(shard))
        guard let result else { return }
        let info = DedupShardInfo(path: result.path, format: result.format?.rawValue, size: result.compressedBytes, sha256: result.sha256,
                                  documents: result.documents, bytes: result.uncompressedBytes, badLines: result.badLines,
                                  error: result.fatalError?.description,
                                  lineErrors: result.errors.filter { !$0.isFatalToShard }.map(\.description))
        try AtomicFile.write(Array(try encoder.encode(info)), to: layout.shardInfoPath(shard))
    }
}
