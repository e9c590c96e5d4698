import Foundation

/// Dedup stage 1, one task per shard: reads the shard and writes each document's MinHash
/// signature and exact-content hash (of its normalized tokens), its LSH band hashes (`BandFile`,
/// band-major for the bucket tasks), its k-gram set, and its line, offset and id — streamed, so
/// memory does not grow with the shard.
struct SignatureStage {
    let layout: DedupLayout
    let options: DedupOptions
    let reader: ReaderOptions

    func run(shard: Int) throws {
        let fingerprinter = Fingerprinter(parameters: options.parameters)
        let banding = options.parameters.banding
        var scratch = DocumentFingerprint()
        var result: ShardReadResult? = nil
        var options = reader
        options.computeSHA256 = true
        // The band file's scratch sections, also when the task fails (a full disk, a bad shard).
        defer { try? FileManager.default.removeItem(atPath: layout.bandScratchFolder(shard)) }
        try AtomicFile.write(to: layout.signaturePath(shard), durable: false) { signatureSink in
            try AtomicFile.write(to: layout.kgramPath(shard), durable: false) { kgramSink in
                try AtomicFile.write(to: layout.documentsPath(shard), durable: false) { documentSink in
                    try AtomicFile.write(to: layout.bandsPath(shard), durable: false) { bandSink in
                        let signatures = try SignatureFile.Writer(sink: signatureSink, permutations: self.options.parameters.permutations)
                        let kgrams = try KGramFile.Writer(sink: kgramSink)
                        let documents = try DocumentTable.Writer(sink: documentSink)
                        let bands = try BandFile.Writer(folder: layout.bandScratchFolder(shard), keysPerDocument: banding.bands + 1)
                        var keys: [UInt64] = []
                        result = try ShardReader(path: layout.shards[shard], shardIndex: shard, options: options).read { batch in
                            for document in batch.documents {
                                batch.withText(of: document) { fingerprinter.fingerprint($0, into: &scratch, parts: .signature) }
                                let exactHash = StableHash.sequence(scratch.tokens.hashes)
                                try signatures.append(line: document.line, tokens: scratch.tokens.count,
                                                      exactHash: exactHash, signature: scratch.signature)
                                keys.removeAll(keepingCapacity: true)
                                scratch.signature.withUnsafeBufferPointer { signature in
                                    for band in 0..<banding.bands { keys.append(banding.bandHash(signature, band: band)) }
                                }
                                keys.append(exactHash)
                                bands.append(tokens: scratch.tokens.count, keys: keys)
                                try kgrams.append(scratch.shingles)
                                try documents.append(line: document.line, offset: document.offset, id: document.id)
                            }
                        }
                        try signatures.finish()
                        try kgrams.finish()
                        try documents.finish()
                        try bands.finish(into: bandSink)
                    }
                }
            }
        }
        guard let result else { return }
        let info = DedupShardInfo(path: result.path, format: result.format?.rawValue, size: result.compressedBytes, sha256: result.sha256,
                                  documents: result.documents, bytes: result.uncompressedBytes, badLines: result.badLines,
                                  error: result.fatalError?.description,
                                  lineErrors: result.errors.filter { !$0.isFatalToShard }.map(\.description))
        try AtomicFile.write(Array(try DedupFiles.encoder().encode(info)), to: layout.shardInfoPath(shard), durable: false)
    }
}
