import IPAM

/// A Service: a stable virtual IP (the ClusterIP) and DNS name in front of the pods its selector picks.
public struct Service: APIObject {
    public static let apiVersion = "v1"
    public static let kind = "Service"
    public static let resource = "services"
    public static let isNamespaced = true

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ServiceSpec
    public var status: ServiceStatus

    public init(metadata: ObjectMeta, spec: ServiceSpec = ServiceSpec(), status: ServiceStatus = ServiceStatus()) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        metadata = try c.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try c.decodeIfPresent(ServiceSpec.self, forKey: .spec) ?? ServiceSpec()
        status = try c.decodeIfPresent(ServiceStatus.self, forKey: .status) ?? ServiceStatus()
    }
}

/// What a Service is: its ports, selector, ClusterIPs and policies.
public struct ServiceSpec: Codable, Hashable, Sendable {
    public var type: ServiceType?
    /// Labels of the pods behind the Service. Absent (or empty) means the user manages the endpoints.
    public var selector: [String: String]?
    public var ports: [ServicePort]?
    /// The primary ClusterIP, `None` for a headless Service; always `clusterIPs[0]`.
    public var clusterIP: String?
    public var clusterIPs: [String]?
    public var ipFamilies: [IPFamily]?
    public var ipFamilyPolicy: IPFamilyPolicy?
    public var sessionAffinity: ServiceAffinity?
    public var sessionAffinityConfig: SessionAffinityConfig?
    public var internalTrafficPolicy: TrafficPolicy?
    public var externalTrafficPolicy: TrafficPolicy?
    /// Publish endpoints of pods that are not ready (DNS for StatefulSet peers).
    public var publishNotReadyAddresses: Bool?
    /// The DNS name an `ExternalName` Service is an alias of.
    public var externalName: String?
    public var externalIPs: [String]?
    public var loadBalancerIP: String?
    public var loadBalancerSourceRanges: [String]?
    public var loadBalancerClass: String?
    public var healthCheckNodePort: Int32?
    public var allocateLoadBalancerNodePorts: Bool?
    public var trafficDistribution: String?

    public init(
        type: ServiceType? = nil, selector: [String: String]? = nil, ports: [ServicePort]? = nil,
        clusterIP: String? = nil, clusterIPs: [String]? = nil, ipFamilies: [IPFamily]? = nil,
        ipFamilyPolicy: IPFamilyPolicy? = nil, sessionAffinity: ServiceAffinity? = nil,
        sessionAffinityConfig: SessionAffinityConfig? = nil, internalTrafficPolicy: TrafficPolicy? = nil,
        externalTrafficPolicy: TrafficPolicy? = nil, publishNotReadyAddresses: Bool? = nil,
        externalName: String? = nil, externalIPs: [String]? = nil
    ) {
        self.type = type
        self.selector = selector
        self.ports = ports
        self.clusterIP = clusterIP
        self.clusterIPs = clusterIPs
        self.ipFamilies = ipFamilies
        self.ipFamilyPolicy = ipFamilyPolicy
        self.sessionAffinity = sessionAffinity
        self.sessionAffinityConfig = sessionAffinityConfig
        self.internalTrafficPolicy = internalTrafficPolicy
        self.externalTrafficPolicy = externalTrafficPolicy
        self.publishNotReadyAddresses = publishNotReadyAddresses
        self.externalName = externalName
        self.externalIPs = externalIPs
    }
}

/// One port of a Service.
public struct ServicePort: Codable, Hashable, Sendable {
    /// Required and unique when the Service has more than one port; DNS SRV records use it.
    public var name: String?
    public var `protocol`: TransportProtocol?
    public var appProtocol: String?
    /// The port on the ClusterIP.
    public var port: Int32
    /// The pods' port: a number, or the name of a container port.
    public var targetPort: IntOrString?
    public var nodePort: Int32?

    public init(
        name: String? = nil, protocol: TransportProtocol? = nil, appProtocol: String? = nil, port: Int32,
        targetPort: IntOrString? = nil, nodePort: Int32? = nil
    ) {
        self.name = name
        self.protocol = `protocol`
        self.appProtocol = appProtocol
        self.port = port
        self.targetPort = targetPort
        self.nodePort = nodePort
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        self.protocol = try c.decodeIfPresent(TransportProtocol.self, forKey: .protocol)
        appProtocol = try c.decodeIfPresent(String.self, forKey: .appProtocol)
        // Go decodes a missing port as 0; validation then names it.
        port = try c.decodeIfPresent(Int32.self, forKey: .port) ?? 0
        targetPort = try c.decodeIfPresent(IntOrString.self, forKey: .targetPort)
        nodePort = try c.decodeIfPresent(Int32.self, forKey: .nodePort)
    }
}

public struct SessionAffinityConfig: Codable, Hashable, Sendable {
    public var clientIP: ClientIPConfig?
    public init(clientIP: ClientIPConfig? = nil) { self.clientIP = clientIP }
}

public struct ClientIPConfig: Codable, Hashable, Sendable {
    /// How long a client sticks to one endpoint, 1 to 86400 seconds (default 10800).
    public var timeoutSeconds: Int32?
    public init(timeoutSeconds: Int32? = nil) { self.timeoutSeconds = timeoutSeconds }
}

public struct ServiceStatus: Codable, Hashable, Sendable {
    public var loadBalancer: LoadBalancerStatus?
    public var conditions: [Condition]?
    public init(loadBalancer: LoadBalancerStatus? = nil, conditions: [Condition]? = nil) {
        self.loadBalancer = loadBalancer
        self.conditions = conditions
    }
}

public struct LoadBalancerStatus: Codable, Hashable, Sendable {
    public var ingress: [LoadBalancerIngress]?
    public init(ingress: [LoadBalancerIngress]? = nil) { self.ingress = ingress }
}

public struct LoadBalancerIngress: Codable, Hashable, Sendable {
    public var ip: String?
    public var hostname: String?
    public var ipMode: String?
    public var ports: [JSONValue]?
}

extension Service {
    /// The Service's type, `ClusterIP` when unset.
    public var type: ServiceType { spec.type ?? .clusterIP }

    /// True for `clusterIP: None`.
    public var isHeadless: Bool { spec.clusterIP == "None" }

    /// The selector, or nil when the Service has none (nil or empty: the API server stores the two the same way).
    public var selector: [String: String]? {
        guard let s = spec.selector, !s.isEmpty else { return nil }
        return s
    }

    public var ports: [ServicePort] { spec.ports ?? [] }

    /// The parsed ClusterIPs, primary first; empty for headless and ExternalName Services.
    public var clusterIPAddresses: [IPAddress] {
        (spec.clusterIPs ?? spec.clusterIP.map { [$0] } ?? []).compactMap(IPAddress.init)
    }
}
