extension Pod {
    /// The Pod checks of `ValidatePodCreate` that protect Switchboard's node agent: names, containers and their
    /// ports, probes, restart policy, hostname and subdomain. Expects a defaulted Pod (`applyDefaults()`).
    ///
    /// One deliberate difference: `image` is not required, because Switchboard runs `command` on the host.
    public func validate() -> [FieldError] {
        var errs = metadata.validate(nameRule: .dns1123Subdomain, namespaced: true)
        errs += metadata.validateKubernetesFinalizers()
        let spec = FieldPath("spec")
        if self.spec.terminationGracePeriodSeconds == nil {
            errs.append(.required(spec.child("terminationGracePeriodSeconds")))
        }
        errs += validateContainers(self.spec.containers ?? [], at: spec.child("containers"), initContainers: false)
        errs += validateContainers(self.spec.initContainers ?? [], at: spec.child("initContainers"), initContainers: true)

        let restart = self.spec.restartPolicy?.rawValue ?? ""
        if restart.isEmpty {
            errs.append(.required(spec.child("restartPolicy")))
        } else if !["Always", "OnFailure", "Never"].contains(restart) {
            errs.append(.notSupported(spec.child("restartPolicy"), .string(restart), supported: ["Always", "OnFailure", "Never"]))
        }
        let dnsPolicies = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
        if let dns = self.spec.dnsPolicy, !dnsPolicies.contains(dns) {
            errs.append(.notSupported(spec.child("dnsPolicy"), .string(dns), supported: dnsPolicies))
        }
        errs += NameValidation.labels(self.spec.nodeSelector, at: spec.child("nodeSelector"))
        if let sa = self.spec.serviceAccountName, !sa.isEmpty {
            for msg in NameValidation.dns1123Subdomain(sa) { errs.append(.invalid(spec.child("serviceAccountName"), .string(sa), msg)) }
        }
        if let node = self.spec.nodeName, !node.isEmpty {
            for msg in NameValidation.dns1123Subdomain(node) { errs.append(.invalid(spec.child("nodeName"), .string(node), msg)) }
        }
        if let deadline = self.spec.activeDeadlineSeconds, !(1...Int64(Int32.max)).contains(deadline) {
            errs.append(.invalid(spec.child("activeDeadlineSeconds"), .int(deadline), NameValidation.inclusiveRange(1, Int(Int32.max))))
        }
        errs += validateHostPorts(spec)
        for (i, container) in (self.spec.containers ?? []).enumerated() {
            if let image = container.image, !image.isEmpty, image.first!.isWhitespace || image.last!.isWhitespace {
                errs.append(.invalid(spec.child("containers").index(i).child("image"), .string(image), "must not have leading or trailing whitespace"))
            }
        }
        for field in ["hostname", "subdomain"] {
            let value = field == "hostname" ? self.spec.hostname : self.spec.subdomain
            guard let value, !value.isEmpty else { continue }
            for msg in NameValidation.dns1123Label(value) { errs.append(.invalid(spec.child(field), .string(value), msg)) }
        }
        return errs
    }

    private func validateContainers(_ containers: [Container], at path: FieldPath, initContainers: Bool) -> [FieldError] {
        if containers.isEmpty { return initContainers ? [] : [.required(path)] }
        var errs: [FieldError] = []
        var names = Set((initContainers ? spec.containers ?? [] : []).map(\.name))
        for (i, container) in containers.enumerated() {
            let cpath = path.index(i)
            if container.name.isEmpty {
                errs.append(.required(cpath.child("name")))
            } else {
                for msg in NameValidation.dns1123Label(container.name) {
                    errs.append(.invalid(cpath.child("name"), .string(container.name), msg))
                }
            }
            if let policy = container.terminationMessagePolicy, !["File", "FallbackToLogsOnError"].contains(policy) {
                errs.append(.notSupported(cpath.child("terminationMessagePolicy"), .string(policy), supported: ["File", "FallbackToLogsOnError"]))
            }
            errs += validatePorts(container.ports ?? [], at: cpath.child("ports"))
            for (j, env) in (container.env ?? []).enumerated() where env.name.isEmpty {
                errs.append(.required(cpath.child("env").index(j).child("name")))
            }
            if let pull = container.imagePullPolicy, !["Always", "IfNotPresent", "Never"].contains(pull) {
                errs.append(.notSupported(cpath.child("imagePullPolicy"), .string(pull), supported: ["Always", "IfNotPresent", "Never"]))
            }
            if !container.name.isEmpty && !names.insert(container.name).inserted {
                errs.append(.duplicate(cpath.child("name"), .string(container.name)))
            }
            let isSidecar = initContainers && container.restartPolicy == .always
            let probes: [(String, Probe?)] = [
                ("livenessProbe", container.livenessProbe), ("readinessProbe", container.readinessProbe),
                ("startupProbe", container.startupProbe),
            ]
            for (field, probe) in probes {
                guard let probe else { continue }
                if initContainers && !isSidecar {
                    errs.append(.forbidden(cpath.child(field), "may not be set for init containers without restartPolicy=Always"))
                    continue
                }
                errs += probe.validate(at: cpath.child(field), kind: field)
            }
            if !initContainers && container.restartPolicy != nil {
                errs.append(.forbidden(cpath.child("restartPolicy"), "may not be set for non-init containers"))
            }
        }
        return errs
    }

    /// Host ports: with host networking each must equal its container port, and no two containers may take the
    /// same protocol, host IP and host port.
    private func validateHostPorts(_ spec: FieldPath) -> [FieldError] {
        var errs: [FieldError] = []
        var seen = Set<String>()
        for (list, field) in [(self.spec.containers ?? [], "containers"), (self.spec.initContainers ?? [], "initContainers")] {
            for (i, container) in list.enumerated() {
                for (j, port) in (container.ports ?? []).enumerated() {
                    let path = spec.child(field).index(i).child("ports").index(j).child("hostPort")
                    let hostPort = port.hostPort ?? 0
                    if self.spec.hostNetwork == true && hostPort != port.containerPort {
                        errs.append(.invalid(path, .int(Int64(hostPort)), "must match `containerPort` when `hostNetwork` is true"))
                    }
                    guard hostPort != 0 else { continue }
                    let key = "\(port.protocol?.rawValue ?? "")/\(port.hostIP ?? "")/\(hostPort)"
                    if !seen.insert(key).inserted { errs.append(.duplicate(path, .string(key))) }
                }
            }
        }
        return errs
    }

    private func validatePorts(_ ports: [ContainerPort], at path: FieldPath) -> [FieldError] {
        var errs: [FieldError] = []
        var names = Set<String>()
        for (j, port) in ports.enumerated() {
            let ppath = path.index(j)
            if let name = port.name, !name.isEmpty {
                let problems = NameValidation.portName(name)
                for msg in problems { errs.append(.invalid(ppath.child("name"), .string(name), msg)) }
                if problems.isEmpty && !names.insert(name).inserted {
                    errs.append(.duplicate(ppath.child("name"), .string(name)))
                }
            }
            if port.containerPort == 0 {
                errs.append(.required(ppath.child("containerPort")))
            } else {
                for msg in NameValidation.portNumber(Int64(port.containerPort)) {
                    errs.append(.invalid(ppath.child("containerPort"), .int(Int64(port.containerPort)), msg))
                }
            }
            if let host = port.hostPort, host != 0 {
                for msg in NameValidation.portNumber(Int64(host)) { errs.append(.invalid(ppath.child("hostPort"), .int(Int64(host)), msg)) }
            }
            let proto = port.protocol?.rawValue ?? ""
            if proto.isEmpty {
                errs.append(.required(ppath.child("protocol")))
            } else if !TransportProtocol.supported.map(\.rawValue).contains(proto) {
                errs.append(.notSupported(ppath.child("protocol"), .string(proto), supported: TransportProtocol.supported.map(\.rawValue)))
            }
        }
        return errs
    }
}

extension Probe {
    /// `validateProbe`: exactly one handler, valid ports and paths, non-negative timings.
    func validate(at path: FieldPath, kind: String) -> [FieldError] {
        var errs: [FieldError] = []
        var handlers = 0
        func another(_ field: String) -> Bool {
            handlers += 1
            if handlers > 1 {
                errs.append(.forbidden(path.child(field), "may not specify more than 1 handler type"))
                return false
            }
            return true
        }
        if let exec, another("exec"), (exec.command ?? []).isEmpty {
            errs.append(.required(path.child("exec").child("command")))
        }
        if let httpGet, another("httpGet") {
            let p = path.child("httpGet")
            if (httpGet.path ?? "").isEmpty { errs.append(.required(p.child("path"))) }
            errs += NameValidation.portNumOrName(httpGet.port, at: p.child("port"))
            if let scheme = httpGet.scheme, !["HTTP", "HTTPS"].contains(scheme) {
                errs.append(.notSupported(p.child("scheme"), .string(scheme), supported: ["HTTP", "HTTPS"]))
            }
        }
        if let tcpSocket, another("tcpSocket") {
            errs += NameValidation.portNumOrName(tcpSocket.port, at: path.child("tcpSocket").child("port"))
        }
        if let grpc, another("grpc") {
            for msg in NameValidation.portNumber(Int64(grpc.port)) {
                errs.append(.invalid(path.child("grpc").child("port"), .int(Int64(grpc.port)), msg))
            }
        }
        if handlers == 0 { errs.append(.required(path, "must specify a handler type")) }
        let timings: [(String, Int32?)] = [
            ("initialDelaySeconds", initialDelaySeconds), ("timeoutSeconds", timeoutSeconds),
            ("periodSeconds", periodSeconds), ("successThreshold", successThreshold),
            ("failureThreshold", failureThreshold),
        ]
        for (field, value) in timings {
            if let value, value < 0 {
                errs.append(.invalid(path.child(field), .int(Int64(value)), "must be greater than or equal to 0"))
            }
        }
        if let grace = terminationGracePeriodSeconds {
            if grace <= 0 {
                errs.append(.invalid(path.child("terminationGracePeriodSeconds"), .int(grace), "must be greater than 0"))
            }
            if kind == "readinessProbe" {
                errs.append(.invalid(path.child("terminationGracePeriodSeconds"), .int(grace), "must not be set for readinessProbes"))
            }
        }
        if kind != "readinessProbe", let success = successThreshold, success != 1 {
            errs.append(.invalid(path.child("successThreshold"), .int(Int64(success)), "must be 1"))
        }
        return errs
    }
}
