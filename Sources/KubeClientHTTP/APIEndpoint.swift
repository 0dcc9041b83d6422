import NIOCore

/// Where an API server listens: `http://127.0.0.1:6443` or a Unix socket (`unix:/path/api.sock`), the form
/// components inside network namespaces use.
public enum APIEndpoint: Sendable, Hashable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// Parses `http://HOST:PORT`, `HOST:PORT` or `unix:PATH` (also `unix://PATH`).
    public init?(_ text: String) {
        if text.hasPrefix("unix:") {
            var path = text.dropFirst("unix:".count)
            if path.hasPrefix("//") { path = path.dropFirst(2) }
            guard !path.isEmpty else { return nil }
            self = .unix(path: String(path))
            return
        }
        var rest = Substring(text)
        if rest.hasPrefix("http://") { rest = rest.dropFirst("http://".count) }
        if rest.hasPrefix("https://") { return nil }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        let host: Substring
        let port: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            port = after.hasPrefix(":") ? after.dropFirst() : "80"
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            port = rest[rest.index(after: colon)...]
        } else {
            host = rest
            port = "80"
        }
        guard !host.isEmpty, let number = Int(port), (1...65535).contains(number) else { return nil }
        self = .tcp(host: String(host), port: number)
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }

    /// The `Host` header: the address for TCP, `localhost` for a socket.
    var hostHeader: String {
        switch self {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix: "localhost"
        }
    }
}
