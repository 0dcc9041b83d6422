import Foundation
import Testing

/// Objects a non-validating API server might hand the proxier: each one it cannot program is skipped with a
/// log line and a metric, and every other Service keeps working. The API server is a stub that serves fixed
/// lists (ours validates, so it would refuse these objects); the proxier is the real binary, programming real
/// nftables in a namespace the test creates and removes.
@Suite(.serialized, .enabled(if: labAvailable && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft") && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs root, iproute2, nftables and python3"), .timeLimit(.minutes(2)))
struct ProxyBadInputTests {
    static let services = """
        [
          {"metadata": {"name": "good", "namespace": "default", "uid": "u1", "resourceVersion": "1"},
           "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.50", "clusterIPs": ["10.96.0.50"], "ports": [{"port": 80, "protocol": "TCP"}]}},
          {"metadata": {"name": "bad-port", "namespace": "default", "uid": "u2", "resourceVersion": "1"},
           "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.51", "clusterIPs": ["10.96.0.51"], "ports": [{"port": 70000, "protocol": "TCP"}]}},
          {"metadata": {"name": "mixed", "namespace": "default", "uid": "u3", "resourceVersion": "1"},
           "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.52", "clusterIPs": ["10.96.0.52"], "ports": [{"port": 80, "protocol": "TCP"}]}}
        ]
        """
    static let slices = """
        [
          {"metadata": {"name": "good-1", "namespace": "default", "uid": "s1", "resourceVersion": "1", "labels": {"kubernetes.io/service-name": "good"}},
           "addressType": "IPv4", "ports": [{"name": "", "port": 8080, "protocol": "TCP"}],
           "endpoints": [{"addresses": ["10.250.9.1"], "conditions": {"ready": true}}]},
          {"metadata": {"name": "bad-port-1", "namespace": "default", "uid": "s2", "resourceVersion": "1", "labels": {"kubernetes.io/service-name": "bad-port"}},
           "addressType": "IPv4", "ports": [{"name": "", "port": 8080, "protocol": "TCP"}],
           "endpoints": [{"addresses": ["10.250.9.1"], "conditions": {"ready": true}}]},
          {"metadata": {"name": "mixed-1", "namespace": "default", "uid": "s3", "resourceVersion": "1", "labels": {"kubernetes.io/service-name": "mixed"}},
           "addressType": "IPv4", "ports": [{"name": "", "port": 8080, "protocol": "TCP"}],
           "endpoints": [{"addresses": ["fd00:10:244::9"], "conditions": {"ready": true}}, {"addresses": ["10.250.9.1"], "conditions": {"ready": true}}]}
        ]
        """

    /// Lists on GET, and a watch that stays open and quiet.
    static func stubServer(socket: String) -> String {
        """
        import json, os, socketserver, time
        from http.server import BaseHTTPRequestHandler
        LISTS = {
            "/api/v1/services": ("ServiceList", "v1", json.loads('''\(services)''')),
            "/apis/discovery.k8s.io/v1/endpointslices": ("EndpointSliceList", "discovery.k8s.io/v1", json.loads('''\(slices)''')),
        }
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *args): pass
            def do_GET(self):
                path, _, query = self.path.partition("?")
                if path not in LISTS:
                    body = b'{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}'
                    self.send_response(404); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body); return
                if "watch=true" in query or "watch=1" in query:
                    self.send_response(200); self.send_header("Content-Type", "application/json"); self.send_header("Transfer-Encoding", "chunked"); self.end_headers(); self.wfile.flush()
                    while True: time.sleep(1)
                kind, version, items = LISTS[path]
                body = json.dumps({"kind": kind, "apiVersion": version, "metadata": {"resourceVersion": "1"}, "items": items}).encode()
                self.send_response(200); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True
        if os.path.exists("\(socket)"): os.remove("\(socket)")
        Server("\(socket)", Handler).serve_forever()
        """
    }

    @Test(arguments: LabProxyMode.available)
    func anUnprogrammableObjectIsSkippedAndEveryOtherServiceWorks(mode: LabProxyMode) async throws {
        try await withOwnNamespace("badinput", commandTimeout: .seconds(20)) { own in
            let namespace = own.name
            let socket = own.scratch.appendingPathComponent("api.sock").path
            _ = try await own.run(["/usr/sbin/ip", "-n", namespace, "addr", "add", "10.250.9.1/32", "dev", "lo"])
            // The namespace is its own node and client: the service CIDR routes to loopback, and DNAT (in the
            // output hook) turns the destination into the local endpoint.
            // (Userspace mode: the service CIDR is local, so that the relay can listen on ClusterIPs.)
            _ = try await own.run(["/usr/sbin/ip", "-n", namespace, "route", "add"] + (mode == .userspace ? ["local"] : []) + ["10.96.0.0/12", "dev", "lo"])
            let script = own.scratch.appendingPathComponent("stub.py")
            try Self.stubServer(socket: socket).write(to: script, atomically: true, encoding: .utf8)
            _ = try own.start(["/usr/bin/python3", script.path], inNamespace: false)
            #expect(await eventually(within: .seconds(10)) { FileManager.default.fileExists(atPath: socket) }, "the stub API server listens")
            let switchboard = [SwitchboardUp.executable]
            _ = try own.start(switchboard + ["echo", "--tcp", "10.250.9.1:8080", "--name", "e1"])
            let proxy = try own.start(
                switchboard + ["proxy", "--mode", mode.rawValue, "--server", "unix://\(socket)", "--hostname-override", "n1", "--cluster-cidr", "10.244.0.0/16", "--service-cidr", "10.96.0.0/12"])

            // The good Service answers, and so does the one whose slice also held an IPv6 address.
            for ip in ["10.96.0.50", "10.96.0.52"] {
                #expect(await eventually(within: .seconds(15), every: .milliseconds(100)) {
                    (try? await own.exec(switchboard + ["echo", "--query", "tcp://\(ip):80", "--timeout", "1"]))?.stdout.hasPrefix("pod=e1") == true
                }, "\(ip) answers: \(proxy.errors)")
            }
            let log = proxy.output + proxy.errors
            #expect(log.contains("not programmed: Service default/bad-port:70000: port 70000 is out of range"), "\(log)")
            #expect(log.contains("not programmed: EndpointSlice default/mixed-1: address fd00:10:244::9 is not an IPv4 address"), "\(log)")
            let metrics = try await own.exec(
                ["python3", "-c", "import urllib.request as u; print(u.urlopen('http://127.0.0.1:10249/metrics', timeout=5).read().decode(), end='')"])
            #expect(metrics.stdout.contains("switchboard_proxy_skipped_objects 2"), "\(metrics.stdout)")
            switch mode {
            case .nftables:
                let table = try await own.exec(["nft", "list", "map", "ip", "switchboard", "service-ips"])
                #expect(table.stdout.contains("10.96.0.50") && !table.stdout.contains("10.96.0.51"), "\(table.stdout)")
            case .iptables:
                let rules = try await own.exec(["iptables-save", "-t", "nat"])
                #expect(rules.stdout.contains("10.96.0.50") && !rules.stdout.contains("10.96.0.51"), "\(rules.stdout)")
            case .userspace:
                let refused = try await own.exec(switchboard + ["echo", "--query", "tcp://10.96.0.51:80", "--timeout", "1"])
                #expect(refused.stderr.contains("refused"), "no listener for the skipped Service: \(refused.transcript)")
            }
        }
    }
}
