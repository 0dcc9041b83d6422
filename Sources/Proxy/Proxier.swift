import HostNetwork
import IPAM
import KubeAPI
import KubeClient
import Logging
import ProxyCore
import Synchronization

/// How a proxier runs.
public struct ProxierConfiguration: Sendable {
    /// This node, for `internalTrafficPolicy: Local`.
    public var nodeName: String?
    /// One table per family.
    public var families: [IPFamily]
    public var rules: ProxyConfiguration
    /// Changes within this time of the last sync wait and are programmed together (0: at once).
    public var minSyncPeriod: Duration
    /// A full resync this often, whether or not anything changed: it repairs rules changed behind our back.
    public var syncPeriod: Duration

    public init(
        nodeName: String?, families: [IPFamily], rules: ProxyConfiguration, minSyncPeriod: Duration = .zero,
        syncPeriod: Duration = .seconds(30)
    ) {
        self.nodeName = nodeName
        self.families = families
        self.rules = rules
        self.minSyncPeriod = minSyncPeriod
        self.syncPeriod = syncPeriod
    }
}

/// The nftables proxier: kube-proxy's loop of change tracking → desired state → one atomic ruleset
/// transaction, in the network namespace it runs in.
///
/// Services and EndpointSlices come through `ClusterClient` list/watch (the same against a real
/// kube-apiserver). Every change marks the state dirty and wakes the sync loop; a sync renders each family's
/// table and hands it to `nft -f` only when the text differs from what was last applied, so a sync with no
/// changes makes no kernel call.
public final class Proxier: Sendable {
    struct Caches {
        var services: [String: Service] = [:]
        var slices: [String: EndpointSlice] = [:]
        var synced: Set<String> = []
        var forceFull = false
    }

    public let configuration: ProxierConfiguration
    let client: any ClusterClient
    let runner: any CommandRunner
    let logger: Logger
    private let caches = Mutex(Caches())
    /// What the kernel has, per family, as far as this proxier knows (nil: unknown, the next sync is full).
    private let applied = Mutex<[IPFamily: NFTablesModel]>([:])
    private let adopted = Mutex(false)
    private let lastSkipped = Mutex<Set<SkippedObject>>([])
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    /// Syncs done, transactions sent (full and partial) and failures, for tests and metrics.
    public let counters = Mutex<(syncs: Int, full: Int, partial: Int, failures: Int)>((0, 0, 0, 0))

    public init(client: any ClusterClient, configuration: ProxierConfiguration, runner: any CommandRunner = HostCommandRunner(), logger: Logger = Logger(label: "switchboard.proxy")) {
        self.client = client
        self.configuration = configuration
        self.runner = runner
        self.logger = logger
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Runs until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await Reflector<Service>(client: self.client, logger: self.logger).run { event in
                    self.update(event, into: \.services, informer: "services")
                }
            }
            group.addTask {
                await Reflector<EndpointSlice>(client: self.client, logger: self.logger).run { event in
                    self.update(event, into: \.slices, informer: "endpointslices")
                }
            }
            group.addTask { await self.resyncLoop() }
            group.addTask { await self.syncLoop() }
            await group.waitForAll()
        }
    }

    private func update<T: APIObject>(_ event: ReflectorEvent<T>, into path: WritableKeyPath<Caches, [String: T]>, informer: String) {
        func key(_ o: T) -> String { "\(o.metadata.namespace ?? "")/\(o.metadata.name ?? "")" }
        caches.withLock { c in
            switch event {
            case .replaced(let all):
                c[keyPath: path] = Dictionary(all.map { (key($0), $0) }, uniquingKeysWith: { $1 })
                c.synced.insert(informer)
            case .added(let o), .modified(let o): c[keyPath: path][key(o)] = o
            case .deleted(let o): c[keyPath: path][key(o)] = nil
            }
        }
        wakeContinuation.yield()
    }

    private func resyncLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.syncPeriod)
            caches.withLock { $0.forceFull = true }
            wakeContinuation.yield()
        }
    }

    private func syncLoop() async {
        let clock = ContinuousClock()
        var last = clock.now - configuration.minSyncPeriod
        for await _ in wake {
            let wait = last + configuration.minSyncPeriod - clock.now
            if wait > .zero { try? await Task.sleep(for: wait) }
            last = clock.now
            await sync()
        }
    }

    /// One sync: desired state → ruleset per family → `nft -f` where it changed (or a full resync is due).
    public func sync() async {
        let snapshot = caches.withLock { c -> (services: [Service], slices: [EndpointSlice], force: Bool)? in
            guard c.synced.isSuperset(of: ["services", "endpointslices"]) else { return nil }
            defer { c.forceFull = false }
            return (Array(c.services.values), Array(c.slices.values), c.forceFull)
        }
        guard let snapshot else { return }
        counters.withLock { $0.syncs += 1 }
        await adoptExistingTables()
        var skipped: Set<SkippedObject> = []
        for family in configuration.families {
            let state = ProxyState.build(services: snapshot.services, slices: snapshot.slices, family: family, nodeName: configuration.nodeName)
            skipped.formUnion(state.skipped)
            let model = NFTablesModel(state, family: family, configuration: configuration.rules)
            // A periodic resync reads what the kernel really has, so that drift (a rule or element changed behind
            // our back) is repaired by the same difference; a table it cannot read back is rewritten whole.
            let known = snapshot.force ? await kernelModel(family) : applied.withLock { $0[family] }
            var text: String
            var full = false
            if let known, let difference = NFTablesRuleset.difference(from: known, to: model) {
                text = difference
            } else {
                text = NFTablesRuleset.render(model)
                full = true
            }
            if text.isEmpty { continue }  // nothing changed: no kernel call
            do {
                try await runner.check(["nft", "-f", "-"], stdin: text)
                applied.withLock { $0[family] = model }
                counters.withLock { if full { $0.full += 1 } else { $0.partial += 1 } }
                if full {
                    logger.info("full sync of the \(family == .ipv4 ? "ip" : "ip6") table: \(model.serviceCount) service ports, \(model.endpointCount) endpoints")
                } else {
                    logger.debug("partial sync: \(text.split(separator: "\n").count) operations")
                }
            } catch {
                counters.withLock { $0.failures += 1 }
                applied.withLock { $0[family] = nil }
                logger.error("programming the \(family == .ipv4 ? "IPv4" : "IPv6") table failed (retried at the next sync): \(error)")
            }
        }
        let previous = lastSkipped.withLock { old -> Set<SkippedObject> in
            defer { old = skipped }
            return old
        }
        for object in skipped.subtracting(previous) { logger.warning("not programmed: \(object)") }
    }

    /// Once, before the first sync: takes over tables that an earlier run (same configuration) left, so that a
    /// restart rewrites nothing that is still right.
    private func adoptExistingTables() async {
        guard adopted.withLock({ done in defer { done = true }; return !done }) else { return }
        for family in configuration.families {
            guard let model = await kernelModel(family) else { continue }
            applied.withLock { $0[family] = model }
            logger.info("adopted the existing \(family == .ipv4 ? "ip" : "ip6") \(NFTablesRuleset.tableName) table (\(model.serviceCount) service ports)")
        }
    }

    /// The table as the kernel has it, when it is one this layout wrote for this configuration.
    private func kernelModel(_ family: IPFamily) async -> NFTablesModel? {
        let words = family == .ipv4 ? "ip" : "ip6"
        guard let listing = try? await runner.run(["nft", "list", "table", words, NFTablesRuleset.tableName]), listing.succeeded else { return nil }
        return NFTablesModel.parse(listing: listing.stdout, family: family, configuration: configuration.rules)
    }

    /// Removes this proxier's tables.
    public func cleanup() async {
        for family in configuration.families {
            _ = try? await runner.run(["nft", "-f", "-"], stdin: NFTablesRuleset.deletion(family: family))
        }
    }
}
