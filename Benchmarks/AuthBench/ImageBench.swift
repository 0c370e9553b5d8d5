import API
import ArgumentParser
import Crypto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Media
import GRPCProtobuf
import PhotoVaultProto

/// Derivative cost per image: the server's path (the sealed original decrypted while libvips
/// reads it, then preview and thumbnail as ``DerivativesJob`` makes them) next to the
/// `vipsthumbnail` command making the same two files from the same plaintext, interleaved
/// repetition by repetition so that both see the same machine noise.
struct Derivatives: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Preview + thumbnail of one image: PhotoVault's path against vipsthumbnail, medians and ratio.")

    @Argument(help: "The image (e.g. a 4000x3000 JPEG).") var file: String
    @Option(help: "Measured repetitions (after one warm-up).") var repetitions = 10
    @Option(help: "The vipsthumbnail program.") var vipsthumbnail = "/usr/bin/vipsthumbnail"

    func run() async throws {
        try Media.initialize()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("photovault-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        // Seal the original exactly as an upload stores it.
        let key = SymmetricKey(size: .bits256)
        let blobID = "originals/bench/\(UUID().uuidString.lowercased())"
        let sealedURL = work.appendingPathComponent("original.sealed")
        let writer = try SealingFileWriter(url: sealedURL, key: key, keyVersion: 1, blobID: blobID)
        try writer.append(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        try writer.finish()

        func server() throws -> (Media.Rendition, Media.Rendition) {
            let source = try SealedFileSource(url: sealedURL, blobID: blobID) { _ in key }
            return (try Media.render(source, longestSide: DerivativesJob.preview.longestSide, as: DerivativesJob.preview.encoding),
                    try Media.render(source, longestSide: DerivativesJob.thumbnail.longestSide, as: DerivativesJob.thumbnail.encoding))
        }
        func plain() throws {
            let source = try FileSource(path: file)
            _ = try Media.render(source, longestSide: DerivativesJob.preview.longestSide, as: DerivativesJob.preview.encoding)
            _ = try Media.render(source, longestSide: DerivativesJob.thumbnail.longestSide, as: DerivativesJob.thumbnail.encoding)
        }
        let previewOut = work.appendingPathComponent("preview.jpg").path
        let thumbnailOut = work.appendingPathComponent("thumbnail.webp").path
        func cli() throws {
            try Self.execute(vipsthumbnail, [file, "-s", "\(DerivativesJob.preview.longestSide)", "-o", "\(previewOut)[Q=80,strip]"])
            try Self.execute(vipsthumbnail, [file, "-s", "\(DerivativesJob.thumbnail.longestSide)", "-o", "\(thumbnailOut)[Q=75,strip]"])
        }

        let (preview, thumbnail) = try server()  // warm-up
        try plain()
        try cli()
        var serverTimes: [Double] = [], plainTimes: [Double] = [], cliTimes: [Double] = [], startTimes: [Double] = []
        for _ in 0..<repetitions {
            serverTimes.append(try Self.time { _ = try server() })
            plainTimes.append(try Self.time { try plain() })
            cliTimes.append(try Self.time { try cli() })
            // What two process starts cost, which vipsthumbnail pays and the server does not.
            startTimes.append(try Self.time {
                try Self.execute(vipsthumbnail, ["--version"])
                try Self.execute(vipsthumbnail, ["--version"])
            })
        }
        let cliPreview = try FileManager.default.attributesOfItem(atPath: previewOut)[.size] as? Int ?? 0
        let cliThumbnail = try FileManager.default.attributesOfItem(atPath: thumbnailOut)[.size] as? Int ?? 0
        let (s, p, c) = (Login.percentile(serverTimes, 0.5), Login.percentile(plainTimes, 0.5), Login.percentile(cliTimes, 0.5))
        let starts = Login.percentile(startTimes, 0.5)
        print("file: \(file), \(repetitions) repetitions after a warm-up, medians (min-max)")
        print(String(format: "PhotoVault (sealed original, Media.render x2):     %7.1f ms (%.1f-%.1f)  preview %dx%d %d B, thumbnail %dx%d %d B",
                     s, serverTimes.min()!, serverTimes.max()!, preview.width, preview.height, preview.bytes.count,
                     thumbnail.width, thumbnail.height, thumbnail.bytes.count))
        print(String(format: "same without encryption (plain file, Media.render x2): %7.1f ms (%.1f-%.1f)", p, plainTimes.min()!, plainTimes.max()!))
        print(String(format: "vipsthumbnail x2 (two processes, same outputs):    %7.1f ms (%.1f-%.1f)  preview %d B, thumbnail %d B",
                     c, cliTimes.min()!, cliTimes.max()!, cliPreview, cliThumbnail))
        print(String(format: "two vipsthumbnail process starts (--version x2):   %7.1f ms", starts))
        print(String(format: "ratio PhotoVault / vipsthumbnail: %.2f (target <= 2); without encryption: %.2f; against vipsthumbnail less its start-ups: %.2f",
                     s / c, p / c, s / (c - starts)))
    }

    static func time(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        return Login.milliseconds(ContinuousClock.now - start)
    }

    static func execute(_ program: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(program) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
    }
}

/// A gRPC server with one method, ImageService/Upload, that counts the bytes and drops them:
/// the floor of an upload over loopback with the same transport and message sizes as
/// photovault-api, for scripts/bench-images.sh.
struct UploadSink: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload-sink", abstract: "Serves an ImageService/Upload that discards the bytes (throughput baseline).")

    @Option var host = "127.0.0.1"
    @Option var port = 50061

    func run() async throws {
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: host, port: port), transportSecurity: .plaintext,
            // As photovault-api (GRPCServerService): 16 MiB messages at most.
            config: .defaults { $0.rpc.maxRequestPayloadSize = 16 * 1024 * 1024 })
        let server = GRPCServer(transport: transport, services: [Sink()])
        print("upload sink on \(host):\(port)")
        try await server.serve()
    }

    struct Sink: RegistrableRPCService {
        func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
            router.registerHandler(
                forMethod: Photovault_V1_ImageService.Method.Upload.descriptor,
                deserializer: ProtobufDeserializer<Photovault_V1_UploadRequest>(),
                serializer: ProtobufSerializer<Photovault_V1_UploadResponse>()
            ) { request, _ in
                var bytes: Int64 = 0
                for try await message in request.messages {
                    if case .chunk(let data)? = message.payload { bytes += Int64(data.count) }
                }
                let received = bytes
                return StreamingServerResponse(single: ServerResponse(message: .with { $0.image.byteSize = received }))
            }
        }
    }
}
