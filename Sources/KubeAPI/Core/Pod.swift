/// A Pod: one or more containers sharing a network namespace and an IP address.
public struct Pod: APIObject {
    public static let apiVersion = "v1"
    public static let kind = "Pod"
    public static let resource = "pods"
    public static let isNamespaced = true

    public var apiVersion: String?
    public var kind: String?
    // Boxed: see `Indirect`. Reads borrow the boxed value; writes replace the box. The accessors are inlinable
    // so that reading `pod.spec.nodeName` in another module is a load, not a coroutine call and a retain.
    @usableFromInline var boxedMetadata: Indirect<ObjectMeta>
    @usableFromInline var boxedSpec: Indirect<PodSpec>
    @usableFromInline var boxedStatus: Indirect<PodStatus>

    public var metadata: ObjectMeta {
        @inlinable _read { yield boxedMetadata.value }
        @inlinable _modify {
            var value = boxedMetadata.value
            yield &value
            boxedMetadata = Indirect(value)
        }
    }

    public var spec: PodSpec {
        @inlinable _read { yield boxedSpec.value }
        @inlinable _modify {
            var value = boxedSpec.value
            yield &value
            boxedSpec = Indirect(value)
        }
    }

    public var status: PodStatus {
        @inlinable _read { yield boxedStatus.value }
        @inlinable _modify {
            var value = boxedStatus.value
            yield &value
            boxedStatus = Indirect(value)
        }
    }

    public init(metadata: ObjectMeta, spec: PodSpec = PodSpec(), status: PodStatus = PodStatus()) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.boxedMetadata = Indirect(metadata)
        self.boxedSpec = Indirect(spec)
        self.boxedStatus = Indirect(status)
    }

    enum CodingKeys: String, CodingKey {
        case apiVersion, kind, metadata, spec, status
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        boxedMetadata = Indirect(try c.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta())
        boxedSpec = Indirect(try c.decodeIfPresent(PodSpec.self, forKey: .spec) ?? PodSpec())
        boxedStatus = Indirect(try c.decodeIfPresent(PodStatus.self, forKey: .status) ?? PodStatus())
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(apiVersion, forKey: .apiVersion)
        try c.encodeIfPresent(kind, forKey: .kind)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(spec, forKey: .spec)
        try c.encode(status, forKey: .status)
    }
}

/// What a Pod runs and where. Fields Switchboard does not act on are kept verbatim (opaque) so that real-world
/// manifests decode, round-trip and pass strict field validation.
public struct PodSpec: Codable, Hashable, Sendable {
    public var containers: [Container]?
    public var initContainers: [Container]?
    public var restartPolicy: RestartPolicy?
    public var terminationGracePeriodSeconds: Int64?
    public var activeDeadlineSeconds: Int64?
    public var dnsPolicy: String?
    public var nodeSelector: [String: String]?
    public var serviceAccountName: String?
    public var serviceAccount: String?
    public var automountServiceAccountToken: Bool?
    /// The node the Pod is bound to; set by the scheduler or by the user.
    public var nodeName: String?
    public var hostNetwork: Bool?
    public var hostPID: Bool?
    public var hostIPC: Bool?
    public var shareProcessNamespace: Bool?
    /// With `subdomain`, gives the pod a DNS name under a headless Service.
    public var hostname: String?
    public var subdomain: String?
    public var schedulerName: String?
    public var priorityClassName: String?
    public var priority: Int32?
    public var preemptionPolicy: String?
    public var runtimeClassName: String?
    public var enableServiceLinks: Bool?
    public var setHostnameAsFQDN: Bool?
    public var securityContext: JSONValue?
    public var imagePullSecrets: JSONValue?
    public var affinity: JSONValue?
    public var tolerations: JSONValue?
    public var hostAliases: JSONValue?
    public var dnsConfig: JSONValue?
    public var readinessGates: JSONValue?
    public var volumes: JSONValue?
    public var topologySpreadConstraints: JSONValue?
    public var overhead: JSONValue?
    public var os: JSONValue?
    public var ephemeralContainers: JSONValue?
    public var resourceClaims: JSONValue?
    public var schedulingGates: JSONValue?

    public init(
        containers: [Container]? = nil, restartPolicy: RestartPolicy? = nil,
        terminationGracePeriodSeconds: Int64? = nil, nodeName: String? = nil, hostname: String? = nil,
        subdomain: String? = nil
    ) {
        self.containers = containers
        self.restartPolicy = restartPolicy
        self.terminationGracePeriodSeconds = terminationGracePeriodSeconds
        self.nodeName = nodeName
        self.hostname = hostname
        self.subdomain = subdomain
    }
}

/// A process in a Pod. `image` is recorded; Switchboard runs `command` and `args` as host commands.
public struct Container: Codable, Hashable, Sendable {
    public var name: String
    public var image: String?
    public var imagePullPolicy: String?
    public var command: [String]?
    public var args: [String]?
    public var workingDir: String?
    public var env: [EnvVar]?
    public var envFrom: JSONValue?
    public var ports: [ContainerPort]?
    public var readinessProbe: Probe?
    public var livenessProbe: Probe?
    public var startupProbe: Probe?
    /// `Always` on an init container makes it a sidecar.
    public var restartPolicy: RestartPolicy?
    public var resources: JSONValue?
    public var resizePolicy: JSONValue?
    public var volumeMounts: JSONValue?
    public var volumeDevices: JSONValue?
    public var lifecycle: JSONValue?
    public var securityContext: JSONValue?
    public var terminationMessagePath: String?
    public var terminationMessagePolicy: String?
    public var stdin: Bool?
    public var stdinOnce: Bool?
    public var tty: Bool?

    public init(
        name: String, image: String? = nil, command: [String]? = nil, args: [String]? = nil,
        env: [EnvVar]? = nil, ports: [ContainerPort]? = nil, readinessProbe: Probe? = nil
    ) {
        self.name = name
        self.image = image
        self.command = command
        self.args = args
        self.env = env
        self.ports = ports
        self.readinessProbe = readinessProbe
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        image = try c.decodeIfPresent(String.self, forKey: .image)
        imagePullPolicy = try c.decodeIfPresent(String.self, forKey: .imagePullPolicy)
        command = try c.decodeIfPresent([String].self, forKey: .command)
        args = try c.decodeIfPresent([String].self, forKey: .args)
        workingDir = try c.decodeIfPresent(String.self, forKey: .workingDir)
        env = try c.decodeIfPresent([EnvVar].self, forKey: .env)
        envFrom = try c.decodeIfPresent(JSONValue.self, forKey: .envFrom)
        ports = try c.decodeIfPresent([ContainerPort].self, forKey: .ports)
        readinessProbe = try c.decodeIfPresent(Probe.self, forKey: .readinessProbe)
        livenessProbe = try c.decodeIfPresent(Probe.self, forKey: .livenessProbe)
        startupProbe = try c.decodeIfPresent(Probe.self, forKey: .startupProbe)
        restartPolicy = try c.decodeIfPresent(RestartPolicy.self, forKey: .restartPolicy)
        resources = try c.decodeIfPresent(JSONValue.self, forKey: .resources)
        resizePolicy = try c.decodeIfPresent(JSONValue.self, forKey: .resizePolicy)
        volumeMounts = try c.decodeIfPresent(JSONValue.self, forKey: .volumeMounts)
        volumeDevices = try c.decodeIfPresent(JSONValue.self, forKey: .volumeDevices)
        lifecycle = try c.decodeIfPresent(JSONValue.self, forKey: .lifecycle)
        securityContext = try c.decodeIfPresent(JSONValue.self, forKey: .securityContext)
        terminationMessagePath = try c.decodeIfPresent(String.self, forKey: .terminationMessagePath)
        terminationMessagePolicy = try c.decodeIfPresent(String.self, forKey: .terminationMessagePolicy)
        stdin = try c.decodeIfPresent(Bool.self, forKey: .stdin)
        stdinOnce = try c.decodeIfPresent(Bool.self, forKey: .stdinOnce)
        tty = try c.decodeIfPresent(Bool.self, forKey: .tty)
    }
}

public struct EnvVar: Codable, Hashable, Sendable {
    public var name: String
    public var value: String?
    /// References to fields, secrets and config maps; kept, not resolved.
    public var valueFrom: JSONValue?

    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// A port a container listens on. Service `targetPort` names refer to `name`.
public struct ContainerPort: Codable, Hashable, Sendable {
    public var name: String?
    public var containerPort: Int32
    public var `protocol`: TransportProtocol?
    public var hostPort: Int32?
    public var hostIP: String?

    public init(name: String? = nil, containerPort: Int32, protocol: TransportProtocol? = nil) {
        self.name = name
        self.containerPort = containerPort
        self.protocol = `protocol`
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        containerPort = try c.decodeIfPresent(Int32.self, forKey: .containerPort) ?? 0
        self.protocol = try c.decodeIfPresent(TransportProtocol.self, forKey: .protocol)
        hostPort = try c.decodeIfPresent(Int32.self, forKey: .hostPort)
        hostIP = try c.decodeIfPresent(String.self, forKey: .hostIP)
    }
}

/// A health check of a container: exactly one handler, and its timing.
public struct Probe: Codable, Hashable, Sendable {
    public var exec: ExecAction?
    public var httpGet: HTTPGetAction?
    public var tcpSocket: TCPSocketAction?
    public var grpc: GRPCAction?
    public var initialDelaySeconds: Int32?
    public var timeoutSeconds: Int32?
    public var periodSeconds: Int32?
    public var successThreshold: Int32?
    public var failureThreshold: Int32?
    public var terminationGracePeriodSeconds: Int64?

    public init(
        exec: ExecAction? = nil, httpGet: HTTPGetAction? = nil, tcpSocket: TCPSocketAction? = nil,
        initialDelaySeconds: Int32? = nil, timeoutSeconds: Int32? = nil, periodSeconds: Int32? = nil,
        successThreshold: Int32? = nil, failureThreshold: Int32? = nil
    ) {
        self.exec = exec
        self.httpGet = httpGet
        self.tcpSocket = tcpSocket
        self.initialDelaySeconds = initialDelaySeconds
        self.timeoutSeconds = timeoutSeconds
        self.periodSeconds = periodSeconds
        self.successThreshold = successThreshold
        self.failureThreshold = failureThreshold
    }
}

public struct ExecAction: Codable, Hashable, Sendable {
    public var command: [String]?
    public init(command: [String]? = nil) { self.command = command }
}

public struct HTTPGetAction: Codable, Hashable, Sendable {
    public var path: String?
    public var port: IntOrString
    public var host: String?
    public var scheme: String?
    public var httpHeaders: [HTTPHeader]?

    public init(path: String? = nil, port: IntOrString, host: String? = nil, scheme: String? = nil) {
        self.path = path
        self.port = port
        self.host = host
        self.scheme = scheme
    }
}

public struct HTTPHeader: Codable, Hashable, Sendable {
    public var name: String
    public var value: String
}

public struct TCPSocketAction: Codable, Hashable, Sendable {
    public var port: IntOrString
    public var host: String?
    public init(port: IntOrString, host: String? = nil) {
        self.port = port
        self.host = host
    }
}

public struct GRPCAction: Codable, Hashable, Sendable {
    public var port: Int32
    public var service: String?
}

/// What is known of a Pod now, reported by its node.
public struct PodStatus: Codable, Hashable, Sendable {
    public var phase: PodPhase?
    public var conditions: [PodCondition]?
    public var message: String?
    public var reason: String?
    public var nominatedNodeName: String?
    public var hostIP: String?
    public var hostIPs: [PodIP]?
    /// The primary IP; `podIPs[0]` when both are set.
    public var podIP: String?
    /// One IP per family at most, primary first.
    public var podIPs: [PodIP]?
    public var startTime: Time?
    public var initContainerStatuses: [ContainerStatus]?
    public var containerStatuses: [ContainerStatus]?
    public var qosClass: String?

    public init(
        phase: PodPhase? = nil, conditions: [PodCondition]? = nil, hostIP: String? = nil, podIP: String? = nil,
        podIPs: [PodIP]? = nil, startTime: Time? = nil, containerStatuses: [ContainerStatus]? = nil
    ) {
        self.phase = phase
        self.conditions = conditions
        self.hostIP = hostIP
        self.podIP = podIP
        self.podIPs = podIPs
        self.startTime = startTime
        self.containerStatuses = containerStatuses
    }
}

public struct PodIP: Codable, Hashable, Sendable {
    public var ip: String
    public init(ip: String) { self.ip = ip }
}

/// A Pod condition such as `Ready` or `PodScheduled`.
public struct PodCondition: Codable, Hashable, Sendable {
    public var type: String
    public var status: ConditionStatus
    public var lastProbeTime: Time?
    public var lastTransitionTime: Time?
    public var reason: String?
    public var message: String?

    public init(
        type: String, status: ConditionStatus, lastProbeTime: Time? = nil, lastTransitionTime: Time? = nil,
        reason: String? = nil, message: String? = nil
    ) {
        self.type = type
        self.status = status
        self.lastProbeTime = lastProbeTime
        self.lastTransitionTime = lastTransitionTime
        self.reason = reason
        self.message = message
    }

    public static let ready = "Ready"
    public static let containersReady = "ContainersReady"
    public static let initialized = "Initialized"
    public static let podScheduled = "PodScheduled"
}

public struct ContainerStatus: Codable, Hashable, Sendable {
    public var name: String
    public var state: ContainerState?
    public var lastState: ContainerState?
    public var ready: Bool
    public var restartCount: Int32
    public var image: String?
    public var imageID: String?
    public var containerID: String?
    public var started: Bool?

    public init(
        name: String, state: ContainerState? = nil, lastState: ContainerState? = nil, ready: Bool = false,
        restartCount: Int32 = 0, image: String? = nil, imageID: String? = nil, containerID: String? = nil,
        started: Bool? = nil
    ) {
        self.name = name
        self.state = state
        self.lastState = lastState
        self.ready = ready
        self.restartCount = restartCount
        self.image = image
        self.imageID = imageID
        self.containerID = containerID
        self.started = started
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        state = try c.decodeIfPresent(ContainerState.self, forKey: .state)
        lastState = try c.decodeIfPresent(ContainerState.self, forKey: .lastState)
        ready = try c.decodeIfPresent(Bool.self, forKey: .ready) ?? false
        restartCount = try c.decodeIfPresent(Int32.self, forKey: .restartCount) ?? 0
        image = try c.decodeIfPresent(String.self, forKey: .image)
        imageID = try c.decodeIfPresent(String.self, forKey: .imageID)
        containerID = try c.decodeIfPresent(String.self, forKey: .containerID)
        started = try c.decodeIfPresent(Bool.self, forKey: .started)
    }
}

/// Exactly one of the three is set.
public struct ContainerState: Codable, Hashable, Sendable {
    public var waiting: ContainerStateWaiting?
    public var running: ContainerStateRunning?
    public var terminated: ContainerStateTerminated?

    public init(
        waiting: ContainerStateWaiting? = nil, running: ContainerStateRunning? = nil,
        terminated: ContainerStateTerminated? = nil
    ) {
        self.waiting = waiting
        self.running = running
        self.terminated = terminated
    }
}

public struct ContainerStateWaiting: Codable, Hashable, Sendable {
    public var reason: String?
    public var message: String?
    public init(reason: String? = nil, message: String? = nil) {
        self.reason = reason
        self.message = message
    }
}

public struct ContainerStateRunning: Codable, Hashable, Sendable {
    public var startedAt: Time?
    public init(startedAt: Time? = nil) { self.startedAt = startedAt }
}

public struct ContainerStateTerminated: Codable, Hashable, Sendable {
    public var exitCode: Int32
    public var signal: Int32?
    public var reason: String?
    public var message: String?
    public var startedAt: Time?
    public var finishedAt: Time?
    public var containerID: String?

    public init(
        exitCode: Int32, signal: Int32? = nil, reason: String? = nil, message: String? = nil,
        startedAt: Time? = nil, finishedAt: Time? = nil
    ) {
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.message = message
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

extension Pod {
    /// True when the `Ready` condition is `True`.
    public var isReady: Bool {
        status.conditions?.contains { $0.type == PodCondition.ready && $0.status == .true } ?? false
    }

    /// The Pod's IPs: `status.podIPs`, or `status.podIP` when only that is set.
    public var ips: [String] {
        if let ips = status.podIPs, !ips.isEmpty { return ips.map(\.ip) }
        if let ip = status.podIP, !ip.isEmpty { return [ip] }
        return []
    }

    /// Every container, regular ones first.
    public var allContainers: [Container] { (spec.containers ?? []) + (spec.initContainers ?? []) }
}
