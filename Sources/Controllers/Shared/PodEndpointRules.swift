import IPAM
import KubeAPI

/// Keys of labels and annotations that the endpoints controllers write.
public enum EndpointsMetadata {
    /// On slices and Endpoints of a Service without a ClusterIP; the value is always empty.
    public static let headlessLabel = "service.kubernetes.io/headless"
    /// When the change that led to this write happened (RFC 3339 with nanoseconds).
    public static let lastChangeTriggerTime = EndpointSlice.lastChangeTriggerTimeAnnotation
    /// Set to `truncated` on an Endpoints object cut down to 1000 addresses.
    public static let overCapacity = "endpoints.kubernetes.io/over-capacity"
    /// The Node label that gives an endpoint its zone.
    public static let zoneLabel = "topology.kubernetes.io/zone"
}

/// The rules both endpoints controllers apply to pods, as upstream's `endpointutil` helpers.
enum PodEndpointRules {
    /// False for pods in a terminal phase, pods without an IP, and (unless `includeTerminating`) pods being deleted.
    static func shouldBeInEndpoints(_ pod: borrowing Pod, includeTerminating: Bool) -> Bool {
        if pod.status.phase?.isTerminal == true { return false }
        if (pod.status.podIP ?? "").isEmpty && (pod.status.podIPs ?? []).isEmpty { return false }
        if !includeTerminating && pod.metadata.deletionTimestamp != nil { return false }
        return true
    }

    /// The first `Ready` condition decides.
    static func isReady(_ pod: borrowing Pod) -> Bool {
        pod.status.conditions?.first { $0.type == PodCondition.ready }?.status == .true
    }

    /// A pod gets a DNS hostname under a Service when its `subdomain` names that Service.
    static func shouldSetHostname(_ pod: borrowing Pod, _ service: Service) -> Bool {
        !(pod.spec.hostname ?? "").isEmpty && pod.spec.subdomain == service.metadata.name
            && pod.metadata.namespace == service.metadata.namespace
    }

    /// Resolves a Service port's `targetPort` on one pod: a number as is, a name by container port name and
    /// protocol. `includeSidecars` also searches init containers with `restartPolicy: Always` (the legacy
    /// Endpoints controller does in 1.32, the EndpointSlice controller does not).
    static func findPort(_ pod: borrowing Pod, _ servicePort: ServicePort, includeSidecars: Bool) -> Int32? {
        switch servicePort.targetPort ?? .int(servicePort.port) {
        case .int(let n):
            return n
        case .string(let name):
            // Indexed loops: containers are large values, and iterating would copy each one.
            func search(_ containers: [Container]?, sidecarsOnly: Bool) -> Int32? {
                guard let containers else { return nil }
                for c in containers.indices where !sidecarsOnly || containers[c].restartPolicy == .always {
                    guard let ports = containers[c].ports else { continue }
                    for p in ports.indices where ports[p].name == name && ports[p].protocol == servicePort.protocol {
                        return ports[p].containerPort
                    }
                }
                return nil
            }
            if let found = search(pod.spec.containers, sidecarsOnly: false) { return found }
            return includeSidecars ? search(pod.spec.initContainers, sidecarsOnly: true) : nil
        }
    }

    /// Go's `net.ParseIP(s).To4() == nil`: an unparsable string and an IPv4-mapped address both count as IPv4.
    static func isIPv6(_ ip: String) -> Bool {
        // Most addresses are IPv4: no colon, no parse.
        guard ip.utf8.contains(UInt8(ascii: ":")), let v6 = IPv6Address(ip) else { return false }
        return !v6.isIPv4Mapped
    }
}

extension Pod {
    /// `Service.selects(self)` as a method, so that a pod in an array is read in place rather than copied.
    @inline(__always)
    func isSelected(by service: Service) -> Bool {
        service.selects(namespace: metadata.namespace, labels: metadata.labels)
    }
}

extension Service {
    /// True when `pod` is in this Service's namespace and carries every label of its selector.
    /// A Service without a selector selects nothing (its endpoints are the user's).
    @inline(__always)
    public func selects(_ pod: Pod) -> Bool {
        selects(namespace: pod.metadata.namespace, labels: pod.metadata.labels)
    }

    /// The same test from the two fields it needs (callers iterating many pods avoid copying each one).
    public func selects(namespace: String?, labels: [String: String]?) -> Bool {
        guard let selector = spec.selector, !selector.isEmpty, namespace == metadata.namespace, let labels else {
            return false
        }
        for (key, value) in selector where labels[key] != value { return false }
        return true
    }

    /// True when the Service has no ClusterIP ("None" or not yet allocated): its slices carry the headless label.
    var isNotIPSet: Bool { (spec.clusterIP ?? "").isEmpty || spec.clusterIP == "None" }

    var publishesNotReadyAddresses: Bool { spec.publishNotReadyAddresses ?? false }
}

/// Where the controllers learn a node's existence and zone.
public enum NodeLookup: Sendable {
    /// Take every pod's node as present, with no zone (for clusters without Node objects).
    case anyNode
    /// Only these nodes exist, by name.
    case nodes([String: Node])

    func find(_ name: String) -> (found: Bool, zone: String?) {
        switch self {
        case .anyNode:
            return (true, nil)
        case .nodes(let nodes):
            guard let node = nodes[name] else { return (false, nil) }
            let zone = node.metadata.labels?[EndpointsMetadata.zoneLabel]
            return (true, zone?.isEmpty == false ? zone : nil)
        }
    }
}
