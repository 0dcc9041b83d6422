extension Pod {
    /// The versioned defaults of `core/v1` for a Pod that matter to Switchboard: restart policy, grace period,
    /// DNS policy, scheduler, port protocols and probe timings, as upstream sets them.
    public mutating func applyDefaults() {
        if spec.restartPolicy == nil || spec.restartPolicy?.rawValue == "" { spec.restartPolicy = .always }
        if spec.terminationGracePeriodSeconds == nil { spec.terminationGracePeriodSeconds = 30 }
        if spec.dnsPolicy == nil || spec.dnsPolicy == "" { spec.dnsPolicy = "ClusterFirst" }
        if spec.schedulerName == nil || spec.schedulerName == "" { spec.schedulerName = "default-scheduler" }
        if spec.enableServiceLinks == nil { spec.enableServiceLinks = true }
        if spec.securityContext == nil { spec.securityContext = .object([:]) }
        let hostNetwork = spec.hostNetwork ?? false
        if var containers = spec.containers {
            for i in containers.indices { containers[i].applyDefaults(hostNetwork: hostNetwork) }
            spec.containers = containers
        }
        if var containers = spec.initContainers {
            for i in containers.indices { containers[i].applyDefaults(hostNetwork: hostNetwork) }
            spec.initContainers = containers
        }
    }
}

extension Container {
    mutating func applyDefaults(hostNetwork: Bool) {
        if terminationMessagePath == nil || terminationMessagePath == "" { terminationMessagePath = "/dev/termination-log" }
        if terminationMessagePolicy == nil || terminationMessagePolicy == "" { terminationMessagePolicy = "File" }
        if let image, !image.isEmpty, imagePullPolicy == nil || imagePullPolicy == "" {
            imagePullPolicy = Self.usesLatestTag(image) ? "Always" : "IfNotPresent"
        }
        if var ports {
            for i in ports.indices {
                if ports[i].protocol == nil || ports[i].protocol?.rawValue == "" { ports[i].protocol = .tcp }
                if hostNetwork && (ports[i].hostPort ?? 0) == 0 { ports[i].hostPort = ports[i].containerPort }
            }
            self.ports = ports
        }
        readinessProbe?.applyDefaults()
        livenessProbe?.applyDefaults()
        startupProbe?.applyDefaults()
    }

    /// True for `name:latest` and for an image with neither tag nor digest.
    static func usesLatestTag(_ image: String) -> Bool {
        if image.contains("@") { return false }
        let lastComponent = image.split(separator: "/").last.map(String.init) ?? image
        guard let colon = lastComponent.lastIndex(of: ":") else { return true }
        return lastComponent[lastComponent.index(after: colon)...] == "latest"
    }
}

extension Probe {
    mutating func applyDefaults() {
        if (timeoutSeconds ?? 0) == 0 { timeoutSeconds = 1 }
        if (periodSeconds ?? 0) == 0 { periodSeconds = 10 }
        if (successThreshold ?? 0) == 0 { successThreshold = 1 }
        if (failureThreshold ?? 0) == 0 { failureThreshold = 3 }
        if var get = httpGet {
            if get.path == nil || get.path == "" { get.path = "/" }
            if get.scheme == nil || get.scheme == "" { get.scheme = "HTTP" }
            httpGet = get
        }
    }
}
