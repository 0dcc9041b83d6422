/// A fixed-size set of small integers with a fast "first free at or after" search.
///
/// A second level of bits marks full words, so searching a nearly full /12 (a million slots) skips 64 words per
/// summary bit instead of testing every slot: allocation stays well under a microsecond even at 99% full.
struct AllocationBitmap: Sendable, Hashable {
    /// Number of usable slots, `0..<capacity`.
    let capacity: Int
    /// Bit `i % 64` of `words[i / 64]` is set when slot `i` is taken. Bits past `capacity` are permanently set so
    /// that a word is "full" by the same test everywhere.
    private var words: [UInt64]
    /// Bit `w % 64` of `fullWords[w / 64]` is set when `words[w]` is all ones.
    private var fullWords: [UInt64]
    private(set) var count: Int = 0

    init(capacity: Int) {
        precondition(capacity >= 0)
        self.capacity = capacity
        let wordCount = max(1, (capacity + 63) / 64)
        words = Array(repeating: 0, count: wordCount)
        fullWords = Array(repeating: 0, count: (wordCount + 63) / 64)
        // Pad the tail of the last word, and mark the summary's own padding as full.
        let used = capacity - (wordCount - 1) * 64
        if used < 64 { words[wordCount - 1] = ~0 << UInt64(used) }
        for w in 0..<wordCount where words[w] == ~0 { markFull(w) }
        let summaryUsed = wordCount - (fullWords.count - 1) * 64
        if summaryUsed < 64 { fullWords[fullWords.count - 1] |= ~0 << UInt64(summaryUsed) }
    }

    func contains(_ slot: Int) -> Bool {
        guard slot >= 0 && slot < capacity else { return false }
        return words[slot >> 6] & (1 << UInt64(slot & 63)) != 0
    }

    /// Marks `slot` taken; returns false when it already was.
    @discardableResult
    mutating func insert(_ slot: Int) -> Bool {
        precondition(slot >= 0 && slot < capacity)
        let w = slot >> 6
        let bit: UInt64 = 1 << UInt64(slot & 63)
        if words[w] & bit != 0 { return false }
        words[w] |= bit
        count += 1
        if words[w] == ~0 { markFull(w) }
        return true
    }

    /// Marks `slot` free; returns false when it already was.
    @discardableResult
    mutating func remove(_ slot: Int) -> Bool {
        precondition(slot >= 0 && slot < capacity)
        let w = slot >> 6
        let bit: UInt64 = 1 << UInt64(slot & 63)
        if words[w] & bit == 0 { return false }
        words[w] &= ~bit
        count -= 1
        fullWords[w >> 6] &= ~(1 << UInt64(w & 63))
        return true
    }

    /// The lowest free slot in `range`, or nil when every slot in it is taken.
    func firstFree(in range: Range<Int>) -> Int? {
        let lower = max(range.lowerBound, 0)
        let upper = min(range.upperBound, capacity)
        guard lower < upper else { return nil }
        var w = lower >> 6
        // Pretend the bits below `lower` in its word are taken.
        let below: UInt64 = (1 << UInt64(lower & 63)) &- 1
        var word = words[w] | below
        while true {
            if word != ~0 {
                let slot = w << 6 | (~word).trailingZeroBitCount
                return slot < upper ? slot : nil
            }
            guard let next = nextNonFullWord(after: w), next << 6 < upper else { return nil }
            w = next
            word = words[w]
        }
    }

    /// Slots that are taken, in increasing order.
    var members: [Int] {
        var out: [Int] = []
        out.reserveCapacity(count)
        for (w, word) in words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                let slot = w << 6 | bits.trailingZeroBitCount
                if slot < capacity { out.append(slot) }
                bits &= bits &- 1
            }
        }
        return out
    }

    private mutating func markFull(_ w: Int) {
        fullWords[w >> 6] |= 1 << UInt64(w & 63)
    }

    private func nextNonFullWord(after w: Int) -> Int? {
        var s = (w + 1) >> 6
        guard s < fullWords.count else { return nil }
        let below: UInt64 = (1 << UInt64((w + 1) & 63)) &- 1
        var summary = fullWords[s] | below
        while summary == ~0 {
            s += 1
            guard s < fullWords.count else { return nil }
            summary = fullWords[s]
        }
        return s << 6 | (~summary).trailingZeroBitCount
    }
}
