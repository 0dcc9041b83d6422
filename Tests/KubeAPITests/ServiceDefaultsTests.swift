import IPAM
import KubeAPI
import Testing

/// `SetDefaults_Service` (k8s-service-validation.md §1).
@Suite struct ServiceDefaultsTests {
    private func defaulted(_ spec: ServiceSpec) -> Service {
        var svc = Service(metadata: ObjectMeta(name: "web", namespace: "default"), spec: spec)
        svc.applyDefaults()
        return svc
    }

    @Test func emptySpecGetsClusterIPDefaults() {
        let svc = defaulted(ServiceSpec(ports: [ServicePort(port: 80)]))
        #expect(svc.spec.sessionAffinity == ServiceAffinity.none)
        #expect(svc.spec.sessionAffinityConfig == nil)
        #expect(svc.spec.type == .clusterIP)
        #expect(svc.spec.ports?[0].protocol == .tcp)
        #expect(svc.spec.ports?[0].targetPort == .int(80))
        #expect(svc.spec.externalTrafficPolicy == nil)
        #expect(svc.spec.internalTrafficPolicy == .cluster)
        #expect(svc.spec.allocateLoadBalancerNodePorts == nil)
    }

    @Test func emptySessionAffinityBecomesNone() {
        let svc = defaulted(ServiceSpec(sessionAffinity: ServiceAffinity(rawValue: "")))
        #expect(svc.spec.sessionAffinity == ServiceAffinity.none)
    }

    @Test func sessionAffinityNoneDropsExplicitConfig() {
        let svc = defaulted(ServiceSpec(
            sessionAffinity: ServiceAffinity.none,
            sessionAffinityConfig: SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: 60))))
        #expect(svc.spec.sessionAffinityConfig == nil)
    }

    @Test func unsetSessionAffinityAlsoDropsConfig() {
        let svc = defaulted(ServiceSpec(
            sessionAffinityConfig: SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: 60))))
        #expect(svc.spec.sessionAffinity == ServiceAffinity.none)
        #expect(svc.spec.sessionAffinityConfig == nil)
    }

    @Test(arguments: [
        nil,
        SessionAffinityConfig(clientIP: nil),
        SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: nil)),
    ] as [SessionAffinityConfig?])
    func clientIPWithoutTimeoutGets10800(_ config: SessionAffinityConfig?) {
        let svc = defaulted(ServiceSpec(sessionAffinity: .clientIP, sessionAffinityConfig: config))
        #expect(svc.spec.sessionAffinityConfig == SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: 10800)))
        #expect(Service.defaultClientIPAffinitySeconds == 10800)
    }

    @Test(arguments: [0, -5, 1, 100, 86400, 86401] as [Int32])
    func clientIPExplicitTimeoutIsKeptEvenWhenInvalid(_ timeout: Int32) {
        let svc = defaulted(ServiceSpec(
            sessionAffinity: .clientIP,
            sessionAffinityConfig: SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: timeout))))
        #expect(svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == timeout)
    }

    @Test func emptyTypeBecomesClusterIP() {
        let svc = defaulted(ServiceSpec(type: ServiceType(rawValue: "")))
        #expect(svc.spec.type == .clusterIP)
    }

    @Test func explicitTypeIsKept() {
        #expect(defaulted(ServiceSpec(type: .nodePort)).spec.type == .nodePort)
        #expect(defaulted(ServiceSpec(type: "Weird")).spec.type == "Weird")
    }

    @Test func portProtocolDefaultsToTCP() {
        let svc = defaulted(ServiceSpec(ports: [
            ServicePort(name: "a", port: 80),
            ServicePort(name: "b", protocol: TransportProtocol(rawValue: ""), port: 81),
            ServicePort(name: "c", protocol: .udp, port: 53),
            ServicePort(name: "d", protocol: .sctp, port: 9),
        ]))
        #expect(svc.spec.ports?.map(\.protocol) == [.tcp, .tcp, .udp, .sctp])
    }

    @Test(arguments: [nil, .int(0), .string("")] as [IntOrString?])
    func zeroTargetPortDefaultsToPortAsInteger(_ target: IntOrString?) {
        let svc = defaulted(ServiceSpec(ports: [ServicePort(port: 8443, targetPort: target)]))
        #expect(svc.spec.ports?[0].targetPort == .int(8443))
    }

    @Test(arguments: [.int(8080), .string("http"), .string("80")] as [IntOrString])
    func explicitTargetPortIsKept(_ target: IntOrString) {
        let svc = defaulted(ServiceSpec(ports: [ServicePort(port: 80, targetPort: target)]))
        #expect(svc.spec.ports?[0].targetPort == target)
    }

    @Test func portZeroGivesTargetPortZero() {
        let svc = defaulted(ServiceSpec(ports: [ServicePort(port: 0)]))
        #expect(svc.spec.ports?[0].targetPort == .int(0))
    }

    @Test(arguments: [
        (ServiceType.loadBalancer, [String]?.none, TrafficPolicy?.some(.cluster)),
        (.nodePort, nil, .cluster),
        (.clusterIP, ["1.2.3.4"], .cluster),
        (.clusterIP, nil, nil),
        (.clusterIP, [], nil),
        (.externalName, ["1.2.3.4"], nil),
        (.externalName, nil, nil),
    ])
    func externalTrafficPolicyOnlyForExternallyAccessible(
        _ type: ServiceType, _ externalIPs: [String]?, _ expected: TrafficPolicy?
    ) {
        let svc = defaulted(ServiceSpec(type: type, externalIPs: externalIPs))
        #expect(svc.spec.externalTrafficPolicy == expected)
    }

    @Test func explicitExternalTrafficPolicyIsKept() {
        #expect(defaulted(ServiceSpec(type: .nodePort, externalTrafficPolicy: .local)).spec.externalTrafficPolicy == .local)
        // Not externally accessible: defaulting leaves it (validation rejects it).
        #expect(defaulted(ServiceSpec(type: .clusterIP, externalTrafficPolicy: .local)).spec.externalTrafficPolicy == .local)
    }

    @Test func emptyExternalTrafficPolicyIsDefaulted() {
        let svc = defaulted(ServiceSpec(type: .loadBalancer, externalTrafficPolicy: TrafficPolicy(rawValue: "")))
        #expect(svc.spec.externalTrafficPolicy == .cluster)
    }

    @Test(arguments: [
        (ServiceType.clusterIP, TrafficPolicy?.some(.cluster)),
        (.nodePort, .cluster),
        (.loadBalancer, .cluster),
        (.externalName, nil),
    ])
    func internalTrafficPolicyClusterExceptExternalName(_ type: ServiceType, _ expected: TrafficPolicy?) {
        #expect(defaulted(ServiceSpec(type: type)).spec.internalTrafficPolicy == expected)
    }

    @Test func explicitInternalTrafficPolicyIsKept() {
        #expect(defaulted(ServiceSpec(internalTrafficPolicy: .local)).spec.internalTrafficPolicy == .local)
        #expect(defaulted(ServiceSpec(type: .externalName, internalTrafficPolicy: .local)).spec.internalTrafficPolicy == .local)
    }

    @Test func allocateLoadBalancerNodePortsDefaultsToTrueForLoadBalancerOnly() {
        #expect(defaulted(ServiceSpec(type: .loadBalancer)).spec.allocateLoadBalancerNodePorts == true)
        var spec = ServiceSpec(type: .loadBalancer)
        spec.allocateLoadBalancerNodePorts = false
        #expect(defaulted(spec).spec.allocateLoadBalancerNodePorts == false)
        #expect(defaulted(ServiceSpec(type: .nodePort)).spec.allocateLoadBalancerNodePorts == nil)
        #expect(defaulted(ServiceSpec(type: .clusterIP)).spec.allocateLoadBalancerNodePorts == nil)
    }

    /// §1 step 9: LoadBalancer ingress entries with an IP and no ipMode get `VIP`.
    @Test func loadBalancerIngressIPModeDefaultsToVIP() throws {
        let json = """
            {"spec":{"type":"LoadBalancer","ports":[{"port":80}]},
             "status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.7"},{"hostname":"lb.example.com"},{"ip":"203.0.113.8","ipMode":"Proxy"}]}}}
            """
        var svc = try KubeJSON.decode(Service.self, from: data(json)).value
        svc.applyDefaults()
        let ingress = svc.status.loadBalancer?.ingress ?? []
        #expect(ingress.map(\.ipMode) == ["VIP", nil, "Proxy"])
    }

    @Test func loadBalancerIngressIPModeIsNotDefaultedForOtherTypes() throws {
        let json = """
            {"spec":{"type":"NodePort","ports":[{"port":80}]},"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.7"}]}}}
            """
        var svc = try KubeJSON.decode(Service.self, from: data(json)).value
        svc.applyDefaults()
        #expect(svc.status.loadBalancer?.ingress?.first?.ipMode == nil)
    }

    @Test func defaultingLeavesRegistryFieldsAlone() {
        let svc = defaulted(ServiceSpec(type: .nodePort, ports: [ServicePort(port: 80, nodePort: 0)]))
        #expect(svc.spec.clusterIP == nil)
        #expect(svc.spec.clusterIPs == nil)
        #expect(svc.spec.ipFamilies == nil)
        #expect(svc.spec.ipFamilyPolicy == nil)
        #expect(svc.spec.ports?[0].nodePort == 0)
        #expect(svc.spec.healthCheckNodePort == nil)
    }

    @Test func defaultingIsIdempotent() {
        var once = defaulted(ServiceSpec(
            type: .loadBalancer, ports: [ServicePort(name: "a", port: 80), ServicePort(name: "b", port: 443, targetPort: "https")],
            sessionAffinity: .clientIP))
        let snapshot = once
        once.applyDefaults()
        #expect(once == snapshot)
    }

    @Test func externallyAccessible() {
        #expect(makeService { $0.spec.type = .loadBalancer }.isExternallyAccessible)
        #expect(makeService { $0.spec.type = .nodePort }.isExternallyAccessible)
        #expect(makeService { $0.spec.externalIPs = ["1.2.3.4"] }.isExternallyAccessible)
        #expect(!makeService().isExternallyAccessible)
        #expect(!makeExternalNameService { $0.spec.externalIPs = ["1.2.3.4"] }.isExternallyAccessible)
    }
}
