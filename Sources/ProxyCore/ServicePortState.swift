import IPAM
import KubeAPI

/// One Service port as the data plane programs it, in one address family: the ClusterIP, protocol and port
/// that packets are matched on, and the endpoints they go to.
public struct ServicePortState: Sendable, Hashable {
    /// `namespace/name:port` (the port's name, or its number when unnamed), for logs and metrics.
    public var name: String
    public var clusterIP: IPAddress
    /// `tcp`, `udp` or `sctp`, as nftables spells them.
    public var transport: String
    public var port: Int
    /// Where new connections go, in a stable order (sorted), so that an unchanged input renders the same rules.
    public var endpoints: [EndpointTarget]
    /// With no endpoints: silence instead of a refusal. `internalTrafficPolicy: Local` with endpoints only on
    /// other nodes: the Service works, just not from here.
    public var dropWhenEmpty: Bool
    /// `sessionAffinity: ClientIP`: how long, in seconds, a client IP stays with the endpoint it last used.
    public var affinityTimeout: Int?

    public init(
        name: String, clusterIP: IPAddress, transport: String, port: Int, endpoints: [EndpointTarget], dropWhenEmpty: Bool = false,
        affinityTimeout: Int? = nil
    ) {
        self.dropWhenEmpty = dropWhenEmpty
        self.affinityTimeout = affinityTimeout
        self.name = name
        self.clusterIP = clusterIP
        self.transport = transport
        self.port = port
        self.endpoints = endpoints
    }
}

/// One endpoint of a Service port: a pod address and its target port.
public struct EndpointTarget: Sendable, Hashable, Comparable {
    public var address: IPAddress
    public var port: Int

    public init(address: IPAddress, port: Int) {
        self.address = address
        self.port = port
    }

    public static func < (a: EndpointTarget, b: EndpointTarget) -> Bool {
        a.address.integerValue != b.address.integerValue ? a.address.integerValue < b.address.integerValue : a.port < b.port
    }
}

/// Why an object was not programmed: it is skipped, everything else goes on.
public struct SkippedObject: Sendable, Hashable, CustomStringConvertible {
    public var object: String
    public var reason: String
    public var description: String { "\(object): \(reason)" }
}
