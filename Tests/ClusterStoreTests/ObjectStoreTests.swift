import Foundation
import KubeAPI
import NIOCore
import Testing
@testable import ClusterStore

let services = ResourceKey(resource: "services")
let pods = ResourceKey(resource: "pods")

func decode(_ resource: ResourceKey, _ json: ByteBuffer) throws -> any APIObject {
    let data = Data(json.readableBytesView)
    switch resource.resource {
    case "services": return try KubeJSON.decode(Service.self, from: data).value
    case "pods": return try KubeJSON.decode(Pod.self, from: data).value
    default: throw StoreError.encoding("unknown resource \(resource)")
    }
}

func service(_ name: String, namespace: String = "default", labels: [String: String]? = nil, uid: String? = nil) -> Service {
    Service(metadata: ObjectMeta(name: name, namespace: namespace, uid: uid ?? "uid-\(name)", labels: labels), spec: ServiceSpec(ports: [ServicePort(port: 80)]))
}

func makeStore(_ persistence: any StorePersistence = MemoryPersistence(), window: Int = 10_000, capacity: Int = 2_000) throws -> ObjectStore {
    try ObjectStore(persistence: persistence, configuration: .init(eventWindow: window, watcherCapacity: capacity), decode: decode)
}

/// Collects what a watcher delivers until `count` deliveries or the watch ends.
func collect(_ watcher: Watcher, _ count: Int) async -> [WatchDelivery] {
    var out: [WatchDelivery] = []
    for await delivery in watcher {
        out.append(delivery)
        if out.count == count { break }
    }
    return out
}

func describe(_ deliveries: [WatchDelivery]) -> [String] {
    deliveries.map {
        switch $0 {
        case .event(let type, let object): "\(type.rawValue) \(object.key.name)@\(object.resourceVersion)"
        case .bookmark(let rv): "BOOKMARK \(rv)"
        }
    }
}

@Suite struct ObjectStoreTests {
    @Test func createGetListWithMonotonicVersions() async throws {
        let store = try makeStore()
        let a = try await store.create(services, service("a"))
        let b = try await store.create(services, service("b", namespace: "other"))
        #expect(a.resourceVersion == 1)
        #expect(b.resourceVersion == 2)
        #expect(store.resourceVersion == 2)
        #expect(store.get(services, ObjectKey(namespace: "default", name: "a"))?.object.metadata.resourceVersion == "1")
        #expect(store.list(services).items.map(\.key.name) == ["a", "b"])
        #expect(store.list(services, namespace: "other").items.map(\.key.name) == ["b"])
        // The stored JSON carries type metadata and the resourceVersion.
        let json = try KubeJSON.parse(Data(a.json.readableBytesView))
        #expect(json["kind"] == "Service")
        #expect(json["apiVersion"] == "v1")
        #expect(json["metadata"]?["resourceVersion"] == "1")
        await store.shutdown()
    }

    @Test func preconditions() async throws {
        let store = try makeStore()
        let a = try await store.create(services, service("a"))
        await #expect(throws: StoreError.alreadyExists(services, ObjectKey(namespace: "default", name: "a"))) {
            try await store.create(services, service("a"))
        }
        var changed = a.object as! Service
        changed.metadata.labels = ["x": "y"]
        let updated = try await store.update(services, changed, expectedResourceVersion: a.resourceVersion)
        #expect(updated.resourceVersion == 2)
        await #expect(throws: StoreError.conflict(services, ObjectKey(namespace: "default", name: "a"))) {
            try await store.update(services, changed, expectedResourceVersion: a.resourceVersion)
        }
        var otherUID = changed
        otherUID.metadata.uid = "someone-else"
        await #expect(throws: StoreError.conflict(services, ObjectKey(namespace: "default", name: "a"))) {
            try await store.update(services, otherUID, expectedResourceVersion: nil)
        }
        await #expect(throws: StoreError.notFound(services, ObjectKey(namespace: "default", name: "nope"))) {
            try await store.update(services, service("nope"), expectedResourceVersion: nil)
        }
        let deleted = try await store.delete(services, ObjectKey(namespace: "default", name: "a"))
        #expect(deleted.resourceVersion == 3)
        #expect(store.get(services, ObjectKey(namespace: "default", name: "a")) == nil)
        await store.shutdown()
    }

    @Test func concurrentCreatesAllLandWithDistinctVersions() async throws {
        let store = try makeStore()
        let versions = try await withThrowingTaskGroup(of: Int64.self) { group in
            for i in 0..<500 { group.addTask { try await store.create(services, service("s\(i)")).resourceVersion } }
            var out: [Int64] = []
            for try await v in group { out.append(v) }
            return out
        }
        #expect(Set(versions).count == 500)
        #expect(store.count(services) == 500)
        #expect(store.resourceVersion == 500)
        await store.shutdown()
    }

    @Test func failedCommitLeavesNothing() async throws {
        let persistence = MemoryPersistence()
        let store = try makeStore(persistence)
        persistence.failNextCommit("disk full")
        await #expect(throws: StoreError.persistence("disk full")) { try await store.create(services, service("a")) }
        #expect(store.get(services, ObjectKey(namespace: "default", name: "a")) == nil)
        // The name is free again and later writes work.
        let a = try await store.create(services, service("a"))
        #expect(a.resourceVersion == 2)
        await store.shutdown()
    }
}

@Suite struct ObjectStoreWatchTests {
    @Test func watchFromZeroListsThenFollows() async throws {
        let store = try makeStore()
        try await store.create(services, service("a"))
        let watcher = try store.watch(WatchFilter(resource: services), from: 0)
        try await store.create(services, service("b"))
        try await store.delete(services, ObjectKey(namespace: "default", name: "a"))
        #expect(describe(await collect(watcher, 3)) == ["ADDED a@1", "ADDED b@2", "DELETED a@3"])
        await store.shutdown()
    }

    @Test func resumeFromVersionReplaysExactlyWhatWasMissed() async throws {
        let store = try makeStore()
        for i in 0..<5 { try await store.create(services, service("s\(i)")) }
        let watcher = try store.watch(WatchFilter(resource: services), from: 3)
        #expect(describe(await collect(watcher, 2)) == ["ADDED s3@4", "ADDED s4@5"])
        await store.shutdown()
    }

    @Test func tooOldVersionIsExpired() async throws {
        let store = try makeStore(window: 3)
        for i in 0..<6 { try await store.create(services, service("s\(i)")) }
        #expect(throws: StoreError.expired(requested: 1, oldest: 4)) { try store.watch(WatchFilter(resource: services), from: 1) }
        #expect(StoreError.expired(requested: 1, oldest: 4).description == "too old resource version: 1 (4)")
        _ = try store.watch(WatchFilter(resource: services), from: 3)
        await store.shutdown()
    }

    @Test func labelFilteredWatchSeesTransitions() async throws {
        let store = try makeStore()
        let filter = WatchFilter(resource: services) { $0.labels["app"] == "web" }
        let watcher = try store.watch(filter, from: 0)
        let a = try await store.create(services, service("a", labels: ["app": "other"]))
        var web = a.object as! Service
        web.metadata.labels = ["app": "web"]
        let b = try await store.update(services, web, expectedResourceVersion: nil)
        var other = b.object as! Service
        other.metadata.labels = ["app": "other"]
        try await store.update(services, other, expectedResourceVersion: nil)
        #expect(describe(await collect(watcher, 2)) == ["ADDED a@2", "DELETED a@3"])
        await store.shutdown()
    }

    @Test func namespaceScopedWatch() async throws {
        let store = try makeStore()
        let watcher = try store.watch(WatchFilter(resource: services, namespace: "prod"), from: 0)
        try await store.create(services, service("a", namespace: "dev"))
        try await store.create(services, service("b", namespace: "prod"))
        #expect(describe(await collect(watcher, 1)) == ["ADDED b@2"])
        await store.shutdown()
    }

    @Test func slowWatcherIsClosedAndOthersUnaffected() async throws {
        let store = try makeStore(capacity: 10)
        let slow = try store.watch(WatchFilter(resource: services), from: nil)
        let fast = try store.watch(WatchFilter(resource: services), from: nil)
        // The fast watcher reads each event before the next write (so that it is never behind, however loaded
        // the machine); the slow one reads nothing.
        var delivered = 0
        var iterator = fast.makeAsyncIterator()
        for i in 0..<30 {
            try await store.create(services, service("s\(i)"))
            if await iterator.next() != nil { delivered += 1 }
        }
        #expect(delivered == 30)
        #expect(slow.terminatedBecause == .tooSlow)
        let received = await collect(slow, 100)
        #expect(received.count == 10)
        await store.shutdown()
    }

    @Test func bookmarksComeInOrder() async throws {
        let store = try makeStore()
        let watcher = try store.watch(WatchFilter(resource: services), from: nil)
        try await store.create(services, service("a"))
        store.broadcastBookmarks()
        #expect(describe(await collect(watcher, 2)) == ["ADDED a@1", "BOOKMARK 1"])
        await store.shutdown()
    }

    @Test func shutdownEndsWatches() async throws {
        let store = try makeStore()
        let watcher = try store.watch(WatchFilter(resource: services), from: nil)
        await store.shutdown()
        #expect(await collect(watcher, 1).isEmpty)
        #expect(watcher.terminatedBecause == .shutdown)
        #expect(store.watcherCount == 0)
    }
}

@Suite struct SQLitePersistenceTests {
    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-store-\(UUID().uuidString).db").path
    }

    @Test func objectsAndWindowSurviveReopen() async throws {
        let path = temporaryPath()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let first = try makeStore(SQLitePersistence(path: path))
        for i in 0..<20 { try await first.create(services, service("s\(i)")) }
        try await first.delete(services, ObjectKey(namespace: "default", name: "s3"))
        await first.shutdown()

        let second = try makeStore(SQLitePersistence(path: path))
        #expect(second.resourceVersion == 21)
        #expect(second.count(services) == 19)
        #expect(second.get(services, ObjectKey(namespace: "default", name: "s3")) == nil)
        let watcher = try second.watch(WatchFilter(resource: services), from: 19)
        try await second.create(services, service("late"))
        #expect(describe(await collect(watcher, 3)) == ["ADDED s19@20", "DELETED s3@21", "ADDED late@22"])
        await second.shutdown()
    }

    @Test func windowIsTrimmedOnDiskToo() async throws {
        let path = temporaryPath()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let first = try makeStore(SQLitePersistence(path: path), window: 5)
        for i in 0..<12 { try await first.create(services, service("s\(i)")) }
        await first.shutdown()
        let second = try makeStore(SQLitePersistence(path: path), window: 5)
        #expect(throws: StoreError.self) { try second.watch(WatchFilter(resource: services), from: 2) }
        _ = try second.watch(WatchFilter(resource: services), from: 8)
        await second.shutdown()
    }

    @Test func unwritableDirectoryIsAClearError() {
        #expect(throws: StoreError.self) { try SQLitePersistence(path: "/nonexistent-dir-xyz/store.db") }
    }
}
