import DNSZone
import KubeAPI
import KubeClient
import Logging
import Synchronization

/// The zone's data source: Services, EndpointSlices, Namespaces (and Pods, for verified pod records) through
/// list/watch, turned into an immutable `ClusterZoneSnapshot` that is swapped whole on every change.
///
/// Readers take the current snapshot under a lock held for one pointer copy, and never see a half-built zone.
/// When the API server goes away, the reflectors retry and the last good snapshot keeps being served; their
/// relist on return replaces the caches and the snapshot catches up.
public final class ClusterZoneSource: Sendable {
    struct Caches {
        var services: [String: Service] = [:]
        var slices: [String: EndpointSlice] = [:]
        var namespaces: Set<String> = []
        var pods: [String: Pod] = [:]
        var synced: Set<String> = []
        var triggers: [Time] = []
    }

    public let options: ZoneOptions
    let client: any ClusterClient
    let logger: Logger
    private let caches = Mutex(Caches())
    private let current = Mutex<(snapshot: ClusterZoneSnapshot, built: ContinuousClock.Instant)?>(nil)
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    /// Called after each swap with the new snapshot and the trigger times of the changes it holds.
    private let onSwap: @Sendable (ClusterZoneSnapshot, [Time], Duration) -> Void

    public init(
        client: any ClusterClient, options: ZoneOptions, logger: Logger = Logger(label: "switchboard.dns"),
        onSwap: @escaping @Sendable (ClusterZoneSnapshot, [Time], Duration) -> Void = { _, _, _ in }
    ) {
        self.client = client
        self.options = options
        self.logger = logger
        self.onSwap = onSwap
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The snapshot to answer from; nil until every watched kind has been listed once.
    public var snapshot: ClusterZoneSnapshot? { current.withLock { $0?.snapshot } }

    /// How old the snapshot is.
    public var age: Duration? { current.withLock { $0.map { ContinuousClock.now - $0.built } } }

    private var informers: Set<String> {
        options.podsMode == .verified ? ["services", "endpointslices", "namespaces", "pods"] : ["services", "endpointslices", "namespaces"]
    }

    /// Runs until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await Reflector<Service>(client: self.client, logger: self.logger).run { self.apply($0, into: \.services, informer: "services") }
            }
            group.addTask {
                await Reflector<EndpointSlice>(client: self.client, logger: self.logger).run { self.apply($0, into: \.slices, informer: "endpointslices") }
            }
            group.addTask {
                await Reflector<Namespace>(client: self.client, logger: self.logger).run { event in
                    self.caches.withLock { c in
                        switch event {
                        case .replaced(let all): c.namespaces = Set(all.compactMap(\.metadata.name))
                        case .added(let o), .modified(let o): if let name = o.metadata.name { c.namespaces.insert(name) }
                        case .deleted(let o): if let name = o.metadata.name { c.namespaces.remove(name) }
                        }
                        c.synced.insert("namespaces")
                    }
                    self.wakeContinuation.yield()
                }
            }
            if options.podsMode == .verified {
                group.addTask {
                    await Reflector<Pod>(client: self.client, logger: self.logger).run { self.apply($0, into: \.pods, informer: "pods") }
                }
            }
            group.addTask { await self.rebuildLoop() }
            await group.waitForAll()
        }
    }

    private func apply<T: APIObject>(_ event: ReflectorEvent<T>, into path: WritableKeyPath<Caches, [String: T]>, informer: String) {
        func key(_ o: T) -> String { "\(o.metadata.namespace ?? "")/\(o.metadata.name ?? "")" }
        caches.withLock { c in
            switch event {
            case .replaced(let all):
                c[keyPath: path] = Dictionary(all.map { (key($0), $0) }, uniquingKeysWith: { $1 })
                c.synced.insert(informer)
            case .added(let o), .modified(let o):
                if let slice = o as? EndpointSlice, let text = slice.lastChangeTriggerTime,
                    text != (c[keyPath: path][key(o)] as? EndpointSlice)?.lastChangeTriggerTime,
                    let time = try? Time(rfc3339: text)
                {
                    c.triggers.append(time)
                }
                c[keyPath: path][key(o)] = o
            case .deleted(let o):
                c[keyPath: path][key(o)] = nil
            }
        }
        wakeContinuation.yield()
    }

    /// Rebuilds after changes; changes that arrive during a build wait for the next one (coalesced).
    private func rebuildLoop() async {
        for await _ in wake {
            let input = caches.withLock { c -> ([Service], [EndpointSlice], [Pod], [String], [Time])? in
                guard c.synced.isSuperset(of: informers) else { return nil }
                defer { c.triggers.removeAll(keepingCapacity: true) }
                return (Array(c.services.values), Array(c.slices.values), Array(c.pods.values), Array(c.namespaces), c.triggers)
            }
            guard let (services, slices, pods, namespaces, triggers) = input else { continue }
            let started = ContinuousClock.now
            let snapshot = ClusterZoneSnapshot.build(services: services, endpointSlices: slices, pods: pods, namespaces: namespaces, options: options)
            let first = current.withLock { state -> Bool in
                defer { state = (snapshot, ContinuousClock.now) }
                return state == nil
            }
            let took = ContinuousClock.now - started
            if first {
                logger.info("zone \(options.clusterDomain) ready: \(snapshot.serviceCount) services, \(snapshot.endpointCount) endpoints (built in \(took))")
            }
            onSwap(snapshot, triggers, took)
        }
    }
}
