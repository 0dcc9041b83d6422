/// Why a patch could not be applied. The API server answers 422 (or 400 for a malformed patch document).
public struct PatchError: Error, Hashable, Sendable, CustomStringConvertible {
    /// True when the patch itself is not a valid document of its type (400); false when it does not apply (422).
    public var malformed: Bool
    public var message: String

    public init(malformed: Bool = false, _ message: String) {
        self.malformed = malformed
        self.message = message
    }

    public var description: String { message }
}
