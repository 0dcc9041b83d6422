import DNSWire
import Synchronization

/// Answers from upstream, kept for as long as their TTLs say (RFC 1035 §3.2.1), negative answers for as long as
/// their SOA says (RFC 2308 §5), within CoreDNS's bounds: at most 3600 s for an answer, 1800 s for a denial,
/// at least 5 s. A hit is served with its TTLs counted down, so a client never holds a record longer than the
/// upstream allowed. SERVFAIL and truncated answers are not kept.
public final class ForwardCache: Sendable {
    public struct Key: Hashable, Sendable {
        var name: [UInt8]
        var type: UInt16
        var `class`: UInt16

        public init(_ question: DNSQuestion) {
            name = question.name.lowercasedKey
            type = question.type.rawValue
            `class` = question.class.rawValue
        }
    }

    struct Entry {
        var message: DNSMessage
        var stored: ContinuousClock.Instant
        var ttl: UInt32
    }

    public let capacity: Int
    public static let maxSuccessTTL: UInt32 = 3600
    public static let maxDenialTTL: UInt32 = 1800
    public static let minTTL: UInt32 = 5
    private let entries: Mutex<[Key: Entry]> = Mutex([:])

    public init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    public var count: Int { entries.withLock { $0.count } }

    /// The cached answer to `question`, its TTLs reduced by the time it has been kept; nil on a miss.
    public func lookup(_ question: DNSQuestion, now: ContinuousClock.Instant = .now) -> DNSMessage? {
        let key = Key(question)
        return entries.withLock { entries -> DNSMessage? in
            guard let entry = entries[key] else { return nil }
            let elapsed = now - entry.stored
            let seconds = UInt32(clamping: elapsed.components.seconds)
            guard seconds < entry.ttl else {
                entries[key] = nil
                return nil
            }
            var message = entry.message
            func age(_ records: inout [DNSResourceRecord]) {
                for i in records.indices { records[i].ttl = records[i].ttl > seconds ? records[i].ttl - seconds : 0 }
            }
            age(&message.answers)
            age(&message.authorities)
            age(&message.additionals)
            return message
        }
    }

    /// Keeps `message` (an upstream's answer to `question`) when it may be kept.
    public func store(_ question: DNSQuestion, _ message: DNSMessage, now: ContinuousClock.Instant = .now) {
        guard let ttl = Self.cacheTTL(message) else { return }
        let key = Key(question)
        entries.withLock { entries in
            if entries.count >= capacity, entries[key] == nil, let victim = entries.keys.randomElement() {
                entries[victim] = nil  // random eviction, as CoreDNS's cache does
            }
            entries[key] = Entry(message: message, stored: now, ttl: ttl)
        }
    }

    /// How long `message` may be kept, nil when not at all.
    static func cacheTTL(_ message: DNSMessage) -> UInt32? {
        guard !message.header.isTruncated else { return nil }
        switch message.header.rcode {
        case .noError where !message.answers.isEmpty:
            let ttl = message.answers.map(\.ttl).min() ?? 0
            return ttl == 0 ? nil : max(min(ttl, maxSuccessTTL), minTTL)
        case .noError, .nxDomain:
            // RFC 2308 §5: the SOA's TTL, bounded by its MINIMUM field.
            guard let soa = message.authorities.first(where: { $0.type == .soa }), case .soa(_, _, _, _, _, _, let minimum) = soa.rdata else {
                return nil
            }
            let ttl = min(soa.ttl, minimum)
            return ttl == 0 ? nil : max(min(ttl, maxDenialTTL), minTTL)
        default:
            return nil
        }
    }
}
