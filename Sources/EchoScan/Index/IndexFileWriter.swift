#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib

/// Assembles index sections and writes them as one file, atomically. A section is either a small
/// buffer or a finished scratch file, copied in 1 MiB reads so that the build's memory does not
/// grow with the index.
final class IndexFileWriter {
    private enum Content {
        case bytes([UInt8])
        case file(path: String)
    }
    private var sections: [(kind: IndexFormat.Section, content: Content, length: Int, crc: UInt32, count: Int)] = []

    /// Adds a small section, or replaces the section of that kind added before.
    func add(_ kind: IndexFormat.Section, bytes: [UInt8], count: Int) {
        let crc = bytes.withUnsafeBytes { raw in
            UInt32(crc32_z(0, raw.baseAddress?.assumingMemoryBound(to: Bytef.self), raw.count))
        }
        let section = (kind, Content.bytes(bytes), bytes.count, crc, count)
        if let existing = sections.firstIndex(where: { $0.kind == kind }) {
            sections[existing] = section
        } else {
            sections.append(section)
        }
    }

    /// Adds a closed scratch file as a section.
    func add(_ kind: IndexFormat.Section, file: ScratchFile, count: Int) {
        sections.append((kind, .file(path: file.path), file.count, file.crc, count))
    }

    /// Writes header, table and sections to `path` (through a temporary file and a rename) and
    /// returns the file's size.
    /// The header's SHA-256 covers the table and the sections, hashed as they are written, so
    /// that a scan records the index's identity without reading it.
    func write(to path: String) throws -> Int {
        var header = BinaryBuffer()
        header.append(contentsOf: IndexFormat.magic)
        header.append(IndexFormat.version)
        header.append(UInt32(sections.count))
        header.append(UInt64(0))
        header.append(contentsOf: [UInt8](repeating: 0, count: 32))
        var table = BinaryBuffer()
        var offset = (IndexFormat.headerBytes + sections.count * IndexFormat.tableEntryBytes + 7) & ~7
        for section in sections {
            table.append(section.kind.rawValue)
            table.append(section.crc)
            table.append(UInt64(offset))
            table.append(UInt64(section.length))
            table.append(UInt64(section.count))
            offset += (section.length + 7) & ~7
        }
        table.align(to: 8)
        let padding = [UInt8](repeating: 0, count: 8)
        return try AtomicFile.write(to: path) { sink in
            try sink.write(header.bytes)
            let digest = SHA256()
            sink.digest = digest
            try sink.write(table.bytes)
            defer { sink.digest = nil }
            for section in sections {
                switch section.content {
                case .bytes(let bytes): try sink.write(bytes)
                case .file(let source): try sink.write(contentsOfScratchFile: source, length: section.length)
                }
                try sink.write(padding.prefix((8 - section.length % 8) % 8))
            }
            try sink.overwrite(digest.finalize(), at: IndexFormat.digestOffset)
        }
    }
}
