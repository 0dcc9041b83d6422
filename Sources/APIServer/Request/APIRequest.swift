import NIOCore

/// A request to the Kubernetes API, independent of HTTP: what the Hummingbird adapter builds from a request on
/// the wire, and what in-process callers build directly.
public struct APIRequest: Sendable {
    public var method: String
    /// The path without the query (`/api/v1/namespaces/default/services`).
    public var path: String
    /// Decoded query parameters, in order; a parameter given twice appears twice.
    public var query: [(name: String, value: String)]
    /// Header names are lower case.
    public var headers: [String: String]
    public var body: ByteBuffer

    public init(method: String, path: String, query: [(name: String, value: String)] = [], headers: [String: String] = [:], body: ByteBuffer = ByteBuffer()) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The first value of a query parameter.
    public func query(_ name: String) -> String? { query.first { $0.name == name }?.value }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// True for `?name=true` (and `1`), as Kubernetes parses booleans.
    func flag(_ name: String) -> Bool { query(name).map { $0 == "true" || $0 == "1" } ?? false }

    /// Parses `a=b&c=d%20e` (with `+` as a space).
    public static func parseQuery(_ text: Substring) -> [(name: String, value: String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (percentDecode(parts[0]), parts.count > 1 ? percentDecode(parts[1]) : "")
        }
    }

    static func percentDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var i = text.utf8.startIndex
        let u = text.utf8
        while i < u.endIndex {
            let c = u[i]
            if c == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else if c == UInt8(ascii: "%"), let h = u.index(i, offsetBy: 2, limitedBy: u.endIndex), h < u.endIndex,
                let value = UInt8(String(decoding: u[u.index(after: i)...h], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                i = h
            } else {
                bytes.append(c)
            }
            i = u.index(after: i)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The answer: a status code, headers and either a body or a stream (watches, logs).
public struct APIResponse: Sendable {
    public enum Body: Sendable {
        case bytes(ByteBuffer)
        /// Chunks written as they come until the stream ends (a watch).
        case stream(WatchStream)
        /// Bytes written as they are produced until the producer returns (a pod's log, followed or not).
        case byteStream(ByteStream)
    }

    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Body

    public init(status: Int, headers: [(name: String, value: String)] = [], body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static func json(_ status: Int, _ buffer: ByteBuffer, headers: [(name: String, value: String)] = []) -> APIResponse {
        APIResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: .bytes(buffer))
    }

    /// The body as bytes (empty for a stream).
    public var bytes: ByteBuffer {
        if case .bytes(let b) = body { return b }
        return ByteBuffer()
    }
}

/// A body produced over time: `run` hands each chunk to `write` and returns when there is no more. The HTTP
/// server cancels it when the client goes away, so a producer that waits for more must stop on cancellation.
public struct ByteStream: Sendable {
    let produce: @Sendable (_ write: (ByteBuffer) async throws -> Void) async throws -> Void

    public init(_ produce: @escaping @Sendable (_ write: (ByteBuffer) async throws -> Void) async throws -> Void) {
        self.produce = produce
    }

    /// Writes the stream through `write`; returns when it is over.
    public func run(_ write: (ByteBuffer) async throws -> Void) async throws {
        try await produce(write)
    }

    /// Everything the stream produces, for streams that end (in-process callers and tests).
    public func collect() async throws -> ByteBuffer {
        var all = ByteBuffer()
        try await run { chunk in
            var chunk = chunk
            all.writeBuffer(&chunk)
        }
        return all
    }
}
