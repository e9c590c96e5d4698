import Foundation
import CZlib

/// Assembles index sections and writes them as one file, atomically.
final class IndexFileWriter {
    private var sections: [(kind: IndexFormat.Section, bytes: [UInt8], count: Int)] = []

    func add(_ kind: IndexFormat.Section, bytes: [UInt8], count: Int) {
        sections.append((kind, bytes, count))
    }

    /// Writes header, table and sections to `path` (through a temporary file and a rename) and
    /// returns the file's size. Sections are written one after the other, not concatenated first.
    func write(to path: String) throws -> Int {
        var header = BinaryBuffer()
        header.append(contentsOf: IndexFormat.magic)
        header.append(IndexFormat.version)
        header.append(UInt32(sections.count))
        header.append(UInt64(0))
        var offset = (IndexFormat.headerBytes + sections.count * IndexFormat.tableEntryBytes + 7) & ~7
        for section in sections {
            let crc = section.bytes.withUnsafeBytes { raw in
                UInt32(crc32_z(0, raw.bindMemory(to: Bytef.self).baseAddress, raw.count))
            }
            header.append(section.kind.rawValue)
            header.append(crc)
            header.append(UInt64(offset))
            header.append(UInt64(section.bytes.count))
            header.append(UInt64(section.count))
            offset += (section.bytes.count + 7) & ~7
        }
        header.align(to: 8)
        let padding = [UInt8](repeating: 0, count: 8)
        return try AtomicFile.write(to: path) { sink in
            try sink.write(header.bytes)
            for section in sections {
                try sink.write(section.bytes)
                try sink.write(padding.prefix((8 - section.bytes.count % 8) % 8))
            }
        }
    }
}
