import EchoScan
import Foundation

/// One fuzz input as a reference index: bytes whose index header and section table read get every
/// section's CRC-32 set to match its bytes (a crafted file, not only a damaged one, which the
/// checksums would refuse before the fuzzer got further), then are opened, verified and matched against:
/// each reference's own text and a fixed paragraph go through the matcher with every detector on.
/// Any crash is a bug; refusals are fine.
enum FuzzIndex {
    static let path = NSTemporaryDirectory() + "echoscan-fuzz-\(getpid()).idx"
    static let paragraph = "Certainly! Here is a short answer. Photosynthesis turns light, water and carbon dioxide into sugar and oxygen; I hope this helps."

    static func run(_ bytes: UnsafeRawBufferPointer) {
        var file = [UInt8](bytes)
        guard ReferenceIndex.setChecksums(of: &file), FileManager.default.createFile(atPath: path, contents: Data(file)),
              let index = try? ReferenceIndex(path: path) else { return }
        _ = index.verify()
        var options = MatchOptions()
        options.style.enabled = true
        let matcher = Matcher(index: index, options: options, markers: [])
        var scratch = Matcher.Scratch()
        var texts = [paragraph]
        for reference in 0..<min(index.referenceCount, 16) {
            _ = index.reference(reference)
            if let text = index.text(ofReference: reference) { texts.append(text) }
        }
        for var text in texts {
            let verdict = text.withUTF8 { matcher.match($0, scratch: &scratch) }
            for match in verdict.matches { precondition(match.falseMatchProbability >= 0 && match.falseMatchProbability <= 1) }
        }
    }
}
