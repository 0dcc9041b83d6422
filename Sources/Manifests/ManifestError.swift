/// Why a manifest could not be read. The description names the document and the field or line.
public struct ManifestError: Error, Hashable, Sendable, CustomStringConvertible {
    /// 1-based position of the document in a multi-document stream; nil when the stream itself is broken.
    public var document: Int?
    public var message: String

    public init(document: Int?, message: String) {
        self.document = document
        self.message = message
    }

    public var description: String {
        document.map { "document \($0): \(message)" } ?? message
    }
}
