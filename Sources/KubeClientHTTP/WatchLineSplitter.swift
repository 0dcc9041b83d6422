import NIOCore

/// Splits a watch response body, which arrives in arbitrary chunks, into its newline-delimited JSON events.
/// Bounded: a single line longer than `maxLine` is an error rather than unbounded growth.
public struct WatchLineSplitter: Sendable {
    private var pending = ByteBuffer()
    let maxLine: Int

    public init(maxLine: Int = 16 * 1024 * 1024) { self.maxLine = maxLine }

    /// Adds a chunk; returns the complete lines it finished (without their newline, empty lines skipped).
    public mutating func append(_ chunk: ByteBuffer) throws(HTTPTransportError) -> [ByteBuffer] {
        var chunk = chunk
        pending.writeBuffer(&chunk)
        var lines: [ByteBuffer] = []
        while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - pending.readerIndex
            if let line = pending.readSlice(length: length), line.readableBytes > 0 { lines.append(line) }
            pending.moveReaderIndex(forwardBy: 1)
        }
        if pending.readableBytes > maxLine {
            throw HTTPTransportError("a watch event is longer than \(maxLine) bytes")
        }
        pending.discardReadBytes()
        return lines
    }

    /// What is left when the stream ends: a last line without a newline, if any.
    public mutating func finish() -> ByteBuffer? {
        defer { pending.clear() }
        return pending.readableBytes > 0 ? pending : nil
    }
}
