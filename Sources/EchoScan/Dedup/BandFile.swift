import Foundation

/// One shard's bucket keys, band-major, written by the signature stage so that a bucket task reads
/// only its own band (8 bytes per document, plus 4 for the token count) instead of every whole
/// signature record (16 + 4 × permutations bytes):
/// ```
/// header  magic "ECHOBND1", keys per document u32 (LSH bands + 1), reserved u32, count u64
/// tokens  u32 per document, padded to a multiple of 8 bytes
/// keys    for each LSH band, then for the exact-content hash: u64 per document
/// ```
/// The sections are gathered in scratch files while the shard streams (memory stays flat
/// whatever the shard's size) and copied into the file when the shard is done.
final class BandFile: Sendable {
    static let magic: [UInt8] = Array("ECHOBND1".utf8)
    static let headerBytes = 24

    let keysPerDocument: Int
    let count: Int
    private let file: PositionalFile

    private var tokensBytes: Int { (4 * count + 7) / 8 * 8 }

    init(path: String) throws {
        file = try PositionalFile(path: path)
        let header = try file.header(Self.headerBytes, magic: Self.magic, kind: "band file")
        keysPerDocument = Int(header.littleEndian(UInt32.self, at: 8))
        count = Int(header.littleEndian(UInt64.self, at: 16))
        guard file.size == Self.headerBytes + (4 * count + 7) / 8 * 8 + 8 * keysPerDocument * count else {
            throw StageFileError(path: path, reason: "truncated band file")
        }
    }

    /// Calls `body` with every document's record number, token count and key `key` (a band, or
    /// `keysPerDocument - 1` for the exact-content hash), in order, reading 512 KiB at a time.
    func forEachKey(_ key: Int, _ body: (_ record: Int, _ tokens: Int, _ key: UInt64) throws -> Void) throws {
        guard key < keysPerDocument else {
            throw StageFileError(path: file.path, reason: "no key \(key) (\(keysPerDocument) per document)")
        }
        // No bigger than the file needs: 17 bucket tasks read every shard's file.
        let perChunk = min(1 << 16, count)
        var tokens = [UInt32](repeating: 0, count: perChunk)
        var keys = [UInt64](repeating: 0, count: perChunk)
        let keysStart = Self.headerBytes + tokensBytes + 8 * count * key
        var first = 0
        while first < count {
            let records = min(perChunk, count - first)
            try tokens.withUnsafeMutableBytes {
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<(4 * records)]), at: Self.headerBytes + 4 * first)
            }
            try keys.withUnsafeMutableBytes {
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<(8 * records)]), at: keysStart + 8 * first)
            }
            for index in 0..<records {
                try body(first + index, Int(UInt32(littleEndian: tokens[index])), UInt64(littleEndian: keys[index]))
            }
            first += records
        }
    }

    /// Gathers one shard's keys in scratch files, one per section, and copies them into the
    /// band file at the end.
    final class Writer {
        private let folder: String
        private let sections: [ScratchFile]
        private var count = 0
        /// Documents gathered per section before one write to each scratch file.
        private static let documentsPerWrite = 4096
        private var pendingTokens: [UInt32] = []
        private var pendingKeys: [[UInt64]]

        /// `keysPerDocument`: LSH bands + 1. The scratch files live in `folder` until `finish`.
        init(folder: String, keysPerDocument: Int) throws {
            self.folder = folder
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw ScratchError(path: folder, reason: "\(error)")
            }
            // Small buffers: a signature task holds one per section, and writes whole batches.
            sections = try (0...keysPerDocument).map {
                try ScratchFile(path: folder + "/section-\($0).bin", checksummed: false, bufferBytes: 64 << 10)
            }
            pendingKeys = Array(repeating: [], count: keysPerDocument)
        }

        /// Appends one document: its token count and its keys (bands, then the exact hash).
        func append(tokens: Int, keys: [UInt64]) {
            precondition(keys.count == pendingKeys.count, "one key per band and the exact hash")
            pendingTokens.append(UInt32(truncatingIfNeeded: tokens))
            for (index, key) in keys.enumerated() { pendingKeys[index].append(key) }
            count += 1
            if pendingTokens.count == Self.documentsPerWrite { writePending() }
        }

        private func writePending() {
            sections[0].append(contentsOf: pendingTokens)
            pendingTokens.removeAll(keepingCapacity: true)
            for index in pendingKeys.indices {
                sections[index + 1].append(contentsOf: pendingKeys[index])
                pendingKeys[index].removeAll(keepingCapacity: true)
            }
        }

        /// Writes the header and the sections into `sink`, then removes the scratch files.
        func finish(into sink: AtomicFile.Sink) throws {
            defer { try? FileManager.default.removeItem(atPath: folder) }
            writePending()
            var header = BinaryBuffer()
            header.append(contentsOf: BandFile.magic)
            header.append(UInt32(sections.count - 1))
            header.append(UInt32(0))
            header.append(UInt64(count))
            try sink.write(header.bytes)
            for (number, section) in sections.enumerated() {
                try section.close()
                try sink.write(contentsOfScratchFile: section.path, length: section.count)
                if number == 0 && (4 * count) % 8 != 0 { try sink.write([UInt8](repeating: 0, count: 4)) }
            }
        }
    }
}
