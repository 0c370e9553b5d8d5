import Foundation
import GRPCCore
import PhotoVaultProto
import PostgresNIO
import TestImages
import Testing
@testable import API

/// Image RPCs as a test calls them: whole files in, whole files out.
extension TestAPI {
    /// Uploads `bytes` as `name` in chunks of `chunk` bytes.
    func upload(
        _ bytes: [UInt8], name: String = "photo.jpg", token: String, chunk: Int = 64 * 1024, declaredSize: Int64? = nil
    ) async throws -> Photovault_V1_UploadResponse {
        var messages: [Photovault_V1_UploadRequest] = [
            .with {
                $0.header = .with {
                    $0.fileName = name
                    $0.declaredSize = declaredSize ?? Int64(bytes.count)
                }
            }
        ]
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            messages.append(.with { $0.chunk = Data(bytes[start..<end]) })
            start = end
        }
        return try await send(messages, token: token)
    }

    /// Sends raw upload messages (for malformed streams).
    func send(_ messages: [Photovault_V1_UploadRequest], token: String) async throws -> Photovault_V1_UploadResponse {
        try await images.upload(request: StreamingClientRequest(metadata: Self.bearer(token)) { writer in
            for message in messages { try await writer.write(message) }
        })
    }

    /// Sends UploadChunks messages as one stream.
    func sendChunks(_ messages: [Photovault_V1_UploadChunksRequest], token: String) async throws -> Int64 {
        try await images.uploadChunks(request: StreamingClientRequest(metadata: Self.bearer(token)) { writer in
            for message in messages { try await writer.write(message) }
        }).bytesReceived
    }

    /// Downloads a variant: its header and all its bytes.
    func download(
        _ id: String, variant: Photovault_V1_ImageVariant = .original, token: String, offset: Int64 = 0, length: Int64 = 0
    ) async throws -> (header: Photovault_V1_DownloadHeader, bytes: [UInt8]) {
        let request = Photovault_V1_DownloadRequest.with {
            $0.imageID = id
            $0.variant = variant
            $0.offset = offset
            $0.length = length
        }
        return try await download(request, metadata: Self.bearer(token))
    }

    /// Sends a Download request and collects its header and all its bytes.
    func download(
        _ request: Photovault_V1_DownloadRequest, metadata: Metadata = [:]
    ) async throws -> (header: Photovault_V1_DownloadHeader, bytes: [UInt8]) {
        try await images.download(request: ClientRequest(message: request, metadata: metadata)) { response in
            var header = Photovault_V1_DownloadHeader()
            var bytes: [UInt8] = []
            for try await message in response.messages {
                switch message.payload {
                case .header(let value)?: header = value
                case .chunk(let data)?: bytes += data
                case nil: break
                }
            }
            return (header, bytes)
        }
    }

    /// Follows `ids` with WatchImages until each is READY or FAILED; returns every event seen.
    func watchUntilProcessed(_ ids: [String], token: String) async throws -> [Photovault_V1_ImageEvent] {
        let request = Photovault_V1_WatchImagesRequest.with { $0.imageIds = ids }
        return try await images.watchImages(request: ClientRequest(message: request, metadata: Self.bearer(token))) { response in
            var events: [Photovault_V1_ImageEvent] = []
            for try await event in response.messages { events.append(event) }
            return events
        }
    }

    func image(_ id: String, token: String) async throws -> Photovault_V1_Image {
        try await images.getImage(.with { $0.imageID = id }, metadata: Self.bearer(token)).image
    }

    /// Rows in `table` (a test-only peek behind the API).
    func count(_ table: String) async throws -> Int {
        try await database.row(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)")) { try $0.decode(Int64.self) }.map(Int.init) ?? -1
    }

    /// Every regular file under the blob folder (the local store's objects and temp files).
    var blobFiles: [URL] {
        let root = dataFolder.appendingPathComponent("blobs")
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
    }

    /// Every file left in the staging area.
    var stagingFiles: [URL] {
        let root = dataFolder.appendingPathComponent("tmp")
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
    }
}

/// A JPEG with a known EXIF block, written by exiftool.
func taggedJPEG(_ fixtures: Fixtures, name: String = "tagged.jpg", width: Int = 400, height: Int = 300) throws -> [UInt8] {
    let path = try fixtures.image(name, width: width, height: height)
    try fixtures.tag(path, [
        "-DateTimeOriginal=2023:07:14 18:30:05", "-OffsetTimeOriginal=+02:00",
        "-GPSLatitude=48.8584", "-GPSLatitudeRef=N", "-GPSLongitude=2.2945", "-GPSLongitudeRef=E",
        "-GPSAltitude=35", "-GPSAltitudeRef=0", "-Make=PhotoVaultCam", "-Model=Model Seven", "-LensModel=Lens 35mm F2.8",
        "-FNumber=2.8", "-ExposureTime=1/250", "-ISO=200", "-FocalLength=35", "-Orientation#=6",
    ])
    return try fixtures.bytes(path)
}

/// Byte-for-byte equality that reports sizes, not every byte, when it fails.
func sameBytes(_ actual: [UInt8], _ expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    if actual == expected { return true }
    let firstDifference = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(actual.count, expected.count)
    Issue.record("\(actual.count) bytes instead of \(expected.count); first difference at \(firstDifference)", sourceLocation: sourceLocation)
    return false
}
