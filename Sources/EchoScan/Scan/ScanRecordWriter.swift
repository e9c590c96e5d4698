/// Encodes one document's verdict as a manifest line and a Dolma-style attribute line.
struct ScanRecordWriter: Sendable {
    let index: SegmentedIndex
    /// The style model whose scores the lines carry (nil: the index has none, or style is off).
    let style: StyleModel?
    /// The style attributes' names: model-written (when the model scores it), then one per vendor.
    private let styleAttributes: (modelWritten: String?, vendors: [String])

    init(index: SegmentedIndex, style: StyleModel?) {
        self.index = index
        self.style = style
        let header = style?.header
        styleAttributes = (header?.scoresModelWritten == true ? "echoscan__style_model_written" : nil,
                           header?.vendors.map { "echoscan__style_" + $0 } ?? [])
    }

    /// The manifest line of a flagged document (without newline).
    func manifestLine(shard: String, document: DocumentRecord, verdict: DocumentVerdict) -> [UInt8] {
        var json = JSONWriter(reservingCapacity: 512)
        json.beginObject()
        json.key("shard"); json.string(shard)
        json.key("line"); json.integer(document.line)
        json.key("offset"); json.integer(document.offset)
        json.key("id"); json.optionalString(document.id)
        json.key("field"); json.optionalString(document.field)
        json.key("detectors"); json.beginArray()
        for name in verdict.detectors { json.string(name) }
        json.endArray()
        json.key("matches"); json.beginArray()
        for match in verdict.matches {
            let members = index.members(ofGroup: match.group)
            let reference = index.reference(members[0])
            json.beginObject()
            json.key("ref_id"); json.string(reference.id)
            json.key("model"); json.string(reference.model)
            json.key("vendor"); json.string(reference.vendor)
            json.key("score"); json.number(match.score)
            json.key("false_match_probability"); json.probability(match.falseMatchProbability)
            json.key("jaccard"); json.number(match.jaccard)
            json.key("containment"); json.number(match.containment)
            json.key("doc_coverage"); json.number(match.documentCoverage)
            json.key("matched_words"); json.integer(match.matchedWords)
            json.key("detectors"); json.beginArray()
            if match.isNearDuplicate { json.string("near_duplicate") }
            json.string("containment")
            json.endArray()
            json.key("spans"); json.beginArray()
            for span in match.spans {
                json.beginArray(); json.integer(span.lowerBound); json.integer(span.upperBound); json.endArray()
            }
            json.endArray()
            if members.count > 1 {
                // The same text is known under other ids (exact or near-duplicate references).
                json.key("also"); json.beginArray()
                for member in members.dropFirst() {
                    let other = index.reference(member)
                    json.beginObject()
                    json.key("ref_id"); json.string(other.id)
                    json.key("model"); json.string(other.model)
                    json.key("vendor"); json.string(other.vendor)
                    json.endObject()
                }
                json.endArray()
            }
            json.endObject()
        }
        json.endArray()
        json.key("markers"); json.beginArray()
        for marker in verdict.markers {
            json.beginObject()
            json.key("phrase"); json.string(marker.phrase)
            json.key("vendor"); json.string(marker.vendor)
            json.key("span"); json.beginArray(); json.integer(marker.span.lowerBound); json.integer(marker.span.upperBound); json.endArray()
            json.endObject()
        }
        json.endArray()
        if let style = verdict.style, let model = self.style { writeStyle(style, model: model, to: &json) }
        json.endObject()
        return json.bytes
    }

    /// `"style": {"words", "model_written", "vendor", "vendors": {name: probability}}`; no vendor
    /// below the model's `vendorMinimumWords`.
    func writeStyle(_ style: StyleVerdict, model: StyleModel, to json: inout JSONWriter) {
        json.key("style"); json.beginObject()
        json.key("words"); json.integer(style.words)
        if let written = style.modelWritten { json.key("model_written"); json.probability(written) }
        if let vendor = model.vendor(of: style) {
            json.key("vendor"); json.string(vendor)
            json.key("vendors"); json.beginObject()
            for (number, name) in model.header.vendors.enumerated() { json.key(name); json.probability(style.probability(ofVendor: number)) }
            json.endObject()
        }
        json.endObject()
    }

    /// A document's spans for its record's attribute line.
    func attributeSpans(document: DocumentRecord, verdict: DocumentVerdict) -> AttributeSpans {
        var spans = AttributeSpans()
        if let best = verdict.matches.filter(\.isNearDuplicate).max(by: { $0.jaccard < $1.jaccard }) {
            spans.nearDuplicate.append(.init(range: 0..<document.textRange.count, score: best.jaccard))
        }
        for match in verdict.matches {
            for span in match.spans { spans.containment.append(.init(range: span, score: match.containment)) }
        }
        spans.containment.sort { $0.range.lowerBound != $1.range.lowerBound ? $0.range.lowerBound < $1.range.lowerBound : $0.range.upperBound < $1.range.upperBound }
        for marker in verdict.markers { spans.marker.append(.init(range: marker.span, score: 1)) }
        if let style = verdict.style {
            spans.style.append(.init(range: 0..<document.textRange.count, verdict: style))
        }
        return spans
    }

    /// The attribute line of a record: `{"id": …, "attributes": {"echoscan__<detector>": [[start,
    /// end, score]]}}`, the spans of all its segments (offsets within each segment, in order).
    func attributeLine(id: String?, spans: AttributeSpans) -> [UInt8] {
        var json = JSONWriter(reservingCapacity: 512)
        json.beginObject()
        json.key("id"); json.optionalString(id)
        json.key("attributes"); json.beginObject()
        func list(_ name: String, _ spans: some Sequence<AttributeSpans.Span>) {
            json.key(name); json.beginArray()
            for span in spans {
                json.beginArray(); json.integer(span.range.lowerBound); json.integer(span.range.upperBound); json.number(span.score); json.endArray()
            }
            json.endArray()
        }
        list("echoscan__near_duplicate", spans.nearDuplicate)
        list("echoscan__containment", spans.containment)
        list("echoscan__marker", spans.marker)
        // The style scores as whole-segment spans: model-written, then one attribute per vendor
        // (lazily: a line is written for every document).
        if let name = styleAttributes.modelWritten {
            list(name, spans.style.lazy.compactMap { style in style.verdict.modelWritten.map { .init(range: style.range, score: $0) } })
        }
        for (number, name) in styleAttributes.vendors.enumerated() {
            list(name, spans.style.lazy.compactMap { style in
                style.verdict.vendorCount == 0 ? nil : .init(range: style.range, score: style.verdict.probability(ofVendor: number))
            })
        }
        json.endObject()
        json.endObject()
        return json.bytes
    }
}

/// The spans a record's attribute line lists per detector.
struct AttributeSpans: Sendable {
    struct Span: Sendable {
        var range: Range<Int>
        var score: Double
    }

    var nearDuplicate: [Span] = []
    var containment: [Span] = []
    var marker: [Span] = []
    /// A segment with a style verdict (its model-written score and each vendor's probability).
    struct StyleSpan: Sendable {
        var range: Range<Int>
        var verdict: StyleVerdict
    }

    var style: [StyleSpan] = []

    var isEmpty: Bool { nearDuplicate.isEmpty && containment.isEmpty && marker.isEmpty && style.isEmpty }

    mutating func append(_ other: AttributeSpans) {
        // Most records are one segment: their spans are taken as they are, not copied.
        if isEmpty {
            self = other
            return
        }
        nearDuplicate += other.nearDuplicate
        containment += other.containment
        marker += other.marker
        style += other.style
    }
}
