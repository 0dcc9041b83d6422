import KubeAPI

/// What the node knows of one container at a moment.
public struct ContainerRuntimeStatus: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        case waiting(reason: String, message: String?)
        case running(startedAt: Time)
        case terminated(ContainerStateTerminated)
    }

    public var name: String
    public var image: String?
    public var state: State
    public var lastTerminated: ContainerStateTerminated?
    public var restartCount: Int32
    public var ready: Bool

    public init(
        name: String, image: String? = nil, state: State, lastTerminated: ContainerStateTerminated? = nil,
        restartCount: Int32 = 0, ready: Bool = false
    ) {
        self.name = name
        self.image = image
        self.state = state
        self.lastTerminated = lastTerminated
        self.restartCount = restartCount
        self.ready = ready
    }

    var hasStarted: Bool {
        switch state {
        case .running, .terminated: true
        case .waiting: restartCount > 0 || lastTerminated != nil
        }
    }
}

/// What the node knows of one pod at a moment.
public struct PodRuntimeSnapshot: Sendable, Hashable {
    public var podIPs: [String]
    public var hostIP: String?
    public var startTime: Time?
    /// The network namespace and its address are set up.
    public var sandboxReady: Bool
    public var containers: [ContainerRuntimeStatus]
    /// Succeeded or Failed once no container will run again.
    public var terminalPhase: PodPhase?

    public init(
        podIPs: [String] = [], hostIP: String? = nil, startTime: Time? = nil, sandboxReady: Bool = false,
        containers: [ContainerRuntimeStatus] = [], terminalPhase: PodPhase? = nil
    ) {
        self.podIPs = podIPs
        self.hostIP = hostIP
        self.startTime = startTime
        self.sandboxReady = sandboxReady
        self.containers = containers
        self.terminalPhase = terminalPhase
    }
}

/// A pod's status as kubelet reports it: phase, IPs, the five conditions and the container statuses.
public enum PodStatusBuilder {
    /// The status for `snapshot`. A condition whose status did not change keeps its `lastTransitionTime` from
    /// `previous`, so that reporting the same state again is a no-op.
    public static func status(_ snapshot: PodRuntimeSnapshot, previous: PodStatus?, now: Time) -> PodStatus {
        let phase: PodPhase =
            if let terminal = snapshot.terminalPhase {
                terminal
            } else if snapshot.sandboxReady && !snapshot.containers.isEmpty && snapshot.containers.allSatisfy(\.hasStarted) {
                .running
            } else {
                .pending
            }
        let unready = snapshot.containers.filter { !$0.ready }.map(\.name)
        let containersReady = unready.isEmpty && phase == .running
        let notReadyMessage = "containers with unready status: [\(unready.joined(separator: " "))]"
        let previousConditions = previous?.conditions ?? []
        func condition(_ type: String, _ value: Bool, reason: String? = nil, message: String? = nil) -> PodCondition {
            let status: ConditionStatus = value ? .true : .false
            let since = previousConditions.first { $0.type == type && $0.status == status }?.lastTransitionTime
            return PodCondition(
                type: type, status: status, lastTransitionTime: since ?? now.truncatedToSeconds,
                reason: value ? nil : reason, message: value ? nil : message)
        }
        let terminalReason = phase.isTerminal ? "PodCompleted" : "ContainersNotReady"
        var status = PodStatus(
            phase: phase,
            conditions: [
                condition("PodReadyToStartContainers", snapshot.sandboxReady),
                condition(PodCondition.initialized, true),
                condition(PodCondition.ready, containersReady, reason: terminalReason, message: phase.isTerminal ? nil : notReadyMessage),
                condition(PodCondition.containersReady, containersReady, reason: terminalReason, message: phase.isTerminal ? nil : notReadyMessage),
                condition(PodCondition.podScheduled, true),
            ],
            hostIP: snapshot.hostIP,
            podIP: snapshot.podIPs.first,
            podIPs: snapshot.podIPs.isEmpty ? nil : snapshot.podIPs.map(PodIP.init(ip:)),
            startTime: snapshot.startTime,
            containerStatuses: snapshot.containers.map(containerStatus))
        status.hostIPs = snapshot.hostIP.map { [PodIP(ip: $0)] }
        status.qosClass = "BestEffort"
        return status
    }

    static func containerStatus(_ c: ContainerRuntimeStatus) -> ContainerStatus {
        let state: ContainerState
        switch c.state {
        case .waiting(let reason, let message): state = ContainerState(waiting: ContainerStateWaiting(reason: reason, message: message))
        case .running(let startedAt): state = ContainerState(running: ContainerStateRunning(startedAt: startedAt))
        case .terminated(let terminated): state = ContainerState(terminated: terminated)
        }
        var started: Bool = false
        if case .running = c.state { started = true }
        return ContainerStatus(
            name: c.name, state: state, lastState: c.lastTerminated.map { ContainerState(terminated: $0) } ?? ContainerState(),
            ready: c.ready, restartCount: c.restartCount, image: c.image ?? "", imageID: "", started: started)
    }
}
