import KubeAPI

/// Where the scheduler puts a pod: the rules of a deliberately trivial kube-scheduler, pure.
///
/// A node takes pods when it is Ready and not cordoned; among those, the one with the fewest pods that still
/// occupy it wins, ties going to the first name in byte order. Upstream scores with many plugins and breaks
/// ties at random; this spreads evenly and is deterministic.
public enum NodeChoice {
    /// The scheduler that the pods this one places name (what `spec.schedulerName` defaults to).
    public static let schedulerName = "default-scheduler"

    /// True for a node that new pods may go to: condition `Ready` is `True`, `spec.unschedulable` is not set
    /// (`kubectl cordon`), and the node is not being deleted.
    public static func acceptsPods(_ node: Node) -> Bool {
        node.isReady && node.spec.unschedulable != true && node.metadata.deletionTimestamp == nil
    }

    /// True for a pod waiting for this scheduler: no node yet, not being deleted, not finished, and meant for
    /// the default scheduler (a pod naming another scheduler is that one's to place).
    public static func needsNode(_ pod: Pod) -> Bool {
        (pod.spec.nodeName ?? "").isEmpty && pod.metadata.deletionTimestamp == nil
            && !(pod.status.phase?.isTerminal ?? false)
            && [nil, "", schedulerName].contains(pod.spec.schedulerName)
    }

    /// The node a pod counts against when spreading: the one it is bound to, unless it has finished
    /// (Succeeded or Failed pods no longer run there). Pods being deleted still count until they are gone.
    public static func occupiedNode(_ pod: Pod) -> String? {
        guard let node = pod.spec.nodeName, !node.isEmpty, !(pod.status.phase?.isTerminal ?? false) else { return nil }
        return node
    }

    /// How many pods occupy each node (nodes without any are absent).
    public static func podsPerNode(_ pods: some Sequence<Pod>) -> [String: Int] {
        var counts: [String: Int] = [:]
        for pod in pods { if let node = occupiedNode(pod) { counts[node, default: 0] += 1 } }
        return counts
    }

    /// The node for the next pod: among nodes that accept pods, the fewest in `podsPerNode`, then the least
    /// name. Nil when no node accepts pods.
    public static func choose(among nodes: some Sequence<Node>, podsPerNode: [String: Int]) -> String? {
        var best: (name: String, count: Int)?
        for node in nodes where acceptsPods(node) {
            let candidate = (name: node.name, count: podsPerNode[node.name] ?? 0)
            if let current = best, (current.count, current.name) <= (candidate.count, candidate.name) { continue }
            best = candidate
        }
        return best?.name
    }

    /// Nodes for `pods`, in order, each placement counting for the next, so that a batch spreads as the same
    /// pods one at a time would. Stops at the first pod no node takes (then none does).
    public static func place(_ pods: [Pod], among nodes: [Node], podsPerNode: [String: Int]) -> [(pod: Pod, node: String)] {
        var counts = podsPerNode
        var placements: [(pod: Pod, node: String)] = []
        for pod in pods {
            guard let node = choose(among: nodes, podsPerNode: counts) else { break }
            counts[node, default: 0] += 1
            placements.append((pod, node))
        }
        return placements
    }
}
