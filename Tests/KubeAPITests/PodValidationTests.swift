import KubeAPI
import Testing

/// Pod validation essentials (k8s-service-validation.md §7.2–§7.4).
@Suite struct PodValidationTests {
    private func probe(_ configure: (inout Probe) -> Void) -> Probe {
        var p = Probe(tcpSocket: TCPSocketAction(port: 8080))
        configure(&p)
        return p
    }

    @Test func baselinePodIsValid() {
        #expect(messages(makePod().validate()) == [])
        let full = makePod {
            $0.spec.containers![0].readinessProbe = Probe(httpGet: HTTPGetAction(port: "http"))
            $0.spec.containers![0].livenessProbe = Probe(exec: ExecAction(command: ["true"]))
            $0.spec.containers![0].startupProbe = Probe(tcpSocket: TCPSocketAction(port: 8080))
            $0.spec.hostname = "web-0"
            $0.spec.subdomain = "web"
            $0.spec.restartPolicy = .onFailure
        }
        #expect(messages(full.validate()) == [])
    }

    /// Deliberate deviation: `image` is not required (Switchboard runs `command` on the host).
    @Test func imageIsNotRequired() {
        let pod = makePod { $0.spec.containers = [Container(name: "app", command: ["sleep", "1"])] }
        #expect(messages(pod.validate()) == [])
    }

    @Test func imageWithSurroundingWhitespaceIsRejected() {
        let pod = makePod { $0.spec.containers![0].image = " nginx" }
        #expect(messages(pod.validate()) == [
            #"spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace"#
        ])
    }

    @Test func podNameIsADNSSubdomain() {
        #expect(messages(makePod { $0.metadata.name = "web.0" }.validate()) == [])
        #expect(messages(makePod { $0.metadata.name = "Web" }.validate()) == [
            "metadata.name: Invalid value: \"Web\": \(Msg.dns1123Subdomain)"
        ])
    }

    // MARK: Containers (§7.3)

    @Test(arguments: [[Container]?.none, .some([])])
    func containersRequired(_ containers: [Container]?) {
        let pod = makePod { $0.spec.containers = containers }
        #expect(messages(pod.validate()) == ["spec.containers: Required value"])
    }

    @Test func containerNameRules() {
        #expect(messages(makePod { $0.spec.containers![0].name = "" }.validate()) == ["spec.containers[0].name: Required value"])
        #expect(messages(makePod { $0.spec.containers![0].name = "App" }.validate()) == [
            "spec.containers[0].name: Invalid value: \"App\": \(Msg.dns1123Label)"
        ])
        #expect(messages(makePod { $0.spec.containers![0].name = "app.v1" }.validate()) == [
            #"spec.containers[0].name: Invalid value: "app.v1": must not contain dots"#
        ])
    }

    @Test func duplicateContainerNames() {
        let pod = makePod { $0.spec.containers!.append(Container(name: "app", image: "busybox")) }
        #expect(messages(pod.validate()) == [#"spec.containers[1].name: Duplicate value: "app""#])
    }

    @Test func initContainerNamesClashWithRegularContainers() {
        let pod = makePod {
            $0.spec.initContainers = [Container(name: "setup", image: "busybox"), Container(name: "app", image: "busybox")]
        }
        #expect(messages(pod.validate()) == [#"spec.initContainers[1].name: Duplicate value: "app""#])
    }

    @Test func unsupportedTerminationMessagePolicyAndPullPolicy() {
        let pod = makePod {
            $0.spec.containers![0].terminationMessagePolicy = "Sometimes"
            $0.spec.containers![0].imagePullPolicy = "Maybe"
        }
        #expect(messages(pod.validate()) == [
            #"spec.containers[0].terminationMessagePolicy: Unsupported value: "Sometimes": supported values: "File", "FallbackToLogsOnError""#,
            #"spec.containers[0].imagePullPolicy: Unsupported value: "Maybe": supported values: "Always", "IfNotPresent", "Never""#,
        ])
    }

    @Test func restartPolicyOnRegularContainerIsForbidden() {
        let pod = makePod { $0.spec.containers![0].restartPolicy = .always }
        #expect(messages(pod.validate()) == ["spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"])
    }

    // MARK: Container ports

    @Test(arguments: [
        ("HTTP", [Msg.portCharset, Msg.portLetter]),
        ("80", [Msg.portLetter]),
        ("a--b", [Msg.portConsecutiveHyphens]),
        ("metrics-endpoint1", [Msg.maxLen(15)]),
    ])
    func invalidContainerPortName(_ name: String, _ expected: [String]) {
        let pod = makePod { $0.spec.containers![0].ports = [ContainerPort(name: name, containerPort: 8080)] }
        #expect(messages(pod.validate()) == expected.map { "spec.containers[0].ports[0].name: Invalid value: \"\(name)\": \($0)" })
    }

    @Test func duplicateContainerPortNamesWithinOneContainer() {
        let pod = makePod {
            $0.spec.containers![0].ports = [
                ContainerPort(name: "http", containerPort: 8080), ContainerPort(name: "http", containerPort: 8081),
            ]
        }
        #expect(messages(pod.validate()) == [#"spec.containers[0].ports[1].name: Duplicate value: "http""#])
    }

    @Test func invalidPortNamesAreNotTrackedForDuplicates() {
        let pod = makePod {
            $0.spec.containers![0].ports = [ContainerPort(name: "Http", containerPort: 1), ContainerPort(name: "Http", containerPort: 2)]
        }
        #expect(messages(pod.validate()) == [
            "spec.containers[0].ports[0].name: Invalid value: \"Http\": \(Msg.portCharset)",
            "spec.containers[0].ports[1].name: Invalid value: \"Http\": \(Msg.portCharset)",
        ])
    }

    @Test func samePortNameInTwoContainersIsFine() {
        let pod = makePod {
            $0.spec.containers!.append(Container(name: "sidecar", ports: [ContainerPort(name: "http", containerPort: 9090)]))
        }
        #expect(messages(pod.validate()) == [])
    }

    @Test func containerPortNumbers() {
        #expect(messages(makePod { $0.spec.containers![0].ports = [ContainerPort(containerPort: 0)] }.validate()) == [
            "spec.containers[0].ports[0].containerPort: Required value"
        ])
        for port: Int32 in [-1, 65536] {
            #expect(messages(makePod { $0.spec.containers![0].ports = [ContainerPort(containerPort: port)] }.validate()) == [
                "spec.containers[0].ports[0].containerPort: Invalid value: \(port): \(Msg.portRange)"
            ])
        }
        let hostPort = makePod {
            var port = ContainerPort(containerPort: 80)
            port.hostPort = 70000
            $0.spec.containers![0].ports = [port]
        }
        #expect(messages(hostPort.validate()) == ["spec.containers[0].ports[0].hostPort: Invalid value: 70000: \(Msg.portRange)"])
    }

    @Test func containerPortProtocol() {
        let bad = makePod { $0.spec.containers![0].ports = [ContainerPort(containerPort: 80, protocol: "HTTP")] }
        #expect(messages(bad.validate()) == [
            #"spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP""#
        ])
        var empty = makePod()
        empty.spec.containers![0].ports![0].protocol = TransportProtocol(rawValue: "")
        #expect(messages(empty.validate()) == ["spec.containers[0].ports[0].protocol: Required value"])
    }

    @Test func hostPortConflictsAcrossContainers() {
        let pod = makePod {
            var a = ContainerPort(containerPort: 80)
            a.hostPort = 8080
            var b = ContainerPort(containerPort: 81)
            b.hostPort = 8080
            $0.spec.containers![0].ports = [a]
            $0.spec.containers!.append(Container(name: "b", ports: [b]))
        }
        #expect(messages(pod.validate()) == [#"spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080""#])
    }

    @Test func hostNetworkHostPortMustMatchContainerPort() {
        var pod = makePod { $0.spec.hostNetwork = true }
        pod.spec.containers![0].ports![0].hostPort = 9090
        #expect(messages(pod.validate()) == [
            "spec.containers[0].ports[0].hostPort: Invalid value: 9090: must match `containerPort` when `hostNetwork` is true"
        ])
    }

    // MARK: Pod spec fields (§7.2)

    @Test func unsupportedRestartPolicyListsLiteralOrder() {
        let pod = makePod { $0.spec.restartPolicy = "Sometimes" }
        #expect(messages(pod.validate()) == [
            #"spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never""#
        ])
    }

    @Test func emptyRestartPolicyAfterDefaultingIsRequired() {
        var pod = makePod()
        pod.spec.restartPolicy = RestartPolicy(rawValue: "")
        #expect(messages(pod.validate()) == ["spec.restartPolicy: Required value"])
    }

    @Test func unsupportedDNSPolicy() {
        let pod = makePod { $0.spec.dnsPolicy = "Custom" }
        #expect(messages(pod.validate()) == [
            #"spec.dnsPolicy: Unsupported value: "Custom": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None""#
        ])
    }

    @Test func terminationGracePeriodRequiredButNotRangeChecked() {
        var pod = makePod()
        pod.spec.terminationGracePeriodSeconds = nil
        #expect(messages(pod.validate()) == ["spec.terminationGracePeriodSeconds: Required value"])
        #expect(messages(makePod { $0.spec.terminationGracePeriodSeconds = -1 }.validate()) == [])
    }

    @Test func activeDeadlineSeconds() {
        #expect(messages(makePod { $0.spec.activeDeadlineSeconds = 0 }.validate()) == [
            "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"
        ])
        #expect(messages(makePod { $0.spec.activeDeadlineSeconds = 2_147_483_647 }.validate()) == [])
    }

    @Test func hostnameAndSubdomainAreDNS1123Labels() {
        #expect(messages(makePod { $0.spec.hostname = "a.b" }.validate()) == [#"spec.hostname: Invalid value: "a.b": must not contain dots"#])
        #expect(messages(makePod { $0.spec.hostname = "Web" }.validate()) == ["spec.hostname: Invalid value: \"Web\": \(Msg.dns1123Label)"])
        #expect(messages(makePod { $0.spec.subdomain = "svc.ns" }.validate()) == [#"spec.subdomain: Invalid value: "svc.ns": must not contain dots"#])
        #expect(messages(makePod { $0.spec.subdomain = "My_Svc" }.validate()) == ["spec.subdomain: Invalid value: \"My_Svc\": \(Msg.dns1123Label)"])
    }

    @Test func nodeNameAndServiceAccountAreSubdomains() {
        #expect(messages(makePod { $0.spec.nodeName = "Node_1" }.validate()) == [
            "spec.nodeName: Invalid value: \"Node_1\": \(Msg.dns1123Subdomain)"
        ])
        #expect(messages(makePod { $0.spec.serviceAccountName = "-sa" }.validate()) == [
            "spec.serviceAccountName: Invalid value: \"-sa\": \(Msg.dns1123Subdomain)"
        ])
    }

    @Test func nodeSelectorUsesLabelRules() {
        #expect(messages(makePod { $0.spec.nodeSelector = ["zone": "-a"] }.validate()) == [
            "spec.nodeSelector: Invalid value: \"-a\": \(Msg.labelValue)"
        ])
    }

    // MARK: Probes (§7.4)

    @Test func probeWithoutHandler() {
        let pod = makePod { $0.spec.containers![0].livenessProbe = Probe() }
        #expect(messages(pod.validate()) == ["spec.containers[0].livenessProbe: Required value: must specify a handler type"])
    }

    @Test func probeWithTwoHandlers() {
        let pod = makePod {
            $0.spec.containers![0].livenessProbe = Probe(exec: ExecAction(command: ["true"]), tcpSocket: TCPSocketAction(port: 80))
        }
        #expect(messages(pod.validate()) == [
            "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"
        ])
    }

    @Test func probeWithThreeHandlersOnlyValidatesTheFirst() {
        let pod = makePod {
            $0.spec.containers![0].readinessProbe = Probe(
                exec: ExecAction(command: []), httpGet: HTTPGetAction(path: "/", port: 0), tcpSocket: TCPSocketAction(port: 0))
        }
        #expect(messages(pod.validate()) == [
            "spec.containers[0].readinessProbe.exec.command: Required value",
            "spec.containers[0].readinessProbe.httpGet: Forbidden: may not specify more than 1 handler type",
            "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
        ])
    }

    @Test func handlerSubChecks() {
        let badGet = makePod {
            $0.spec.containers![0].readinessProbe = Probe(httpGet: HTTPGetAction(port: "HTTP", scheme: "FTP"))
        }
        #expect(messages(badGet.validate()) == [
            "spec.containers[0].readinessProbe.httpGet.port: Invalid value: \"HTTP\": \(Msg.portCharset)",
            "spec.containers[0].readinessProbe.httpGet.port: Invalid value: \"HTTP\": \(Msg.portLetter)",
            #"spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS""#,
        ])
        var emptyPath = makePod { $0.spec.containers![0].readinessProbe = Probe(httpGet: HTTPGetAction(port: 80)) }
        emptyPath.spec.containers![0].readinessProbe!.httpGet!.path = ""
        #expect(messages(emptyPath.validate()) == ["spec.containers[0].readinessProbe.httpGet.path: Required value"])

        let badTCP = makePod { $0.spec.containers![0].readinessProbe = Probe(tcpSocket: TCPSocketAction(port: 70000)) }
        #expect(messages(badTCP.validate()) == ["spec.containers[0].readinessProbe.tcpSocket.port: Invalid value: 70000: \(Msg.portRange)"])

        let noCommand = makePod { $0.spec.containers![0].readinessProbe = Probe(exec: ExecAction()) }
        #expect(messages(noCommand.validate()) == ["spec.containers[0].readinessProbe.exec.command: Required value"])
    }

    @Test(arguments: ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"])
    func negativeProbeTimings(_ field: String) {
        let pod = makePod {
            $0.spec.containers![0].readinessProbe = probe { p in
                switch field {
                case "initialDelaySeconds": p.initialDelaySeconds = -1
                case "timeoutSeconds": p.timeoutSeconds = -1
                case "periodSeconds": p.periodSeconds = -1
                case "successThreshold": p.successThreshold = -1
                default: p.failureThreshold = -1
                }
            }
        }
        #expect(messages(pod.validate()) == [
            "spec.containers[0].readinessProbe.\(field): Invalid value: -1: must be greater than or equal to 0"
        ])
    }

    @Test(arguments: ["livenessProbe", "startupProbe"])
    func livenessAndStartupSuccessThresholdMustBe1(_ kind: String) {
        let pod = makePod {
            let p = probe { $0.successThreshold = 2 }
            if kind == "livenessProbe" { $0.spec.containers![0].livenessProbe = p } else { $0.spec.containers![0].startupProbe = p }
        }
        #expect(messages(pod.validate()) == ["spec.containers[0].\(kind).successThreshold: Invalid value: 2: must be 1"])
    }

    @Test func readinessSuccessThresholdMayBeAbove1() {
        let pod = makePod { $0.spec.containers![0].readinessProbe = probe { $0.successThreshold = 3 } }
        #expect(messages(pod.validate()) == [])
    }

    @Test func readinessProbeTerminationGracePeriodIsRejected() {
        let pod = makePod { $0.spec.containers![0].readinessProbe = probe { $0.terminationGracePeriodSeconds = 5 } }
        #expect(messages(pod.validate()) == [
            "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes"
        ])
    }

    /// `validateReadinessProbe` runs `validateProbe` (the `> 0` check) and then adds its own error.
    @Test func readinessProbeZeroTerminationGracePeriodGetsBothErrors() {
        let pod = makePod { $0.spec.containers![0].readinessProbe = probe { $0.terminationGracePeriodSeconds = 0 } }
        #expect(messages(pod.validate()) == [
            "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0",
            "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 0: must not be set for readinessProbes",
        ])
    }

    @Test(arguments: [0, -3] as [Int64])
    func livenessProbeTerminationGracePeriodMustBePositive(_ value: Int64) {
        let pod = makePod { $0.spec.containers![0].livenessProbe = probe { $0.terminationGracePeriodSeconds = value } }
        #expect(messages(pod.validate()) == [
            "spec.containers[0].livenessProbe.terminationGracePeriodSeconds: Invalid value: \(value): must be greater than 0"
        ])
        let ok = makePod { $0.spec.containers![0].livenessProbe = probe { $0.terminationGracePeriodSeconds = 10 } }
        #expect(messages(ok.validate()) == [])
    }

    @Test func probesOnPlainInitContainersAreForbidden() {
        let pod = makePod {
            var setup = Container(name: "setup", image: "busybox")
            setup.readinessProbe = Probe(exec: ExecAction(command: ["true"]))
            setup.livenessProbe = Probe(exec: ExecAction(command: ["true"]))
            $0.spec.initContainers = [setup]
        }
        #expect(messages(pod.validate()) == [
            "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
            "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
        ])
    }

    @Test func sidecarInitContainersMayHaveProbes() {
        let pod = makePod {
            var sidecar = Container(name: "proxy", image: "envoy")
            sidecar.restartPolicy = .always
            sidecar.readinessProbe = Probe(tcpSocket: TCPSocketAction(port: 15000))
            $0.spec.initContainers = [sidecar]
        }
        #expect(messages(pod.validate()) == [])
    }
}

/// Pod v1 defaults (k8s-service-validation.md §7.1).
@Suite struct PodDefaultsTests {
    @Test func podSpecDefaults() {
        var pod = Pod(metadata: ObjectMeta(name: "p", namespace: "default"), spec: PodSpec(containers: [Container(name: "c")]))
        pod.applyDefaults()
        #expect(pod.spec.dnsPolicy == "ClusterFirst")
        #expect(pod.spec.restartPolicy == .always)
        #expect(pod.spec.securityContext == JSONValue.object([:]))
        #expect(pod.spec.terminationGracePeriodSeconds == 30)
        #expect(pod.spec.schedulerName == "default-scheduler")
        #expect(pod.spec.enableServiceLinks == true)
    }

    @Test func explicitValuesAreKept() {
        var pod = Pod(
            metadata: ObjectMeta(name: "p", namespace: "default"),
            spec: PodSpec(containers: [Container(name: "c")], restartPolicy: .never, terminationGracePeriodSeconds: 0))
        pod.spec.dnsPolicy = "Default"
        pod.spec.schedulerName = "custom"
        pod.spec.enableServiceLinks = false
        pod.applyDefaults()
        #expect(pod.spec.restartPolicy == .never)
        #expect(pod.spec.terminationGracePeriodSeconds == 0)
        #expect(pod.spec.dnsPolicy == "Default")
        #expect(pod.spec.schedulerName == "custom")
        #expect(pod.spec.enableServiceLinks == false)
    }

    @Test func containerDefaults() {
        var pod = Pod(
            metadata: ObjectMeta(name: "p", namespace: "default"),
            spec: PodSpec(containers: [Container(name: "c", image: "nginx:1.25", ports: [ContainerPort(containerPort: 80)])]))
        pod.applyDefaults()
        let c = pod.spec.containers![0]
        #expect(c.terminationMessagePath == "/dev/termination-log")
        #expect(c.terminationMessagePolicy == "File")
        #expect(c.imagePullPolicy == "IfNotPresent")
        #expect(c.ports?[0].protocol == .tcp)
        #expect(c.ports?[0].hostPort == nil)
    }

    @Test(arguments: [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("registry.example.com:5000/team/nginx", "Always"),
        ("registry.example.com:5000/team/nginx:latest", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("registry.example.com:5000/nginx:1.25", "IfNotPresent"),
        ("nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "IfNotPresent"),
        ("nginx:1.25@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "IfNotPresent"),
    ])
    func imagePullPolicyFollowsTheTag(_ image: String, _ expected: String) {
        var pod = Pod(metadata: ObjectMeta(name: "p"), spec: PodSpec(containers: [Container(name: "c", image: image)]))
        pod.applyDefaults()
        #expect(pod.spec.containers?[0].imagePullPolicy == expected)
    }

    @Test func explicitPullPolicyIsKept() {
        var c = Container(name: "c", image: "nginx")
        c.imagePullPolicy = "Never"
        var pod = Pod(metadata: ObjectMeta(name: "p"), spec: PodSpec(containers: [c]))
        pod.applyDefaults()
        #expect(pod.spec.containers?[0].imagePullPolicy == "Never")
    }

    @Test func hostNetworkCopiesContainerPortIntoHostPort() {
        var withHost = ContainerPort(containerPort: 81)
        withHost.hostPort = 9091
        var pod = Pod(
            metadata: ObjectMeta(name: "p"),
            spec: PodSpec(containers: [Container(name: "c", ports: [ContainerPort(containerPort: 80), withHost])]))
        pod.spec.initContainers = [Container(name: "i", ports: [ContainerPort(containerPort: 8000)])]
        pod.spec.hostNetwork = true
        pod.applyDefaults()
        #expect(pod.spec.containers?[0].ports?.map(\.hostPort) == [80, 9091])
        #expect(pod.spec.initContainers?[0].ports?[0].hostPort == 8000)
    }

    @Test func probeDefaults() {
        var pod = Pod(
            metadata: ObjectMeta(name: "p"),
            spec: PodSpec(containers: [
                Container(name: "c", readinessProbe: Probe(httpGet: HTTPGetAction(port: 8080)))
            ]))
        pod.spec.containers![0].livenessProbe = Probe(
            tcpSocket: TCPSocketAction(port: 80), initialDelaySeconds: 0, timeoutSeconds: 5, periodSeconds: 0,
            successThreshold: 0, failureThreshold: 7)
        pod.applyDefaults()
        let readiness = pod.spec.containers![0].readinessProbe!
        #expect(readiness.timeoutSeconds == 1)
        #expect(readiness.periodSeconds == 10)
        #expect(readiness.successThreshold == 1)
        #expect(readiness.failureThreshold == 3)
        #expect(readiness.httpGet?.path == "/")
        #expect(readiness.httpGet?.scheme == "HTTP")
        let liveness = pod.spec.containers![0].livenessProbe!
        #expect(liveness.initialDelaySeconds == 0)
        #expect(liveness.timeoutSeconds == 5)
        #expect(liveness.periodSeconds == 10)
        #expect(liveness.successThreshold == 1)
        #expect(liveness.failureThreshold == 7)
    }

    @Test func negativeProbeTimingsAreNotDefaulted() {
        var pod = Pod(
            metadata: ObjectMeta(name: "p"),
            spec: PodSpec(containers: [Container(name: "c", readinessProbe: Probe(exec: ExecAction(command: ["x"]), timeoutSeconds: -1))]))
        pod.applyDefaults()
        #expect(pod.spec.containers![0].readinessProbe?.timeoutSeconds == -1)
    }
}
