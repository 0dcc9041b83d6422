import HostNetwork
import IPAM
import Logging
import ProxyCore
import Synchronization

/// `--mode iptables`: kube-proxy's iptables layout under our chain names (`IPTablesRuleset`), programmed with
/// one `iptables-restore --noflush` per family and sync. A partial sync rewrites the top-level chains and only
/// the chains of Service ports that changed; a full sync (the first, a periodic resync, a repair) declares
/// every chain of ours and deletes the stale ones.
///
/// The price of iptables: the kernel walks `SWITCHBOARD-SERVICES` rule by rule, so a new connection's cost
/// grows with the number of Service ports, and every sync rewrites that chain whole.
public final class IPTablesBackend: ProxierBackend {
    public var mode: String { "iptables" }
    let configuration: ProxyConfiguration
    let runner: any CommandRunner
    let logger: Logger
    private let tables: Mutex<[IPFamily: ServicePortTable]>
    /// Families whose kernel rules match the table (otherwise the next sync is full).
    private let known = Mutex<Set<IPFamily>>([])

    public init(families: [IPFamily], configuration: ProxyConfiguration, runner: any CommandRunner, logger: Logger) {
        self.configuration = configuration
        self.runner = runner
        self.logger = logger
        tables = Mutex(Dictionary(uniqueKeysWithValues: families.map { ($0, ServicePortTable()) }))
    }

    public var counts: (servicePorts: Int, endpoints: Int) {
        tables.withLock { all in all.values.reduce((0, 0)) { ($0.0 + $1.servicePortCount, $0.1 + $1.endpointCount) } }
    }

    public func compact() {
        for family in tables.withLock({ Array($0.keys) }) { tables.withLock { $0[family]?.compact() } }
    }

    public func sync(_ updates: [(key: String, ports: [ServicePortState])], family: IPFamily, whole force: Bool) async throws -> BackendWrite {
        let full = force || !known.withLock { $0.contains(family) }
        let (old, new, changed) = tables.withLock { tables -> ([ServicePortState], [ServicePortState], (before: [ServicePortState], after: [ServicePortState])) in
            let old = full ? [] : tables[family]!.all
            let changed = tables[family]!.apply(updates)
            return (old, tables[family]!.all, changed)
        }
        let state = ProxyState(servicePorts: new, skipped: [])
        var wroteFull = full
        do {
            if full {
                try await writeWhole(state, family: family)
            } else {
                let text = IPTablesRuleset.difference(
                    from: ProxyState(servicePorts: old, skipped: []), to: state, family: family, configuration: configuration)
                if text == "" { return .nothing }
                do {
                    if let text { try await runner.check(IPTablesRuleset.restoreCommand(family: family), stdin: text) } else {
                        try await writeWhole(state, family: family)
                        wroteFull = true
                    }
                } catch {
                    // A partial restore the kernel refused (a chain removed behind our back): everything is
                    // written again, in this same sync.
                    logger.warning("partial restore refused, writing every chain: \(error)")
                    wroteFull = true
                    try await writeWhole(state, family: family)
                }
            }
        } catch {
            known.withLock { _ = $0.remove(family) }
            throw error
        }
        known.withLock { _ = $0.insert(family) }
        if !full {
            await ConntrackCleaner.clearStaleUDPFlows(
                ServicePortTable.staleUDPEndpoints(before: changed.before, after: changed.after), family: family, runner: runner, logger: logger)
        }
        if wroteFull {
            logger.info("full sync of the \(family == .ipv4 ? "iptables" : "ip6tables") rules: \(new.count) service ports, \(new.reduce(0) { $0 + $1.endpoints.count }) endpoints")
        }
        return wroteFull ? .full : .partial
    }

    /// Every chain of ours declared and filled, stale ones deleted, in one restore; then the jumps from the
    /// built-in chains, each added when missing (a restore cannot add a rule only if it is missing).
    private func writeWhole(_ state: ProxyState, family: IPFamily) async throws {
        let existing = await ourChains(family)
        let text = IPTablesRuleset.render(state, family: family, configuration: configuration, existingChains: existing)
        try await runner.check(IPTablesRuleset.restoreCommand(family: family), stdin: text)
        for jump in IPTablesRuleset.jumps(family: family) {
            if let checked = try? await runner.run(jump.arguments(.check)), checked.succeeded { continue }
            try await runner.check(jump.arguments(.insert))
        }
    }

    /// Our chains as the kernel has them, per table.
    private func ourChains(_ family: IPFamily) async -> [String: Set<String>] {
        let save = family == .ipv4 ? "iptables-save" : "ip6tables-save"
        guard let listing = try? await runner.run([save]), listing.succeeded else { return [:] }
        return IPTablesRuleset.ourChains(inSave: listing.stdout)
    }

    public func cleanup() async {
        for family in tables.withLock({ Array($0.keys) }) { await Self.removeRules(family: family, runner: runner) }
    }

    /// Removes every jump and chain of ours in `family`, whichever proxier wrote them (also used to clear
    /// what an earlier run in another mode left).
    static func removeRules(family: IPFamily, runner: any CommandRunner) async {
        let program = family == .ipv4 ? "iptables" : "ip6tables"
        guard HostCommandRunner.which(program + "-save") != nil,
            let listing = try? await runner.run([program + "-save"]), listing.succeeded
        else { return }
        // No chain of ours, no jump to one: nothing is touched (a `-D` alone would make iptables-nft create the
        // tables it names).
        let chains = IPTablesRuleset.ourChains(inSave: listing.stdout)
        guard !chains.isEmpty else { return }
        for jump in IPTablesRuleset.jumps(family: family) {
            // A jump inserted twice (two runs racing) is removed twice.
            for _ in 0..<4 {
                guard let removed = try? await runner.run(jump.arguments(.delete)), removed.succeeded else { break }
            }
        }
        let text = IPTablesRuleset.deletion(existingChains: chains)
        if !text.isEmpty { _ = try? await runner.run(IPTablesRuleset.restoreCommand(family: family), stdin: text) }
    }
}
