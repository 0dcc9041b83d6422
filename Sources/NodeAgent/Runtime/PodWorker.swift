#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import HostNetwork
import IPAM
import KubeAPI
import Logging
import Synchronization

/// The node's pod IPs, shared by its pod workers.
final class SharedPodIPPool: Sendable {
    let pools: Mutex<[PodIPPool]>
    init(_ pools: [PodIPPool]) { self.pools = Mutex(pools) }
    /// One address per family, primary first; all or none.
    func allocate() throws(PodIPPool.PoolError) -> [IPAddress] {
        try pools.withLock { pools throws(PodIPPool.PoolError) in
            var got: [IPAddress] = []
            do throws(PodIPPool.PoolError) {
                for index in pools.indices { got.append(try pools[index].allocate()) }
            } catch {
                for (index, address) in got.enumerated() { pools[index].release(address) }
                throw error
            }
            return got
        }
    }
    func release(_ addresses: [IPAddress]) {
        pools.withLock { pools in for (index, address) in addresses.enumerated() where index < pools.count { pools[index].release(address) } }
    }
}

/// What every pod worker of a node shares.
struct PodWorkerContext: Sendable {
    let configuration: NodeAgentConfiguration
    let api: NodeAPI
    let network: BridgeNetwork
    let prober: Prober
    let pool: SharedPodIPPool
    let ipExecutable: String
    let logger: Logger
}

/// One pod on this node, from its sandbox to its deletion: kubelet's pod worker. It starts the containers,
/// restarts them by the pod's policy, probes their readiness, reports status when it changes, and on
/// deletion stops them (SIGTERM, then SIGKILL after the grace period) and removes the sandbox.
actor PodWorker {
    struct Slot {
        var spec: Container
        var process: ChildProcess?
        var startedClock: ContinuousClock.Instant?
        var startedAt: Time?
        var status: ContainerRuntimeStatus
        var backoff = RestartBackoff()
        var nextStart: ContinuousClock.Instant?
        var tracker: ProbeTracker?
        var generation = 0
        var done = false
    }

    let context: PodWorkerContext
    let names: PodSandboxNames
    private(set) var pod: Pod
    private var removed = false
    /// The pod's addresses, primary first; empty until the sandbox is set up.
    private var ips: [IPAddress] = []
    private var ip: IPAddress? { ips.first }
    private var slots: [Slot]
    private var sandboxReady = false
    private var startTime: Time?
    private var terminalPhase: PodPhase?
    private var lastReported: PodStatus?
    /// The runtime state that `lastReported` was built from.
    private var lastSnapshot: PodRuntimeSnapshot?
    private var reporting = false
    private var reportAgain = false
    private let clock = ContinuousClock()

    init(pod: Pod, context: PodWorkerContext) {
        self.pod = pod
        self.context = context
        names = PodSandboxNames(prefix: context.configuration.namespacePrefix, uid: pod.metadata.uid ?? "")
        slots = (pod.spec.containers ?? []).map { container in
            Slot(
                spec: container,
                status: ContainerRuntimeStatus(
                    name: container.name, image: container.image, state: .waiting(reason: "ContainerCreating", message: nil)),
                nextStart: nil, tracker: container.readinessProbe.map(ProbeTracker.init))
        }
    }

    var podName: String { "\(pod.metadata.namespace ?? "")/\(pod.metadata.name ?? "")" }

    func update(_ pod: Pod) { self.pod = pod }

    /// The pod is gone from the API (deleted with grace 0 by someone else): stop at once.
    func markRemoved() { removed = true }

    /// Runs the pod until it is deleted and cleaned up.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.lifecycle() }
            for index in slots.indices where slots[index].spec.readinessProbe != nil {
                group.addTask { await self.probeLoop(index) }
            }
            _ = await group.next()
            group.cancelAll()
        }
    }

    // MARK: Lifecycle

    private func lifecycle() async {
        for container in pod.spec.containers ?? [] {
            if let image = container.image, !image.isEmpty {
                await context.api.event(
                    pod, type: "Warning", reason: "ImageIgnored",
                    message: "Container \(container.name): image \"\(image)\" is recorded and not pulled; Switchboard runs the container's command on the node")
            }
        }
        while !(await setUpSandbox()) {
            if removed || Task.isCancelled || pod.metadata.deletionTimestamp != nil { break }
            try? await Task.sleep(for: .seconds(2))
        }
        for index in slots.indices { slots[index].nextStart = clock.now }
        while true {
            if removed || Task.isCancelled {
                await stopAll(grace: .zero)
                await tearDownSandbox()
                return
            }
            if pod.metadata.deletionTimestamp != nil {
                let grace = Duration.seconds(Int(max(0, pod.metadata.deletionGracePeriodSeconds ?? 30)))
                await stopAll(grace: grace)
                await tearDownSandbox()
                if !removed, let uid = pod.metadata.uid {
                    try? await context.api.finishDeletion(namespace: pod.metadata.namespace ?? "", name: pod.metadata.name ?? "", uid: uid)
                }
                return
            }
            reapExits(restart: true)
            if sandboxReady { await startDueContainers() }
            if terminalPhase == nil, !slots.isEmpty, slots.allSatisfy(\.done) {
                terminalPhase = slots.allSatisfy({ if case .terminated(let t) = $0.status.state { t.exitCode == 0 } else { false } })
                    ? .succeeded : .failed
            }
            await report()
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Allocates the pod's IP and builds its namespace. False (with an event) when it failed.
    private func setUpSandbox() async -> Bool {
        if sandboxReady { return true }
        do {
            let addresses = try context.pool.allocate()
            ips = addresses
            let address = addresses[0]
            let configuration = context.configuration
            let namespace = pod.metadata.namespace ?? "default"
            try await context.network.setUp(
                names, ips: addresses,
                resolvConf: BridgeNetwork.resolvConf(dns: configuration.clusterDNS, namespace: namespace, clusterDomain: configuration.clusterDomain),
                hosts: BridgeNetwork.hosts(
                    ip: address.description, hostname: pod.spec.hostname ?? pod.metadata.name ?? "pod",
                    subdomain: pod.spec.subdomain, namespace: namespace, clusterDomain: configuration.clusterDomain))
            sandboxReady = true
            startTime = Time.now().truncatedToSeconds
            return true
        } catch {
            context.pool.release(ips)
            ips = []
            context.logger.warning("pod \(podName): sandbox: \(error)")
            await context.api.event(pod, type: "Warning", reason: "FailedCreatePodSandBox", message: "Failed to create pod sandbox: \(error)")
            return false
        }
    }

    private func tearDownSandbox() async {
        // Anything still in the namespace (a container's children that left its process group) goes too.
        for pid in await context.network.namespaces.pids(names.namespace) { kill(pid, SIGKILL) }
        await context.network.tearDown(names)
        context.pool.release(ips)
        ips = []
        sandboxReady = false
    }

    // MARK: Containers

    private func startDueContainers() async {
        let now = clock.now
        for index in slots.indices where slots[index].process == nil && !slots[index].done {
            guard let due = slots[index].nextStart, now >= due else { continue }
            await start(index)
        }
    }

    private func start(_ index: Int) async {
        let configuration = context.configuration
        let spec = slots[index].spec
        let extra: [(String, String)] = [
            ("HOSTNAME", pod.spec.hostname ?? pod.metadata.name ?? ""),
            ("POD_NAME", pod.metadata.name ?? ""), ("POD_NAMESPACE", pod.metadata.namespace ?? ""),
            ("POD_IP", ip?.description ?? ""), ("NODE_NAME", configuration.nodeName),
        ]
        let launch: ContainerLaunch
        do {
            launch = try ContainerLaunch.resolve(spec, switchboard: configuration.switchboardExecutable, extra: extra)
        } catch {
            slots[index].status.state = .waiting(reason: error.reason, message: error.description)
            slots[index].nextStart = clock.now + slots[index].backoff.next(ranFor: .zero) + .seconds(1)
            await context.api.event(
                pod, type: "Warning", reason: "Failed", message: "Error: failed to start container \"\(spec.name)\": \(error)")
            return
        }
        let directory = "\(configuration.logDirectory)/\(pod.metadata.namespace ?? "")_\(pod.metadata.name ?? "")_\(pod.metadata.uid ?? "")"
        let log = "\(directory)/\(spec.name).log"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let process = try ChildProcess.spawn(
                context.ipExecutable, ["netns", "exec", names.namespace, launch.executable] + launch.arguments,
                stdout: log, stderr: log, environment: launch.environment, grouping: .newProcessGroup, truncate: false)
            let now = Time.now().truncatedToSeconds
            // restartCount counts starts after the first, as kubelet's does: a container that crashed and is
            // backing off shows the restarts it has had, not the one it waits for.
            if slots[index].generation > 0 { slots[index].status.restartCount += 1 }
            slots[index].process = process
            slots[index].startedClock = clock.now
            slots[index].startedAt = now
            slots[index].generation += 1
            slots[index].tracker?.reset()
            slots[index].status.state = .running(startedAt: now)
            slots[index].status.ready = slots[index].tracker == nil
            await context.api.event(pod, type: "Normal", reason: "Started", message: "Started container \(spec.name)")
        } catch {
            slots[index].status.state = .waiting(reason: "RunContainerError", message: "\(error)")
            slots[index].nextStart = clock.now + slots[index].backoff.next(ranFor: .zero) + .seconds(1)
            await context.api.event(pod, type: "Warning", reason: "Failed", message: "Error: \(error)")
        }
    }

    /// Collects exited containers and decides, by the restart policy, whether each runs again.
    private func reapExits(restart: Bool) {
        let policy = pod.spec.restartPolicy ?? .always
        for index in slots.indices {
            guard let process = slots[index].process, let exit = process.exit() else { continue }
            // The rest of its process group goes with it.
            kill(-process.pid, SIGKILL)
            let ranFor = slots[index].startedClock.map { clock.now - $0 } ?? .zero
            var code: Int32 = 0
            var signal: Int32?
            switch exit {
            case .exited(let c): code = c
            case .signalled(let s):
                code = 128 + s
                signal = s
            }
            // `ip netns exec` answers 255 when it could not exec the command at all.
            var terminated = ContainerStateTerminated(
                exitCode: code, signal: signal, reason: code == 0 ? "Completed" : "Error",
                startedAt: slots[index].startedAt, finishedAt: Time.now().truncatedToSeconds)
            terminated.containerID = nil
            slots[index].process = nil
            slots[index].status.ready = false
            slots[index].tracker?.reset()
            let again = restart && (policy == .always || (policy == .onFailure && code != 0))
            if again {
                let wait = slots[index].backoff.next(ranFor: ranFor)
                slots[index].status.lastTerminated = terminated
                slots[index].nextStart = clock.now + wait
                slots[index].status.state =
                    wait == .zero
                    ? .terminated(terminated)
                    : .waiting(
                        reason: "CrashLoopBackOff",
                        message: "back-off \(wait) restarting failed container=\(slots[index].spec.name) pod=\(pod.metadata.name ?? "")_\(pod.metadata.namespace ?? "")(\(pod.metadata.uid ?? ""))")
            } else {
                slots[index].status.state = .terminated(terminated)
                slots[index].done = true
            }
        }
    }

    /// SIGTERM to every running container, SIGKILL to what is left after `grace`.
    private func stopAll(grace: Duration) async {
        for index in slots.indices {
            slots[index].done = true
            if let process = slots[index].process { kill(process.pid, grace == .zero ? SIGKILL : SIGTERM) }
        }
        let deadline = clock.now + grace
        while slots.contains(where: { $0.process != nil }) && clock.now < deadline {
            reapExits(restart: false)
            await report()
            try? await Task.sleep(for: .milliseconds(20))
        }
        for index in slots.indices {
            if let process = slots[index].process {
                kill(-process.pid, SIGKILL)
                kill(process.pid, SIGKILL)
            }
        }
        while slots.contains(where: { $0.process != nil }) {
            reapExits(restart: false)
            if slots.contains(where: { $0.process != nil }) { try? await Task.sleep(for: .milliseconds(5)) }
        }
        await report()
    }

    // MARK: Probes

    private func probeState(_ index: Int) -> (generation: Int, started: ContinuousClock.Instant?, ip: String?) {
        let slot = slots[index]
        return (slot.generation, slot.process == nil ? nil : slot.startedClock, ip?.description)
    }

    private func record(_ index: Int, generation: Int, success: Bool) async {
        guard slots[index].generation == generation, slots[index].process != nil else { return }
        if slots[index].tracker?.record(success: success) == true {
            slots[index].status.ready = slots[index].tracker?.ready ?? false
            await report()
        }
    }

    private func probeLoop(_ index: Int) async {
        guard let probe = slots[index].spec.readinessProbe else { return }
        let timing = ProbeTiming(probe)
        let ports = slots[index].spec.ports ?? []
        var probedGeneration = -1
        while !Task.isCancelled {
            let (generation, started, ip) = probeState(index)
            guard let started, let ip else {
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            if generation != probedGeneration {
                // A new start: wait out the initial delay from when it started.
                let wait = started + timing.initialDelay - clock.now
                if wait > .zero { try? await Task.sleep(for: wait) }
                probedGeneration = generation
            }
            let success = await context.prober.probe(probe, podIP: ip, podNamespace: names.namespace, ports: ports, timeout: timing.timeout)
            await record(index, generation: generation, success: success)
            try? await Task.sleep(for: timing.period)
        }
    }

    // MARK: Status

    private func snapshot() -> PodRuntimeSnapshot {
        PodRuntimeSnapshot(
            podIPs: ips.map(\.description), hostIP: context.configuration.nodeIP, startTime: startTime,
            sandboxReady: sandboxReady, containers: slots.map(\.status), terminalPhase: terminalPhase)
    }

    /// Sends the status when it changed. One report at a time, so that an older status never lands after a
    /// newer one; a change during a report is sent right after it.
    private func report() async {
        if reporting {
            reportAgain = true
            return
        }
        reporting = true
        defer { reporting = false }
        repeat {
            reportAgain = false
            // Most ticks change nothing: comparing the runtime state is far cheaper than building a status.
            let current = snapshot()
            if current == lastSnapshot || removed { continue }
            let status = PodStatusBuilder.status(current, previous: lastReported ?? pod.status, now: Time.now())
            if status == lastReported {
                lastSnapshot = current
                continue
            }
            do {
                try await context.api.patchStatus(namespace: pod.metadata.namespace ?? "", name: pod.metadata.name ?? "", status)
                lastReported = status
                lastSnapshot = current
            } catch {
                context.logger.debug("pod \(podName): status: \(error)")
            }
        } while reportAgain
    }
}
