/// Why a string is not an IP address or a CIDR. The description names the input and the bad part.
public struct AddressParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The whole input as given.
    public var input: String
    /// What is wrong with it, in a few words.
    public var reason: String
    /// What the input was meant to be ("IP address", "CIDR").
    public var expected: String

    public init(input: String, expected: String, reason: String) {
        self.input = input
        self.expected = expected
        self.reason = reason
    }

    public var description: String { "invalid \(expected) \"\(input)\": \(reason)" }
}
