import Synchronization

/// One open watch: the events it must deliver first (the initial state or the replayed window), then live
/// events through a bounded buffer. A watcher that falls `capacity` events behind is closed with
/// `.tooSlow`, so that it never holds back writers or other watchers.
public final class Watcher: Sendable, AsyncSequence {
    public typealias Element = WatchDelivery

    /// Delivered before anything live: synthetic ADDED events, or events replayed from the window.
    public let initial: [WatchDelivery]
    private let stream: AsyncStream<WatchDelivery>
    let continuation: AsyncStream<WatchDelivery>.Continuation
    private let termination = Mutex<WatchTermination?>(nil)
    let id: Int
    let filter: WatchFilter

    init(id: Int, filter: WatchFilter, initial: [WatchDelivery], capacity: Int) {
        self.id = id
        self.filter = filter
        self.initial = initial
        (stream, continuation) = AsyncStream.makeStream(of: WatchDelivery.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    /// Why the store ended this watch, once it has.
    public var terminatedBecause: WatchTermination? { termination.withLock { $0 } }

    /// Queues a live delivery. False when the buffer is full: the caller must then `close(.tooSlow)`, outside
    /// its own locks (closing runs the termination handler, which unregisters the watcher).
    func deliver(_ delivery: WatchDelivery) -> Bool {
        if case .dropped = continuation.yield(delivery) { return false }
        return true
    }

    func close(_ reason: WatchTermination) {
        termination.withLock { if $0 == nil { $0 = reason } }
        continuation.finish()
    }

    /// Ends the watch from the consumer's side (the client went away).
    public func cancel() { continuation.finish() }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var initial: IndexingIterator<[WatchDelivery]>
        var live: AsyncStream<WatchDelivery>.AsyncIterator

        public mutating func next() async -> WatchDelivery? {
            if let first = initial.next() { return first }
            return await live.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(initial: initial.makeIterator(), live: stream.makeAsyncIterator())
    }
}
