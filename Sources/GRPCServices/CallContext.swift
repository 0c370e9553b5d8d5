import GRPCCore
import Logging

/// What a handler may know about the call it serves: who is on the other end and how to log about it.
///
/// Bound by ``CallContextInterceptor`` for the duration of each RPC. A `@TaskLocal` bound in an
/// interceptor is not visible inside a server-streaming handler's response producer, so such
/// handlers build their own with ``init(metadata:context:logger:)`` from the request they receive.
public struct CallContext: Sendable {
    /// The caller's `x-request-id`, or a fresh one; it appears in every log line of the call.
    public var requestID: String
    /// The full method name, e.g. `photovault.v1.AuthService/Login`.
    public var method: String
    /// The peer's address without its port (`127.0.0.1`, `::1`), or `unix` for a socket peer.
    public var peerAddress: String
    /// The request metadata (headers).
    public var metadata: Metadata
    /// A logger carrying `request_id` and `method`.
    public var logger: Logger

    /// The call being served by the current task, if any.
    @TaskLocal public static var current: CallContext?

    public init(metadata: Metadata, context: ServerContext, logger base: Logger) {
        let supplied = metadata[stringValues: "x-request-id"].first(where: { _ in true })
        self.requestID = supplied.flatMap(Self.sanitisedRequestID) ?? Self.newRequestID()
        self.method = context.descriptor.fullyQualifiedMethod
        self.peerAddress = Self.address(ofPeer: context.remotePeer)
        self.metadata = metadata
        var logger = base
        logger[metadataKey: "request_id"] = "\(self.requestID)"
        logger[metadataKey: "method"] = "\(self.method)"
        self.logger = logger
    }

    /// The token of an `authorization: Bearer …` header, when there is exactly one such header.
    public var bearerToken: String? {
        let values = Array(metadata[stringValues: "authorization"])
        guard values.count == 1 else { return nil }
        // Byte-wise: this runs on every authenticated call, and tokens are ASCII.
        let value = values[0].utf8
        let scheme = "bearer ".utf8
        guard value.count > scheme.count,
            zip(value.prefix(scheme.count), scheme).allSatisfy({ $0 | 0x20 == $1 })
        else { return nil }
        let token = value.dropFirst(scheme.count).drop(while: { $0 == UInt8(ascii: " ") })
        return String(decoding: token, as: UTF8.self)
    }

    /// The first value of a text header, if present.
    public func header(_ name: String) -> String? {
        metadata[stringValues: name].first(where: { _ in true })
    }

    /// Strips the transport prefix and port from grpc-swift's peer strings
    /// (`ipv4:1.2.3.4:5678`, `ipv6:[::1]:5678`, `unix:/path`).
    static func address(ofPeer peer: String) -> String {
        if peer.hasPrefix("ipv4:") {
            let rest = peer.dropFirst(5)
            if let colon = rest.lastIndex(of: ":") { return String(rest[..<colon]) }
            return String(rest)
        }
        if peer.hasPrefix("ipv6:") {
            let rest = peer.dropFirst(5)
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                return String(rest[rest.index(after: rest.startIndex)..<close])
            }
            return String(rest)
        }
        if peer.hasPrefix("unix:") { return "unix" }
        return peer
    }

    /// Accepts a caller's request id only if it is short and printable, so it cannot forge log lines.
    static func sanitisedRequestID(_ value: String) -> String? {
        guard (1...64).contains(value.count),
            value.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || "-_.:".unicodeScalars.contains($0)) })
        else { return nil }
        return value
    }

    /// 96 random bits as 24 hex digits (no Foundation formatting: this runs on every call).
    static func newRequestID() -> String {
        let high = UInt64.random(in: .min ... .max), low = UInt32.random(in: .min ... .max)
        let a = String(high, radix: 16), b = String(low, radix: 16)
        return String(repeating: "0", count: 16 - a.count) + a + String(repeating: "0", count: 8 - b.count) + b
    }
}
