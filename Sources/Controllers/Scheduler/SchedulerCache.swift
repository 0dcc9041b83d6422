import KubeAPI

/// What the scheduler knows: every pod and node the informers delivered, how many pods occupy each node, and
/// which pods wait for one. Kept incrementally, so that a pod event costs O(1) however many pods there are.
///
/// Like kube-scheduler's cache it *assumes* a binding as soon as it is written: the pod counts on its node at
/// once, and an older copy of the pod (an informer event from before the binding) does not make it pending
/// again; the assumption ends when the informer shows the pod bound, deleted, or replaced by a new one.
struct SchedulerCache: Sendable {
    struct PodKey: Hashable, Comparable, Sendable {
        var namespace: String
        var name: String

        static func < (a: PodKey, b: PodKey) -> Bool { (a.namespace, a.name) < (b.namespace, b.name) }
    }

    struct Assumption: Hashable, Sendable {
        var uid: String
        var node: String
    }

    private(set) var pods: [PodKey: Pod] = [:]
    private(set) var nodes: [String: Node] = [:]
    private(set) var assumed: [PodKey: Assumption] = [:]
    private(set) var podsPerNode: [String: Int] = [:]
    private(set) var pending: Set<PodKey> = []

    static func key(_ pod: Pod) -> PodKey { PodKey(namespace: pod.namespace, name: pod.name) }

    // MARK: Pods

    mutating func replacePods(_ all: [Pod]) {
        let keep = assumed
        pods = [:]
        assumed = [:]
        podsPerNode = [:]
        pending = []
        for pod in all {
            let key = Self.key(pod)
            if let assumption = keep[key] { assumed[key] = assumption }
            setPod(pod, key: key)
        }
    }

    mutating func updatePod(_ pod: Pod) {
        let key = Self.key(pod)
        count(key, by: -1)
        setPod(pod, key: key)
    }

    mutating func removePod(_ pod: Pod) {
        let key = Self.key(pod)
        count(key, by: -1)
        pods[key] = nil
        assumed[key] = nil
        pending.remove(key)
    }

    /// Records a binding just written: the pod occupies `node` from now on.
    mutating func assume(_ key: PodKey, uid: String, node: String) {
        // The informer may have been quicker: the pod is gone, replaced, or already shows its node.
        guard let pod = pods[key], (pod.metadata.uid ?? "") == uid, (pod.spec.nodeName ?? "").isEmpty else { return }
        count(key, by: -1)
        assumed[key] = Assumption(uid: uid, node: node)
        pending.remove(key)
        count(key, by: 1)
    }

    /// A stored pod, with its (older) copy replaced and its assumption kept only while it still applies.
    private mutating func setPod(_ pod: Pod, key: PodKey) {
        pods[key] = pod
        if let assumption = assumed[key], !(pod.spec.nodeName ?? "").isEmpty || assumption.uid != (pod.metadata.uid ?? "") {
            assumed[key] = nil
        }
        if NodeChoice.needsNode(pod) && assumed[key] == nil {
            pending.insert(key)
        } else {
            pending.remove(key)
        }
        count(key, by: 1)
    }

    /// The node a pod counts against: where it is bound, or where this scheduler has just bound it.
    func occupiedNode(_ key: PodKey) -> String? {
        guard let pod = pods[key] else { return nil }
        if let node = NodeChoice.occupiedNode(pod) { return node }
        guard let assumption = assumed[key], !(pod.status.phase?.isTerminal ?? false) else { return nil }
        return assumption.node
    }

    private mutating func count(_ key: PodKey, by delta: Int) {
        guard let node = occupiedNode(key) else { return }
        let count = (podsPerNode[node] ?? 0) + delta
        podsPerNode[node] = count > 0 ? count : nil
    }

    // MARK: Nodes

    mutating func replaceNodes(_ all: [Node]) {
        nodes = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    mutating func updateNode(_ node: Node) { nodes[node.name] = node }

    mutating func removeNode(_ node: Node) { nodes[node.name] = nil }

    // MARK: Choosing

    /// The next bindings to make, at most `limit`: waiting pods oldest first (as upstream's queue orders pods of
    /// equal priority), then by namespace and name; empty while no node accepts pods.
    func plan(limit: Int) -> [(key: PodKey, uid: String, node: String)] {
        let sortedNodes = nodes.values.sorted { $0.name < $1.name }
        guard !pending.isEmpty, sortedNodes.contains(where: NodeChoice.acceptsPods) else { return [] }
        let waiting = pending.compactMap { pods[$0] }.sorted { a, b in
            let ta = a.metadata.creationTimestamp ?? Time(seconds: 0), tb = b.metadata.creationTimestamp ?? Time(seconds: 0)
            return ta != tb ? ta < tb : Self.key(a) < Self.key(b)
        }
        return NodeChoice.place(Array(waiting.prefix(limit)), among: sortedNodes, podsPerNode: podsPerNode).map {
            (Self.key($0.pod), $0.pod.metadata.uid ?? "", $0.node)
        }
    }
}
