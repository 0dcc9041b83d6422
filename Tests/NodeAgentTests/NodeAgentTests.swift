import IPAM
import KubeAPI
import Testing
@testable import NodeAgent

struct PodIPPoolTests {
    @Test func handsOutTheLowestFreeAddressAfterTheGateway() throws {
        var pool = try PodIPPool(cidr: CIDR("10.244.1.0/24")!)
        #expect(pool.gateway == IPAddress("10.244.1.1"))
        let a = try pool.allocate()
        let b = try pool.allocate()
        #expect(a == IPAddress("10.244.1.2") && b == IPAddress("10.244.1.3"))
        pool.release(a)
        #expect(try pool.allocate() == a, "a released address is the next one reused")
    }

    @Test func aFullPoolSaysSoAndSkipsTheBroadcastAddress() throws {
        var pool = try PodIPPool(cidr: CIDR("10.0.0.0/29")!)
        var got: [String] = []
        for _ in 0..<5 { got.append(try pool.allocate().description) }
        #expect(got == ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"])
        #expect(throws: PodIPPool.PoolError.exhausted("10.0.0.0/29")) { var full = pool; _ = try full.allocate() }
        #expect(throws: PodIPPool.PoolError.self) { try PodIPPool(cidr: CIDR("10.0.0.0/31")!) }
    }
}

struct ProbeTrackerTests {
    @Test func thresholdsDecideTheVerdict() {
        var tracker = ProbeTracker(successThreshold: 2, failureThreshold: 3)
        #expect(!tracker.ready, "a container starts not ready")
        var changes: [Bool] = []
        for success in [true, true, false, false] { changes.append(tracker.record(success: success)) }
        #expect(changes == [false, true, false, false])
        #expect(tracker.ready, "two failures of three keep it ready")
        let changed = tracker.record(success: false)
        #expect(changed && !tracker.ready)
        tracker.reset()
        #expect(!tracker.ready)
    }

    @Test func kubeletDefaults() {
        let probe = Probe(tcpSocket: TCPSocketAction(port: 8080))
        let tracker = ProbeTracker(probe)
        #expect(tracker.successThreshold == 1 && tracker.failureThreshold == 3)
        let timing = ProbeTiming(probe)
        #expect(timing.period == .seconds(10) && timing.timeout == .seconds(1) && timing.initialDelay == .zero)
    }

    @Test func namedPortsResolve() {
        let ports = [ContainerPort(name: "http", containerPort: 8080)]
        #expect(Prober.resolve(.string("http"), ports) == 8080)
        #expect(Prober.resolve(.string("grpc"), ports) == nil)
        #expect(Prober.resolve(.int(0), ports) == nil)
    }
}

struct RestartBackoffTests {
    @Test func atOnceThenTenSecondsDoublingToFiveMinutes() {
        var backoff = RestartBackoff()
        let waits = (0..<8).map { _ in backoff.next(ranFor: .seconds(1)) }
        #expect(waits == [.zero, .seconds(10), .seconds(20), .seconds(40), .seconds(80), .seconds(160), .seconds(300), .seconds(300)])
        #expect(backoff.next(ranFor: .seconds(600)) == .zero, "ten minutes of running resets it")
    }
}

struct ContainerLaunchTests {
    @Test func switchboardIsThisBinaryAndEnvWins() throws {
        var container = Container(name: "echo")
        container.command = ["switchboard", "echo"]
        container.args = ["--tcp", ":8080"]
        container.env = [EnvVar(name: "POD_NAME", value: "override"), EnvVar(name: "MODE", value: "x")]
        let launch = try ContainerLaunch.resolve(container, switchboard: "/opt/sb", extra: [("POD_NAME", "web-1"), ("POD_IP", "10.244.1.2")])
        #expect(launch.executable == "/opt/sb")
        #expect(launch.arguments == ["echo", "--tcp", ":8080"])
        #expect(launch.environment.contains("POD_NAME=override") && !launch.environment.contains("POD_NAME=web-1"))
        #expect(launch.environment.contains("POD_IP=10.244.1.2") && launch.environment.contains("MODE=x"))
        #expect(launch.environment.first?.hasPrefix("PATH=") == true)
    }

    @Test func aMissingCommandIsAWaitingReason() {
        var container = Container(name: "c")
        container.command = ["no-such-command-xyz"]
        #expect(throws: ContainerLaunch.Failure.notFound("no-such-command-xyz")) {
            try ContainerLaunch.resolve(container, switchboard: "/opt/sb", extra: [])
        }
        let failure = ContainerLaunch.Failure.notFound("no-such-command-xyz")
        #expect(failure.reason == "RunContainerError")
        #expect(failure.description == #"exec: "no-such-command-xyz": executable file not found in $PATH"#)
        #expect(throws: ContainerLaunch.Failure.noCommand) { try ContainerLaunch.resolve(Container(name: "c"), switchboard: "/opt/sb", extra: []) }
    }
}

struct PodSandboxNamesTests {
    @Test func namesFitTheKernelAndComeFromTheUID() {
        let names = PodSandboxNames(prefix: "sb-lab-node1-", uid: "3f2a9c1e-77b0-4d2e-9a11-0c5e8d7f6b21")
        #expect(names.namespace == "sb-lab-node1-p-3f2a9c1e77b0")
        #expect(names.hostLink == "sbv3f2a9c1e77b0" && names.hostLink.count <= 15)
    }
}

struct PodStatusBuilderTests {
    let now = Time(seconds: 1_800_000_000)

    @Test func runningButNotReadyThenReady() {
        var snapshot = PodRuntimeSnapshot(
            podIPs: ["10.244.1.2"], hostIP: "10.200.1.2", startTime: now, sandboxReady: true,
            containers: [ContainerRuntimeStatus(name: "web", state: .running(startedAt: now))])
        let first = PodStatusBuilder.status(snapshot, previous: nil, now: now)
        #expect(first.phase == .running)
        #expect(first.podIP == "10.244.1.2" && first.podIPs == [PodIP(ip: "10.244.1.2")] && first.hostIP == "10.200.1.2")
        let ready = first.conditions?.first { $0.type == "Ready" }
        #expect(ready?.status == .false && ready?.reason == "ContainersNotReady")
        #expect(ready?.message == "containers with unready status: [web]")

        snapshot.containers[0].ready = true
        let later = Time(seconds: 1_800_000_005)
        let second = PodStatusBuilder.status(snapshot, previous: first, now: later)
        #expect(second.conditions?.first { $0.type == "Ready" }?.status == .true)
        #expect(second.conditions?.first { $0.type == "Ready" }?.lastTransitionTime == later)
        #expect(second.conditions?.first { $0.type == "Initialized" }?.lastTransitionTime == now, "unchanged conditions keep their time")
        #expect(PodStatusBuilder.status(snapshot, previous: second, now: Time(seconds: 1_800_000_099)) == second)
    }

    @Test func pendingUntilTheSandboxAndEveryContainerStarted() {
        let waiting = PodRuntimeSnapshot(
            sandboxReady: true,
            containers: [ContainerRuntimeStatus(name: "c", state: .waiting(reason: "RunContainerError", message: "exec: \"x\": executable file not found in $PATH"))])
        let status = PodStatusBuilder.status(waiting, previous: nil, now: now)
        #expect(status.phase == .pending)
        #expect(status.containerStatuses?.first?.state?.waiting?.reason == "RunContainerError")
    }

    @Test func terminalPhases() {
        let done = PodRuntimeSnapshot(
            sandboxReady: true,
            containers: [ContainerRuntimeStatus(name: "c", state: .terminated(ContainerStateTerminated(exitCode: 0, reason: "Completed")))],
            terminalPhase: .succeeded)
        let status = PodStatusBuilder.status(done, previous: nil, now: now)
        #expect(status.phase == .succeeded)
        #expect(status.conditions?.first { $0.type == "Ready" }?.reason == "PodCompleted")
    }
}

struct NodeAgentConfigurationTests {
    @Test func aPodCIDRInsideTheServiceCIDRIsRefused() {
        let configuration = NodeAgentConfiguration(
            nodeName: "n1", podCIDRs: [CIDR("10.96.5.0/24")!], serviceCIDRs: [CIDR("10.96.0.0/12")!], clusterDNS: "10.96.0.10",
            rootDirectory: "/tmp/x", namespacePrefix: "sb-n1-", switchboardExecutable: "/opt/sb")
        #expect(throws: NodeAgentError.self) { try configuration.validate() }
    }
}
