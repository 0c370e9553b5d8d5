import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A loopback HTTP server that answers from a script, for the failures a real S3 endpoint
/// cannot be made to produce on demand (a 503 now, a 200 next, a part that fails).
/// It records every request it saw, in order.
final class ScriptedS3: Sendable {
    /// One request as the server saw it.
    struct Seen: Sendable {
        let method: HTTPMethod
        let uri: String
        let bodyLength: Int
    }

    /// One answer: status, headers and an XML (or empty) body.
    struct Answer: Sendable {
        var status: HTTPResponseStatus
        var headers: [(String, String)] = []
        var body: String = ""

        static func error(_ status: HTTPResponseStatus, code: String, message: String) -> Answer {
            Answer(status: status, body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>\(message)</Message></Error>")
        }
    }

    /// The requests seen, shared by the server object and the connection handlers.
    final class RequestLog: Sendable {
        let entries = Mutex<[Seen]>([])
    }

    let port: Int
    private let channel: any Channel
    private let log = RequestLog()

    /// The requests answered so far.
    var requests: [Seen] { log.entries.withLock { $0 } }

    /// Starts a server whose answers come from `script`, given the request and how many
    /// requests came before it.
    init(_ script: @escaping @Sendable (Seen, Int) -> Answer) async throws {
        let log = self.log
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(script: script, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    /// Closes the listening socket.
    func stop() async throws { try await channel.close() }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let script: @Sendable (Seen, Int) -> Answer
        let log: RequestLog
        var head: HTTPRequestHead?
        var bodyLength = 0

        init(script: @escaping @Sendable (Seen, Int) -> Answer, log: RequestLog) {
            self.script = script
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                bodyLength = 0
            case .body(let buffer):
                bodyLength += buffer.readableBytes
            case .end:
                guard let head else { return }
                let seen = Seen(method: head.method, uri: head.uri, bodyLength: bodyLength)
                let index = log.entries.withLock { requests in
                    requests.append(seen)
                    return requests.count - 1
                }
                let answer = script(seen, index)
                var headers = HTTPHeaders(answer.headers)
                headers.replaceOrAdd(name: "content-length", value: String(answer.body.utf8.count))
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: answer.status, headers: headers))), promise: nil)
                if head.method != .HEAD {
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: answer.body)))), promise: nil)
                }
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
