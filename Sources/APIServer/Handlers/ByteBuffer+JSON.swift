#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeAPI
import NIOCore

extension ByteBuffer {
    /// `value` as compact JSON (an empty buffer if it cannot be encoded, which Kubernetes objects always can).
    static func json<T: Encodable>(_ value: T) -> ByteBuffer {
        ByteBuffer(bytes: (try? KubeJSON.encode(value)) ?? Data())
    }
}
