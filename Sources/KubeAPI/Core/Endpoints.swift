/// The legacy list of a Service's endpoints (`core/v1 Endpoints`), one object named like the Service.
/// Superseded by EndpointSlices, still maintained for tools that read it.
public struct Endpoints: APIObject {
    public static let apiVersion = "v1"
    public static let kind = "Endpoints"
    public static let resource = "endpoints"
    public static let singularResource = "endpoints"
    public static let isNamespaced = true

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var subsets: [EndpointSubset]?

    public init(metadata: ObjectMeta, subsets: [EndpointSubset]? = nil) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.subsets = subsets
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        metadata = try c.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        subsets = try c.decodeIfPresent([EndpointSubset].self, forKey: .subsets)
    }
}

/// A set of addresses that all expose the same ports.
public struct EndpointSubset: Codable, Hashable, Sendable {
    public var addresses: [EndpointAddress]?
    public var notReadyAddresses: [EndpointAddress]?
    public var ports: [EndpointPort]?

    public init(addresses: [EndpointAddress]? = nil, notReadyAddresses: [EndpointAddress]? = nil, ports: [EndpointPort]? = nil) {
        self.addresses = addresses
        self.notReadyAddresses = notReadyAddresses
        self.ports = ports
    }
}

public struct EndpointAddress: Codable, Hashable, Sendable {
    public var ip: String
    public var hostname: String?
    public var nodeName: String?
    public var targetRef: ObjectReference?

    public init(ip: String, hostname: String? = nil, nodeName: String? = nil, targetRef: ObjectReference? = nil) {
        self.ip = ip
        self.hostname = hostname
        self.nodeName = nodeName
        self.targetRef = targetRef
    }
}

/// A port of an endpoint, in Endpoints and EndpointSlices alike.
public struct EndpointPort: Codable, Hashable, Sendable {
    public var name: String?
    public var port: Int32?
    public var `protocol`: TransportProtocol?
    public var appProtocol: String?

    public init(name: String? = nil, port: Int32? = nil, protocol: TransportProtocol? = nil, appProtocol: String? = nil) {
        self.name = name
        self.port = port
        self.protocol = `protocol`
        self.appProtocol = appProtocol
    }
}
