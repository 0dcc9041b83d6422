/// Everything the echo servers and client report; each description is one line that names the fix or the target.
public enum EchoError: Error, Hashable, CustomStringConvertible {
    /// A listen address that is not `[HOST]:PORT`.
    case badListenAddress(String, reason: String)
    /// A query URL that is not `tcp://HOST:PORT`, `udp://HOST:PORT` or `http://HOST[:PORT][/PATH]`.
    case badURL(String, reason: String)
    /// A listener that could not be bound (the port is taken, the address is not local, no permission).
    case cannotListen(EchoTransport, address: String, reason: String)
    /// The target did not answer before the deadline.
    case noAnswer(EchoTarget, timeout: Duration)
    /// The target actively refused: TCP RST, or ICMP port unreachable for UDP.
    case refused(EchoTarget)
    /// Any other failure of a query: the connection closed early, an oversized answer, an HTTP error status.
    case failed(EchoTarget, reason: String)

    public var description: String {
        switch self {
        case .badListenAddress(let text, let reason):
            "listen address \"\(text)\" \(reason); give [HOST]:PORT such as :8080, 127.0.0.1:8080 or [::1]:8080"
        case .badURL(let text, let reason):
            "URL \"\(text)\" \(reason); give tcp://HOST:PORT, udp://HOST:PORT or http://HOST:PORT/PATH"
        case .cannotListen(let transport, let address, let reason):
            "cannot listen for \(transport) on \(address): \(reason)"
        case .noAnswer(let target, let timeout):
            "no answer from \(target) within \(Self.seconds(timeout)) s"
        case .refused(let target):
            "\(target) refused the connection (nothing listens there)"
        case .failed(let target, let reason):
            "\(target): \(reason)"
        }
    }

    /// `2`, `0.5`: seconds as a person wrote them on the command line.
    static func seconds(_ duration: Duration) -> String {
        let (whole, attoseconds) = duration.components
        if attoseconds == 0 { return String(whole) }
        return String(Double(whole) + Double(attoseconds) / 1e18)
    }
}
