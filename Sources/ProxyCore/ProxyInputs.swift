import IPAM
import KubeAPI

/// What the proxy reads of a Service, and nothing else: the form a proxier keeps of every Service it watches.
///
/// A decoded `Service` carries its whole API object (metadata, status, a dozen optional fields, each string
/// still pointing into the memory its list response was parsed in); kept for 30,000 Services that is most of a
/// proxier's memory. This keeps the fields `ProxyState.build` uses, in fresh storage.
public struct ProxyService: Sendable, Hashable {
    public var namespace: String
    public var name: String
    public var isExternalName: Bool
    /// The first ClusterIP of each family (`spec.clusterIPs`, or `spec.clusterIP` when that is absent).
    public var ipv4: IPAddress?
    public var ipv6: IPAddress?
    /// `internalTrafficPolicy: Local`.
    public var internalTrafficLocal: Bool
    /// `sessionAffinity: ClientIP`: the timeout (its default when unset), not yet checked; nil otherwise.
    public var affinityTimeout: Int?
    public var ports: [Port]

    public struct Port: Sendable, Hashable {
        /// `""` when unnamed.
        public var name: String
        /// The protocol, lowercased as nftables spells it (`tcp` when unset).
        public var transport: String
        public var port: Int32
    }

    public init(_ service: Service) {
        namespace = (service.metadata.namespace ?? "").freshCopy
        name = (service.metadata.name ?? "").freshCopy
        isExternalName = (service.spec.type ?? .clusterIP) == .externalName
        let ips = service.spec.clusterIPs ?? service.spec.clusterIP.map { [$0] } ?? []
        ipv4 = ips.lazy.compactMap { IPAddress($0) }.first { $0.family == .ipv4 }
        ipv6 = ips.lazy.compactMap { IPAddress($0) }.first { $0.family == .ipv6 }
        internalTrafficLocal = service.spec.internalTrafficPolicy == .local
        affinityTimeout = service.spec.sessionAffinity == .clientIP
            ? Int(service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? Service.defaultClientIPAffinitySeconds) : nil
        ports = (service.spec.ports ?? []).map {
            Port(name: ($0.name ?? "").freshCopy, transport: ($0.protocol ?? .tcp).rawValue.lowercased(), port: $0.port)
        }
    }

    /// The ClusterIP of `family`, if the Service has one.
    public func clusterIP(_ family: IPFamily) -> IPAddress? {
        family == .ipv4 ? ipv4 : family == .ipv6 ? ipv6 : nil
    }
}

/// What the proxy reads of an EndpointSlice: its Service, address family, ports and endpoints' addresses and
/// conditions (see `ProxyService`).
public struct ProxyEndpointSlice: Sendable, Hashable {
    public var namespace: String
    public var name: String
    /// The `kubernetes.io/service-name` label.
    public var serviceName: String?
    /// `addressType` as a family; nil for any other type (FQDN).
    public var family: IPFamily?
    public var ports: [Port]
    /// One entry per address of each endpoint, in order; an endpoint without addresses is one entry with
    /// `address` nil, so that it still counts for `internalTrafficPolicy: Local` elsewhere.
    public var addresses: [Address]

    public struct Port: Sendable, Hashable {
        /// `""` when unnamed.
        public var name: String
        /// Lowercased; `tcp` when unset.
        public var transport: String
        public var port: Int32?
    }

    public struct Address: Sendable, Hashable {
        public var address: String?
        public var nodeName: String?
        public var isReady: Bool
        public var isServing: Bool
        public var isTerminating: Bool
    }

    public init(_ slice: EndpointSlice) {
        namespace = (slice.metadata.namespace ?? "").freshCopy
        name = (slice.metadata.name ?? "").freshCopy
        serviceName = slice.metadata.labels?[EndpointSlice.serviceNameLabel]?.freshCopy
        family = slice.addressType == .ipv4 ? .ipv4 : slice.addressType == .ipv6 ? .ipv6 : nil
        ports = (slice.ports ?? []).map {
            Port(name: ($0.name ?? "").freshCopy, transport: ($0.protocol ?? .tcp).rawValue.lowercased(), port: $0.port)
        }
        var addresses: [Address] = []
        addresses.reserveCapacity(slice.endpoints.reduce(0) { $0 + max(1, $1.addresses.count) })
        for endpoint in slice.endpoints {
            let c = endpoint.conditions
            let nodeName = endpoint.nodeName?.freshCopy
            if endpoint.addresses.isEmpty {
                addresses.append(Address(address: nil, nodeName: nodeName, isReady: c.isReady, isServing: c.isServing, isTerminating: c.isTerminating))
            }
            for text in endpoint.addresses {
                addresses.append(Address(address: text.freshCopy, nodeName: nodeName, isReady: c.isReady, isServing: c.isServing, isTerminating: c.isTerminating))
            }
        }
        self.addresses = addresses
    }
}

extension String {
    /// The same text in storage of its own. A string decoded from a large response shares the allocation
    /// pattern of that response's parse; a long-lived copy made afterwards does not keep those pages in use.
    /// Strings of up to 15 bytes are stored inline and need nothing.
    package var freshCopy: String {
        let count = utf8.count
        guard count > 15 else { return self }
        return String(unsafeUninitializedCapacity: count) { buffer in
            _ = buffer.initialize(fromContentsOf: utf8)
            return count
        }
    }
}

extension ProxyService {
    /// A copy in storage of its own (see `IncrementalModel.compact`).
    public var compacted: ProxyService {
        var copy = self
        copy.namespace = namespace.freshCopy
        copy.name = name.freshCopy
        copy.ports = ports.map { Port(name: $0.name.freshCopy, transport: $0.transport.freshCopy, port: $0.port) }
        return copy
    }
}

extension ProxyEndpointSlice {
    /// A copy in storage of its own (see `IncrementalModel.compact`).
    public var compacted: ProxyEndpointSlice {
        var copy = self
        copy.namespace = namespace.freshCopy
        copy.name = name.freshCopy
        copy.serviceName = serviceName?.freshCopy
        copy.ports = ports.map { Port(name: $0.name.freshCopy, transport: $0.transport.freshCopy, port: $0.port) }
        copy.addresses = addresses.map { Address(address: $0.address?.freshCopy, nodeName: $0.nodeName?.freshCopy, isReady: $0.isReady, isServing: $0.isServing, isTerminating: $0.isTerminating) }
        return copy
    }
}
