import IPAM
import Logging
import ProxyCore
import UserspaceProxy

/// `--mode userspace`: the relay in this process (`UserspaceProxy`) listens on each Service port with
/// endpoints and connects clients to them. No kernel rules, no root: a sync hands the relay its new listeners
/// and endpoints.
public final class UserspaceBackend: ProxierBackend {
    public var mode: String { "userspace" }
    public let relay: UserspaceProxy
    private let tables: ServicePortTables
    private let logger: Logger

    public init(families: [IPFamily], relay: UserspaceProxy, logger: Logger) {
        self.relay = relay
        self.logger = logger
        tables = ServicePortTables(families: families)
    }

    public var counts: (servicePorts: Int, endpoints: Int) { tables.counts }

    public func compact() { tables.compact() }

    public func sync(_ updates: [(key: String, ports: [ServicePortState])], family: IPFamily, whole: Bool) async throws -> BackendWrite {
        let (changed, all) = tables.withLock { tables -> (Bool, [ServicePortState]) in
            let change = tables[family]!.apply(updates)
            return (change.before != change.after, tables.keys.sorted { $0 == .ipv4 && $1 != .ipv4 }.flatMap { tables[$0]!.all })
        }
        guard changed || whole else { return .nothing }
        let listeners = await relay.apply(all)
        let failed = listeners.filter { $0.boundAddress == nil }
        if !failed.isEmpty, whole {
            for listener in failed { logger.warning("\(listener.name) \(listener.key): not served: \(listener.error ?? "cannot listen")") }
        }
        return whole ? .full : .partial
    }

    public func cleanup() async { await relay.shutdown() }
}
