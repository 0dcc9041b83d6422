/// DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766): every message is preceded by its length as two
/// big-endian bytes. Pure functions; the caller owns the socket and the buffer.
public enum DNSTCPFraming {
    /// The message with its length prefix. Throws for messages over 65535 bytes.
    public static func frame(_ message: some Collection<UInt8>) throws(DNSWireError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + 2)
        try appendFrame(message, to: &out)
        return out
    }

    /// Appends the length prefix and the message to `buffer` (to batch several answers into one write).
    public static func appendFrame(_ message: some Collection<UInt8>, to buffer: inout [UInt8]) throws(DNSWireError) {
        let n = message.count
        guard n <= 0xFFFF else { throw .unencodable("TCP message of \(n) bytes") }
        buffer.append(UInt8(n >> 8))
        buffer.append(UInt8(n & 0xFF))
        buffer.append(contentsOf: message)
    }

    /// The byte ranges of the complete messages in `buffer` from `start` (without their prefixes), and the
    /// offset where the incomplete remainder begins. Reads nothing beyond `buffer`.
    public static func completeMessages(in buffer: [UInt8], from start: Int = 0) -> (messages: [Range<Int>], consumed: Int) {
        var ranges: [Range<Int>] = []
        var p = start
        while p + 2 <= buffer.count {
            let n = Int(buffer[p]) << 8 | Int(buffer[p + 1])
            guard p + 2 + n <= buffer.count else { break }
            ranges.append((p + 2)..<(p + 2 + n))
            p += 2 + n
        }
        return (ranges, p)
    }

    /// Removes every complete message from the front of `buffer` and returns them; a partial message stays
    /// for the next read to complete. A zero-length frame yields an empty message (which then fails to
    /// parse with `headerTooShort`; a server should close such a connection).
    public static func extractMessages(from buffer: inout [UInt8]) -> [[UInt8]] {
        let (ranges, consumed) = completeMessages(in: buffer)
        let messages = ranges.map { Array(buffer[$0]) }
        if consumed > 0 { buffer.removeFirst(consumed) }
        return messages
    }

    /// The length a stream must reach before the message starting at `start` is complete: nil until the
    /// two prefix bytes are there. Lets a reader size its next read.
    public static func frameLength(in buffer: [UInt8], at start: Int = 0) -> Int? {
        guard start + 2 <= buffer.count else { return nil }
        return 2 + (Int(buffer[start]) << 8 | Int(buffer[start + 1]))
    }
}
