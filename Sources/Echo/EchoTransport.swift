/// The three ways the echo workload answers.
public enum EchoTransport: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case tcp, udp, http

    public var description: String { rawValue }
}
