import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

// The acceptance harness of `switchboard dns`: a real `switchboard up` with the fixture of section 1.1 of
// the cluster-DNS reference applied through kubectl, `switchboard dns` processes in front of it, a Knot DNS
// upstream for example.com that the test owns, and the real `dig` whose output is parsed into `DigAnswer`.

// MARK: - dig

/// One resource record as dig prints it.
struct DigRecord: Sendable, Hashable, CustomStringConvertible {
    /// The owner as printed (with the trailing dot and the case it had on the wire).
    var name: String
    var ttl: Int
    var type: String
    /// The RDATA as printed, fields joined by one space.
    var data: String

    var description: String { "\(name) \(ttl) \(type) \(data)" }
    var fields: [String] { data.split(separator: " ").map(String.init) }
}

/// dig's view of one reply: header, sections and size. `status` is nil when no reply came.
struct DigAnswer: Sendable, CustomStringConvertible {
    var status: String?
    var opcode: String?
    var id: Int?
    var flags: Set<String> = []
    var counts: [String: Int] = [:]
    var question: [String] = []
    var answer: [DigRecord] = []
    var authority: [DigRecord] = []
    var additional: [DigRecord] = []
    /// The `; EDNS:` line when the reply carried an OPT record.
    var edns: String?
    /// `;; MSG SIZE  rcvd: N`.
    var size: Int?
    var warnings: [String] = []
    var tcp: Bool
    var output: String

    var description: String { output }
    var aa: Bool { flags.contains("aa") }
    var tc: Bool { flags.contains("tc") }

    /// RDATA of the answer records of `type`, in order.
    func data(_ type: String) -> [String] { answer.filter { $0.type == type }.map(\.data) }
    /// The SOA of the cluster zone in AUTHORITY, if there is one.
    var zoneSOA: DigRecord? { authority.first { $0.type == "SOA" && $0.name.lowercased() == "cluster.local." } }
    /// RFC 2308 NODATA: NOERROR, no answer, the zone's SOA in AUTHORITY.
    var isNoData: Bool { status == "NOERROR" && answer.isEmpty && zoneSOA != nil }
    var isNXDomain: Bool { status == "NXDOMAIN" && answer.isEmpty && zoneSOA != nil }
}

enum Dig {
    static let path = "/usr/bin/dig"

    /// `dig @127.0.0.1 -p PORT -q NAME -t TYPE` over TCP or UDP. UDP runs with `+ignore`, so a truncated reply
    /// is shown as it came instead of being retried over TCP.
    static func query(
        port: Int, _ name: String, _ type: String = "A", tcp: Bool, options: [String] = [], directory: URL
    ) async throws -> DigAnswer {
        var arguments = ["@127.0.0.1", "-p", String(port), "+tries=2", "+time=2"]
        arguments += tcp ? ["+tcp"] : ["+notcp", "+ignore"]
        arguments += options + ["-q", name, "-t", type]
        let result = try await ProcessRunner.run(path, arguments, directory: directory, timeout: .seconds(20))
        return parse(result.stdout + (result.stderr.isEmpty ? "" : "\n;; stderr: " + result.stderr), tcp: tcp)
    }

    static func parse(_ output: String, tcp: Bool) -> DigAnswer {
        var answer = DigAnswer(tcp: tcp, output: output)
        var section: String?
        for raw in output.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.hasPrefix(";; ->>HEADER<<-") {
                for part in line.dropFirst(";; ->>HEADER<<-".count).split(separator: ",") {
                    let kv = part.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard kv.count == 2 else { continue }
                    switch kv[0] {
                    case "opcode": answer.opcode = kv[1]
                    case "status": answer.status = kv[1]
                    case "id": answer.id = Int(kv[1])
                    default: break
                    }
                }
            } else if line.hasPrefix(";; flags:") {
                let parts = line.dropFirst(";; flags:".count).split(separator: ";", maxSplits: 1)
                answer.flags = Set(parts.first.map { $0.split(separator: " ").map(String.init) } ?? [])
                if parts.count > 1 {
                    for count in parts[1].split(separator: ",") {
                        let kv = count.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
                        if kv.count == 2 { answer.counts[kv[0]] = Int(kv[1]) }
                    }
                }
            } else if line.hasPrefix("; EDNS:") {
                answer.edns = line
            } else if line.hasPrefix(";; MSG SIZE") {
                answer.size = line.split(separator: " ").last.flatMap { Int($0) }
            } else if line.hasPrefix(";; ") && line.hasSuffix(" SECTION:") {
                section = String(line.dropFirst(3).dropLast(" SECTION:".count))
            } else if line.isEmpty {
                section = nil
            } else if line.lowercased().contains("warning") && !line.contains("Multicast DNS") && !line.contains("recursion requested") {
                answer.warnings.append(line)
            } else if let current = section {
                if current == "QUESTION" {
                    answer.question.append(line)
                    continue
                }
                guard !line.hasPrefix(";") else { continue }
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard fields.count >= 4, let ttl = Int(fields[1]) else { continue }
                let record = DigRecord(name: fields[0], ttl: ttl, type: fields[3], data: fields.dropFirst(4).joined(separator: " "))
                switch current {
                case "ANSWER": answer.answer.append(record)
                case "AUTHORITY": answer.authority.append(record)
                case "ADDITIONAL": answer.additional.append(record)
                default: break
                }
            }
        }
        return answer
    }
}

// MARK: - ports and raw sockets

enum LoopbackPort {
    /// A port on 127.0.0.1 that is free for both UDP and TCP right now (bound without SO_REUSEPORT, so a port
    /// another process shares with SO_REUSEPORT does not count as free).
    static func free() throws -> Int {
        for _ in 0..<50 {
            let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(udp) }
            guard bindLoopback(udp, port: 0) else { continue }
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(udp, $0, &length) }
            }
            let port = Int(UInt16(bigEndian: address.sin_port))
            guard port >= 10000 else { continue }
            let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(tcp) }
            if bindLoopback(tcp, port: port) { return port }
        }
        throw TestFailure("no free loopback port")
    }

    static func bindLoopback(_ fd: Int32, port: Int) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

/// A connected UDP (or TCP) socket to 127.0.0.1:PORT for hand-made packets.
final class RawSocket {
    let fd: Int32
    let tcp: Bool

    init(port: Int, tcp: Bool = false) throws {
        self.tcp = tcp
        fd = socket(AF_INET, Int32(tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw TestFailure("connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// Drops replies still queued (late answers to an earlier query).
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT)) > 0 {}
    }

    func send(_ bytes: [UInt8]) throws {
        let data = tcp ? [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes : bytes
        let sent = data.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == data.count else { throw TestFailure("send: \(sent), errno \(errno)") }
    }

    /// One datagram (or one length-prefixed TCP message), or nil if none arrives within `milliseconds`.
    func receive(within milliseconds: Int) -> [UInt8]? {
        let deadline = ContinuousClock.now + .milliseconds(milliseconds)
        var buffer = [UInt8](repeating: 0, count: 65536)
        var stream: [UInt8] = []
        while true {
            let left = deadline - ContinuousClock.now
            let ms = Int32(max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, ms) > 0 else { return nil }
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            if !tcp { return Array(buffer[0..<count]) }
            stream += buffer[0..<count]
            if stream.count >= 2 {
                let length = Int(stream[0]) << 8 | Int(stream[1])
                if stream.count >= 2 + length { return Array(stream[2..<(2 + length)]) }
            }
        }
    }
}

// MARK: - hand-made DNS messages

/// Builds queries byte by byte and checks replies without the server's own codec (the test target does not
/// depend on DNSWire, and should not trust it).
enum Wire {
    static func header(id: UInt16, flags: UInt16 = 0x0100, qd: UInt16 = 1, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0) -> [UInt8] {
        [id, flags, qd, an, ns, ar].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    static func name(_ text: String) -> [UInt8] {
        text.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    static func question(_ text: String, type: UInt16 = 1, class qclass: UInt16 = 1) -> [UInt8] {
        name(text) + [UInt8(type >> 8), UInt8(type & 0xff), UInt8(qclass >> 8), UInt8(qclass & 0xff)]
    }

    static func query(id: UInt16, _ text: String, type: UInt16 = 1, class qclass: UInt16 = 1, flags: UInt16 = 0x0100) -> [UInt8] {
        header(id: id, flags: flags) + question(text, type: type, class: qclass)
    }

    struct Record {
        var name: String
        var type: UInt16
        var rdata: [UInt8]
    }

    /// A reply, fully walked: every name (following compression pointers), every record to the last byte.
    struct Message {
        var id: UInt16
        var flags: UInt16
        var counts: [Int]
        var questions: [(name: String, type: UInt16, class: UInt16)]
        var records: [Record]  // answer, authority and additional, in order
        var isResponse: Bool { flags & 0x8000 != 0 }
        var opcode: Int { Int(flags >> 11) & 0xf }
        var rcode: Int { Int(flags & 0xf) }
        var answers: [Record] { Array(records.prefix(counts[1])) }
        /// IPv4 addresses of the A records in ANSWER, dotted.
        var addresses: [String] { answers.filter { $0.type == 1 && $0.rdata.count == 4 }.map { $0.rdata.map(String.init).joined(separator: ".") } }
    }

    static func parse(_ bytes: [UInt8]) -> Message? {
        guard bytes.count >= 12 else { return nil }
        func u16(_ at: Int) -> UInt16? { at + 2 <= bytes.count ? UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) : nil }
        func readName(_ start: Int) -> (String, Int)? {
            var labels: [String] = []
            var offset = start
            var end: Int?
            var jumps = 0
            var length = 1
            while true {
                guard offset < bytes.count else { return nil }
                let byte = bytes[offset]
                if byte & 0xc0 == 0xc0 {
                    guard let pointer = u16(offset), jumps < 64 else { return nil }
                    if end == nil { end = offset + 2 }
                    offset = Int(pointer & 0x3fff)
                    jumps += 1
                } else if byte & 0xc0 != 0 {
                    return nil
                } else if byte == 0 {
                    return (labels.isEmpty ? "." : labels.joined(separator: ".") + ".", end ?? offset + 1)
                } else {
                    let count = Int(byte)
                    guard offset + 1 + count <= bytes.count else { return nil }
                    length += count + 1
                    guard length <= 255 else { return nil }
                    labels.append(String(decoding: bytes[(offset + 1)...(offset + count)], as: UTF8.self))
                    offset += 1 + count
                }
            }
        }
        guard let id = u16(0), let flags = u16(2) else { return nil }
        let counts = (0..<4).map { Int(u16(4 + 2 * $0)!) }
        var offset = 12
        var questions: [(name: String, type: UInt16, class: UInt16)] = []
        for _ in 0..<counts[0] {
            guard let (name, next) = readName(offset), let type = u16(next), let qclass = u16(next + 2) else { return nil }
            questions.append((name, type, qclass))
            offset = next + 4
        }
        var records: [Record] = []
        for _ in 0..<(counts[1] + counts[2] + counts[3]) {
            guard let (name, next) = readName(offset), let type = u16(next), let length = u16(next + 8) else { return nil }
            let start = next + 10
            guard start + Int(length) <= bytes.count else { return nil }
            records.append(Record(name: name, type: type, rdata: Array(bytes[start..<(start + Int(length))])))
            offset = start + Int(length)
        }
        guard offset == bytes.count else { return nil }
        return Message(id: id, flags: flags, counts: counts, questions: questions, records: records)
    }
}

// MARK: - processes

/// A `switchboard dns` child process on an ephemeral loopback port (read from its "answering for" line).
final class DNSServerProcess: Sendable {
    let process: BackgroundProcess
    let port: Int
    let arguments: [String]

    private init(process: BackgroundProcess, port: Int, arguments: [String]) {
        self.process = process
        self.port = port
        self.arguments = arguments
    }

    var log: String { process.output + process.errors }

    static func start(_ arguments: [String], directory: URL, listen: String = "127.0.0.1:0") async throws -> DNSServerProcess {
        let all = ["dns", "--listen", listen, "--metrics-bind-address", "127.0.0.1:0"] + arguments
        let process = try BackgroundProcess(SwitchboardUp.executable, all, directory: directory)
        var port: Int?
        let marker = "answering for cluster.local on 127.0.0.1:"
        _ = await eventually(within: .seconds(30)) {
            let text = process.output + process.errors
            if let range = text.range(of: marker) {
                port = Int(text[range.upperBound...].prefix { $0.isNumber })
                return true
            }
            return !process.isRunning
        }
        guard let port else {
            let log = process.output + process.errors
            await process.stop()
            throw TestFailure("switchboard \(all.joined(separator: " ")) did not start:\n\(log.suffix(3000))")
        }
        return DNSServerProcess(process: process, port: port, arguments: all)
    }

    func stop() async { await process.stop() }
}

/// Knot DNS, authoritative for example.com on a loopback port: the upstream of the forwarding rows.
final class KnotUpstream: Sendable {
    let process: BackgroundProcess
    let port: Int
    let directory: URL
    /// A TXT value only this instance serves, so that a reply from someone else's server on the port is noticed.
    let token: String

    static let knotd = "/usr/sbin/knotd"
    /// 100 A records: an upstream answer that does not fit in 512 bytes (row D6).
    static let bigAddresses = (1...100).map { "198.51.100.\($0)" }

    private init(process: BackgroundProcess, port: Int, directory: URL, token: String) {
        self.process = process
        self.port = port
        self.directory = directory
        self.token = token
    }

    static func zone(token: String) -> String {
        """
        $ORIGIN example.com.
        $TTL 300
        @     IN SOA ns.example.com. admin.example.com. 1 3600 600 86400 60
        @     IN NS  ns.example.com.
        ns    IN A   127.0.0.1
        www   IN A   93.184.216.34
        www   IN AAAA 2606:2800:220:1::34
        token IN TXT "\(token)"

        """ + bigAddresses.map { "big   IN A   \($0)\n" }.joined()
    }

    static func start(in parent: URL) async throws -> KnotUpstream {
        let directory = parent.appendingPathComponent("knot-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let token = "switchboard-dns-test-\(UUID().uuidString.prefix(8))"
        try zone(token: token).write(to: directory.appendingPathComponent("example.com.zone"), atomically: true, encoding: .utf8)
        var lastLog = ""
        for _ in 0..<5 {
            let port = try LoopbackPort.free()
            let conf = """
                server:
                    listen: 127.0.0.1@\(port)
                    rundir: \(directory.path)
                    udp-workers: 1
                    tcp-workers: 1
                    background-workers: 1
                log:
                  - target: stderr
                    any: info
                database:
                    storage: \(directory.path)
                zone:
                  - domain: example.com
                    file: \(directory.path)/example.com.zone

                """
            let confPath = directory.appendingPathComponent("knot.conf")
            try conf.write(to: confPath, atomically: true, encoding: .utf8)
            let process = try BackgroundProcess(knotd, ["-c", confPath.path], directory: directory)
            let knot = KnotUpstream(process: process, port: port, directory: directory, token: token)
            let answering = try await eventually(within: .seconds(10), every: .milliseconds(50)) {
                guard process.isRunning else { return false }
                let reply = try await Dig.query(port: port, "token.example.com", "TXT", tcp: false, options: ["+norecurse"], directory: directory)
                return reply.data("TXT") == ["\"\(token)\""]
            }
            if answering { return knot }
            lastLog = process.output + process.errors
            await process.stop()
        }
        throw TestFailure("knotd did not answer for example.com:\n\(lastLog.suffix(3000))")
    }

    func stop() async { await process.stop() }
}

// MARK: - the fixture

enum DNSFixture {
    /// TTL given to `switchboard dns --ttl` (not the default 30, so that a hard-coded value shows).
    static let ttl = 17
    /// The 100 ready endpoints of the headless Service `big` (rows T1–T3).
    static let bigAddresses = (1...100).map { "10.250.0.\($0)" }

    static func service(_ name: String, _ spec: String, namespace: String = "testns") -> String {
        "apiVersion: v1\nkind: Service\nmetadata: {name: \(name), namespace: \(namespace)}\nspec:\n  " + spec
    }

    static func slice(_ name: String, service: String, namespace: String = "testns", type: String = "IPv4", ports: String?, endpoints: [String]) -> String {
        """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: \(name)
          namespace: \(namespace)
          labels: {kubernetes.io/service-name: \(service), endpointslice.kubernetes.io/managed-by: dns-acceptance-test}
        addressType: \(type)
        \(ports.map { "ports:\n" + $0 } ?? "ports: []")
        endpoints:
        \(endpoints.map { "- " + $0 }.joined(separator: "\n"))
        """
    }

    static func pod(_ name: String, app: String, extra: String = "") -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name), namespace: testns, labels: {app: \(app)}}
        spec:
        \(extra)  containers: [{name: main, image: switchboard-echo, command: [switchboard, echo], ports: [{containerPort: 80}]}]
        """
    }

    static let http = "- {name: http, protocol: TCP, port: 80}"

    /// Section 1.1, plus: `unnamed` (a one-port Service without a port name: the API rejects an unnamed port
    /// next to named ones), endpoints of `svc1` and `dual` (ClusterIP endpoint names, B15/C11), `hdls-pnra` and
    /// `sts` selecting real pods so that the EndpointSlice controller writes their slices (C13/C14), `big`
    /// (T1–T3), `ext-big` (D6), `ext-ip` (D8) and the namespace `dynns` for the time-based rows.
    static var manifests: [String] {
        var docs = ["testns", "emptyns", "kube-system", "dynns"].map { "apiVersion: v1\nkind: Namespace\nmetadata: {name: \($0)}" }
        docs += [
            service("svc1", "clusterIP: 10.96.0.11\n  ports:\n  - {name: http, protocol: TCP, port: 80}\n  - {name: dns, protocol: UDP, port: 53}"),
            slice("svc1-eps", service: "svc1", ports: "- {name: http, protocol: TCP, port: 80}\n- {name: dns, protocol: UDP, port: 53}",
                  endpoints: ["{addresses: [10.244.5.5], hostname: ep-a, conditions: {ready: true}}"]),
            service("unnamed", "clusterIP: 10.96.0.14\n  ports:\n  - {protocol: TCP, port: 8080}"),
            service("svc6", "ipFamilyPolicy: SingleStack\n  ipFamilies: [IPv6]\n  clusterIP: fd00:10:96::11\n  ports:\n  \(http)"),
            service("dual", "ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv4, IPv6]\n  clusterIP: 10.96.0.12\n  clusterIPs: [10.96.0.12, \"fd00:10:96::12\"]\n  ports:\n  \(http)"),
            slice("dual-eps", service: "dual", ports: http, endpoints: ["{addresses: [10.244.5.5], hostname: ep-b, conditions: {ready: true}}"]),
            service("nobackends", "clusterIP: 10.96.0.13\n  selector: {app: nothing-matches-this}\n  ports:\n  \(http)"),
            service("hdls", "clusterIP: None\n  ports:\n  - {name: http, protocol: TCP, port: 80, targetPort: 80}"),
            slice("hdls-v4", service: "hdls", ports: http, endpoints: [
                "{addresses: [10.244.1.10], hostname: web-0, conditions: {ready: true}}",
                "{addresses: [10.244.1.11], hostname: web-1, conditions: {ready: true}}",
                "{addresses: [10.244.2.12], conditions: {ready: true}}",
                "{addresses: [10.244.2.13], conditions: {ready: false}}",
                "{addresses: [10.244.1.30], hostname: dup, conditions: {ready: true}}",
                "{addresses: [10.244.1.31], hostname: dup, conditions: {ready: true}}",
            ]),
            slice("hdls-v6", service: "hdls", type: "IPv6", ports: http, endpoints: ["{addresses: [\"fd00:244::20\"], conditions: {ready: true}}"]),
            service("hdls-empty", "clusterIP: None\n  ports:\n  \(http)"),
            slice("hdls-empty-eps", service: "hdls-empty", ports: http, endpoints: ["{addresses: [10.244.2.50], conditions: {ready: false}}"]),
            service("hdls-pnra", "clusterIP: None\n  publishNotReadyAddresses: true\n  selector: {app: pnra}\n  ports:\n  - {name: http, protocol: TCP, port: 80, targetPort: 80}"),
            pod("pnra-0", app: "pnra"),
            service("sts", "clusterIP: None\n  selector: {app: sts}\n  ports:\n  - {name: http, protocol: TCP, port: 80, targetPort: 80}"),
            pod("sts-0", app: "sts", extra: "  hostname: sts-0\n  subdomain: sts\n"),
            pod("sts-x", app: "sts", extra: "  subdomain: sts\n"),
            service("hdls-noports", "clusterIP: None"),
            slice("hdls-noports-eps", service: "hdls-noports", ports: nil, endpoints: ["{addresses: [10.244.4.4], conditions: {ready: true}}"]),
            service("ext", "type: ExternalName\n  externalName: www.example.com"),
            service("ext-in", "type: ExternalName\n  externalName: svc1.testns.svc.cluster.local"),
            service("ext-big", "type: ExternalName\n  externalName: big.example.com"),
            service("ext-ip", "type: ExternalName\n  externalName: 1.2.3.4"),
            service("kube-dns", "clusterIP: 10.96.0.10\n  selector: {k8s-app: kube-dns}\n  ports:\n  - {name: dns, protocol: UDP, port: 53}\n  - {name: dns-tcp, protocol: TCP, port: 53}", namespace: "kube-system"),
            service("big", "clusterIP: None\n  ports:\n  \(http)"),
            slice("big-eps", service: "big", ports: http, endpoints: bigAddresses.map { "{addresses: [\($0)], conditions: {ready: true}}" }),
        ]
        return docs
    }

    /// Pod status as a node agent reports it: Running with an IP, Ready or not.
    static func status(ip: String, ready: Bool) -> String {
        #"{"status":{"phase":"Running","podIP":"\#(ip)","podIPs":[{"ip":"\#(ip)"}],"conditions":[{"type":"Ready","status":"\#(ready ? "True" : "False")"}]}}"#
    }

    static let podStatuses = [("pnra-0", "10.244.3.5", false), ("sts-0", "10.244.6.10", true), ("sts-x", "10.244.6.11", true)]
}

// MARK: - the harness

/// One `switchboard up` with the fixture, a Knot upstream and four `switchboard dns` servers:
/// - `main`: `--pods insecure --upstream <knot> --ttl 17` (most rows);
/// - `podsDisabled`: default pods mode, `--upstream none` (P1);
/// - `podsVerified`: `--pods verified --upstream none` (P4);
/// - `deadUpstream`: `--upstream 127.0.0.1:<port where nothing listens>` (G4).
final class DNSHarness: Sendable {
    @TaskLocal static var current: DNSHarness?

    let up: SwitchboardUp
    let knot: KnotUpstream
    let main: DNSServerProcess
    let podsDisabled: DNSServerProcess
    let podsVerified: DNSServerProcess
    let deadUpstream: DNSServerProcess
    let scratch: URL

    private init(
        up: SwitchboardUp, knot: KnotUpstream, main: DNSServerProcess, podsDisabled: DNSServerProcess, podsVerified: DNSServerProcess,
        deadUpstream: DNSServerProcess, scratch: URL
    ) {
        self.up = up
        self.knot = knot
        self.main = main
        self.podsDisabled = podsDisabled
        self.podsVerified = podsVerified
        self.deadUpstream = deadUpstream
        self.scratch = scratch
    }

    var servers: [DNSServerProcess] { [main, podsDisabled, podsVerified, deadUpstream] }

    /// Starts everything, applies the fixture and waits until every server answers from it. On failure,
    /// everything started so far is stopped.
    static func start() async throws -> DNSHarness {
        let up = try await SwitchboardUp.start(["--service-cidr", "10.96.0.0/12,fd00:10:96::/112"])
        let scratch = up.directory.appendingPathComponent("dns")
        var started: [DNSServerProcess] = []
        var knot: KnotUpstream?
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            try await applyFixture(up)
            knot = try await KnotUpstream.start(in: scratch)
            let dead = try LoopbackPort.free()
            let base = ["--kubeconfig", up.kubeconfig, "--ttl", String(DNSFixture.ttl)]
            let configurations: [[String]] = [
                base + ["--pods", "insecure", "--upstream", "127.0.0.1:\(knot!.port)"],
                base + ["--upstream", "none", "--threads", "1"],
                base + ["--pods", "verified", "--upstream", "none", "--threads", "1"],
                base + ["--upstream", "127.0.0.1:\(dead)", "--threads", "1"],
            ]
            // Started together; each one collected, so that one failing does not leave the others running.
            let results = await withTaskGroup(of: (Int, Result<DNSServerProcess, any Error>).self) { group in
                for (index, arguments) in configurations.enumerated() {
                    group.addTask {
                        do { return (index, .success(try await DNSServerProcess.start(arguments, directory: scratch))) } catch { return (index, .failure(error)) }
                    }
                }
                var all: [(Int, Result<DNSServerProcess, any Error>)] = []
                for await result in group { all.append(result) }
                return all.sorted { $0.0 < $1.0 }.map(\.1)
            }
            for result in results { if case .success(let server) = result { started.append(server) } }
            for result in results { _ = try result.get() }
            let harness = DNSHarness(
                up: up, knot: knot!, main: started[0], podsDisabled: started[1], podsVerified: started[2], deadUpstream: started[3], scratch: scratch)
            try await harness.waitForFixture()
            return harness
        } catch {
            let log = up.log()
            let dnsLogs = started.map { "--- \($0.arguments.joined(separator: " "))\n\($0.log.suffix(2000))" }.joined(separator: "\n")
            for server in started { await server.stop() }
            await knot?.stop()
            await up.cleanUp()
            throw TestFailure("\(error)\n--- switchboard up log (end)\n\(log.suffix(3000))\n\(dnsLogs)")
        }
    }

    static func applyFixture(_ up: SwitchboardUp) async throws {
        let manifests = DNSFixture.manifests
        // Namespaces first: the rest lives in them.
        let namespaces = manifests.prefix(4).joined(separator: "\n---\n")
        let objects = manifests.dropFirst(4).joined(separator: "\n---\n")
        for (name, text) in [("namespaces.yaml", namespaces), ("fixture.yaml", objects)] {
            let applied = try await up.kubectl("apply", "-f", try up.file(name, text + "\n"))
            guard applied.succeeded else { throw TestFailure("kubectl apply \(name): \(applied.transcript)") }
        }
        for (pod, ip, ready) in DNSFixture.podStatuses {
            let patched = try await up.kubectl(
                "patch", "pod", pod, "-n", "testns", "--subresource=status", "--type=merge", "-p", DNSFixture.status(ip: ip, ready: ready))
            guard patched.succeeded else { throw TestFailure("status of \(pod): \(patched.transcript)") }
        }
        // The controller's slices for the selector-based Services (publishNotReadyAddresses, hostname/subdomain).
        let sliced = try await eventually(within: .seconds(10), every: .milliseconds(100)) {
            let slices = try await up.kubectl(
                "get", "endpointslices", "-n", "testns", "-o", "jsonpath={range .items[*]}{.metadata.labels.kubernetes\\.io/service-name}={.endpoints[*].addresses[0]} {end}")
            return slices.stdout.contains("hdls-pnra=10.244.3.5") && slices.stdout.contains("10.244.6.10") && slices.stdout.contains("10.244.6.11")
        }
        if !sliced {
            let slices = try await up.kubectl("get", "endpointslices", "-n", "testns", "-o", "yaml")
            throw TestFailure("the EndpointSlice controller did not write the slices of hdls-pnra and sts:\n\(slices.stdout)")
        }
    }

    /// Every server answers from the whole fixture: one record from each kind of object (hand-written slices,
    /// the controller's slices, the last-applied objects). Only basic MUST rows are used here, so that a bug in
    /// one row fails that row's test and not the whole suite.
    func waitForFixture() async throws {
        for server in servers {
            let loaded = try await eventually(within: .seconds(20), every: .milliseconds(50)) {
                let big = try await dig("big.testns.svc.cluster.local", tcp: true, on: server)
                let sts = try await dig("sts.testns.svc.cluster.local", tcp: false, on: server)
                let web = try await dig("web-0.hdls.testns.svc.cluster.local", tcp: false, on: server)
                let dns = try await dig("kube-dns.kube-system.svc.cluster.local", tcp: false, on: server)
                return big.data("A").count == 100 && sts.data("A").count == 2 && web.data("A") == ["10.244.1.10"]
                    && dns.data("A") == ["10.96.0.10"]
            }
            if !loaded {
                let big = try await dig("big.testns.svc.cluster.local", tcp: true, on: server)
                throw TestFailure("\(server.arguments.joined(separator: " ")) did not serve the fixture within 20 s:\n\(big)\n\(server.log.suffix(2000))")
            }
        }
        // The verified server also watches pods; if this never answers, row P4 says so.
        _ = try await eventually(within: .seconds(5), every: .milliseconds(50)) {
            try await dig("10-244-6-10.testns.pod.cluster.local", tcp: false, on: podsVerified).status == "NOERROR"
        }
    }

    func stop() async {
        for server in servers { await server.stop() }
        await knot.stop()
        await up.cleanUp()
    }

    /// dig against one of the servers (the main one by default).
    func dig(
        _ name: String, _ type: String = "A", tcp: Bool, on server: DNSServerProcess? = nil, options: [String] = []
    ) async throws -> DigAnswer {
        try await Dig.query(port: (server ?? main).port, name, type, tcp: tcp, options: options, directory: scratch)
    }
}

/// Runs a suite inside one harness: started before its first test, stopped after its last, on every path.
struct DNSHarnessTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func scopeProvider(for test: Test, testCase: Test.Case?) -> DNSHarnessTrait? {
        test.isSuite && testCase == nil ? self : nil
    }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        await DNSCPU.shared.acquire(exclusive: false)
        do {
            try await run(function)
        } catch {
            await DNSCPU.shared.release(exclusive: false)
            throw error
        }
        await DNSCPU.shared.release(exclusive: false)
    }

    private func run(_ function: @Sendable () async throws -> Void) async throws {
        let harness = try await DNSHarness.start()
        let clock = ContinuousClock()
        let began = clock.now
        do {
            try await DNSHarness.$current.withValue(harness) { try await function() }
        } catch {
            await harness.stop()
            throw error
        }
        print("DNS harness: suite ran \(clock.now - began) after start")
        await harness.stop()
    }
}

extension Trait where Self == DNSHarnessTrait {
    /// The suite's tests share one `DNSHarness` (`DNSHarness.current`).
    static var dnsHarness: Self { DNSHarnessTrait() }
}

/// Which DNS suites may run at the same time: shared holders together, an exclusive one alone (the latency
/// measurement, which 2 cores busy with dig processes would distort). Waiters are served in arrival order.
actor DNSCPU {
    static let shared = DNSCPU()
    private var sharedHolders = 0
    private var exclusiveHeld = false
    private var waiters: [(exclusive: Bool, continuation: CheckedContinuation<Void, Never>)] = []

    private func grantable(_ exclusive: Bool) -> Bool { exclusive ? !exclusiveHeld && sharedHolders == 0 : !exclusiveHeld }

    private func grant(_ exclusive: Bool) {
        if exclusive { exclusiveHeld = true } else { sharedHolders += 1 }
    }

    func acquire(exclusive: Bool) async {
        if waiters.isEmpty && grantable(exclusive) {
            grant(exclusive)
            return
        }
        await withCheckedContinuation { waiters.append((exclusive, $0)) }
    }

    func release(exclusive: Bool) {
        if exclusive { exclusiveHeld = false } else { sharedHolders -= 1 }
        while let first = waiters.first, grantable(first.exclusive) {
            waiters.removeFirst()
            grant(first.exclusive)
            first.continuation.resume()
        }
    }
}

/// Holds a `DNSCPU` lease around a whole suite.
struct DNSCPUTrait: SuiteTrait, TestScoping {
    let exclusive: Bool
    var isRecursive: Bool { false }

    func scopeProvider(for test: Test, testCase: Test.Case?) -> DNSCPUTrait? {
        test.isSuite && testCase == nil ? self : nil
    }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        await DNSCPU.shared.acquire(exclusive: exclusive)
        do {
            try await function()
        } catch {
            await DNSCPU.shared.release(exclusive: exclusive)
            throw error
        }
        await DNSCPU.shared.release(exclusive: exclusive)
    }
}

extension Trait where Self == DNSCPUTrait {
    static func dnsCPU(exclusive: Bool) -> Self { DNSCPUTrait(exclusive: exclusive) }
}
