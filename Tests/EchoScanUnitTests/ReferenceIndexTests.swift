@testable import EchoScan
import Foundation
import CZlib
import XCTest
import EchoScanTestSupport

final class ReferenceIndexTests: XCTestCase {
    static let referenceFiles = ["arena-hard__gpt-4-0314.jsonl", "fastchat__bard.jsonl", "gsm8k__175b_finetuning.jsonl"]
        .map { TestSupport.samples + "/references/" + $0 }

    func buildIndex(in dir: String, extra: [String] = [], options: IndexBuildOptions = IndexBuildOptions(),
                    name: String = "reference.idx") throws -> (IndexBuildReport, String) {
        let path = dir + "/" + name
        let report = try IndexBuilder(options: options).build(references: Self.referenceFiles + extra,
                                              background: [TestSupport.samples + "/background/human.jsonl"], output: path)
        return (report, path)
    }

    /// A stored text decodes only to the length its zstd frame declares, and a length its bytes
    /// cannot hold is refused before anything is allocated for it; with a trained dictionary and
    /// without one.
    func testStoredTextDecodesOnlyToItsDeclaredLength() throws {
        let texts = try TestSupport.lines(TestSupport.samples + "/references/arena-hard__gpt-4-0314.jsonl").map { line in
            Array(try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["text"] as? String).utf8)
        }
        let dictionary = try XCTUnwrap(texts.withSamples { TextCodec.trainDictionary(samples: $0) })
        XCTAssertLessThanOrEqual(dictionary.bytes.count, texts.reduce(0) { $0 + $1.count } / 100)
        XCTAssertEqual(texts.withSamples { TextCodec.trainDictionary(samples: $0) }?.bytes, dictionary.bytes, "the same samples, the same dictionary")
        let context = TextCodec.Context(.compression)
        let decompression = TextCodec.Context(.decompression)
        let text = texts[0]
        for used in [dictionary, nil] {
            let compressed = text.withUnsafeBytes { TextCodec.compress($0, dictionary: used, context: context) }
            compressed.withUnsafeBytes { bytes in
                XCTAssertEqual(TextCodec.decompress(bytes, length: text.count, dictionary: used, context: decompression), text)
                XCTAssertNil(TextCodec.decompress(bytes, length: text.count - 1, dictionary: used, context: decompression))
                XCTAssertNil(TextCodec.decompress(bytes, length: 1 << 32, dictionary: used, context: decompression))
                XCTAssertNil(TextCodec.decompress(UnsafeRawBufferPointer(rebasing: bytes.dropLast(3)), length: text.count, dictionary: used,
                                                  context: decompression))
                // The context a failed frame left behind decodes the next one.
                XCTAssertEqual(TextCodec.decompress(bytes, length: text.count, dictionary: used, context: decompression), text)
            }
        }
        let plain = text.withUnsafeBytes { TextCodec.compress($0, dictionary: nil, context: context) }
        let trained = text.withUnsafeBytes { TextCodec.compress($0, dictionary: dictionary, context: context) }
        XCTAssertLessThan(trained.count, plain.count)
    }

    func testBuildCountsAttributionAndRoundTrip() throws {
        let dir = try TestSupport.temporaryDirectory()
        let (report, path) = try buildIndex(in: dir)
        let index = try ReferenceIndex(path: path)
        XCTAssertEqual(index.referenceCount, 320)
        XCTAssertEqual(report.metadata.sources.map(\.records), [120, 80, 120])
        XCTAssertEqual(Set(index.metadata.vendors), ["openai", "google"])
        XCTAssertEqual(index.metadata.sources.first?.sha256.count, 64)
        XCTAssertGreaterThan(index.metadata.postingCount, 10_000)
        XCTAssertGreaterThan(index.metadata.commonByPrompt + index.metadata.commonByBackground + index.metadata.commonByFrequency, 0)

        // Round trip: every reference's id, attribution and text come back as they went in.
        var position = 0
        for file in Self.referenceFiles {
            for line in try TestSupport.lines(file) {
                let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let reference = index.reference(position)
                XCTAssertEqual(reference.id, object["id"] as? String)
                XCTAssertEqual(reference.model, object["model"] as? String)
                XCTAssertEqual(reference.vendor, object["vendor"] as? String)
                XCTAssertEqual(index.text(ofReference: position), object["text"] as? String)
                position += 1
            }
        }
        let bard = index.reference(130)
        XCTAssertEqual(bard.vendor, "google")
        XCTAssertTrue(bard.model.hasPrefix("bard"))

        // The stored tokens of every group are its representative text's, as the scan's
        // fingerprinter makes them.
        let fingerprinter = Fingerprinter(parameters: index.parameters)
        var fingerprint = DocumentFingerprint()
        var tokens: [UInt64] = []
        for group in 0..<index.groupCount {
            var text = try XCTUnwrap(index.text(ofReference: index.representative(ofGroup: group)))
            text.withUTF8 { fingerprinter.fingerprint($0, into: &fingerprint) }
            XCTAssertTrue(index.tokens(ofGroup: group, into: &tokens))
            XCTAssertEqual(tokens, fingerprint.tokens.hashes, "group \(group)")
            XCTAssertEqual(index.tokenCount(ofGroup: group), tokens.count)
        }
    }

    /// Token numbers: one byte below 128, the frequent tokens first; damaged bytes are reported,
    /// never read past.
    func testTokenNumbersRoundTripAndDamageIsCaught() {
        let counts: [UInt64: Int] = Dictionary(uniqueKeysWithValues: (0..<20_000).map { (UInt64($0) &* 0x9E37_79B9_7F4A_7C15, 20_000 - $0) })
        let vocabulary = TokenCodec.vocabulary(counts: counts)
        XCTAssertEqual(vocabulary.first, 0, "the most frequent token is number 0")
        let tokens = [vocabulary[0], vocabulary[127], vocabulary[128], vocabulary[19_999], vocabulary[5]]
        var bytes: [UInt8] = []
        TokenCodec.encode(tokens, numbers: TokenCodec.numbers(of: vocabulary), into: &bytes)
        XCTAssertEqual(bytes.count, 1 + 1 + 2 + 3 + 1)
        var decoded: [UInt64] = []
        vocabulary.withUnsafeBufferPointer { words in
            bytes.withUnsafeBytes { XCTAssertTrue(TokenCodec.decode($0, count: tokens.count, vocabulary: words, into: &decoded)) }
            XCTAssertEqual(decoded, tokens)
            // Cut short, running on, a number past the vocabulary.
            bytes.withUnsafeBytes { XCTAssertFalse(TokenCodec.decode(UnsafeRawBufferPointer(rebasing: $0.dropLast()), count: tokens.count, vocabulary: words, into: &decoded)) }
            bytes.withUnsafeBytes { XCTAssertFalse(TokenCodec.decode($0, count: tokens.count - 1, vocabulary: words, into: &decoded)) }
            [0xFF, 0xFF, 0x7F].withUnsafeBytes { XCTAssertFalse(TokenCodec.decode($0, count: 1, vocabulary: words, into: &decoded)) }
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01].withUnsafeBytes { XCTAssertFalse(TokenCodec.decode($0, count: 1, vocabulary: words, into: &decoded)) }
        }
    }

    func testExactDuplicatesAreGroupedAndKeepEveryId() throws {
        let dir = try TestSupport.temporaryDirectory()
        // The first GPT-4 answer again, under another id and model, reformatted.
        let first = try TestSupport.lines(Self.referenceFiles[0])[0]
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        object["id"] = "copy-of-first"
        object["model"] = "gpt-4-copy"
        object["text"] = ((object["text"] as? String) ?? "").uppercased()
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: dir + "/dup.jsonl"))
        let (_, path) = try buildIndex(in: dir, extra: [dir + "/dup.jsonl"])
        let index = try ReferenceIndex(path: path)
        XCTAssertEqual(index.referenceCount, 321)
        let group = index.reference(320).group
        XCTAssertEqual(index.reference(0).group, group)
        XCTAssertEqual(index.members(ofGroup: group), [0, 320])
        XCTAssertEqual(index.representative(ofGroup: group), 0)
    }

    func testBuildThatSpillsToDiskWritesTheSameIndex() throws {
        let dir = try TestSupport.temporaryDirectory()
        // A copy of the first answer with one word changed: a near-duplicate, grouped with it
        // through the LSH bands, which must survive the on-disk sort as well.
        let first = try TestSupport.lines(Self.referenceFiles[0])[0]
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        var words = ((object["text"] as? String) ?? "").split(separator: " ").map(String.init)
        XCTAssertGreaterThan(words.count, 100)
        words[words.count / 2] = "edited"
        object["id"] = "edited-copy"
        object["text"] = words.joined(separator: " ")
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: dir + "/edited.jsonl"))

        let (_, inMemory) = try buildIndex(in: dir, extra: [dir + "/edited.jsonl"])
        var small = IndexBuildOptions()
        small.sortMemoryBytes = 1  // the floor: runs of 1,024 entries, so every sorter spills many runs
        small.threads = 1
        let (_, spilled) = try buildIndex(in: dir, extra: [dir + "/edited.jsonl"], options: small, name: "spilled.idx")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: inMemory)), try Data(contentsOf: URL(fileURLWithPath: spilled)))
        let index = try ReferenceIndex(path: spilled)
        XCTAssertEqual(index.reference(320).group, index.reference(0).group)
        XCTAssertEqual(index.members(ofGroup: index.reference(0).group), [0, 320])
        // The scratch folder is gone.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["edited.jsonl", "reference.idx", "spilled.idx"])
    }

    func testDamagedFilesAreRefused() throws {
        let dir = try TestSupport.temporaryDirectory()
        let (_, path) = try buildIndex(in: dir)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))

        // A flipped bit in the texts: the open reads no text, `verify` finds it (`index verify`:
        // CommandLineTests).
        XCTAssertEqual(try ReferenceIndex(path: path).verify(), [])
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x01
        try TestSupport.write(flipped, to: dir + "/flipped.idx")
        let problems = try ReferenceIndex(path: dir + "/flipped.idx").verify()
        XCTAssertTrue(problems.contains { $0.contains("SHA-256") } && problems.contains { $0.contains("fails its checksum") }, "\(problems)")

        try TestSupport.write(Array(bytes.prefix(bytes.count - 1000)), to: dir + "/truncated.idx")
        XCTAssertThrowsError(try ReferenceIndex(path: dir + "/truncated.idx")) { error in
            XCTAssertTrue("\(error)".contains("outside the file"), "\(error)")
        }

        var version = bytes
        version[8] = 99
        try TestSupport.write(version, to: dir + "/version.idx")
        XCTAssertThrowsError(try ReferenceIndex(path: dir + "/version.idx")) { error in
            XCTAssertTrue("\(error)".contains("format version 99"), "\(error)")
        }

        // Crafted files: checksums right, numbers wrong.
        func crafted(section wanted: UInt32, _ edit: (inout [UInt8], Int) -> Void) -> [UInt8] {
            var crafted = bytes
            let sections = Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 12, as: UInt32.self) })
            for entry in 0..<sections {
                let at = 56 + 32 * entry
                let kind = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
                guard kind == wanted else { continue }
                let offset = Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self) })
                edit(&crafted, offset)
            }
            ReferenceIndex.setChecksums(of: &crafted)
            return crafted
        }
        // A reference whose id lies past the strings: refused at open.
        try TestSupport.write(crafted(section: 2) { bytes, offset in for index in 8..<12 { bytes[offset + index] = 0xFF } }, to: dir + "/record.idx")
        XCTAssertThrowsError(try ReferenceIndex(path: dir + "/record.idx")) { error in
            XCTAssertTrue("\(error)".contains("reference record 0 points outside"), "\(error)")
        }
        // A band entry naming a group the index does not have (the fuzzer found the matcher
        // reading outside the group records): the open does not read the bands; the matcher
        // skips it and `verify` names it.
        try TestSupport.write(crafted(section: 9) { bytes, offset in for index in 8..<16 { bytes[offset + index] = 0xFF } }, to: dir + "/band.idx")
        let band = try ReferenceIndex(path: dir + "/band.idx")
        XCTAssertTrue(band.verify().contains { $0.contains("section bands names group") }, "\(band.verify())")
        var bandScratch = Matcher.Scratch()
        var bandText = try XCTUnwrap(band.text(ofReference: 0))
        let bandVerdict = bandText.withUTF8 { Matcher(index: band, options: MatchOptions(), markers: []).match($0, scratch: &bandScratch) }
        XCTAssertTrue(bandVerdict.matches.allSatisfy { $0.group < band.groupCount })
        // A posting directory that falls back: found nothing where it points, named by `verify`.
        try TestSupport.write(crafted(section: 12) { bytes, offset in for index in 4..<8 { bytes[offset + index] = 0xFF } }, to: dir + "/directory.idx")
        let directory = try ReferenceIndex(path: dir + "/directory.idx")
        XCTAssertTrue(directory.verify().contains("section posting directory points past the postings"), "\(directory.verify())")
        _ = bandText.withUTF8 { Matcher(index: directory, options: MatchOptions(), markers: []).match($0, scratch: &bandScratch) }
        // A posting naming a group the index does not have: the open does not read postings; the
        // matcher skips it and `verify` names it.
        try TestSupport.write(crafted(section: 11) { bytes, offset in for index in 0..<4 { bytes[offset + index] = [0xFF, 0xFF, 0xFF, 0x7F][index] } },
                              to: dir + "/posting.idx")
        let posting = try ReferenceIndex(path: dir + "/posting.idx")
        XCTAssertTrue(posting.verify().contains { $0.contains("names group") }, "\(posting.verify())")
        var scratch = Matcher.Scratch()
        let text = try XCTUnwrap(posting.text(ofReference: 0))
        var copy = text
        let verdict = copy.withUTF8 { Matcher(index: posting, options: MatchOptions(), markers: []).match($0, scratch: &scratch) }
        XCTAssertTrue(verdict.matches.allSatisfy { $0.group < posting.groupCount })

        // A dictionary whose entropy tables are damaged: refused at open.
        try TestSupport.write(crafted(section: 23) { bytes, offset in for index in 8..<64 { bytes[offset + index] = 0xFF } }, to: dir + "/dictionary.idx")
        XCTAssertThrowsError(try ReferenceIndex(path: dir + "/dictionary.idx")) { error in
            XCTAssertTrue("\(error)".contains("is not a zstd dictionary"), "\(error)")
        }
        // A group whose token bytes run past the tokens section, or whose first token lies near
        // the top of a u64 (the fuzzer found the check overflowing): refused at open.
        try TestSupport.write(crafted(section: 5) { bytes, offset in for index in 28..<32 { bytes[offset + index] = 0xFF } }, to: dir + "/tokens.idx")
        try TestSupport.write(crafted(section: 5) { bytes, offset in for index in 16..<24 { bytes[offset + index] = index == 23 ? 0x7F : 0xFF } },
                              to: dir + "/start.idx")
        for name in ["tokens", "start"] {
            XCTAssertThrowsError(try ReferenceIndex(path: dir + "/\(name).idx")) { error in
                XCTAssertTrue("\(error)".contains("group record 0 points outside"), "\(error)")
            }
        }
        // Token numbers past the vocabulary: the open reads no tokens; the matcher aligns with
        // what decodes and `verify` names the group.
        try TestSupport.write(crafted(section: 7) { bytes, offset in for index in 0..<6 { bytes[offset + index] = 0xFF } }, to: dir + "/numbers.idx")
        let numbers = try ReferenceIndex(path: dir + "/numbers.idx")
        XCTAssertTrue(numbers.verify().contains("the tokens of group 0 do not decode"), "\(numbers.verify())")
        var first = try XCTUnwrap(numbers.text(ofReference: numbers.representative(ofGroup: 0)))
        let damaged = first.withUTF8 { Matcher(index: numbers, options: MatchOptions(), markers: []).match($0, scratch: &scratch) }
        XCTAssertFalse(damaged.matches.contains { $0.group == 0 && $0.containment > 0.5 }, "group 0's tokens are not read")

        try TestSupport.write([UInt8]("{\"text\": \"not an index at all\"}\n"), to: dir + "/text.idx")
        XCTAssertThrowsError(try ReferenceIndex(path: dir + "/text.idx")) { error in
            XCTAssertTrue("\(error)".contains("magic"), "\(error)")
        }
    }

    /// A filter large enough for the huge-page allocation (2 MiB of words): every member is
    /// found, and the share of non-members let through is what the bits per member promise.
    func testLargeBlockedBloomFilterKeepsEveryMember() {
        var generator = SplitMix64(seed: 7)
        let members = (0..<400_000).map { _ in generator.next() }
        let filter = BlockedBloomFilter(members, count: members.count, bitsPerHash: 24)
        XCTAssertTrue(members.allSatisfy(filter.mightContain))
        let passed = (0..<100_000).filter { _ in filter.mightContain(generator.next()) }.count
        XCTAssertLessThan(passed, 300, "2^24 bits for 400,000 members, three bits a member: about 0.1% of non-members pass")
        XCTAssertGreaterThan(passed, 0)
    }

    /// At the fewest bits per member the posting filter is built with (12), the share of
    /// non-members let through is what three bits in one word promise (about 0.8% at 16 bits).
    func testPostingFilterTurnsAwayMostNonMembers() {
        var generator = SplitMix64(seed: 8)
        let members = (0..<(1 << 16)).map { _ in generator.next() }
        let filter = BlockedBloomFilter(members, count: members.count, bitsPerHash: IndexFormat.postingFilterBits)
        XCTAssertTrue(members.allSatisfy(filter.mightContain))
        let passed = (0..<100_000).filter { _ in filter.mightContain(generator.next()) }.count
        XCTAssertLessThan(passed, 2_000, "2^20 bits for 2^16 members: about 0.8% pass")
        XCTAssertGreaterThan(passed, 400)
    }
}

extension Array where Element == [UInt8] {
    /// The texts as the raw buffers `TextCodec.trainDictionary` takes.
    func withSamples<R>(_ body: ([UnsafeRawBufferPointer]) -> R) -> R {
        let joined = flatMap { $0 }
        return joined.withUnsafeBytes { all in
            var start = 0
            let samples = map { text -> UnsafeRawBufferPointer in
                defer { start += text.count }
                return UnsafeRawBufferPointer(rebasing: all[start..<(start + text.count)])
            }
            return body(samples)
        }
    }
}
