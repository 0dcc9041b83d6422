#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import ClusterDNS
import DNSWire
import DNSZone
import KubeAPI

/// `switchboard bench dns-fuzz`: the DNS codec's fuzzer (random, generated and mutated packets, every parse
/// round-tripped and checked), and the server's responder fed mutated queries against a real zone snapshot.
struct DNSFuzzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns-fuzz",
        abstract: "Fuzz the DNS wire codec and the server's responder; prints throughput and what was found.",
        discussion: "Deterministic for a seed; runs one share of the inputs per core. Exit status 1 if any invariant broke.")

    @Option(help: "Inputs for the codec (split across the cores).")
    var iterations = 10_000_000

    @Option(help: "Inputs for the responder (mutated queries answered from a zone snapshot).")
    var responderIterations = 2_000_000

    @Option(help: "The seed (the same seed gives the same inputs).")
    var seed: UInt64 = 2026_12_01

    func run() async throws {
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let clock = ContinuousClock()
        let started = clock.now
        let iterations = self.iterations
        let seed = self.seed
        let reports = await withTaskGroup(of: DNSFuzzReport.self) { group in
            for core in 0..<cores {
                let share = iterations / cores + (core < iterations % cores ? 1 : 0)
                group.addTask { DNSWireFuzzer.run(iterations: share, seed: seed &+ UInt64(core)) }
            }
            var all: [DNSFuzzReport] = []
            for await report in group { all.append(report) }
            return all
        }
        let codecTime = clock.now - started
        let total = reports.reduce(0) { $0 + $1.iterations }
        let parsed = reports.reduce(0) { $0 + $1.parsed }
        let mismatches = reports.reduce(0) { $0 + $1.mismatches }
        print("codec: \(total) inputs in \(Self.seconds(codecTime)) s (\(Int(Double(total) / Self.secondsValue(codecTime))) /s on \(cores) cores): \(parsed) parsed, \(total - parsed - mismatches) rejected, \(mismatches) invariant failures")
        for failure in reports.flatMap(\.failures).prefix(5) { print("  \(failure)") }

        let responderStarted = clock.now
        let responder = Self.fuzzResponder(iterations: responderIterations, seed: seed)
        let responderTime = clock.now - responderStarted
        print("responder: \(responder.inputs) queries in \(Self.seconds(responderTime)) s: \(responder.replies) replies (all well-formed: \(responder.malformed == 0 ? "yes" : "no, \(responder.malformed) not")), \(responder.dropped) dropped, \(responder.forwarded) would be forwarded")
        if mismatches > 0 || responder.malformed > 0 { throw ExitCode.failure }
    }

    /// Mutated queries (bit flips, truncation, random counts and bytes) answered from a snapshot with a
    /// ClusterIP Service and a headless one; every reply must parse, echo the query's ID and be a response.
    static func fuzzResponder(iterations: Int, seed: UInt64) -> (inputs: Int, replies: Int, dropped: Int, forwarded: Int, malformed: Int) {
        var web = Service(metadata: ObjectMeta(name: "web", namespace: "default"), spec: ServiceSpec(ports: [ServicePort(name: "http", port: 80)]))
        web.spec.clusterIP = "10.96.0.20"
        web.spec.clusterIPs = ["10.96.0.20"]
        var headless = Service(metadata: ObjectMeta(name: "db", namespace: "default"), spec: ServiceSpec(ports: [ServicePort(name: "pg", port: 5432)]))
        headless.spec.clusterIP = "None"
        let slice = EndpointSlice(
            metadata: ObjectMeta(name: "db-1", namespace: "default", labels: ["kubernetes.io/service-name": "db"]),
            addressType: .ipv4,
            endpoints: (1...40).map { Endpoint(addresses: ["10.244.0.\($0)"], conditions: EndpointConditions(ready: true, serving: true, terminating: false)) },
            ports: [EndpointPort(name: "pg", port: 5432, protocol: .tcp)])
        let snapshot = ClusterZoneSnapshot.build(services: [web, headless], endpointSlices: [slice], namespaces: ["default"])
        let names = ["web.default.svc.cluster.local", "db.default.svc.cluster.local", "_pg._tcp.db.default.svc.cluster.local", "x.example.com",
                     "20.0.96.10.in-addr.arpa", "dns-version.cluster.local", "default.svc.cluster.local", "WEB.Default.Svc.Cluster.Local"]
        let types: [DNSRecordType] = [.a, .aaaa, .srv, .ptr, .txt, .any, .soa, .ns, DNSRecordType(999)]
        let seeds: [[UInt8]] = names.flatMap { name in
            types.compactMap { type in try? DNSMessage.query(id: 0xBEEF, name: DNSName(name), type: type, edns: EDNS()).serialize() }
        }
        var state = seed | 1
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        let responder = ClusterResponder(forwardingEnabled: true)
        var writer = DNSMessageWriter()
        var result = (inputs: 0, replies: 0, dropped: 0, forwarded: 0, malformed: 0)
        for _ in 0..<iterations {
            var packet = seeds[Int(next() % UInt64(seeds.count))]
            for _ in 0..<(1 + Int(next() % 3)) {
                switch next() % 5 {
                case 0: packet[Int(next() % UInt64(packet.count))] ^= UInt8(1 << (next() % 8))
                case 1: packet.removeLast(Int(next() % UInt64(packet.count)))
                case 2: if packet.count > 11 { packet[4 + Int(next() % 8)] = UInt8(truncatingIfNeeded: next() % 4) }
                case 3: packet.append(contentsOf: (0..<Int(next() % 16)).map { _ in UInt8(truncatingIfNeeded: next()) })
                default: packet[Int(next() % UInt64(packet.count))] = UInt8(truncatingIfNeeded: next())
                }
                if packet.isEmpty { packet = [0] }
            }
            result.inputs += 1
            let tcp = next() % 4 == 0
            let (decision, _) = packet.withUnsafeBytes { responder.respond(to: $0, snapshot: snapshot, tcp: tcp, writer: &writer) }
            switch decision {
            case .drop: result.dropped += 1
            case .forward: result.forwarded += 1
            case .reply(let bytes):
                result.replies += 1
                let id = packet.count >= 2 ? UInt16(packet[0]) << 8 | UInt16(packet[1]) : 0
                guard let reply = try? DNSMessage(parsing: bytes), reply.header.isResponse, reply.header.id == id, tcp || bytes.count <= 65535 else {
                    result.malformed += 1
                    continue
                }
            }
        }
        return result
    }

    static func secondsValue(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
    static func seconds(_ d: Duration) -> String {
        let tenths = Int((secondsValue(d) * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
