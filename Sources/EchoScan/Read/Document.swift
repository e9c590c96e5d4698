/// One document read from a shard: where it came from and where its text lies in the batch buffer.
public struct DocumentRecord: Sendable, Equatable {
    /// 1-based line number in the uncompressed shard (row number in a Parquet file).
    public var line: Int
    /// Byte offset of the line in the uncompressed shard (row group in a Parquet file).
    public var offset: Int
    /// The unescaped UTF-8 text, as a range of `DocumentBatch.bytes`.
    public var textRange: Range<Int>
    /// The document's id (a string, or a number's literal), if it has one.
    public var id: String?
    /// Extra string fields asked for by the reader's configuration (e.g. model and vendor).
    public var extras: [String?]
    /// The segment of the record this text is (`text`, `messages[3].content`); nil for the empty
    /// document of a record whose paths selected no string.
    public var field: String?
    /// The element number of the segment in its array (an assistant turn's position), if any.
    public var turn: Int?
    /// The prompt strings that go with the segment, joined by newlines.
    public var prompt: String?

    public init(line: Int, offset: Int, textRange: Range<Int>, id: String?, extras: [String?],
                field: String? = nil, turn: Int? = nil, prompt: String? = nil) {
        self.line = line
        self.offset = offset
        self.textRange = textRange
        self.id = id
        self.extras = extras
        self.field = field
        self.turn = turn
        self.prompt = prompt
    }
}

/// Documents of one shard, their texts packed into one buffer so that a batch costs two allocations.
public struct DocumentBatch: Sendable {
    public var shardIndex: Int
    /// 0-based sequence of this batch within its shard.
    public var sequence: Int
    public var bytes: [UInt8] = []
    public var documents: [DocumentRecord] = []

    public init(shardIndex: Int, sequence: Int) {
        self.shardIndex = shardIndex
        self.sequence = sequence
    }

    /// The text of a document as UTF-8 bytes.
    public func withText<R>(of document: DocumentRecord, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[document.textRange]))
        }
    }

    public func text(of document: DocumentRecord) -> String {
        String(decoding: bytes[document.textRange], as: UTF8.self)
    }
}
