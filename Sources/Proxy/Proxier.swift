#if canImport(Glibc)
import Glibc
#endif
import HostNetwork
import IPAM
import KubeAPI
import KubeClient
import Logging
import Metrics
import NIOPosix
import ProxyCore
import Synchronization
import UserspaceProxy

/// The data plane a proxier programs (`--mode`).
public enum ProxyMode: String, Sendable, CaseIterable {
    /// Sets and maps in one nftables table per family: one lookup per packet whatever the number of Services.
    case nftables
    /// kube-proxy's iptables chains: rules walked one by one per new connection.
    case iptables
    /// A relay in the proxy's own process: no root, no netfilter.
    case userspace

    /// Whether the mode programs the kernel's netfilter (and so needs root and the tools).
    public var programsNetfilter: Bool { self != .userspace }
}

/// How a proxier runs.
public struct ProxierConfiguration: Sendable {
    public var mode: ProxyMode
    /// The relay's limits, for `mode == .userspace`.
    public var userspace: UserspaceProxyConfiguration
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
        syncPeriod: Duration = .seconds(30), mode: ProxyMode = .nftables, userspace: UserspaceProxyConfiguration = UserspaceProxyConfiguration()
    ) {
        self.mode = mode
        self.userspace = userspace
        self.nodeName = nodeName
        self.families = families
        self.rules = rules
        self.minSyncPeriod = minSyncPeriod
        self.syncPeriod = syncPeriod
    }
}

/// The proxier: kube-proxy's loop of change tracking → desired state → one backend per mode
/// (`NFTablesBackend`, `IPTablesBackend`, `UserspaceBackend`), in the network namespace it runs in.
///
/// Services and EndpointSlices come through `ClusterClient` list/watch (the same against a real
/// kube-apiserver). Every change marks the Service dirty and wakes the sync loop; a sync computes the dirty
/// Services' ports per family and hands them to the backend, which programs only the difference (a sync with
/// no changes makes no kernel call).
public final class Proxier: Sendable {
    struct Caches {
        /// What the proxy reads of each Service and EndpointSlice (not the whole objects: at 30,000 Services
        /// those would be most of the process's memory), by `namespace/name`.
        var services: [String: ProxyService] = [:]
        var slices: [String: CachedSlice] = [:]
        /// Slice keys by the `namespace/name` of the Service that owns them.
        var slicesByService: [String: Set<String>] = [:]
        /// Services whose ports or endpoints changed since the last sync.
        var dirty: Set<String> = []
        var synced: Set<String> = []
        var forceFull = false
        /// `last-change-trigger-time` of slices changed since the last sync (the pod or Service change that
        /// caused them), for `network_programming_duration_seconds`.
        var triggerTimes: [Time] = []
        /// Services changed since the caches and models were last compacted.
        var changedSinceCompaction = 0
    }

    /// An EndpointSlice as the proxier keeps it: what the ruleset needs, and its trigger-time annotation.
    struct CachedSlice: ProxierCached {
        var slice: ProxyEndpointSlice
        var triggerTime: String?

        init(_ object: EndpointSlice) {
            slice = ProxyEndpointSlice(object)
            triggerTime = object.lastChangeTriggerTime?.freshCopy
        }

        init(slice: ProxyEndpointSlice, triggerTime: String?) {
            self.slice = slice
            self.triggerTime = triggerTime
        }

        var owner: String? { slice.serviceName.map { "\(slice.namespace)/\($0)" } }
    }

    public let configuration: ProxierConfiguration
    let client: any ClusterClient
    /// The mode's data plane.
    public let backend: any ProxierBackend
    let logger: Logger
    private let caches = Mutex(Caches())
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

    /// A proxier with the backend of `configuration.mode`.
    public convenience init(
        client: any ClusterClient, configuration: ProxierConfiguration, runner: any CommandRunner = HostCommandRunner(),
        logger: Logger = Logger(label: "switchboard.proxy")
    ) {
        let backend: any ProxierBackend
        switch configuration.mode {
        case .nftables: backend = NFTablesBackend(families: configuration.families, configuration: configuration.rules, runner: runner, logger: logger)
        case .iptables: backend = IPTablesBackend(families: configuration.families, configuration: configuration.rules, runner: runner, logger: logger)
        case .userspace:
            let relay = UserspaceProxy(configuration: configuration.userspace, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
            backend = UserspaceBackend(families: configuration.families, relay: relay, logger: logger)
        }
        self.init(client: client, configuration: configuration, backend: backend, logger: logger)
    }

    public init(client: any ClusterClient, configuration: ProxierConfiguration, backend: any ProxierBackend, logger: Logger = Logger(label: "switchboard.proxy")) {
        self.client = client
        self.configuration = configuration
        self.backend = backend
        self.logger = logger
        _ = Self.mallocConfigured
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

    private func update<T: APIObject, C: ProxierCached>(_ event: ReflectorEvent<T>, into path: WritableKeyPath<Caches, [String: C]>, informer: String)
        where C.Object == T
    {
        func key(_ o: T) -> String { "\(o.metadata.namespace ?? "")/\(o.metadata.name ?? "")" }
        caches.withLock { c in
            /// Slices are indexed by the Service that owns them; the Service a change touches is marked dirty.
            func index(_ key: String, _ o: C, present: Bool) {
                guard C.isSlice, let service = o.owner else { return }
                if present { c.slicesByService[service, default: []].insert(key) } else { c.slicesByService[service]?.remove(key) }
            }
            switch event {
            case .replaced(let all):
                for (k, o) in c[keyPath: path] { if let s = o.owner { c.dirty.insert(s) }; index(k, o, present: false) }
                var fresh: [String: C] = [:]
                fresh.reserveCapacity(all.count)
                for object in all { fresh[key(object)] = C(object) }
                c[keyPath: path] = fresh
                for (k, o) in fresh { if let s = o.owner { c.dirty.insert(s) }; index(k, o, present: true) }
                c.synced.insert(informer)
            case .added(let object), .modified(let object):
                let k = key(object)
                let o = C(object)
                let previous = c[keyPath: path][k]
                if let text = o.triggerTime, text != previous?.triggerTime, let time = try? Time(rfc3339: text) {
                    c.triggerTimes.append(time)
                }
                if let previous {
                    if let s = previous.owner { c.dirty.insert(s) }
                    index(k, previous, present: false)
                }
                c[keyPath: path][k] = o
                index(k, o, present: true)
                if let s = o.owner { c.dirty.insert(s) }
            case .deleted(let object):
                let k = key(object)
                let o = C(object)
                c[keyPath: path][k] = nil
                index(k, o, present: false)
                if let s = o.owner { c.dirty.insert(s) }
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

    /// One sync: the changed Services' desired state → the difference of each family's table → one `nft -f`
    /// per family where something changed (the whole table when the kernel's is unknown).
    public func sync() async {
        // A sync of a whole table leaves tens of MB freed (the rendered ruleset, the kernel's table read back)
        // in pages that malloc keeps: they go back to the system here, once everything of the sync is released.
        // After a sync of many Services (a start, a relist) what stays (the caches, the model) was allocated
        // among the decoded list and the sync's temporaries, a little on every page, which keeps those pages
        // resident however much of them is free: it is copied once into memory of its own (at 30,000 Services
        // the process goes from some 190 MB resident to 115).
        switch await syncChanges() {
        case .small: break
        case .whole: Self.releaseFreedMemory()
        case .many:
            Self.releaseFreedMemory()
            compact()
            Self.releaseFreedMemory()
        }
    }

    /// How much a sync touched, for what `sync` does after it.
    enum SyncSize { case small, whole, many }

    /// Copies the caches and the models into new storage (equal contents), one structure per lock taken, so
    /// that watch events wait for one copy at most (at 30,000 Services, some 100 ms).
    private func compact() {
        caches.withLock { c in
            var services: [String: ProxyService] = [:]
            services.reserveCapacity(c.services.count)
            for (key, service) in c.services { services[key.freshCopy] = service.compacted }
            c.services = services
        }
        caches.withLock { c in
            var slices: [String: CachedSlice] = [:]
            slices.reserveCapacity(c.slices.count)
            for (key, slice) in c.slices { slices[key.freshCopy] = CachedSlice(slice: slice.slice.compacted, triggerTime: slice.triggerTime?.freshCopy) }
            c.slices = slices
        }
        caches.withLock { c in
            var index: [String: Set<String>] = [:]
            index.reserveCapacity(c.slicesByService.count)
            for (service, keys) in c.slicesByService {
                var fresh = Set<String>(minimumCapacity: keys.count)
                for key in keys { fresh.insert(key.freshCopy) }
                index[service.freshCopy] = fresh
            }
            c.slicesByService = index
        }
        backend.compact()
    }

    /// What the sync touched: whole tables, or enough Services since the last compaction.
    private func syncChanges() async -> SyncSize {
        let snapshot = caches.withLock {
            c -> (changed: [(key: String, service: ProxyService?, slices: [ProxyEndpointSlice])], force: Bool, triggers: [Time], compact: Bool)? in
            guard c.synced.isSuperset(of: ["services", "endpointslices"]) else { return nil }
            defer {
                c.forceFull = false
                c.dirty.removeAll(keepingCapacity: true)
                c.triggerTimes.removeAll(keepingCapacity: true)
            }
            let changed = c.dirty.map { key in
                (key, c.services[key], (c.slicesByService[key] ?? []).compactMap { c.slices[$0]?.slice })
            }
            // Compacting costs the size of everything: done once as many Services changed as half of all
            // there are (and at least `bigSync`), so that it is paid for by the changes.
            c.changedSinceCompaction += changed.count
            let compact = c.changedSinceCompaction >= max(Self.bigSync, c.services.count / 2)
            if compact { c.changedSinceCompaction = 0 }
            return (changed, c.forceFull, c.triggerTimes, compact)
        }
        guard let snapshot else { return .small }
        let many = snapshot.compact
        // A resync reads the kernel's whole table back: tens of MB to release afterwards.
        var wroteWhole = snapshot.force
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
                    let nanoseconds = now.nanoseconds(since: trigger)
                    if nanoseconds >= 0 { networkProgramming.recordNanoseconds(nanoseconds) }
                }
            }
            let (ports, endpoints) = backend.counts
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
            do {
                switch try await backend.sync(updates, family: family, whole: snapshot.force) {
                case .nothing: break
                case .partial: counters.withLock { $0.partial += 1 }
                case .full:
                    counters.withLock { $0.full += 1 }
                    wroteWhole = true
                }
            } catch {
                failed = true
                syncFailures.increment()
                counters.withLock { $0.failures += 1 }
                logger.error("programming the \(family == .ipv4 ? "IPv4" : "IPv6") \(backend.mode) rules failed (retried at the next sync): \(error)")
                caches.withLock { $0.forceFull = true }
            }
        }
        return many ? .many : wroteWhole ? .whole : .small
    }

    /// Changed Services from which the caches and models are compacted after a sync (a start, a relist, or
    /// that many changes since the last compaction).
    static let bigSync = 1_000

    /// Returns the free pages of every malloc arena to the system (glibc's `malloc_trim(0)`; nothing where
    /// there is none). Called after big syncs only: it walks the whole heap.
    static func releaseFreedMemory() {
        #if canImport(Glibc)
        typealias Trim = @convention(c) (Int) -> Int32
        if let symbol = dlsym(nil, "malloc_trim") { _ = unsafeBitCast(symbol, to: Trim.self)(0) }
        #endif
    }

    /// Sets glibc's trim threshold to its default, 128 KiB, which also stops glibc from raising it (with the
    /// mmap threshold) after the first large buffer is freed, the 14 MB list responses here: then the free top
    /// of each thread's arena, tens of MB after a start, is returned as soon as it is freed. (`malloc_trim`
    /// returns free pages inside an arena but not the top of the arenas of other threads.) Once per process.
    static let mallocConfigured: Bool = {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
        if let symbol = dlsym(nil, "mallopt") { return unsafeBitCast(symbol, to: Mallopt.self)(trimThreshold, 128 * 1024) == 1 }
        #endif
        return false
    }()

    /// Removes what this proxier's backend programmed.
    public func cleanup() async { await backend.cleanup() }

    /// Removes what a proxier in another mode left in this network namespace (kube-proxy's cleanup of
    /// leftovers): rules of two modes would both match, and the older ones win. Needs root; nothing to do for
    /// a mode that was never run.
    public static func removeOtherModes(than mode: ProxyMode, families: [IPFamily], runner: any CommandRunner = HostCommandRunner()) async {
        for family in families {
            if mode != .nftables, HostCommandRunner.which("nft") != nil {
                let words = family == .ipv4 ? "ip" : "ip6"
                if let listed = try? await runner.run(["nft", "list", "table", words, NFTablesRuleset.tableName]), listed.succeeded {
                    _ = try? await runner.run(["nft", "-f", "-"], stdin: NFTablesRuleset.deletion(family: family))
                }
            }
            if mode != .iptables { await IPTablesBackend.removeRules(family: family, runner: runner) }
        }
    }
}

/// How the proxier keeps one kind of watched object.
protocol ProxierCached: Sendable {
    associatedtype Object: APIObject
    init(_ object: Object)
    /// `namespace/name` of the Service a change of this object touches.
    var owner: String? { get }
    /// `last-change-trigger-time`, for slices.
    var triggerTime: String? { get }
    /// Slices are indexed by their Service.
    static var isSlice: Bool { get }
}

extension ProxyService: ProxierCached {
    var owner: String? { "\(namespace)/\(name)" }
    var triggerTime: String? { nil }
    static var isSlice: Bool { false }
}

extension Proxier.CachedSlice {
    static var isSlice: Bool { true }
}
