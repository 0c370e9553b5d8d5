import Foundation
import GRPCCore
import Media
import PhotoVaultProto
import SwiftProtobuf

/// `photovault.v1.ImageService`: checks the caller, calls ``ImageLibrary``, maps the result.
///
/// Written against the generated `ServiceProtocol` rather than the simple one so the
/// server-streaming RPCs can authenticate before their response stream starts (the call's
/// task-local context is not visible inside the stream's producer).
public struct ImageServiceHandler: Photovault_V1_ImageService.ServiceProtocol {
    let library: ImageLibrary
    let authenticator: Authenticator
    let hub: ImageWatchHub
    let captioning: Captioning
    /// Opens guests' share links for Download.
    let events: EventLibrary

    public init(library: ImageLibrary, authenticator: Authenticator, hub: ImageWatchHub, captioning: Captioning, events: EventLibrary) {
        self.library = library
        self.authenticator = authenticator
        self.hub = hub
        self.captioning = captioning
        self.events = events
    }

    private func owner() async throws -> UUID {
        try await authenticator.authenticate().userID
    }

    public func upload(
        request: StreamingServerRequest<Photovault_V1_UploadRequest>, context: ServerContext
    ) async throws -> ServerResponse<Photovault_V1_UploadResponse> {
        let owner = try await owner()
        let pieces = request.messages.map { message -> UploadPiece in
            switch message.payload {
            case .header(let header)?:
                .header(UploadTarget(
                    fileName: header.fileName, declaredSize: header.declaredSize,
                    eventID: header.hasEventID ? header.eventID : nil, albumID: header.albumID))
            case .chunk(let data)?: .chunk(Array(data))
            case nil: .chunk([])
            }
        }
        let outcome = try await library.upload(owner: owner, pieces)
        return ServerResponse(message: .with {
            $0.image = outcome.image.proto
            $0.duplicate = outcome.duplicate
        })
    }

    public func createUploadSession(
        request: ServerRequest<Photovault_V1_CreateUploadSessionRequest>, context: ServerContext
    ) async throws -> ServerResponse<Photovault_V1_CreateUploadSessionResponse> {
        let owner = try await owner()
        let message = request.message
        let session = try await library.createSession(
            owner: owner, fileName: message.fileName, totalSize: message.totalSize, sha256: message.sha256,
            eventID: message.hasEventID ? message.eventID : nil, albumID: message.albumID)
        return ServerResponse(message: .with {
            $0.sessionID = session.id.lowercased
            $0.expiresAt = Google_Protobuf_Timestamp(date: session.expiresAt)
            $0.chunkSizeHint = Int32(ImageLibrary.chunkSizeHint)
        })
    }

    public func uploadChunks(
        request: StreamingServerRequest<Photovault_V1_UploadChunksRequest>, context: ServerContext
    ) async throws -> ServerResponse<Photovault_V1_UploadChunksResponse> {
        let owner = try await owner()
        let chunks = request.messages.map { SessionChunk(sessionID: $0.sessionID, offset: $0.offset, data: Array($0.data)) }
        let received = try await library.appendChunks(owner: owner, chunks)
        return ServerResponse(message: .with { $0.bytesReceived = received })
    }

    public func getUploadSession(
        request: ServerRequest<Photovault_V1_GetUploadSessionRequest>, context: ServerContext
    ) async throws -> ServerResponse<Photovault_V1_GetUploadSessionResponse> {
        let session = try await library.session(owner: try await owner(), id: request.message.sessionID)
        return ServerResponse(message: .with {
            $0.totalSize = session.totalSize
            $0.bytesReceived = session.bytesReceived
            $0.state = switch session.state {
            case .open: .open
            case .complete: .complete
            case .finished: .finished
            case .expired: .expired
            }
            $0.expiresAt = Google_Protobuf_Timestamp(date: session.expiresAt)
            $0.imageID = session.imageID?.lowercased ?? ""
        })
    }

    public func finishUpload(
        request: ServerRequest<Photovault_V1_FinishUploadRequest>, context: ServerContext
    ) async throws -> ServerResponse<Photovault_V1_FinishUploadResponse> {
        let outcome = try await library.finishSession(owner: try await owner(), id: request.message.sessionID)
        return ServerResponse(message: .with {
            $0.image = outcome.image.proto
            $0.duplicate = outcome.duplicate
        })
    }

    public func getImage(
        request: ServerRequest<Photovault_V1_GetImageRequest>, context: ServerContext
    ) async throws -> ServerResponse<Photovault_V1_GetImageResponse> {
        let owner = try await owner()
        let record = try await library.image(owner: owner, id: try parseID(request.message.imageID, field: "image_id"))
        return ServerResponse(message: .with { $0.image = record.proto })
    }

    public func listImages(
        request: ServerRequest<Photovault_V1_ListImagesRequest>, context: ServerContext
    ) async throws -> ServerResponse<Photovault_V1_ListImagesResponse> {
        let owner = try await owner()
        let message = request.message
        var listing = ImageRepository.Listing()
        if message.hasTaken {
            if message.taken.hasStart { listing.takenFrom = try parseTimestamp(message.taken.start, field: "taken.start") }
            if message.taken.hasEnd { listing.takenBefore = try parseTimestamp(message.taken.end, field: "taken.end") }
            if let from = listing.takenFrom, let before = listing.takenBefore, from > before {
                throw APIError.invalid("taken", "starts after it ends")
            }
        }
        if message.hasHasGps_p { listing.hasGPS = message.hasGps_p }
        if message.format != .unspecified {
            guard let format = ImageFormat(proto: message.format) else { throw APIError.invalid("format", "is not a known image format") }
            listing.format = format
        }
        if message.hasEventID { listing.eventID = message.eventID }
        listing.trash = message.onlyTrashed ? .only : message.includeTrashed ? .include : .exclude
        listing.order = switch message.order {
        case .takenAsc: .takenAscending
        case .uploadedDesc: .uploadedDescending
        default: .takenDescending
        }
        let (records, next) = try await library.list(owner: owner, listing, pageSize: message.pageSize, pageToken: message.pageToken)
        return ServerResponse(message: .with {
            $0.images = records.map(\.proto)
            $0.nextPageToken = next
        })
    }

    public func download(
        request: ServerRequest<Photovault_V1_DownloadRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Photovault_V1_DownloadResponse> {
        let message = request.message
        let variant: ImageVariant = switch message.variant {
        case .preview: .preview
        case .thumbnail: .thumbnail
        default: .original
        }
        let plan: DownloadPlan
        if message.shareToken.isEmpty {
            plan = try await library.prepareDownload(
                owner: try await owner(), id: try parseID(message.imageID, field: "image_id"), variant: variant,
                offset: message.offset, length: message.length)
        } else {
            // A guest: the link, not a sign-in, decides what may be read.
            let shared = try await events.open(token: message.shareToken, password: message.sharePassword)
            plan = try await library.prepareDownload(
                shared: shared, id: try parseID(message.imageID, field: "image_id"), variant: variant,
                offset: message.offset, length: message.length)
        }
        return StreamingServerResponse { writer in
            try await writer.write(.with {
                $0.header = .with {
                    $0.contentType = plan.contentType
                    $0.totalSize = plan.totalSize
                    $0.offset = plan.range.lowerBound
                    $0.length = Int64(plan.range.count)
                    $0.fileName = plan.fileName
                    $0.width = Int32(plan.width)
                    $0.height = Int32(plan.height)
                }
            })
            do {
                try await plan.blob.read(plan.range) { bytes in
                    try await writer.write(.with { $0.chunk = Data(bytes) })
                }
            } catch let error as BlobCipherError {
                throw ImageError.dataLoss(error.description)
            }
            return [:]
        }
    }

    public func updateMetadata(
        request: ServerRequest<Photovault_V1_UpdateMetadataRequest>, context: ServerContext
    ) async throws -> ServerResponse<Photovault_V1_UpdateMetadataResponse> {
        let owner = try await owner()
        let message = request.message
        var edit = MetadataEdit()
        if message.hasCaption { edit.caption = message.caption }
        if message.hasDescription_p { edit.description = message.description_p }
        edit.tagsToAdd = message.tagsToAdd
        edit.tagsToRemove = message.tagsToRemove
        if message.hasTakenAt { edit.takenAt = try parseTimestamp(message.takenAt, field: "taken_at") }
        if message.hasTakenAtOffsetMinutes { edit.takenAtOffsetMinutes = Int(message.takenAtOffsetMinutes) }
        edit.clearTakenAt = message.clearTakenAt_p
        let record = try await library.updateMetadata(owner: owner, id: try parseID(message.imageID, field: "image_id"), edit)
        return ServerResponse(message: .with { $0.image = record.proto })
    }

    public func analyzeImage(
        request: ServerRequest<Photovault_V1_AnalyzeImageRequest>, context: ServerContext
    ) async throws -> ServerResponse<Photovault_V1_AnalyzeImageResponse> {
        let owner = try await owner()
        let message = request.message
        let provider: Captioning.Provider = switch message.provider {
        case .blip: .blip
        case .openaiCompatible: .visionChat
        default: .automatic
        }
        let result = try await captioning.caption(
            owner: owner, image: try parseID(message.imageID, field: "image_id"), prompt: message.prompt, provider: provider,
            save: message.save)
        return ServerResponse(message: .with {
            $0.caption = result.text
            $0.model = result.model
            $0.provider = result.provider == .visionChat ? .openaiCompatible : .blip
        })
    }

    public func deleteImage(
        request: ServerRequest<Photovault_V1_DeleteImageRequest>, context: ServerContext
    ) async throws -> ServerResponse<Photovault_V1_DeleteImageResponse> {
        let owner = try await owner()
        let id = try parseID(request.message.imageID, field: "image_id")
        if request.message.permanent {
            try await library.deletePermanently(owner: owner, id: id)
            return ServerResponse(message: .with { $0.permanentlyDeleted = true })
        }
        let deletedAt = try await library.trash(owner: owner, id: id)
        return ServerResponse(message: .with { $0.deletedAt = Google_Protobuf_Timestamp(date: deletedAt) })
    }

    public func restoreImage(
        request: ServerRequest<Photovault_V1_RestoreImageRequest>, context: ServerContext
    ) async throws -> ServerResponse<Photovault_V1_RestoreImageResponse> {
        let owner = try await owner()
        let record = try await library.restore(owner: owner, id: try parseID(request.message.imageID, field: "image_id"))
        return ServerResponse(message: .with { $0.image = record.proto })
    }

    public func watchImages(
        request: ServerRequest<Photovault_V1_WatchImagesRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Photovault_V1_ImageEvent> {
        let owner = try await owner()
        let ids = request.message.imageIds
        guard ids.count <= 500 else { throw APIError.invalid("image_ids", "may name at most 500 images") }
        let wanted = try Set(ids.map { try parseID($0, field: "image_ids") })
        // Subscribe before reading the current states, so no change falls in between.
        let changes = hub.watch(owner: owner)
        var pending: Set<UUID> = []
        var snapshot: [Photovault_V1_ImageEvent] = []
        for id in wanted.sorted(by: { $0.uuidString < $1.uuidString }) {
            let record = try await library.image(owner: owner, id: id)
            snapshot.append(.with {
                $0.imageID = id.lowercased
                $0.state = ImageStages.protoState(record.overallState)
                $0.timestamp = Google_Protobuf_Timestamp(date: Date())
            })
            if !["ready", "failed"].contains(record.overallState) { pending.insert(id) }
        }
        let followAll = wanted.isEmpty
        let library = self.library
        return StreamingServerResponse { [pending, snapshot] writer in
            var pending = pending
            for event in snapshot { try await writer.write(event) }
            if !followAll && pending.isEmpty { return [:] }
            // Changes from NOTIFY, plus, for named images, a look at their state every few
            // seconds: a notification lost while a listener reconnected must not leave the
            // stream waiting for ever.
            let (merged, input) = AsyncStream<ImageChange>.makeStream()
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await change in changes { input.yield(change) }
                    input.finish()
                }
                if !followAll {
                    group.addTask {
                        while !Task.isCancelled {
                            try await Task.sleep(for: .seconds(5))
                            for id in wanted {
                                guard let record = try? await library.image(owner: owner, id: id),
                                    ["ready", "failed"].contains(record.overallState)
                                else { continue }
                                input.yield(ImageChange(owner: owner, image: id, stage: "", stageState: "", overall: record.overallState, error: ""))
                            }
                        }
                    }
                }
                defer { group.cancelAll() }
                for await change in merged {
                    guard followAll || pending.contains(change.image) else { continue }
                    try await writer.write(change.proto)
                    if !followAll, ["ready", "failed"].contains(change.overall) {
                        pending.remove(change.image)
                        if pending.isEmpty { break }
                    }
                }
                return [:]
            }
        }
    }
}
