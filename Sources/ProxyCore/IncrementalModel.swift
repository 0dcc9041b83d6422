import IPAM
import KubeAPI

/// One family's table kept up to date Service by Service: kube-proxy's change tracking. A change of one
/// Service (or of its EndpointSlices) costs the work of that Service, not of all of them, and yields the
/// partial model of what changed, ready for `NFTablesRuleset.difference`.
public struct IncrementalModel: Sendable {
    public private(set) var model: NFTablesModel
    /// Each Service's ports as last programmed, by `namespace/name`.
    private var fragments: [String: [ServicePortState]] = [:]
    /// How many Service ports use each ClusterIP and each hairpin element: shared elements go only when the
    /// last user goes.
    private var clusterIPUsers: [String: Int] = [:]
    private var hairpinUsers: [String: Int] = [:]

    public init(family: IPFamily, configuration: ProxyConfiguration) {
        model = NFTablesModel(ProxyState(servicePorts: [], skipped: []), family: family, configuration: configuration)
    }

    /// The part of the table that one batch of updates changed: the elements before and after, and the
    /// endpoint counts the kernel had before.
    public struct Change: Sendable {
        public var before: NFTablesModel
        public var after: NFTablesModel
        public var existingCounts: Set<Int>
        public var isEmpty: Bool { before == after }

        /// UDP Service ports that lost endpoints but kept at least one: `(ClusterIP, port, removed endpoint
        /// IPs)`. Their conntrack entries to the removed endpoints must go, or a client's next datagram on the
        /// same flow is still DNATed to an endpoint that is gone. A port left with no endpoint keeps its entries
        /// (nothing would be better), and TCP is never touched.
        public var staleUDPEndpoints: [(clusterIP: String, port: Int, endpoints: [String])] {
            func byServicePort(_ model: NFTablesModel) -> [String: Set<String>] {
                var out: [String: Set<String>] = [:]
                for (key, port) in model.affinity { out[key, default: []].formUnion(port.endpoints.map(\.address.description)) }
                for elements in model.backends.values {
                    for (key, value) in elements {
                        // `ClusterIP . proto . port . slot`: the Service port is all but the slot.
                        let parts = key.split(separator: " . ", omittingEmptySubsequences: false)
                        guard parts.count == 4 else { continue }
                        out[parts.dropLast().joined(separator: " . "), default: []].insert(String(value.prefix { $0 != " " }))
                    }
                }
                return out
            }
            let old = byServicePort(before)
            let new = byServicePort(after)
            var stale: [(String, Int, [String])] = []
            for (servicePort, endpoints) in old.sorted(by: { $0.key < $1.key }) {
                let parts = servicePort.split(separator: " . ")
                guard parts.count == 3, parts[1] == "udp", let port = Int(parts[2]) else { continue }
                // A port whose endpoint set changed has all its new elements in `after` (a count change moves
                // every slot to another map; a same-count change shows the changed slots), so what is not there
                // is gone. No element there at all: the port has no endpoint left, and keeps its entries.
                let remaining = new[servicePort] ?? []
                let removed = endpoints.subtracting(remaining)
                if !removed.isEmpty && !remaining.isEmpty { stale.append((String(parts[0]), port, removed.sorted())) }
            }
            return stale
        }
    }

    /// The same contents in new storage, allocated in one go. After a sync of thousands of Services the model's
    /// 200,000-odd strings and arrays sit between the sync's freed temporaries (and a decoded list before
    /// them), one or two per memory page, and keep every such page resident; made again once that memory is
    /// free, they fill a few pages densely, and the rest can go back to the system. Equal before and after.
    public mutating func compact() {
        model = model.compacted
        var fresh: [String: [ServicePortState]] = [:]
        fresh.reserveCapacity(fragments.count)
        for (key, ports) in fragments { fresh[key.freshCopy] = ports.map(\.compacted) }
        fragments = fresh
        clusterIPUsers = clusterIPUsers.compacted
        // The model's hairpin set and these counts share their strings.
        var users: [String: Int] = [:]
        users.reserveCapacity(hairpinUsers.count)
        for (pair, count) in hairpinUsers {
            let shared = model.hairpin.firstIndex(of: pair).map { model.hairpin[$0] } ?? pair.freshCopy
            users[shared] = count
        }
        hairpinUsers = users
    }

    /// Replaces the ports of the Service `key` (empty: the Service is gone) in the model; returns what changed.
    public mutating func update(_ updates: [(key: String, ports: [ServicePortState])]) -> Change {
        let empty = NFTablesModel(ProxyState(servicePorts: [], skipped: []), family: model.family, configuration: model.configuration)
        var before = empty
        var after = empty
        let existingCounts = Set(model.counts)
        for (key, ports) in updates {
            let old = fragments[key] ?? []
            if old == ports { continue }
            let oldPart = NFTablesModel(ProxyState(servicePorts: old, skipped: []), family: model.family, configuration: model.configuration)
            let newPart = NFTablesModel(ProxyState(servicePorts: ports, skipped: []), family: model.family, configuration: model.configuration)
            // Per-port maps: the old elements leave, the new ones come.
            for k in oldPart.serviceIPs.keys { before.serviceIPs[k] = model.serviceIPs.removeValue(forKey: k) }
            for k in oldPart.noEndpoints.keys { before.noEndpoints[k] = model.noEndpoints.removeValue(forKey: k) }
            for (n, elements) in oldPart.backends {
                for k in elements.keys {
                    before.backends[n, default: [:]][k] = model.backends[n]?.removeValue(forKey: k)
                }
                if model.backends[n]?.isEmpty == true { model.backends[n] = nil }
            }
            for k in oldPart.affinity.keys { before.affinity[k] = model.affinity.removeValue(forKey: k) }
            for (k, v) in newPart.affinity { model.affinity[k] = v; after.affinity[k] = v }
            for (k, v) in newPart.serviceIPs { model.serviceIPs[k] = v; after.serviceIPs[k] = v }
            for (k, v) in newPart.noEndpoints { model.noEndpoints[k] = v; after.noEndpoints[k] = v }
            for (n, elements) in newPart.backends {
                for (k, v) in elements { model.backends[n, default: [:]][k] = v; after.backends[n, default: [:]][k] = v }
            }
            // Shared sets: by users.
            for ip in oldPart.clusterIPs {
                clusterIPUsers[ip, default: 0] -= 1
                if clusterIPUsers[ip] == 0 { clusterIPUsers[ip] = nil; model.clusterIPs.remove(ip); before.clusterIPs.insert(ip) }
            }
            for ip in newPart.clusterIPs {
                clusterIPUsers[ip, default: 0] += 1
                if clusterIPUsers[ip] == 1 { model.clusterIPs.insert(ip); after.clusterIPs.insert(ip) }
            }
            for pair in oldPart.hairpin {
                hairpinUsers[pair, default: 0] -= 1
                if hairpinUsers[pair] == 0 { hairpinUsers[pair] = nil; model.hairpin.remove(pair); before.hairpin.insert(pair) }
            }
            for pair in newPart.hairpin {
                hairpinUsers[pair, default: 0] += 1
                if hairpinUsers[pair] == 1 { model.hairpin.insert(pair); after.hairpin.insert(pair) }
            }
            fragments[key] = ports.isEmpty ? nil : ports
        }
        // An element both removed and re-added with the same value is no change.
        for (k, v) in after.serviceIPs where before.serviceIPs[k] == v { before.serviceIPs[k] = nil; after.serviceIPs[k] = nil }
        for (k, v) in after.noEndpoints where before.noEndpoints[k] == v { before.noEndpoints[k] = nil; after.noEndpoints[k] = nil }
        for (n, elements) in after.backends {
            for (k, v) in elements where before.backends[n]?[k] == v { before.backends[n]?[k] = nil; after.backends[n]?[k] = nil }
        }
        for (k, v) in after.affinity where before.affinity[k] == v { before.affinity[k] = nil; after.affinity[k] = nil }
        for ip in after.clusterIPs.intersection(before.clusterIPs) { after.clusterIPs.remove(ip); before.clusterIPs.remove(ip) }
        for pair in after.hairpin.intersection(before.hairpin) { after.hairpin.remove(pair); before.hairpin.remove(pair) }
        before.backends = before.backends.filter { !$0.value.isEmpty }
        after.backends = after.backends.filter { !$0.value.isEmpty }
        return Change(before: before, after: after, existingCounts: existingCounts)
    }
}

extension ServicePortState {
    /// A copy in storage of its own (see `IncrementalModel.compact`).
    var compacted: ServicePortState {
        var copy = self
        copy.name = name.freshCopy
        copy.transport = transport.freshCopy
        copy.endpoints = endpoints.map { $0 }
        return copy
    }
}

extension Dictionary where Key == String, Value == Int {
    var compacted: [String: Int] {
        var fresh: [String: Int] = [:]
        fresh.reserveCapacity(count)
        for (key, value) in self { fresh[key.freshCopy] = value }
        return fresh
    }
}
