import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one line every echo server answers with: `pod=<NAME> client=<IP>:<PORT>\n`.
public enum EchoAnswer {
    /// The answer for a client at `client`, newline included.
    public static func line(name: String, client: SocketAddress?) -> String {
        "pod=\(name) client=\(clientText(client))\n"
    }

    /// `10.0.0.7:41234` or `[fd00::7]:41234`; an IPv4-mapped IPv6 address (a v4 client of a dual-stack socket)
    /// is shown as the IPv4 address the client really has, so that masquerade checks compare like with like.
    public static func clientText(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "unknown" }
        return EchoHostPort.join(host: unmapped(ip), port: port)
    }

    /// `::ffff:10.0.0.7` → `10.0.0.7`.
    static func unmapped(_ ip: String) -> String {
        let prefix = "::ffff:"
        guard ip.lowercased().hasPrefix(prefix) else { return ip }
        let rest = ip.dropFirst(prefix.count)
        return rest.contains(".") ? String(rest) : ip
    }

    /// The name a pod answers with: `POD_NAME` from the environment (what the node agent sets), else the
    /// `--name` flag, else the hostname. Whitespace and control characters become `_` so that the answer
    /// stays one line of two fields.
    public static func podName(environment: String?, flag: String?) -> String {
        let chosen = [environment, flag].compactMap { $0 }.first { !$0.isEmpty } ?? hostName()
        let cleaned = String(String.UnicodeScalarView(chosen.unicodeScalars.map { scalar in
            scalar.properties.isWhitespace || scalar.properties.generalCategory == .control ? "_" : scalar
        }))
        return cleaned.isEmpty ? "unknown" : cleaned
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
