import IPAM

/// Names for new slices: `<service>-` and five characters from the alphabet kube-apiserver uses for
/// `generateName` (no vowels, no look-alike digits).
///
/// The controller names slices itself instead of leaving it to the server, so that it knows a slice's name the
/// moment it decides to create it and can keep tracking it without re-listing.
public struct SliceNameGenerator: Sendable {
    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
    private var random: SplitMix64

    public init(seed: UInt64? = nil) {
        random = seed.map(SplitMix64.init(seed:)) ?? SplitMix64()
    }

    /// `prefix` followed by five random characters. The prefix is cut so the name stays within 63 characters.
    public mutating func name(prefix: String) -> String {
        var suffix = ""
        for _ in 0..<5 {
            suffix.append(Self.alphabet[Int(random.next(upperBound: UInt64(Self.alphabet.count)))])
        }
        return String(prefix.prefix(58)) + suffix
    }
}
