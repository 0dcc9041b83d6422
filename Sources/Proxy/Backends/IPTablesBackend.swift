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
    private let tables: ServicePortTables
    /// Families whose kernel rules match the table (otherwise the next sync is full).
    private let known = Mutex<Set<IPFamily>>([])
    private let lastFullWrite = Mutex<[IPFamily: ContinuousClock.Instant]>([:])
    private let pendingStale = Mutex<[IPFamily: [(clusterIP: String, port: Int, endpoints: [String])]]>([:])

    public init(families: [IPFamily], configuration: ProxyConfiguration, runner: any CommandRunner, logger: Logger) {
        self.configuration = configuration
        self.runner = runner
        self.logger = logger
        tables = ServicePortTables(families: families)
    }

    public var counts: (servicePorts: Int, endpoints: Int) { tables.counts }

    public func compact() { tables.compact() }

    /// A restore of tens of thousands of chains takes iptables-nft minutes (its chain lookups grow with the
    /// chains it has read): it is waited for, as long as this.
    static let restoreTimeout: Duration = .seconds(1800)

    /// Runs a restore with `text` and throws its output when it fails.
    private func restore(_ text: String, family: IPFamily) async throws {
        let argv = IPTablesRuleset.restoreCommand(family: family)
        let result = try await runner.run(argv, stdin: text, timeout: Self.restoreTimeout)
        guard result.succeeded else { throw CommandError(result.describe(argv)) }
    }

    /// How often a resync writes every chain again (kube-proxy's iptables mode does the same hourly); resyncs in
    /// between check that the kernel still has exactly our chains and jumps, and write everything only if not.
    static let fullSyncPeriod: Duration = .seconds(3600)

    public func sync(_ updates: [(key: String, ports: [ServicePortState])], family: IPFamily, whole force: Bool) async throws -> BackendWrite {
        let isKnown = known.withLock { $0.contains(family) }
        let due = lastFullWrite.withLock { $0[family].map { ContinuousClock.now - $0 >= Self.fullSyncPeriod } ?? true }
        let (old, new, changed) = tables.withLock { tables -> ([ServicePortState], [ServicePortState], (before: [ServicePortState], after: [ServicePortState])) in
            let old = isKnown ? tables[family]!.all : []
            let changed = tables[family]!.apply(updates)
            return (old, tables[family]!.all, changed)
        }
        var full = !isKnown || (force && due)
        if force && !full {
            // A restore of 10,000 Services takes iptables-nft over a minute: a resync first looks whether
            // anything of ours was removed or added behind our back.
            full = await drifted(from: ProxyState(servicePorts: old, skipped: []), family: family)
            if full { logger.warning("the \(family == .ipv4 ? "iptables" : "ip6tables") chains were changed behind the proxy's back: writing them all again") }
        }
        let state = ProxyState(servicePorts: new, skipped: [])
        // Endpoints that left UDP ports, kept until a write succeeds (a failed sync's would be lost otherwise).
        let stale = pendingStale.withLock { pending in
            pending[family, default: []] += ServicePortTable.staleUDPEndpoints(before: changed.before, after: changed.after)
            return pending[family] ?? []
        }
        var wroteFull = full
        do {
            if full {
                try await writeWhole(state, family: family)
            } else {
                let text = IPTablesRuleset.difference(
                    from: ProxyState(servicePorts: old, skipped: []), to: state, family: family, configuration: configuration)
                if text == "" {
                    pendingStale.withLock { $0[family] = nil }
                    await ConntrackCleaner.clearStaleUDPFlows(stale, family: family, runner: runner, logger: logger)
                    return .nothing
                }
                do {
                    if let text { try await restore(text, family: family) } else {
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
        if wroteFull { lastFullWrite.withLock { $0[family] = .now } }
        pendingStale.withLock { $0[family] = nil }
        await ConntrackCleaner.clearStaleUDPFlows(stale, family: family, runner: runner, logger: logger)
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
        try await restore(text, family: family)
        for jump in IPTablesRuleset.jumps(family: family) {
            if let checked = try? await runner.run(jump.arguments(.check)), checked.succeeded { continue }
            try await runner.check(jump.arguments(.insert))
        }
    }

    /// Whether the kernel's chains of ours, their rule counts, or the jumps differ from what `state` was written
    /// as. Counts rather than the rules' text: iptables-save prints rules its own way (probabilities, `recent`
    /// options), but a chain flushed, a rule deleted or one inserted by someone else changes its count.
    private func drifted(from state: ProxyState, family: IPFamily) async -> Bool {
        let save = family == .ipv4 ? "iptables-save" : "ip6tables-save"
        guard let listing = try? await runner.run([save]), listing.succeeded else { return true }
        let expected = IPTablesRuleset.render(state, family: family, configuration: configuration)
        guard IPTablesRuleset.ourChains(inSave: listing.stdout) == IPTablesRuleset.ourChains(inSave: expected),
            Self.ruleCounts(listing.stdout) == Self.ruleCounts(expected)
        else { return true }
        for jump in IPTablesRuleset.jumps(family: family) {
            guard let checked = try? await runner.run(jump.arguments(.check)), checked.succeeded else { return true }
        }
        return false
    }

    /// `table/chain` → number of `-A` rules, for our chains, in restore or save text.
    static func ruleCounts(_ text: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        var table = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("*") { table = String(line.dropFirst()) }
            guard line.hasPrefix("-A ") else { continue }
            let chain = line.dropFirst(3).prefix { $0 != " " }
            if IPTablesRuleset.isOurs(chain) { counts["\(table)/\(chain)", default: 0] += 1 }
        }
        return counts
    }

    /// Our chains as the kernel has them, per table.
    private func ourChains(_ family: IPFamily) async -> [String: Set<String>] {
        let save = family == .ipv4 ? "iptables-save" : "ip6tables-save"
        guard let listing = try? await runner.run([save]), listing.succeeded else { return [:] }
        return IPTablesRuleset.ourChains(inSave: listing.stdout)
    }

    public func cleanup() async {
        for family in tables.families { await Self.removeRules(family: family, runner: runner) }
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
