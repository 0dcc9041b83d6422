import HostNetwork
import IPAM
import Logging
import ProxyCore
import Synchronization

/// `--mode nftables`: one table per family (`ip switchboard`, `ip6 switchboard`) whose sets and maps hold the
/// Services (the layout of `NFTablesRuleset`), changed by one atomic `nft -f` transaction per sync that sends
/// only the difference of the elements.
public final class NFTablesBackend: ProxierBackend {
    public var mode: String { "nftables" }
    let configuration: ProxyConfiguration
    let runner: any CommandRunner
    let logger: Logger
    /// The desired table per family, kept Service by Service.
    private let models: Mutex<[IPFamily: IncrementalModel]>
    /// Families whose kernel table matches the model (otherwise the next sync compares with the kernel or
    /// writes the table whole).
    private let known = Mutex<Set<IPFamily>>([])

    public init(families: [IPFamily], configuration: ProxyConfiguration, runner: any CommandRunner, logger: Logger) {
        self.configuration = configuration
        self.runner = runner
        self.logger = logger
        models = Mutex(Dictionary(uniqueKeysWithValues: families.map { ($0, IncrementalModel(family: $0, configuration: configuration)) }))
    }

    public var counts: (servicePorts: Int, endpoints: Int) {
        models.withLock { all in all.values.reduce((0, 0)) { ($0.0 + $1.model.serviceCount, $0.1 + $1.model.endpointCount) } }
    }

    public func compact() {
        for family in models.withLock({ Array($0.keys) }) { models.withLock { $0[family]?.compact() } }
    }

    public func sync(_ updates: [(key: String, ports: [ServicePortState])], family: IPFamily, whole force: Bool) async throws -> BackendWrite {
        let adopting = !known.withLock { $0.contains(family) }
        let whole = force || adopting
        // The whole model is copied only when it is needed: a copy of 30,000 Services is not free.
        let (change, model) = models.withLock { models -> (IncrementalModel.Change, NFTablesModel?) in
            let change = models[family]!.update(updates)
            return (change, whole ? models[family]!.model : nil)
        }
        var text: String
        var full = false
        if let model {
            // A periodic resync reads what the kernel really has, so that drift (an element changed behind our
            // back) is repaired by a difference; a table it cannot read back is written whole. The same reading
            // takes over, after a restart, the table an earlier run left: only what is no longer right is
            // rewritten.
            if let kernel = await kernelModel(family), let difference = NFTablesRuleset.difference(from: kernel, to: model) {
                if adopting {
                    logger.info("adopted the existing \(family == .ipv4 ? "ip" : "ip6") \(NFTablesRuleset.tableName) table (\(kernel.serviceCount) service ports)")
                }
                text = difference
            } else {
                text = NFTablesRuleset.render(model)
                full = true
            }
        } else if let difference = NFTablesRuleset.difference(from: change.before, to: change.after, existingCounts: change.existingCounts) {
            text = difference
        } else {
            text = NFTablesRuleset.render(models.withLock { $0[family]!.model })
            full = true
        }
        if text.isEmpty {
            known.withLock { _ = $0.insert(family) }
            return .nothing
        }
        do {
            do {
                try await runner.check(["nft", "-f", "-"], stdin: text)
            } catch where !full {
                // A partial sync the kernel refused: the table is rewritten whole, in this same sync.
                logger.warning("partial sync refused, writing the table whole: \(error)")
                text = NFTablesRuleset.render(models.withLock { $0[family]!.model })
                full = true
                try await runner.check(["nft", "-f", "-"], stdin: text)
            }
        } catch {
            known.withLock { _ = $0.remove(family) }
            throw error
        }
        known.withLock { _ = $0.insert(family) }
        await ConntrackCleaner.clearStaleUDPFlows(change.staleUDPEndpoints, family: family, runner: runner, logger: logger)
        if full {
            let model = models.withLock { $0[family]!.model }
            logger.info("full sync of the \(family == .ipv4 ? "ip" : "ip6") table: \(model.serviceCount) service ports, \(model.endpointCount) endpoints")
        } else {
            logger.debug("partial sync: \(text.split(separator: "\n").count) operations")
        }
        return full ? .full : .partial
    }

    /// The table as the kernel has it, when it is one this layout wrote for this configuration.
    private func kernelModel(_ family: IPFamily) async -> NFTablesModel? {
        let words = family == .ipv4 ? "ip" : "ip6"
        guard let listing = try? await runner.run(["nft", "list", "table", words, NFTablesRuleset.tableName]), listing.succeeded else { return nil }
        return NFTablesModel.parse(listing: listing.stdout, family: family, configuration: configuration)
    }

    public func cleanup() async {
        for family in models.withLock({ Array($0.keys) }) {
            _ = try? await runner.run(["nft", "-f", "-"], stdin: NFTablesRuleset.deletion(family: family))
        }
    }
}

/// kube-proxy's conntrack reconciler, for the modes that DNAT in the kernel.
enum ConntrackCleaner {
    /// Deletes the conntrack entries of UDP flows to endpoints that left a Service port that still has
    /// others: the flow's next datagram is balanced again instead of going to an address that is gone. Only
    /// those entries: other endpoints' flows and TCP are untouched.
    static func clearStaleUDPFlows(
        _ stale: [(clusterIP: String, port: Int, endpoints: [String])], family: IPFamily, runner: any CommandRunner, logger: Logger
    ) async {
        for (clusterIP, port, endpoints) in stale {
            for endpoint in endpoints {
                let argv = ["conntrack", "-D", "-f", family == .ipv4 ? "ipv4" : "ipv6", "-p", "udp", "--orig-dst", clusterIP,
                            "--orig-port-dst", String(port), "--reply-src", endpoint]
                // Exit 1 means no such entry: nothing to clear.
                if let result = try? await runner.run(argv), result.succeeded {
                    logger.debug("cleared UDP flows \(clusterIP):\(port) → \(endpoint)")
                }
            }
        }
    }
}
