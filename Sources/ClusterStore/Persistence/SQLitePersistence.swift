import CSQLite
import NIOCore
import Synchronization

/// The store's durable storage: one SQLite database in WAL mode with `synchronous=FULL`, so a commit that
/// returned survives the process being killed and the machine losing power.
///
/// Tables: `objects` (the live objects, by resource and key), `events` (the recent mutations, for watches
/// that resume from a resourceVersion after a restart) and `meta` (the last resourceVersion).
public final class SQLitePersistence: StorePersistence {
    /// The connection and its prepared statements: one writer, serialised by the lock.
    private struct Connection {
        let db: SQLiteConnection
        let upsert: SQLiteConnection.Statement
        let remove: SQLiteConnection.Statement
        let event: SQLiteConnection.Statement
        let forget: SQLiteConnection.Statement
        let setVersion: SQLiteConnection.Statement
    }

    private let connection: Mutex<Connection>
    /// A second connection that checkpoints, so that the writer never does.
    private let checkpointer: Mutex<SQLiteConnection>
    public let path: String

    public init(path: String) throws {
        self.path = path
        let db = try SQLiteConnection(path: path)
        try db.execute("PRAGMA journal_mode=WAL")
        try db.execute("PRAGMA synchronous=FULL")
        // The committer would otherwise checkpoint inside a commit every 1,000 pages, a latency spike for
        // whichever writers wait on that batch; `checkpoint()` does it on its own thread instead.
        try db.execute("PRAGMA wal_autocheckpoint=0")
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS objects (
                resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
                rv INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (resource, namespace, name)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS events (
                rv INTEGER PRIMARY KEY, kind INTEGER NOT NULL, resource TEXT NOT NULL, namespace TEXT NOT NULL,
                name TEXT NOT NULL, data BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            """)
        let checkpointConnection = try SQLiteConnection(path: path)
        try checkpointConnection.execute("PRAGMA synchronous=FULL")
        checkpointer = Mutex(checkpointConnection)
        connection = Mutex(
            Connection(
                db: db,
                upsert: try db.prepare("INSERT OR REPLACE INTO objects (resource, namespace, name, rv, data) VALUES (?, ?, ?, ?, ?)"),
                remove: try db.prepare("DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?"),
                event: try db.prepare("INSERT OR REPLACE INTO events (rv, kind, resource, namespace, name, data) VALUES (?, ?, ?, ?, ?, ?)"),
                forget: try db.prepare("DELETE FROM events WHERE rv <= ?"),
                setVersion: try db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('resourceVersion', ?)")))
    }

    /// A passive checkpoint: copies what it can of the log into the database without blocking the writer.
    public func checkpoint() throws {
        try checkpointer.withLock { db in try db.execute("PRAGMA wal_checkpoint(PASSIVE)") }
    }

    public func load() throws -> PersistedState {
        try connection.withLock { c in
            var state = PersistedState()
            let version = try c.db.prepare("SELECT value FROM meta WHERE key = 'resourceVersion'")
            if try version.next() { state.resourceVersion = version.int64(0) }
            let objects = try c.db.prepare("SELECT resource, namespace, name, rv, data FROM objects")
            while try objects.next() {
                state.objects.append((
                    ResourceKey(objects.string(0)), ObjectKey(namespace: objects.string(1), name: objects.string(2)),
                    objects.int64(3), objects.bytes(4)))
            }
            let events = try c.db.prepare("SELECT rv, kind, resource, namespace, name, data FROM events ORDER BY rv")
            while try events.next() {
                state.events.append(PersistedMutation(
                    kind: PersistedMutation.Kind(rawValue: Int(events.int64(1))) ?? .modified,
                    resource: ResourceKey(events.string(2)),
                    key: ObjectKey(namespace: events.string(3), name: events.string(4)),
                    resourceVersion: events.int64(0), json: events.bytes(5)))
            }
            return state
        }
    }

    public func commit(_ batch: [PersistedMutation], forgetEventsThrough: Int64) throws {
        guard let last = batch.last else { return }
        try connection.withLock { c in
            try c.db.execute("BEGIN IMMEDIATE")
            do {
                for m in batch {
                    let resource = m.resource.description
                    if m.kind == .deleted {
                        c.remove.reset()
                        c.remove.bind(1, resource)
                        c.remove.bind(2, m.key.namespace)
                        c.remove.bind(3, m.key.name)
                        try c.remove.run()
                    } else {
                        c.upsert.reset()
                        c.upsert.bind(1, resource)
                        c.upsert.bind(2, m.key.namespace)
                        c.upsert.bind(3, m.key.name)
                        c.upsert.bind(4, m.resourceVersion)
                        c.upsert.bind(5, m.json)
                        try c.upsert.run()
                    }
                    c.event.reset()
                    c.event.bind(1, m.resourceVersion)
                    c.event.bind(2, Int64(m.kind.rawValue))
                    c.event.bind(3, resource)
                    c.event.bind(4, m.key.namespace)
                    c.event.bind(5, m.key.name)
                    c.event.bind(6, m.json)
                    try c.event.run()
                }
                c.forget.reset()
                c.forget.bind(1, forgetEventsThrough)
                try c.forget.run()
                c.setVersion.reset()
                c.setVersion.bind(1, last.resourceVersion)
                try c.setVersion.run()
                try c.db.execute("COMMIT")
            } catch {
                try? c.db.execute("ROLLBACK")
                throw error
            }
        }
    }
}
