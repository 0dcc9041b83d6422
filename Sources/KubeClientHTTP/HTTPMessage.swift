import NIOCore
import NIOHTTP1

/// One API request: method, path with its query, JSON body.
public struct APIRequestMessage: Sendable {
    public var method: HTTPMethod
    /// Path and query, already percent-encoded (`/api/v1/pods?labelSelector=app%3Dweb`).
    public var target: String
    public var headers: [(String, String)]
    public var body: ByteBuffer?

    public init(method: HTTPMethod, target: String, headers: [(String, String)] = [], body: ByteBuffer? = nil) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }
}

/// A complete response.
public struct APIResponseMessage: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: ByteBuffer
}

/// The connection failed or the server broke the protocol.
public struct HTTPTransportError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }

    static let closed = HTTPTransportError("the API server closed the connection")
}

/// Percent-encoding of query values (RFC 3986 unreserved characters pass).
enum QueryEncoding {
    static func encode(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%"
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0xF)]))
            }
        }
        return out
    }

    /// `?a=1&b=x%3Dy`, or "" when there is nothing to add.
    static func query(_ items: [(String, String?)]) -> String {
        let present = items.compactMap { name, value in value.map { "\(name)=\(encode($0))" } }
        return present.isEmpty ? "" : "?" + present.joined(separator: "&")
    }
}
