import Synchronization

/// The promise a writer waits on until its write is durable (or has failed).
final class CommitTicket: Sendable {
    private struct State {
        var result: Result<Void, StoreError>?
        var waiter: CheckedContinuation<Void, any Error>?
    }

    private let state = Mutex(State())

    func resolve(_ result: Result<Void, StoreError>) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            s.result = result
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(with: result.mapError { $0 as any Error })
    }

    func wait() async throws(StoreError) {
        do {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let ready = state.withLock { s -> Result<Void, StoreError>? in
                    if s.result == nil { s.waiter = c }
                    return s.result
                }
                if let ready { c.resume(with: ready.mapError { $0 as any Error }) }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .persistence("\(error)")
        }
    }
}
