import KubeAPI
import Testing
@testable import Controllers

/// The scheduler's choice: Ready, schedulable nodes only; the fewest running pods; ties by name; finished pods
/// free their node. And the cache that keeps counts and the waiting set as pods come and go.
struct SchedulerTests {
    func readyNode(_ name: String, ready: Bool = true, unschedulable: Bool? = nil) -> Node {
        Node(
            metadata: ObjectMeta(name: name), spec: NodeSpec(unschedulable: unschedulable),
            status: NodeStatus(conditions: [NodeCondition(type: "Ready", status: ready ? .true : .false)]))
    }

    func pod(_ name: String, node: String? = nil, phase: PodPhase? = .pending, created: Int64 = 0, uid: String? = nil) -> Pod {
        var pod = makePod(name, ips: [], node: node, uid: uid, phase: phase)
        pod.metadata.creationTimestamp = Time(seconds: 1_714_557_600 + created)
        return pod
    }

    // MARK: NodeChoice

    @Test func theNodeWithFewestPodsWinsAndTiesGoToTheFirstName() {
        let nodes = [readyNode("node-c"), readyNode("node-a"), readyNode("node-b")]
        #expect(NodeChoice.choose(among: nodes, podsPerNode: [:]) == "node-a")
        #expect(NodeChoice.choose(among: nodes, podsPerNode: ["node-a": 1]) == "node-b")
        #expect(NodeChoice.choose(among: nodes, podsPerNode: ["node-a": 2, "node-b": 1, "node-c": 1]) == "node-b")
        #expect(NodeChoice.choose(among: nodes, podsPerNode: ["node-a": 1, "node-b": 1, "node-c": 0]) == "node-c")
    }

    @Test func aBatchSpreadsEvenly() {
        let nodes = [readyNode("n2"), readyNode("n1")]
        let pods = (0..<5).map { pod("p\($0)") }
        let placed = NodeChoice.place(pods, among: nodes, podsPerNode: ["n2": 1])
        #expect(placed.map(\.pod.name) == ["p0", "p1", "p2", "p3", "p4"])
        #expect(placed.map(\.node) == ["n1", "n1", "n2", "n1", "n2"])
    }

    @Test func notReadyCordonedAndDeletedNodesTakeNoPods() {
        var deleted = readyNode("d")
        deleted.metadata.deletionTimestamp = Time(seconds: 1)
        var unknown = readyNode("u")
        unknown.status.conditions = [NodeCondition(type: "Ready", status: .unknown)]
        let noConditions = Node(metadata: ObjectMeta(name: "a"))
        let refused = [readyNode("b", ready: false), readyNode("c", unschedulable: true), deleted, unknown, noConditions]
        for node in refused { #expect(!NodeChoice.acceptsPods(node), "\(node.name)") }
        #expect(NodeChoice.choose(among: refused, podsPerNode: [:]) == nil)
        #expect(NodeChoice.place([pod("p")], among: refused, podsPerNode: [:]).isEmpty)
        // The one Ready node gets the pod even though it is the busiest.
        #expect(NodeChoice.choose(among: refused + [readyNode("z", unschedulable: false)], podsPerNode: ["z": 9]) == "z")
    }

    @Test func finishedPodsDoNotCountButTerminatingOnesDo() {
        var terminating = pod("t", node: "n1", phase: .running)
        terminating.metadata.deletionTimestamp = Time(seconds: 1)
        let pods = [
            pod("a", node: "n1", phase: .running), pod("b", node: "n1", phase: .succeeded),
            pod("c", node: "n1", phase: .failed), pod("d", node: "n2", phase: .running), terminating,
            pod("unbound"),
        ]
        #expect(NodeChoice.podsPerNode(pods) == ["n1": 2, "n2": 1])
        // n1 has three finished or running pods but only two count; n2's one wins.
        #expect(NodeChoice.choose(among: [readyNode("n1"), readyNode("n2")], podsPerNode: NodeChoice.podsPerNode(pods)) == "n2")
    }

    @Test func onlyUnboundLivePodsForTheDefaultSchedulerWait() {
        #expect(NodeChoice.needsNode(pod("a")))
        #expect(!NodeChoice.needsNode(pod("b", node: "n1")))
        var deleting = pod("c")
        deleting.metadata.deletionTimestamp = Time(seconds: 1)
        #expect(!NodeChoice.needsNode(deleting))
        #expect(!NodeChoice.needsNode(pod("d", phase: .failed)))
        var other = pod("e")
        other.spec.schedulerName = "my-scheduler"
        #expect(!NodeChoice.needsNode(other))
        other.spec.schedulerName = "default-scheduler"
        #expect(NodeChoice.needsNode(other))
    }

    // MARK: SchedulerCache

    @Test func theCachePlansOldestFirstAndCountsIncrementally() {
        var cache = SchedulerCache()
        cache.replaceNodes([readyNode("n1"), readyNode("n2"), readyNode("n3", ready: false)])
        cache.replacePods([pod("bound", node: "n1", phase: .running), pod("late", created: 5), pod("early", created: 1)])
        #expect(cache.podsPerNode == ["n1": 1])
        let plan = cache.plan(limit: 10)
        #expect(plan.map(\.key.name) == ["early", "late"])
        #expect(plan.map(\.node) == ["n2", "n1"])

        // A binding is assumed at once: the pod counts and no longer waits, even if an older copy arrives.
        cache.assume(plan[0].key, uid: plan[0].uid, node: plan[0].node)
        cache.updatePod(pod("early", created: 1))
        #expect(cache.podsPerNode == ["n1": 1, "n2": 1])
        #expect(cache.plan(limit: 10).map(\.key.name) == ["late"])

        // The informer's bound copy replaces the assumption without counting twice.
        cache.updatePod(pod("early", node: "n2", phase: .running, created: 1))
        #expect(cache.assumed.isEmpty)
        #expect(cache.podsPerNode == ["n1": 1, "n2": 1])

        // A pod that finishes frees its node; a deleted one too.
        cache.updatePod(pod("bound", node: "n1", phase: .succeeded))
        #expect(cache.podsPerNode == ["n2": 1])
        cache.removePod(pod("early", node: "n2", phase: .running))
        #expect(cache.podsPerNode.isEmpty)
        #expect(cache.plan(limit: 10).map(\.node) == ["n1"])
    }

    @Test func podsWaitUntilANodeIsReady() {
        var cache = SchedulerCache()
        cache.replaceNodes([readyNode("n1", ready: false)])
        cache.replacePods([pod("p")])
        #expect(cache.plan(limit: 10).isEmpty)
        #expect(cache.pending.count == 1)
        cache.updateNode(readyNode("n1"))
        #expect(cache.plan(limit: 10).map(\.node) == ["n1"])
    }

    @Test func aNewPodUnderTheSameNameIsNotCoveredByTheOldAssumption() {
        var cache = SchedulerCache()
        cache.replaceNodes([readyNode("n1")])
        cache.replacePods([pod("p", uid: "old")])
        cache.assume(SchedulerCache.PodKey(namespace: "default", name: "p"), uid: "old", node: "n1")
        #expect(cache.plan(limit: 10).isEmpty)
        cache.removePod(pod("p", uid: "old"))
        cache.updatePod(pod("p", uid: "new"))
        #expect(cache.plan(limit: 10).map(\.uid) == ["new"])
        #expect(cache.podsPerNode.isEmpty)
    }

    @Test func eventNamesFollowClientGo() {
        #expect(SchedulerEvents.name(pod: "web", at: Time(seconds: 1, nanoseconds: 255)) == "web.3b9acaff")
    }
}
