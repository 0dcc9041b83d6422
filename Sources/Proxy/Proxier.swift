import HostNetwork
import IPAM
import KubeAPI
import KubeClient
import Logging
import Metrics
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
        /// Slice keys by the `namespace/name` of the Service that owns them.
        var slicesByService: [String: Set<String>] = [:]
        /// Services whose ports or endpoints changed since the last sync.
        var dirty: Set<String> = []
        var synced: Set<String> = []
        var forceFull = false
        /// `last-change-trigger-time` of slices changed since the last sync (the pod or Service change that
        /// caused them), for `network_programming_duration_seconds`.
        var triggerTimes: [Time] = []
    }

    public let configuration: ProxierConfiguration
    let client: any ClusterClient
    let runner: any CommandRunner
    let logger: Logger
    private let caches = Mutex(Caches())
    /// The desired table per family, kept Service by Service.
    private let models: Mutex<[IPFamily: IncrementalModel]>
    /// Families whose kernel table matches the model (otherwise the next sync compares with the kernel or
    /// writes the table whole).
    private let known = Mutex<Set<IPFamily>>([])
    private let skippedByService = Mutex<[String: [SkippedObject]]>([:])
    private let lastSkipped = Mutex<Set<SkippedObject>>([])
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    /// When the last sync finished without error (nil: none yet), for /healthz.
    public let lastSuccess = Mutex<ContinuousClock.Instant?>(nil)
    // kube-proxy's metric names where it has them.
    private let syncDuration = Metrics.Timer(label: "kubeproxy_sync_proxy_rules_duration_seconds", preferredDisplayUnit: .seconds)
    private let lastSyncTimestamp = Gauge(label: "kubeproxy_sync_proxy_rules_last_timestamp_seconds")
    private let servicePortsGauge = Gauge(label: "switchboard_proxy_service_ports")
    private let endpointsGauge = Gauge(label: "switchboard_proxy_endpoints")
    private let skippedGauge = Gauge(label: "switchboard_proxy_skipped_objects")
    private let syncFailures = Counter(label: "switchboard_proxy_sync_failures_total")
    /// From the change that made an endpoint (a pod turning ready, a Service edit) to its rules being in the
    /// kernel: what a user waits for.
    private let networkProgramming = Metrics.Timer(label: "kubeproxy_network_programming_duration_seconds", preferredDisplayUnit: .seconds)
    /// Syncs done, transactions sent (full and partial) and failures, for tests and metrics.
    public let counters = Mutex<(syncs: Int, full: Int, partial: Int, failures: Int)>((0, 0, 0, 0))

    public init(client: any ClusterClient, configuration: ProxierConfiguration, runner: any CommandRunner = HostCommandRunner(), logger: Logger = Logger(label: "switchboard.proxy")) {
        self.client = client
        self.configuration = configuration
        self.runner = runner
        self.logger = logger
        models = Mutex(Dictionary(uniqueKeysWithValues: configuration.families.map { ($0, IncrementalModel(family: $0, configuration: configuration.rules)) }))
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
        /// The Service a change touches: the Service itself, or a slice's owner.
        func owner(_ o: T) -> String? {
            if o is Service { return key(o) }
            return o.metadata.labels?["kubernetes.io/service-name"].map { "\(o.metadata.namespace ?? "")/\($0)" }
        }
        caches.withLock { c in
            func index(_ o: T, present: Bool) {
                guard o is EndpointSlice, let service = owner(o) else { return }
                if present { c.slicesByService[service, default: []].insert(key(o)) } else { c.slicesByService[service]?.remove(key(o)) }
            }
            switch event {
            case .replaced(let all):
                for o in c[keyPath: path].values { if let k = owner(o) { c.dirty.insert(k) }; index(o, present: false) }
                c[keyPath: path] = Dictionary(all.map { (key($0), $0) }, uniquingKeysWith: { $1 })
                for o in all { if let k = owner(o) { c.dirty.insert(k) }; index(o, present: true) }
                c.synced.insert(informer)
            case .added(let o), .modified(let o):
                if let slice = o as? EndpointSlice, let text = slice.metadata.annotations?[Self.triggerTimeAnnotation],
                    text != (c[keyPath: path][key(o)] as? EndpointSlice)?.metadata.annotations?[Self.triggerTimeAnnotation],
                    let time = try? Time(rfc3339: text)
                {
                    c.triggerTimes.append(time)
                }
                if let previous = c[keyPath: path][key(o)] {
                    if let k = owner(previous) { c.dirty.insert(k) }
                    index(previous, present: false)
                }
                c[keyPath: path][key(o)] = o
                index(o, present: true)
                if let k = owner(o) { c.dirty.insert(k) }
            case .deleted(let o):
                c[keyPath: path][key(o)] = nil
                index(o, present: false)
                if let k = owner(o) { c.dirty.insert(k) }
            }
        }
        wakeContinuation.yield()
    }

    static let triggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time"

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

    /// One sync: the changed Services' desired state → the difference of each family's table → one `nft -f`
    /// per family where something changed (the whole table when the kernel's is unknown).
    public func sync() async {
        let snapshot = caches.withLock { c -> (changed: [(key: String, service: Service?, slices: [EndpointSlice])], force: Bool, triggers: [Time])? in
            guard c.synced.isSuperset(of: ["services", "endpointslices"]) else { return nil }
            defer {
                c.forceFull = false
                c.dirty.removeAll(keepingCapacity: true)
                c.triggerTimes.removeAll(keepingCapacity: true)
            }
            let changed = c.dirty.map { key in
                (key, c.services[key], (c.slicesByService[key] ?? []).compactMap { c.slices[$0] })
            }
            return (changed, c.forceFull, c.triggerTimes)
        }
        guard let snapshot else { return }
        counters.withLock { $0.syncs += 1 }
        let started = ContinuousClock.now
        var failed = false
        defer {
            syncDuration.recordNanoseconds(Int64((ContinuousClock.now - started) / .nanoseconds(1)))
            if !failed {
                lastSuccess.withLock { $0 = ContinuousClock.now }
                let now = Time.now()
                lastSyncTimestamp.record(Double(now.seconds))
                for trigger in snapshot.triggers {
                    let nanoseconds = (now.seconds - trigger.seconds) * 1_000_000_000 + Int64(now.nanoseconds) - Int64(trigger.nanoseconds)
                    if nanoseconds >= 0 { networkProgramming.recordNanoseconds(nanoseconds) }
                }
            }
            let (ports, endpoints) = models.withLock { all in
                all.values.reduce((0, 0)) { ($0.0 + $1.model.serviceCount, $0.1 + $1.model.endpointCount) }
            }
            servicePortsGauge.record(ports)
            endpointsGauge.record(endpoints)
            skippedGauge.record(skippedByService.withLock { $0.values.reduce(0) { $0 + $1.count } })
        }
        for family in configuration.families {
            var updates: [(key: String, ports: [ServicePortState])] = []
            for (key, service, slices) in snapshot.changed {
                guard let service else {
                    updates.append((key, []))
                    skippedByService.withLock { $0[key] = nil }
                    continue
                }
                let state = ProxyState.build(services: [service], slices: slices, family: family, nodeName: configuration.nodeName)
                updates.append((key, state.servicePorts))
                let previous = skippedByService.withLock { all -> [SkippedObject] in
                    defer { all[key] = state.skipped.isEmpty ? nil : state.skipped }
                    return all[key] ?? []
                }
                for object in state.skipped where !previous.contains(object) { logger.warning("not programmed: \(object)") }
            }
            let adopting = !known.withLock { $0.contains(family) }
            let whole = snapshot.force || adopting
            // The whole model is copied only when it is needed: a copy of 30,000 Services is not free.
            let (change, model) = models.withLock { models -> (IncrementalModel.Change, NFTablesModel?) in
                let change = models[family]!.update(updates)
                return (change, whole ? models[family]!.model : nil)
            }
            var text: String
            var full = false
            if let model {
                // A periodic resync reads what the kernel really has, so that drift (an element changed behind
                // our back) is repaired by a difference; a table it cannot read back is written whole.
                // The same reading takes over, after a restart, the table an earlier run left: only what is
                // no longer right is rewritten.
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
                continue  // nothing changed: no kernel call
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
                known.withLock { _ = $0.insert(family) }
                counters.withLock { if full { $0.full += 1 } else { $0.partial += 1 } }
                await clearStaleUDPFlows(change, family: family)
                if full {
                    let model = models.withLock { $0[family]!.model }
                    logger.info("full sync of the \(family == .ipv4 ? "ip" : "ip6") table: \(model.serviceCount) service ports, \(model.endpointCount) endpoints")
                } else {
                    logger.debug("partial sync: \(text.split(separator: "\n").count) operations")
                }
            } catch {
                failed = true
                syncFailures.increment()
                counters.withLock { $0.failures += 1 }
                known.withLock { _ = $0.remove(family) }
                logger.error("programming the \(family == .ipv4 ? "IPv4" : "IPv6") table failed (retried at the next sync): \(error)")
                caches.withLock { $0.forceFull = true }
            }
        }
    }

    /// Deletes the conntrack entries of UDP flows to endpoints that left a Service port that still has
    /// others (kube-proxy's conntrack reconciler): the flow's next datagram is balanced again instead of going
    /// to an address that is gone. Only those entries: other endpoints' flows and TCP are untouched.
    private func clearStaleUDPFlows(_ change: IncrementalModel.Change, family: IPFamily) async {
        for (clusterIP, port, endpoints) in change.staleUDPEndpoints {
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
