import Foundation
import KubeAPI
import KubeClient
import KubeClientHTTP
import Testing

/// A watch resumed from the last resourceVersion it saw receives exactly the events it missed (also across a
/// restart of the server), or 410 Expired once they have left the window.
@Suite(.timeLimit(.minutes(2)))
struct WatchResumeTests {
    struct Enough: Error {}

    /// The next `count` events of a watch from `version`, as "TYPE name" lines, and the last version seen.
    static func events(_ client: HTTPClusterClient, from version: String, count: Int) async throws -> (lines: [String], version: String) {
        let seen = Locked<[WatchEvent<Service>]>([])
        do {
            try await client.watch(Service.self, namespace: "default", from: version) { event in
                guard event.type != .bookmark else { return }
                let total = seen.withLock { $0.append(event); return $0.count }
                if total >= count { throw Enough() }
            }
        } catch is Enough {}
        let events = seen.value
        return (events.map { "\($0.type.rawValue) \($0.object?.name ?? "")" }, events.last?.object?.metadata.resourceVersion ?? version)
    }

    /// Five changes: three creates, an update, a delete.
    static func change(_ client: HTTPClusterClient, prefix: String) async throws {
        for i in 1...3 { _ = try await client.create(DurabilityTests.service("\(prefix)\(i)")) }
        var second = try await client.get(Service.self, namespace: "default", name: "\(prefix)2")
        second.metadata.labels = ["changed": "yes"]
        _ = try await client.update(second)
        try await client.delete(Service.self, namespace: "default", name: "\(prefix)3")
    }

    static func expected(_ p: String) -> [String] { ["ADDED \(p)1", "ADDED \(p)2", "ADDED \(p)3", "MODIFIED \(p)2", "DELETED \(p)3"] }

    @Test func resumeReceivesExactlyTheMissedEventsAcrossARestart() async throws {
        try await withControlPlane { up in
            var client = up.client()
            _ = try await client.create(DurabilityTests.service("first"))
            let (_, listed) = try await client.list(Service.self, namespace: "default")
            try await Self.change(client, prefix: "a")
            let caughtUp = try await Self.events(client, from: listed, count: 5)
            #expect(caughtUp.lines == Self.expected("a"), "\(caughtUp.lines)")

            // Missed while disconnected, including across a kill -9 and restart.
            try await Self.change(client, prefix: "b")
            await client.shutdown()
            try await up.stop(signal: SIGKILL)
            try await up.start()
            client = up.client()
            try await Self.change(client, prefix: "c")
            let resumed = try await Self.events(client, from: caughtUp.version, count: 10)
            #expect(resumed.lines == Self.expected("b") + Self.expected("c"), "\(resumed.lines)")

            // Nothing more than that: a watch from the last version sees the next change only.
            async let next = Self.events(client, from: resumed.version, count: 1)
            try await Task.sleep(for: .milliseconds(100))
            _ = try await client.create(DurabilityTests.service("d1"))
            #expect(try await next.lines == ["ADDED d1"])
            await client.shutdown()
        }
    }

    @Test func aVersionOlderThanTheWindowIsExpired() async throws {
        try await withControlPlane(["--default-watch-cache-size", "10"]) { up in
            let client = up.client()
            let (_, old) = try await client.list(Service.self, namespace: "default")
            for i in 0..<20 { _ = try await client.create(DurabilityTests.service("w\(i)")) }
            do {
                _ = try await Self.events(client, from: old, count: 1)
                Issue.record("a watch from \(old) was served after 20 writes with a window of 10")
            } catch let status as Status {
                #expect(status.code == 410 && status.reason == .expired, "\(status)")
                #expect(status.message?.contains("too old resource version") == true, "\(status)")
            }
            // kubectl sees the same 410 (and relists, as informers do).
            let raw = try await up.kubectl("get", "--raw", "/api/v1/namespaces/default/services?watch=true&resourceVersion=\(old)&timeoutSeconds=1")
            #expect(raw.stdout.contains(#""code":410"#) || raw.stderr.contains("410") || raw.stderr.contains("too old"), "\(raw.transcript)")
            await client.shutdown()
        }
    }
}
