import KubeAPI
import Testing

@Suite struct ObjectValidationTests {
    @Test func namespaceNamesAreLabels() {
        #expect(Namespace(metadata: ObjectMeta(name: "shop")).validate().isEmpty)
        let bad = Namespace(metadata: ObjectMeta(name: "shop.example")).validate().map(\.description)
        #expect(bad == [#"metadata.name: Invalid value: "shop.example": must not contain dots"#])
        let scoped = Namespace(metadata: ObjectMeta(name: "a", namespace: "b")).validate().map(\.description)
        #expect(scoped == ["metadata.namespace: Forbidden: not allowed on this type"])
    }

    @Test func nodePodCIDRs() {
        var node = Node(metadata: ObjectMeta(name: "node-1"), spec: NodeSpec(podCIDR: "10.244.1.0/24", podCIDRs: ["10.244.1.0/24", "fd00:1::/64"]))
        #expect(node.validate().isEmpty)
        node.spec.podCIDRs = ["10.244.1.0/24", "10.244.2.0/24"]
        #expect(node.validate().map(\.description) == [#"spec.podCIDRs: Invalid value: []string{"10.244.1.0/24", "10.244.2.0/24"}: may specify no more than one CIDR for each IP family"#])
        node.spec.podCIDRs = ["nope"]
        node.spec.podCIDR = nil
        #expect(node.validate().map(\.description) == [#"spec.podCIDRs[0]: Invalid value: "nope": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"#])
    }

    @Test func endpointSliceRules() {
        let slice = EndpointSlice(
            metadata: ObjectMeta(name: "web-abc12", namespace: "default"), addressType: .ipv4,
            endpoints: [
                Endpoint(addresses: ["10.0.0.1"], nodeName: "node-1"),
                Endpoint(addresses: ["fd00::1"]),
                Endpoint(addresses: []),
            ],
            ports: [EndpointPort(name: "http", port: 8080, protocol: .tcp), EndpointPort(name: "http", port: 70000, protocol: "QUIC")])
        #expect(slice.validate().map(\.description) == [
            #"endpoints[1].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address"#,
            "endpoints[2].addresses: Required value: must contain at least 1 address",
            #"ports[1].name: Duplicate value: "http""#,
            "ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
            #"ports[1].protocol: Unsupported value: "QUIC": supported values: "SCTP", "TCP", "UDP""#,
        ])
        var changed = slice
        changed.addressType = .ipv6
        #expect(changed.validateUpdate(from: slice).contains { $0.description == #"addressType: Invalid value: "IPv6": field is immutable"# })
        let tooMany = EndpointSlice(
            metadata: ObjectMeta(name: "x", namespace: "d"), addressType: .ipv4,
            endpoints: Array(repeating: Endpoint(addresses: ["10.0.0.1"]), count: 1001))
        #expect(tooMany.validate().map(\.description) == ["endpoints: Too many: 1001: must have at most 1000 items"])
        let unknownType = EndpointSlice(metadata: ObjectMeta(name: "x", namespace: "d"), addressType: "IP")
        #expect(unknownType.validate().map(\.description) == [#"addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6""#])
    }

    @Test func endpointsRules() {
        let endpoints = Endpoints(
            metadata: ObjectMeta(name: "web", namespace: "default"),
            subsets: [
                EndpointSubset(addresses: [EndpointAddress(ip: "10.0.0.300")], ports: [EndpointPort(port: 80, protocol: .tcp), EndpointPort(name: "b", port: 81, protocol: .tcp)]),
                EndpointSubset(),
            ])
        #expect(endpoints.validate().map(\.description) == [
            #"subsets[0].addresses[0].ip: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"#,
            "subsets[0].ports[0].name: Required value",
            "subsets[1]: Required value: must specify `addresses` or `notReadyAddresses`",
        ])
    }
}
