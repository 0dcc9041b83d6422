import Foundation
import Testing

/// 10,000 concurrent TCP connections through the real `switchboard proxy --mode userspace`, each process with
/// its own descriptor limit (client, proxy, backend), in a network namespace the test creates and removes. The
/// proxy holds two descriptors per connection: where the hard RLIMIT_NOFILE leaves room (20,064 or more) it
/// holds all 10,000; below that it lowers its connection limit to what fits, says so at start, and resets the
/// clients beyond it at once, instead of failing accepts with EMFILE. Either way nothing else breaks: the
/// clients it holds all got their answer, its memory stays small, and it serves new clients afterwards.
@Suite(.serialized, .enabled(if: labAvailable && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs root (for the namespace), iproute2 and python3"), .timeLimit(.minutes(3)))
struct UserspaceScaleTests {
    /// Opens `count` connections (64 connects in flight), reads each one's greeting and holds it; prints
    /// `held N reset M other K` once every connection has an outcome, then closes them when `gate` exists.
    static func client(target: String, port: Int, count: Int, gate: String) -> String {
        """
        import os, resource, selectors, socket, sys, time
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        held, reset, other = [], 0, 0
        pending = []
        sel = selectors.DefaultSelector()
        started = 0
        def start():
            global started
            s = socket.socket(); s.setblocking(False)
            try: s.connect(('\(target)', \(port)))
            except BlockingIOError: pass
            sel.register(s, selectors.EVENT_READ); started += 1
        while started < min(64, \(count)): start()
        deadline = time.time() + 90
        while sel.get_map() and time.time() < deadline:
            for key, _ in sel.select(timeout=1):
                s = key.fileobj; sel.unregister(s)
                try:
                    data = s.recv(256)
                    if data.startswith(b'pod='): held.append(s)
                    else: other += 1; s.close()
                except ConnectionResetError: reset += 1; s.close()
                except OSError: other += 1; s.close()
                if started < \(count): start()
        print('held', len(held), 'reset', reset, 'other', other + len(sel.get_map()), flush=True)
        while not os.path.exists('\(gate)'): time.sleep(0.05)
        for s in held: s.close()
        """
    }

    @Test func tenThousandConcurrentConnectionsThroughTheRelay() async throws {
        try await withOwnNamespace("scale") { own in
            let data = own.scratch.appendingPathComponent("data")
            let gate = own.scratch.appendingPathComponent("go").path
            _ = try own.start([SwitchboardUp.executable, "up", "--data-dir", data.path, "--listen", "127.0.0.1:0"])
            let kubeconfig = data.appendingPathComponent("kubeconfig").path
            #expect(await eventually(within: .seconds(20)) { FileManager.default.fileExists(atPath: kubeconfig) })
            // The backend holds 10,000 connections too: its soft descriptor limit goes up to the hard one.
            _ = try own.start(["/bin/sh", "-c", "ulimit -n $(ulimit -Hn) && exec \"$0\" echo --tcp 127.0.0.2:8080 --name e1", SwitchboardUp.executable])
            let manifest = """
                apiVersion: v1
                kind: Service
                metadata: {name: many}
                spec:
                  ports: [{port: 8080}]
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: many-1, labels: {kubernetes.io/service-name: many}}
                addressType: IPv4
                ports: [{name: "", port: 8080, protocol: TCP}]
                endpoints: [{addresses: [127.0.0.2], conditions: {ready: true}}]
                """
            let kubectl = ["/usr/bin/kubectl", "--kubeconfig", kubeconfig, "--cache-dir", own.scratch.appendingPathComponent("kube-cache").path]
            #expect(await eventually(within: .seconds(20)) {
                (try? await own.exec(kubectl + ["apply", "-f", "-"], stdin: manifest))?.succeeded == true
            })
            let clusterIP = try await own.exec(kubectl + ["get", "svc", "many", "-o", "jsonpath={.spec.clusterIP}"]).stdout
            let mapped = "127." + clusterIP.split(separator: ".").dropFirst().joined(separator: ".")
            let proxy = try own.start([
                SwitchboardUp.executable, "proxy", "--mode", "userspace", "--server", "unix://\(data.appendingPathComponent("api.sock").path)",
                "--hostname-override", "n1", "--service-cidr", "10.96.0.0/12", "--max-connections", "10000", "--max-udp-flows", "16",
                "--healthz-bind-address", "", "--metrics-bind-address", "127.0.0.1:10249",
            ])
            #expect(await eventually(within: .seconds(15)) { (proxy.output + proxy.errors).contains("listening on \(mapped):8080") }, "\(proxy.errors)")
            // What the proxy says it can hold: 10,000, or fewer where the descriptor limit is lower.
            let log = proxy.output + proxy.errors
            let limitLine = log.split(separator: "\n").first { $0.contains("TCP connections, ") && $0.contains("at most ") }
            let held = limitLine.flatMap { line in line.components(separatedBy: "at most ").last?.split(separator: " ").first.flatMap { Int($0) } } ?? 0
            #expect(held >= 9_900 && held <= 10_000, "the limit it reports: \(limitLine ?? "none")")
            if held < 10_000 { #expect(log.contains("lowered to \(held)"), "a lowered limit is said at start: \(log)") }

            let script = own.scratch.appendingPathComponent("client.py")
            try Self.client(target: mapped, port: 8080, count: 10_000, gate: gate).write(to: script, atomically: true, encoding: .utf8)
            let client = try own.start(["/usr/bin/python3", script.path])
            #expect(await eventually(within: .seconds(100), every: .milliseconds(200)) { client.output.contains("held ") }, "\(client.errors)")
            let fields = client.output.split(whereSeparator: { $0 == " " || $0 == "\n" })
            let counts = stride(from: 0, to: fields.count - 1, by: 2).reduce(into: [String: Int]()) { $0[String(fields[$1])] = Int(fields[$1 + 1]) }
            #expect(counts["held"] == held, "every connection within the limit is relayed and answered: \(client.output)")
            #expect(counts["reset"] == 10_000 - held, "the rest are reset at once: \(client.output)")
            #expect(counts["other"] == 0, "\(client.output) \(client.errors)")
            // While they are all held: the gauge, and the proxy's memory.
            let metrics = try await own.exec(
                ["python3", "-c", "import urllib.request as u; print(u.urlopen('http://127.0.0.1:10249/metrics', timeout=5).read().decode(), end='')"])
            #expect(metrics.stdout.contains("switchboard_userspace_connections \(held)"), "\(metrics.stdout.split(separator: "\n").filter { $0.contains("userspace") })")
            let status = (try? String(contentsOfFile: "/proc/\(proxy.pid)/status", encoding: .utf8)) ?? ""
            let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
            print("userspace scale: \(held) connections held at once, \(10_000 - held) reset; proxy RSS \(rss / 1024) MiB")
            #expect(rss > 0 && rss < 300 * 1024, "proxy resident memory with \(held) connections: \(rss) KiB")
            _ = FileManager.default.createFile(atPath: gate, contents: nil)
            #expect(await client.waitForExit(within: .seconds(20)))
            // And it goes on serving.
            #expect(await eventually(within: .seconds(10)) {
                (try? await own.exec([SwitchboardUp.executable, "echo", "--query", "tcp://\(mapped):8080", "--timeout", "1"]))?.succeeded == true
            })
            #expect(proxy.isRunning)
        }
    }
}
