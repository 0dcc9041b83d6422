import IPAM
import ProxyCore
import Synchronization

/// One proxy mode's data plane (kube-proxy's split: the proxier tracks changes and computes the desired Service
/// ports; a backend per mode makes the node match them). A backend is told only what changed, Service by
/// Service, and keeps whatever it needs to program a difference.
public protocol ProxierBackend: Sendable {
    /// `nftables`, `iptables`, `userspace`: for logs.
    var mode: String { get }

    /// Programs one family's changes: `updates` are the changed Services' ports in `family` (none: the
    /// Service is gone, or has no port in this family).
    ///
    /// - Parameter whole: a periodic resync: the backend compares with what the kernel really has (or writes
    ///   everything), which repairs rules changed behind its back. A backend also does this by itself on its
    ///   first sync and after a failure.
    /// - Returns: what was written.
    /// - Throws: when programming failed; the proxier retries with `whole` at the next sync.
    func sync(_ updates: [(key: String, ports: [ServicePortState])], family: IPFamily, whole: Bool) async throws -> BackendWrite

    /// Service ports and endpoints programmed, for metrics.
    var counts: (servicePorts: Int, endpoints: Int) { get }

    /// Copies what the backend keeps into fresh storage after a big sync (see `Proxier.compact`).
    func compact()

    /// Removes everything this backend programmed.
    func cleanup() async
}

/// What one `ProxierBackend.sync` wrote.
public enum BackendWrite: Sendable, Equatable {
    /// Nothing had changed: no kernel call.
    case nothing
    /// Only what changed.
    case partial
    /// Everything, e.g. the first sync, a resync or a repair.
    case full
}

/// A `ServicePortTable` per family behind one lock, with the counts and compaction a backend reports: what
/// the iptables and userspace backends keep (the nftables backend keeps its own element model).
final class ServicePortTables: Sendable {
    private let tables: Mutex<[IPFamily: ServicePortTable]>

    init(families: [IPFamily]) {
        tables = Mutex(Dictionary(uniqueKeysWithValues: families.map { ($0, ServicePortTable()) }))
    }

    var families: [IPFamily] { tables.withLock { Array($0.keys) } }

    func withLock<R: Sendable>(_ body: (inout [IPFamily: ServicePortTable]) -> R) -> R {
        tables.withLock { body(&$0) }
    }

    var counts: (servicePorts: Int, endpoints: Int) {
        tables.withLock { all in all.values.reduce((0, 0)) { ($0.0 + $1.servicePortCount, $0.1 + $1.endpointCount) } }
    }

    /// One family at a time, so that a watch event waits for one copy at most.
    func compact() {
        for family in families { tables.withLock { $0[family]?.compact() } }
    }
}

/// The desired Service ports of one family, Service by Service.
struct ServicePortTable: Sendable {
    private(set) var byService: [String: [ServicePortState]] = [:]
    private(set) var servicePortCount = 0
    private(set) var endpointCount = 0

    /// Applies `updates`; returns the ports before and after of the Services they touched.
    @discardableResult
    mutating func apply(_ updates: [(key: String, ports: [ServicePortState])]) -> (before: [ServicePortState], after: [ServicePortState]) {
        var before: [ServicePortState] = []
        var after: [ServicePortState] = []
        for (key, ports) in updates {
            if let old = byService[key] {
                before += old
                servicePortCount -= old.count
                endpointCount -= old.reduce(0) { $0 + $1.endpoints.count }
            }
            byService[key] = ports.isEmpty ? nil : ports
            after += ports
            servicePortCount += ports.count
            endpointCount += ports.reduce(0) { $0 + $1.endpoints.count }
        }
        return (before, after)
    }

    /// Every port, in a stable order.
    var all: [ServicePortState] { byService.keys.sorted().flatMap { byService[$0]! } }

    mutating func compact() {
        var fresh: [String: [ServicePortState]] = [:]
        fresh.reserveCapacity(byService.count)
        for (key, ports) in byService { fresh[key.freshCopy] = ports.map { $0 } }
        byService = fresh
    }

    /// UDP Service ports that lost endpoints but kept at least one: their conntrack entries to the removed
    /// endpoints must go (see `IncrementalModel.Change.staleUDPEndpoints`).
    static func staleUDPEndpoints(before: [ServicePortState], after: [ServicePortState]) -> [(clusterIP: String, port: Int, endpoints: [String])] {
        func key(_ p: ServicePortState) -> String { "\(p.clusterIP)/\(p.port)" }
        var remaining: [String: Set<String>] = [:]
        for p in after where p.transport == "udp" { remaining[key(p), default: []].formUnion(p.endpoints.map(\.address.description)) }
        var stale: [(String, Int, [String])] = []
        for p in before where p.transport == "udp" {
            guard let left = remaining[key(p)], !left.isEmpty else { continue }
            let removed = Set(p.endpoints.map(\.address.description)).subtracting(left)
            if !removed.isEmpty { stale.append((p.clusterIP.description, p.port, removed.sorted())) }
        }
        return stale
    }
}
