import Foundation
import Testing

/// Bad input gets the upstream error from kubectl, a non-zero exit, and leaves the store as it was.
@Suite(.timeLimit(.minutes(2)))
struct KubectlBadInputTests {
    static func service(_ name: String, spec: String) -> String {
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: \(name)
        spec:
        \(spec)
        """
    }

    /// Runs kubectl, expects it to fail with every one of `messages` on stderr, and the store to be unchanged.
    static func expectRefused(
        _ up: SwitchboardUp, _ arguments: [String], stdin: String? = nil, messages: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let before = try await up.storeVersion()
        let result = try await up.kubectl(arguments, stdin: stdin)
        #expect(!result.succeeded, "\(result.transcript)", sourceLocation: sourceLocation)
        for message in messages {
            #expect(result.stderr.contains(message), "missing \(message) in \(result.stderr)", sourceLocation: sourceLocation)
        }
        #expect(try await up.storeVersion() == before, "the store changed", sourceLocation: sourceLocation)
    }

    @Test func refusedServicesChangeNothing() async throws {
        try await withControlPlane { up in
            let created = try await up.kubectl("apply", "-f", "-", stdin: Self.service("web", spec: """
              clusterIP: 10.96.0.50
              selector: {app: web}
              ports: [{name: http, port: 80}]
            """))
            #expect(created.succeeded, "\(created.transcript)")

            try await Self.expectRefused(up, ["apply", "-f", "-"], stdin: Self.service("two", spec: """
              ports: [{port: 80}, {port: 443}]
            """), messages: [#"The Service "two" is invalid"#, "spec.ports[0].name: Required value", "spec.ports[1].name: Required value"])

            try await Self.expectRefused(up, ["apply", "-f", "-"], stdin: Self.service("outside", spec: """
              clusterIP: 192.168.1.10
              ports: [{port: 80}]
            """), messages: [
                #"spec.clusterIPs: Invalid value: []string{"192.168.1.10"}: failed to allocate IP 192.168.1.10: the provided IP (192.168.1.10) is not in the valid range. The range of valid IPs is 10.96.0.0/12"#
            ])

            try await Self.expectRefused(up, ["apply", "-f", "-"], stdin: Self.service("web", spec: """
              clusterIP: 10.96.0.51
              selector: {app: web}
              ports: [{name: http, port: 80}]
            """), messages: [#"spec.clusterIPs[0]: Invalid value: []string{"10.96.0.51"}: may not change once set"#])

            try await Self.expectRefused(up, ["apply", "-f", "-"], stdin: Self.service("twin", spec: """
              clusterIP: 10.96.0.50
              ports: [{port: 80}]
            """), messages: [#"spec.clusterIPs: Invalid value: []string{"10.96.0.50"}: failed to allocate IP 10.96.0.50: provided IP is already allocated"#])

            try await Self.expectRefused(up, ["apply", "--validate=strict", "-f", "-"], stdin: Self.service("strict", spec: """
              ports: [{port: 80}]
              sessionAffinty: None
            """), messages: [#"strict decoding error: unknown field "spec.sessionAffinty""#])

            try await Self.expectRefused(up, ["apply", "-f", "-"], stdin: Self.service("badselector", spec: """
              selector: {app: "-web-"}
              ports: [{port: 80}]
            """), messages: [#"spec.selector: Invalid value: "-web-""#])
            try await Self.expectRefused(up, ["get", "pods", "-l", "app in (web"], messages: ["unable to parse requirement"])
            let bad = try await up.kubectl("get", "--raw", "/api/v1/namespaces/default/pods?labelSelector=app%20in%20(web")
            #expect(!bad.succeeded && bad.stderr.contains("BadRequest"), "\(bad.transcript)")

            let garbage = try up.file("garbage.json", "{\"kind\": \"Service\", \"apiVersion\": \"v1\", ")
            try await Self.expectRefused(
                up, ["create", "--raw", "/api/v1/namespaces/default/services", "-f", garbage],
                messages: ["Error from server (BadRequest)", "cannot be handled as a Service"])

            // What was refused left the first Service as it was.
            let web = try await up.kubectl("get", "svc", "-o", "jsonpath={.items[*].metadata.name} {.items[*].spec.clusterIP}")
            #expect(web.stdout == "kubernetes web 10.96.0.1 10.96.0.50", "\(web.transcript)")
        }
    }

    @Test func aFullRangeSaysSo() async throws {
        // 10.0.0.0/29: six usable addresses, the first is the kubernetes Service's.
        try await withControlPlane(["--service-cidr", "10.0.0.0/29"]) { up in
            for index in 1...5 {
                let created = try await up.kubectl("apply", "-f", "-", stdin: Self.service("s\(index)", spec: "  ports: [{port: 80}]"))
                #expect(created.succeeded, "\(created.transcript)")
            }
            try await Self.expectRefused(
                up, ["apply", "-f", "-"], stdin: Self.service("s6", spec: "  ports: [{port: 80}]"),
                messages: ["Internal error occurred: failed to allocate a serviceIP: range is full"])
            // Deleting one frees its address for the next.
            #expect(try await up.kubectl("delete", "svc", "s3").succeeded)
            #expect(try await up.kubectl("apply", "-f", "-", stdin: Self.service("s6", spec: "  ports: [{port: 80}]")).succeeded)
        }
    }

    @Test func badFlagsNameTheFix() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-flags-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [([String], String)] = [
            (["--listen", "0.0.0.0:6443"], "is not a loopback address"),
            (["--service-cidr", "10.96.0.0/33"], "--service-cidr 10.96.0.0/33"),
            (["--cluster-domain", "Cluster_Local"], "--cluster-domain"),
        ]
        for (flags, message) in cases {
            let result = try await ProcessRunner.run(
                SwitchboardUp.executable, ["up", "--data-dir", directory.path] + flags, directory: directory, timeout: .seconds(20))
            #expect(result.status != 0, "\(flags): \(result.transcript)")
            // One line names the problem and the fix (ArgumentParser adds the usage after it).
            let first = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
            #expect(first.hasPrefix("Error: ") && first.contains(message), "\(flags): \(result.stderr)")
        }
    }
}
