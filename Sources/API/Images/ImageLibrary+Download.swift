import Foundation
import Media

/// Which file of an image to read.
public enum ImageVariant: String, Sendable {
    case original, preview, thumbnail
}

/// A download ready to stream: what the header says and the opened blob.
public struct DownloadPlan: Sendable {
    public var contentType: String
    public var totalSize: Int64
    public var range: Range<Int64>
    public var fileName: String
    public var width: Int
    public var height: Int
    public var blob: SealedBlob
}

extension ImageLibrary {
    /// Opens a variant of the owner's image for a (ranged) download.
    public func prepareDownload(owner: UUID, id: UUID, variant: ImageVariant, offset: Int64, length: Int64) async throws -> DownloadPlan {
        try Self.checkRange(offset: offset, length: length)
        return try await prepareDownload(of: try await image(owner: owner, id: id), variant: variant, offset: offset, length: length)
    }

    /// Opens a variant of an image of a shared event for a guest: an image outside the event
    /// (or in the trash) reads as not found, and originals need a link that allows downloads.
    public func prepareDownload(shared: SharedEvent, id: UUID, variant: ImageVariant, offset: Int64, length: Int64) async throws -> DownloadPlan {
        try Self.checkRange(offset: offset, length: length)
        guard let record = try await images.find(owner: shared.ownerID, id: id), record.eventID == shared.eventID, record.deletedAt == nil else {
            throw APIError.notFound("Image \(id.lowercased)")
        }
        if variant == .original, !shared.allowDownload { throw EventError.originalsNotShared }
        return try await prepareDownload(of: record, variant: variant, offset: offset, length: length)
    }

    private static func checkRange(offset: Int64, length: Int64) throws {
        guard offset >= 0 else { throw APIError.invalid("offset", "must not be negative") }
        guard length >= 0 else { throw APIError.invalid("length", "must not be negative (0 means to the end)") }
    }

    private func prepareDownload(of record: ImageRecord, variant: ImageVariant, offset: Int64, length: Int64) async throws -> DownloadPlan {
        let owner = record.ownerID
        let stem = (record.fileName as NSString).deletingPathExtension
        let key: String, contentType: String, fileName: String, width: Int, height: Int
        switch variant {
        case .original:
            (key, contentType, fileName, width, height) = (
                record.originalKey, record.format.contentType, record.fileName, record.width, record.height)
        case .preview, .thumbnail:
            guard let derivative = variant == .preview ? record.preview : record.thumbnail else {
                throw APIError.failedPrecondition("The \(variant.rawValue) of this image is not made yet; watch the image or retry shortly.")
            }
            let isPreview = variant == .preview
            (key, contentType, fileName, width, height) = (
                derivative.key, isPreview ? "image/jpeg" : "image/webp",
                "\(stem.isEmpty ? "image" : stem).\(variant.rawValue).\(isPreview ? "jpg" : "webp")", derivative.width, derivative.height)
        }
        let blob: SealedBlob
        do {
            blob = try await vault.open(key, owner: owner)
        } catch let error as BlobCipherError {
            throw ImageError.dataLoss(error.description)
        } catch BlobStoreError.notFound {
            throw ImageError.dataLoss("The stored \(variant.rawValue) of this image is missing from the blob store.")
        }
        let total = blob.plaintextSize
        guard offset < total || (offset == 0 && total == 0) else {
            throw ImageError.outOfRange("Offset \(offset) is past the end of the \(variant.rawValue) (\(total) bytes).")
        }
        // Written so that a huge length cannot overflow.
        let end = (length == 0 || length >= total - offset) ? total : offset + length
        return DownloadPlan(
            contentType: contentType, totalSize: total, range: offset..<end, fileName: fileName, width: width, height: height, blob: blob)
    }
}
