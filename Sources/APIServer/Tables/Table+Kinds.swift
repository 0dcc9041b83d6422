import KubeAPI

/// A kind that `kubectl get` can print server-side.
protocol TablePrintable {
    static var tableColumns: [Table.Column] { get }
    func tableCells(now: Time) -> [JSONValue]
}

extension Service: TablePrintable {
    static let tableColumns: [Table.Column] = [
        Table.nameColumn,
        .init(name: "Type", description: "type determines how the Service is exposed."),
        .init(name: "Cluster-IP", description: "clusterIP is the IP address of the service and is usually assigned randomly."),
        .init(name: "External-IP", description: "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
        .init(name: "Port(s)", description: "The list of ports that are exposed by this service."),
        Table.ageColumn,
        .init(name: "Selector", description: "Route service traffic to pods with label keys and values matching this selector.", priority: 1),
    ]

    func tableCells(now: Time) -> [JSONValue] {
        let clusterIP: String = {
            if type == .externalName { return "<none>" }
            return spec.clusterIPs?.first ?? spec.clusterIP ?? "<none>"
        }()
        let external: String = {
            switch type {
            case .externalName: return spec.externalName ?? "<none>"
            case .loadBalancer:
                let ingress = (status.loadBalancer?.ingress ?? []).compactMap { $0.ip ?? $0.hostname }
                let all = ingress + (spec.externalIPs ?? [])
                return all.isEmpty ? "<pending>" : all.joined(separator: ",")
            default:
                let ips = spec.externalIPs ?? []
                return ips.isEmpty ? "<none>" : ips.joined(separator: ",")
            }
        }()
        let ports = self.ports.map { p in
            let proto = p.protocol?.rawValue ?? "TCP"
            if let node = p.nodePort, node != 0 { return "\(p.port):\(node)/\(proto)" }
            return "\(p.port)/\(proto)"
        }
        let selector = (spec.selector ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return [
            .string(name), .string(type.rawValue), .string(clusterIP), .string(external),
            .string(ports.isEmpty ? "<none>" : ports.joined(separator: ",")),
            .string(Table.age(of: metadata.creationTimestamp, now: now)),
            .string(selector.isEmpty ? "<none>" : selector.joined(separator: ",")),
        ]
    }
}

extension Pod: TablePrintable {
    static let tableColumns: [Table.Column] = [
        Table.nameColumn,
        .init(name: "Ready", description: "The aggregate readiness state of this pod for accepting traffic."),
        .init(name: "Status", description: "The aggregate status of the containers in this pod."),
        .init(name: "Restarts", type: "string", description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
        Table.ageColumn,
        .init(name: "IP", description: "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", priority: 1),
        .init(name: "Node", description: "NodeName is a request to schedule this pod onto a specific node.", priority: 1),
        .init(name: "Nominated Node", description: "nominatedNodeName is set only when this pod preempts other pods on the node.", priority: 1),
        .init(name: "Readiness Gates", description: "If specified, all readiness gates will be evaluated for pod readiness.", priority: 1),
    ]

    /// The STATUS column, as `kubectl get pods` computes it: the phase, or a container's waiting or terminated
    /// reason, or `Terminating`.
    var displayStatus: String {
        var reason = status.reason ?? status.phase?.rawValue ?? "Pending"
        for c in status.containerStatuses ?? [] {
            if let waiting = c.state?.waiting?.reason, !waiting.isEmpty {
                reason = waiting
            } else if let terminated = c.state?.terminated {
                if let r = terminated.reason, !r.isEmpty {
                    reason = r
                } else if let signal = terminated.signal, signal != 0 {
                    reason = "Signal:\(signal)"
                } else {
                    reason = "ExitCode:\(terminated.exitCode)"
                }
            }
        }
        if metadata.deletionTimestamp != nil { reason = status.reason == "NodeLost" ? "Unknown" : "Terminating" }
        return reason
    }

    func tableCells(now: Time) -> [JSONValue] {
        let total = spec.containers?.count ?? 0
        let ready = (status.containerStatuses ?? []).filter { $0.ready }.count
        let restarts = (status.containerStatuses ?? []).reduce(0) { $0 + Int($1.restartCount) }
        let gates = spec.readinessGates?.arrayValue?.count ?? 0
        return [
            .string(name), .string("\(ready)/\(total)"), .string(displayStatus), .string(String(restarts)),
            .string(Table.age(of: metadata.creationTimestamp, now: now)),
            .string(status.podIP ?? "<none>"), .string(spec.nodeName ?? "<none>"),
            .string(status.nominatedNodeName ?? "<none>"), .string(gates == 0 ? "<none>" : "0/\(gates)"),
        ]
    }
}

extension Namespace: TablePrintable {
    static let tableColumns: [Table.Column] = [
        Table.nameColumn,
        .init(name: "Status", description: "The status of the namespace"),
        Table.ageColumn,
    ]

    func tableCells(now: Time) -> [JSONValue] {
        [.string(name), .string(status.phase ?? "Active"), .string(Table.age(of: metadata.creationTimestamp, now: now))]
    }
}

extension Node: TablePrintable {
    static let tableColumns: [Table.Column] = [
        Table.nameColumn,
        .init(name: "Status", description: "The status of the node"),
        .init(name: "Roles", description: "The roles of the node"),
        Table.ageColumn,
        .init(name: "Version", description: "Kubelet Version reported by the node."),
        .init(name: "Internal-IP", description: "List of addresses reachable to the node. Queried from cloud provider, if available.", priority: 1),
        .init(name: "External-IP", description: "List of addresses reachable to the node. Queried from cloud provider, if available.", priority: 1),
        .init(name: "OS-Image", description: "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", priority: 1),
        .init(name: "Kernel-Version", description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", priority: 1),
        .init(name: "Container-Runtime", description: "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", priority: 1),
    ]

    func tableCells(now: Time) -> [JSONValue] {
        var state = isReady ? "Ready" : (status.conditions?.contains { $0.type == "Ready" } == true ? "NotReady" : "Unknown")
        if spec.unschedulable == true { state += ",SchedulingDisabled" }
        let roles = labels.keys.filter { $0.hasPrefix("node-role.kubernetes.io/") }.map { String($0.dropFirst("node-role.kubernetes.io/".count)) }.sorted()
        func address(_ type: String) -> String { status.addresses?.first { $0.type == type }?.address ?? "<none>" }
        return [
            .string(name), .string(state), .string(roles.isEmpty ? "<none>" : roles.joined(separator: ",")),
            .string(Table.age(of: metadata.creationTimestamp, now: now)), .string(status.nodeInfo?.kubeletVersion ?? ""),
            .string(address("InternalIP")), .string(address("ExternalIP")), .string(status.nodeInfo?.osImage ?? "<unknown>"),
            .string(status.nodeInfo?.kernelVersion ?? "<unknown>"), .string(status.nodeInfo?.containerRuntimeVersion ?? "<unknown>"),
        ]
    }
}

extension Endpoints: TablePrintable {
    static let tableColumns: [Table.Column] = [
        Table.nameColumn,
        .init(name: "Endpoints", description: "Endpoints of the service"),
        Table.ageColumn,
    ]

    func tableCells(now: Time) -> [JSONValue] {
        var pairs: [String] = []
        for subset in subsets ?? [] {
            for address in subset.addresses ?? [] {
                let ports = subset.ports ?? []
                if ports.isEmpty { pairs.append(address.ip) }
                for port in ports { pairs.append("\(address.ip):\(port.port ?? 0)") }
            }
        }
        return [.string(name), .string(Table.firstThree(pairs, empty: "<none>")), .string(Table.age(of: metadata.creationTimestamp, now: now))]
    }
}

extension EndpointSlice: TablePrintable {
    static let tableColumns: [Table.Column] = [
        Table.nameColumn,
        .init(name: "AddressType", description: "addressType specifies the type of address carried by this EndpointSlice."),
        .init(name: "Ports", description: "ports specifies the list of network ports exposed by each endpoint in this slice."),
        .init(name: "Endpoints", description: "endpoints is a list of unique endpoints in this slice."),
        Table.ageColumn,
    ]

    func tableCells(now: Time) -> [JSONValue] {
        let ports = (self.ports ?? []).compactMap { $0.port.map(String.init) }
        let addresses = endpoints.flatMap(\.addresses)
        return [
            .string(name), .string(addressType.rawValue), .string(Table.firstThree(ports, empty: "<unset>")),
            .string(Table.firstThree(addresses, empty: "<unset>")), .string(Table.age(of: metadata.creationTimestamp, now: now)),
        ]
    }
}

extension Event: TablePrintable {
    static let tableColumns: [Table.Column] = [
        .init(name: "Last Seen", description: "Time when this Event was last seen"),
        .init(name: "Type", description: "Type of this event (Normal, Warning), new types could be added in the future."),
        .init(name: "Reason", description: "This should be a short, machine understandable string that gives the reason for this event being generated."),
        .init(name: "Object", description: "The object this Event is about."),
        .init(name: "Subobject", description: "The subobject this Event is about.", priority: 1),
        .init(name: "Source", description: "The component reporting this event.", priority: 1),
        .init(name: "Message", description: "A human-readable description of the status of this operation."),
        .init(name: "First Seen", description: "The time at which the event was first recorded.", priority: 1),
        .init(name: "Count", description: "The number of times this event has occurred.", priority: 1),
        .init(name: "Name", format: "name", description: "Name of the event", priority: 1),
    ]

    func tableCells(now: Time) -> [JSONValue] {
        let object = "\((involvedObject.kind ?? "").lowercased())/\(involvedObject.name ?? "")"
        return [
            .string(Table.age(of: lastTimestamp ?? metadata.creationTimestamp, now: now)), .string(type ?? ""),
            .string(reason ?? ""), .string(object), .string(involvedObject.fieldPath ?? ""),
            .string(source?.component ?? ""), .string(message ?? ""),
            .string(Table.age(of: firstTimestamp ?? metadata.creationTimestamp, now: now)), .int(Int64(count ?? 1)),
            .string(name),
        ]
    }
}
