import KubeAPI
import KubeClient
import Logging
import Synchronization

/// The EndpointSlice and Endpoints controllers, running: informers on Services, Pods, EndpointSlices,
/// Endpoints and Nodes feed local caches; every change marks the Services it concerns, and a worker
/// reconciles those with `EndpointSliceReconciler` and `EndpointsReconciler` and writes the result.
///
/// The worker applies its own writes to the caches at once, so a Service reconciled again before the
/// informers catch up does not create its slices twice.
public final class EndpointsControllerRunner: Sendable {
    struct ServiceKey: Hashable, Sendable {
        var namespace: String
        var name: String
    }

    struct Caches {
        var services: [ServiceKey: Service] = [:]
        var pods: [String: [String: Pod]] = [:]
        var slices: [ServiceKey: [String: EndpointSlice]] = [:]
        var endpoints: [ServiceKey: Endpoints] = [:]
        var nodes: [String: Node] = [:]
        var synced: Set<String> = []
        var dirty: Set<ServiceKey> = []
        var names = SliceNameGenerator()
    }

    private let client: any ClusterClient
    private let caches = Mutex(Caches())
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    private let reconciler: EndpointSliceReconciler
    private let logger: Logger

    public init(client: any ClusterClient, maxEndpointsPerSlice: Int = 100, logger: Logger = Logger(label: "switchboard.endpoints")) {
        self.client = client
        self.reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: maxEndpointsPerSlice)
        self.logger = logger
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Runs until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await Reflector<Service>(client: self.client).run { self.serviceEvent($0) } }
            group.addTask { await Reflector<Pod>(client: self.client).run { self.podEvent($0) } }
            group.addTask { await Reflector<EndpointSlice>(client: self.client).run { self.sliceEvent($0) } }
            group.addTask { await Reflector<Endpoints>(client: self.client).run { self.endpointsEvent($0) } }
            group.addTask { await Reflector<Node>(client: self.client).run { self.nodeEvent($0) } }
            group.addTask { await self.work() }
            await group.next()
            group.cancelAll()
        }
    }

    // MARK: Informer events

    private func markDirty(_ update: (inout Caches) -> Void) {
        caches.withLock { update(&$0) }
        wakeContinuation.yield()
    }

    private func key(_ object: some APIObject) -> ServiceKey { ServiceKey(namespace: object.namespace, name: object.name) }

    func serviceEvent(_ event: ReflectorEvent<Service>) {
        markDirty { c in
            switch event {
            case .replaced(let all):
                let old = Set(c.services.keys)
                c.services = Dictionary(all.map { (self.key($0), $0) }, uniquingKeysWith: { _, b in b })
                c.dirty.formUnion(old.union(c.services.keys))
                c.synced.insert("services")
            case .added(let s), .modified(let s):
                c.services[self.key(s)] = s
                c.dirty.insert(self.key(s))
            case .deleted(let s):
                c.services[self.key(s)] = nil
                c.dirty.insert(self.key(s))
            }
        }
    }

    func podEvent(_ event: ReflectorEvent<Pod>) {
        markDirty { c in
            func touch(_ pod: Pod) {
                for (key, service) in c.services where key.namespace == pod.namespace && service.selects(pod) {
                    c.dirty.insert(key)
                }
            }
            switch event {
            case .replaced(let all):
                c.pods = [:]
                for pod in all { c.pods[pod.namespace, default: [:]][pod.name] = pod }
                c.dirty.formUnion(c.services.keys)
                c.synced.insert("pods")
            case .added(let pod), .modified(let pod):
                if let old = c.pods[pod.namespace]?[pod.name] { touch(old) }
                c.pods[pod.namespace, default: [:]][pod.name] = pod
                touch(pod)
            case .deleted(let pod):
                if let old = c.pods[pod.namespace]?[pod.name] { touch(old) }
                c.pods[pod.namespace]?[pod.name] = nil
                touch(pod)
            }
        }
    }

    func sliceEvent(_ event: ReflectorEvent<EndpointSlice>) {
        markDirty { c in
            func owner(_ slice: EndpointSlice) -> ServiceKey? {
                guard slice.labels[EndpointSlice.managedByLabel] == EndpointSlice.controllerName,
                    let name = slice.labels[EndpointSlice.serviceNameLabel]
                else { return nil }
                return ServiceKey(namespace: slice.namespace, name: name)
            }
            switch event {
            case .replaced(let all):
                c.slices = [:]
                for slice in all { if let k = owner(slice) { c.slices[k, default: [:]][slice.name] = slice } }
                c.dirty.formUnion(c.services.keys)
                c.synced.insert("endpointslices")
            case .added(let slice), .modified(let slice):
                guard let k = owner(slice) else { return }
                // Only changes made by someone else matter; the worker's own writes are already cached.
                if c.slices[k]?[slice.name]?.endpoints != slice.endpoints || c.slices[k]?[slice.name]?.labels != slice.labels {
                    c.dirty.insert(k)
                }
                c.slices[k, default: [:]][slice.name] = slice
            case .deleted(let slice):
                guard let k = owner(slice) else { return }
                if c.slices[k]?.removeValue(forKey: slice.name) != nil { c.dirty.insert(k) }
            }
        }
    }

    func endpointsEvent(_ event: ReflectorEvent<Endpoints>) {
        markDirty { c in
            switch event {
            case .replaced(let all):
                c.endpoints = Dictionary(all.map { (self.key($0), $0) }, uniquingKeysWith: { _, b in b })
                c.dirty.formUnion(c.services.keys)
                c.synced.insert("endpoints")
            case .added(let e), .modified(let e):
                if c.endpoints[self.key(e)]?.subsets != e.subsets { c.dirty.insert(self.key(e)) }
                c.endpoints[self.key(e)] = e
            case .deleted(let e):
                if c.endpoints.removeValue(forKey: self.key(e)) != nil { c.dirty.insert(self.key(e)) }
            }
        }
    }

    func nodeEvent(_ event: ReflectorEvent<Node>) {
        markDirty { c in
            switch event {
            case .replaced(let all):
                c.nodes = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { _, b in b })
                c.synced.insert("nodes")
            case .added(let n), .modified(let n):
                let zoneChanged = c.nodes[n.name]?.labels[EndpointsMetadata.zoneLabel] != n.labels[EndpointsMetadata.zoneLabel]
                c.nodes[n.name] = n
                if !zoneChanged { return }
            case .deleted(let n):
                c.nodes[n.name] = nil
            }
            c.dirty.formUnion(c.services.keys)
        }
    }

    // MARK: The worker

    static let informers: Set<String> = ["services", "pods", "endpointslices", "endpoints", "nodes"]

    private func work() async {
        for await _ in wake {
            while true {
                let next = caches.withLock { c -> ServiceKey? in
                    guard c.synced.isSuperset(of: Self.informers) else { return nil }
                    return c.dirty.popFirst()
                }
                guard let key = next else { break }
                await reconcile(key)
            }
        }
    }

    private func reconcile(_ key: ServiceKey) async {
        struct Plan {
            var slices = EndpointSliceChanges()
            var endpoints = EndpointsChange.none
        }
        let now = Time.now()
        let plan = caches.withLock { c -> Plan in
            guard let service = c.services[key] else { return Plan() }
            let pods = Array((c.pods[key.namespace] ?? [:]).values)
            // Pods not yet on a node count as present; a pod on a node that does not exist is skipped.
            let lookup: NodeLookup = c.nodes.isEmpty ? .anyNode : .nodes(c.nodes.merging(["": Node(metadata: ObjectMeta(name: ""))]) { a, _ in a })
            var plan = Plan()
            plan.slices = reconciler.reconcile(
                service: service, pods: pods, existingSlices: Array((c.slices[key] ?? [:]).values).sorted { $0.name < $1.name },
                nodes: lookup, triggerTime: now, names: &c.names)
            plan.endpoints = EndpointsReconciler().reconcile(service: service, pods: pods, existing: c.endpoints[key], triggerTime: now)
            return plan
        }
        do {
            // Every write of one pass at once: the store commits writes that arrive together in one transaction,
            // so a pass costs one fsync instead of one per object, and the next pass (the pod changes that came
            // meanwhile) starts sooner.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for slice in plan.slices.creates {
                    group.addTask { self.remember(key, try await self.client.create(slice)) }
                }
                for slice in plan.slices.updates {
                    group.addTask { self.remember(key, try await self.client.update(self.unconditional(slice))) }
                }
                for slice in plan.slices.deletes {
                    group.addTask {
                        do {
                            try await self.client.delete(EndpointSlice.self, namespace: slice.namespace, name: slice.name)
                        } catch let status as Status where status.isNotFound {}
                        _ = self.caches.withLock { $0.slices[key]?.removeValue(forKey: slice.name) }
                    }
                }
                switch plan.endpoints {
                case .none: break
                case .create(let e): group.addTask { self.remember(key, try await self.client.create(e)) }
                case .update(let e): group.addTask { self.remember(key, try await self.client.update(self.unconditional(e))) }
                }
                try await group.waitForAll()
            }
        } catch {
            logger.debug("endpoints of \(key.namespace)/\(key.name): \(error); trying again")
            caches.withLock { _ = $0.dirty.insert(key) }
            try? await Task.sleep(for: .milliseconds(100))
            wakeContinuation.yield()
        }
    }

    /// Writes replace what the controller computed, whatever version is stored.
    private func unconditional<T: APIObject>(_ object: T) -> T {
        var o = object
        o.metadata.resourceVersion = nil
        return o
    }

    private func remember(_ key: ServiceKey, _ slice: EndpointSlice) {
        caches.withLock { $0.slices[key, default: [:]][slice.name] = slice }
    }

    private func remember(_ key: ServiceKey, _ endpoints: Endpoints) {
        caches.withLock { $0.endpoints[key] = endpoints }
    }
}
