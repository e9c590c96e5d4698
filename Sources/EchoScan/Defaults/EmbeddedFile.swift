/// A default file compiled into the binary, with the repository path it was made from.
struct EmbeddedFile: Sendable {
    let path: String
    /// The file's text without its last newline.
    let text: String
}
