import IPAM
import Testing
@testable import Lab

struct LabTopologyTests {
    @Test func everyNameCarriesTheLabPrefix() throws {
        let lab = try LabTopology(name: "lab", nodes: 2)
        #expect(lab.fabricNamespace == "sb-lab-fabric" && lab.outsideNamespace == "sb-lab-outside")
        #expect(lab.nodeNamespace(2) == "sb-lab-node2" && lab.nodeName(2) == "lab-node2")
        #expect(lab.podNamespacePrefix(1) == "sb-lab-node1-")
        #expect(lab.podCIDR(2) == CIDR("10.244.2.0/24") && lab.nodeIP(2) == "10.200.2.2")
        #expect(lab.nodeIndex(named: "lab-node2") == 2 && lab.nodeIndex(named: "lab-node3") == nil)
    }

    /// The closed world: the only thing done outside a lab namespace is naming the namespaces. Every link is
    /// created inside one with its peer moved straight into another.
    @Test func nothingIsCreatedInTheCallersNamespace() throws {
        let lab = try LabTopology(name: "t1", nodes: 3)
        for step in lab.steps {
            if let namespace = step.namespace {
                #expect(namespace.hasPrefix("sb-t1-"))
                for line in step.lines where line.hasPrefix("link add") {
                    #expect(line.contains(" netns sb-t1-"), "\(line) must put its peer in a lab namespace")
                }
            } else {
                #expect(step.lines.allSatisfy { $0.hasPrefix("netns add sb-t1-") }, "\(step.lines)")
            }
        }
        let fabricRoutes = lab.steps.filter { $0.namespace == lab.fabricNamespace }.flatMap(\.lines).filter { $0.hasPrefix("route add") }
        #expect(fabricRoutes == ["route add 10.244.1.0/24 via 10.200.1.2", "route add 10.244.2.0/24 via 10.200.2.2", "route add 10.244.3.0/24 via 10.200.3.2"])
        let outside = lab.steps.filter { $0.namespace == lab.outsideNamespace }.flatMap(\.lines)
        #expect(outside.contains("route add 10.96.0.0/12 via 10.201.0.1"))
    }

    @Test func dualStackAddsTheIPv6Half() throws {
        let lab = try LabTopology(name: "d", nodes: 2, dualStack: true)
        #expect(lab.serviceCIDRs.map(\.description) == ["10.96.0.0/12", "fd00:10:96::/112"])
        #expect(lab.podCIDRs(2).map(\.description) == ["10.244.2.0/24", "fd00:10:244:2::/64"])
        let fabric = lab.steps.filter { $0.namespace == lab.fabricNamespace }.flatMap(\.lines)
        #expect(fabric.contains("route add fd00:10:244:2::/64 via fd00:10:200:2::2"))
        #expect(try LabTopology(name: "d", nodes: 2).steps.flatMap(\.lines).allSatisfy { !$0.contains("fd00:") })
    }

    @Test func badNamesAreRefusedWithTheRule() {
        for bad in ["", "Lab", "lab-1", "averyverylongname", "1lab"] {
            #expect(throws: LabTopology.TopologyError.self) { try LabTopology(name: bad, nodes: 2) }
        }
        #expect(throws: LabTopology.TopologyError.self) { try LabTopology(name: "lab", nodes: 0) }
    }
}
