/// Where a listener binds, written `[HOST]:PORT`: `:8080` (all addresses), `127.0.0.1:0`, `[::1]:8080`.
public struct EchoListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IP address or host name; `nil` binds every address, IPv4 and (when the host has it) IPv6.
    public var host: String?
    /// 0 asks the kernel for a free port; `EchoServer.listeners` reports the one it chose.
    public var port: Int

    public init(host: String?, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `[HOST]:PORT`; a bare `PORT` also means all addresses.
    public init(parsing text: String) throws(EchoError) {
        func bad(_ reason: String) -> EchoError { .badListenAddress(text, reason: reason) }
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw bad("has no closing ]") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw bad("needs :PORT after the bracketed address") }
            portPart = rest.dropFirst()
            guard !hostPart.isEmpty else { throw bad("has empty brackets") }
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") { throw bad("has an IPv6 address outside brackets") }
        } else {
            guard EchoHostPort.port(Substring(text)) != nil else { throw bad("has no :PORT") }
            hostPart = ""
            portPart = Substring(text)
        }
        guard let port = EchoHostPort.port(portPart), port <= 65535 else {
            throw bad("has no port from 0 to 65535")
        }
        guard hostPart.isEmpty || EchoHostPort.isPlausibleHost(hostPart) else {
            throw bad("has a host that is neither an IP address nor a DNS name")
        }
        self.init(host: hostPart.isEmpty ? nil : String(hostPart), port: port)
    }

    public var description: String {
        guard let host else { return ":\(port)" }
        return EchoHostPort.join(host: host, port: port)
    }
}

/// Host and port syntax shared by listen addresses and query URLs.
enum EchoHostPort {
    /// Digits only: `Int("+5")` and `Int(" 5")` would be accepted otherwise.
    static func port(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// IP literals and DNS names; anything else (spaces, slashes, control bytes) would only fail later and
    /// less clearly in getaddrinfo.
    static func isPlausibleHost(_ host: Substring) -> Bool {
        guard host.utf8.count <= 253 else { return false }
        return host.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-._:%".unicodeScalars.contains(scalar))
        }
    }

    /// `10.0.0.5:80`, `[fd00::5]:80`.
    static func join(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
