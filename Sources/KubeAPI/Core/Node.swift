/// A Node: a machine (here, a node network namespace) that runs pods and carries the proxy.
public struct Node: APIObject {
    public static let apiVersion = "v1"
    public static let kind = "Node"
    public static let resource = "nodes"
    public static let isNamespaced = false

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: NodeSpec
    public var status: NodeStatus

    public init(metadata: ObjectMeta, spec: NodeSpec = NodeSpec(), status: NodeStatus = NodeStatus()) {
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
        spec = try c.decodeIfPresent(NodeSpec.self, forKey: .spec) ?? NodeSpec()
        status = try c.decodeIfPresent(NodeStatus.self, forKey: .status) ?? NodeStatus()
    }
}

public struct NodeSpec: Codable, Hashable, Sendable {
    /// The range pod IPs on this node come from (`10.244.1.0/24`); `podCIDRs` holds one per family.
    public var podCIDR: String?
    public var podCIDRs: [String]?
    public var providerID: String?
    public var unschedulable: Bool?
    public var taints: [Taint]?

    public init(podCIDR: String? = nil, podCIDRs: [String]? = nil, unschedulable: Bool? = nil) {
        self.podCIDR = podCIDR
        self.podCIDRs = podCIDRs
        self.unschedulable = unschedulable
    }
}

public struct Taint: Codable, Hashable, Sendable {
    public var key: String
    public var value: String?
    public var effect: String
    public var timeAdded: Time?
}

public struct NodeStatus: Codable, Hashable, Sendable {
    public var capacity: [String: Quantity]?
    public var allocatable: [String: Quantity]?
    public var phase: String?
    public var conditions: [NodeCondition]?
    public var addresses: [NodeAddress]?
    public var daemonEndpoints: JSONValue?
    public var nodeInfo: NodeSystemInfo?
    public var images: JSONValue?

    public init(conditions: [NodeCondition]? = nil, addresses: [NodeAddress]? = nil) {
        self.conditions = conditions
        self.addresses = addresses
    }
}

/// A resource amount such as `4`, `500m` or `16Gi`. JSON allows a number too; it is kept as text.
public struct Quantity: RawRepresentable, Codable, Hashable, Sendable, ExpressibleByStringLiteral {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            rawValue = s
        } else if let i = try? c.decode(Int64.self) {
            rawValue = String(i)
        } else {
            rawValue = String(try c.decode(Double.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// A node condition such as `Ready`, refreshed by the node's heartbeat.
public struct NodeCondition: Codable, Hashable, Sendable {
    public var type: String
    public var status: ConditionStatus
    public var lastHeartbeatTime: Time?
    public var lastTransitionTime: Time?
    public var reason: String?
    public var message: String?

    public init(
        type: String, status: ConditionStatus, lastHeartbeatTime: Time? = nil, lastTransitionTime: Time? = nil,
        reason: String? = nil, message: String? = nil
    ) {
        self.type = type
        self.status = status
        self.lastHeartbeatTime = lastHeartbeatTime
        self.lastTransitionTime = lastTransitionTime
        self.reason = reason
        self.message = message
    }
}

public struct NodeAddress: Codable, Hashable, Sendable {
    /// `InternalIP`, `ExternalIP`, `Hostname`, …
    public var type: String
    public var address: String
    public init(type: String, address: String) {
        self.type = type
        self.address = address
    }
}

public struct NodeSystemInfo: Codable, Hashable, Sendable {
    public var machineID: String?
    public var systemUUID: String?
    public var bootID: String?
    public var kernelVersion: String?
    public var osImage: String?
    public var containerRuntimeVersion: String?
    public var kubeletVersion: String?
    public var kubeProxyVersion: String?
    public var operatingSystem: String?
    public var architecture: String?
    public init() {}
}

extension Node {
    /// True when the `Ready` condition is `True`.
    public var isReady: Bool {
        status.conditions?.contains { $0.type == "Ready" && $0.status == .true } ?? false
    }
}
