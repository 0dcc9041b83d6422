// String-valued API fields whose value set is open: an unknown value must decode, so that validation can reject it
// with a field path and the list of supported values, as the API server does.

/// A string with well-known values that is not limited to them. Conformers declare `rawValue` and
/// `init(rawValue:)`; literals, descriptions and Codable come from here.
public protocol OpenEnum: RawRepresentable<String>, Codable, Hashable, Sendable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    init(rawValue: String)
}

extension OpenEnum {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }
}
/// A Service's type.
public struct ServiceType: OpenEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let clusterIP: ServiceType = "ClusterIP"
    public static let nodePort: ServiceType = "NodePort"
    public static let loadBalancer: ServiceType = "LoadBalancer"
    public static let externalName: ServiceType = "ExternalName"
    public static let supported: [ServiceType] = [.clusterIP, .externalName, .loadBalancer, .nodePort]
}

/// A transport protocol of a port.
public struct TransportProtocol: OpenEnum, Comparable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public static let tcp: TransportProtocol = "TCP"
    public static let udp: TransportProtocol = "UDP"
    public static let sctp: TransportProtocol = "SCTP"
    public static let supported: [TransportProtocol] = [.sctp, .tcp, .udp]
}

/// `None` or `ClientIP`.
public struct ServiceAffinity: OpenEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let none: ServiceAffinity = "None"
    public static let clientIP: ServiceAffinity = "ClientIP"
    public static let supported: [ServiceAffinity] = [.clientIP, .none]
}

/// `SingleStack`, `PreferDualStack` or `RequireDualStack`.
public struct IPFamilyPolicy: OpenEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let singleStack: IPFamilyPolicy = "SingleStack"
    public static let preferDualStack: IPFamilyPolicy = "PreferDualStack"
    public static let requireDualStack: IPFamilyPolicy = "RequireDualStack"
    public static let supported: [IPFamilyPolicy] = [.preferDualStack, .requireDualStack, .singleStack]
}

/// `Cluster` or `Local`, for `internalTrafficPolicy` and `externalTrafficPolicy`.
public struct TrafficPolicy: OpenEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let cluster: TrafficPolicy = "Cluster"
    public static let local: TrafficPolicy = "Local"
    public static let supported: [TrafficPolicy] = [.cluster, .local]
}

/// A Pod's lifecycle phase.
public struct PodPhase: OpenEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let pending: PodPhase = "Pending"
    public static let running: PodPhase = "Running"
    public static let succeeded: PodPhase = "Succeeded"
    public static let failed: PodPhase = "Failed"
    public static let unknown: PodPhase = "Unknown"

    /// Succeeded and Failed: the pod will never run again.
    public var isTerminal: Bool { self == .succeeded || self == .failed }
}

/// `Always`, `OnFailure` or `Never`.
public struct RestartPolicy: OpenEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let always: RestartPolicy = "Always"
    public static let onFailure: RestartPolicy = "OnFailure"
    public static let never: RestartPolicy = "Never"
    public static let supported: [RestartPolicy] = [.always, .never, .onFailure]
}

/// An EndpointSlice's address type.
public struct AddressType: OpenEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let ipv4: AddressType = "IPv4"
    public static let ipv6: AddressType = "IPv6"
    public static let fqdn: AddressType = "FQDN"
    public static let supported: [AddressType] = [.fqdn, .ipv4, .ipv6]
}
