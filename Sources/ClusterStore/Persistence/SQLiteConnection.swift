import CSQLite
import NIOCore

/// A thin, non-thread-safe wrapper over one SQLite connection. `SQLitePersistence` owns it behind a lock.
final class SQLiteConnection {
    private var handle: OpaquePointer?
    let path: String

    init(path: String) throws {
        self.path = path
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw StoreError.persistence("opening \(path): \(message)")
        }
        sqlite3_busy_timeout(handle, 5000)
    }

    deinit { sqlite3_close(handle) }

    var lastError: String { String(cString: sqlite3_errmsg(handle)) }

    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? lastError
            sqlite3_free(message)
            throw StoreError.persistence("\(text) (in: \(sql.prefix(80)))")
        }
    }

    func prepare(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw StoreError.persistence("\(lastError) (preparing: \(sql.prefix(80)))")
        }
        return Statement(statement, connection: self)
    }

    /// A prepared statement; reset and re-bound for each use.
    final class Statement {
        private let statement: OpaquePointer
        private unowned let connection: SQLiteConnection

        init(_ statement: OpaquePointer, connection: SQLiteConnection) {
            self.statement = statement
            self.connection = connection
        }

        deinit { sqlite3_finalize(statement) }

        private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

        func reset() {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }

        func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(statement, index, value) }

        func bind(_ index: Int32, _ value: String) { sqlite3_bind_text(statement, index, value, -1, Self.transient) }

        func bind(_ index: Int32, _ value: ByteBuffer) {
            value.withUnsafeReadableBytes { bytes in
                _ = sqlite3_bind_blob(statement, index, bytes.baseAddress, Int32(bytes.count), Self.transient)
            }
        }

        /// Runs a statement that returns no rows.
        func run() throws {
            let rc = sqlite3_step(statement)
            guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw StoreError.persistence(connection.lastError) }
        }

        /// Steps to the next row; false when there are no more.
        func next() throws -> Bool {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_ROW { return true }
            if rc == SQLITE_DONE { return false }
            throw StoreError.persistence(connection.lastError)
        }

        func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

        func string(_ column: Int32) -> String {
            guard let text = sqlite3_column_text(statement, column) else { return "" }
            return String(cString: text)
        }

        func bytes(_ column: Int32) -> ByteBuffer {
            let count = Int(sqlite3_column_bytes(statement, column))
            guard count > 0, let blob = sqlite3_column_blob(statement, column) else { return ByteBuffer() }
            return ByteBuffer(bytes: UnsafeRawBufferPointer(start: blob, count: count))
        }
    }
}
