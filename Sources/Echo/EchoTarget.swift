/// What `EchoClient` queries: `tcp://HOST:PORT`, `udp://HOST:PORT` or `http://HOST[:PORT][/PATH]`, with IPv6
/// hosts in brackets (`tcp://[fd00::5]:8080`).
public struct EchoTarget: Sendable, Hashable, CustomStringConvertible {
    public var transport: EchoTransport
    /// An IP address (without brackets) or a DNS name.
    public var host: String
    public var port: Int
    /// The HTTP request target, `/` when the URL has none; always `/` for TCP and UDP.
    public var path: String

    public init(transport: EchoTransport, host: String, port: Int, path: String = "/") {
        self.transport = transport
        self.host = host
        self.port = port
        self.path = path
    }

    /// Parses a query URL; the error says what is wrong with it.
    public init(parsing url: String) throws(EchoError) {
        func bad(_ reason: String) -> EchoError { .badURL(url, reason: reason) }
        guard let separator = url.firstRange(of: "://") else { throw bad("has no scheme") }
        guard let transport = EchoTransport(rawValue: url[..<separator.lowerBound].lowercased()) else {
            throw bad("has a scheme other than tcp, udp or http")
        }
        let rest = url[separator.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        var path = String(rest[authority.endIndex...])
        if transport != .http, !path.isEmpty, path != "/" { throw bad("has a path, which only http URLs take") }
        if path.isEmpty || path.hasPrefix("?") { path = "/" + path }
        // The path goes into the request line as it is: a space or a line break would forge another request.
        guard path.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else {
            throw bad("has spaces, control or non-ASCII characters in its path; percent-encode them")
        }
        if authority.contains("@") { throw bad("has user information, which echo servers do not take") }

        let host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw bad("has no closing ] after its IPv6 host") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw bad("needs :PORT after the bracketed host") }
                portText = after.dropFirst()
            }
            guard host.contains(":") else { throw bad("has brackets around a host that is not IPv6") }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                host = authority
            }
            if portText?.contains(":") == true { throw bad("has an IPv6 host outside brackets") }
        }
        guard !host.isEmpty else { throw bad("has no host") }
        guard EchoHostPort.isPlausibleHost(host) else { throw bad("has a host that is neither an IP address nor a DNS name") }
        let port: Int
        if let portText {
            guard let number = EchoHostPort.port(portText), (1...65535).contains(number) else {
                throw bad("has no port from 1 to 65535")
            }
            port = number
        } else if transport == .http {
            port = 80
        } else {
            throw bad("has no port")
        }
        self.init(transport: transport, host: String(host), port: port, path: path)
    }

    /// `10.0.0.5:53`, `[fd00::5]:8080`: also the HTTP `Host` header.
    public var hostPort: String { EchoHostPort.join(host: host, port: port) }

    /// The URL again, in a normal form: `udp://10.0.0.5:5353`, `http://[fd00::5]:8080/healthz`.
    public var description: String {
        transport == .http ? "http://\(hostPort)\(path)" : "\(transport)://\(hostPort)"
    }
}
