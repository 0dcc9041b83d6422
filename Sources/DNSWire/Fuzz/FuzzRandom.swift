/// SplitMix64: tiny, fast and fully specified, so a seed reproduces the same fuzz inputs on every platform
/// and toolchain (the standard library's `random(in:using:)` algorithms are not promised to stay fixed,
/// and `SystemRandomNumberGenerator` is not seedable).
struct FuzzRandom: Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<n (n > 0), by multiply-shift (Lemire) without the rejection step: the bias is far
    /// below anything a fuzzer cares about.
    mutating func below(_ n: Int) -> Int { Int(next().multipliedFullWidth(by: UInt64(n)).high) }

    mutating func oneIn(_ n: Int) -> Bool { below(n) == 0 }

    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }

    mutating func u16() -> UInt16 { UInt16(truncatingIfNeeded: next()) }

    mutating func u32() -> UInt32 { UInt32(truncatingIfNeeded: next()) }

    mutating func bytes(_ n: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(n)
        var word: UInt64 = 0
        for i in 0..<n {
            if i & 7 == 0 { word = next() }
            out.append(UInt8(truncatingIfNeeded: word))
            word >>= 8
        }
        return out
    }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
