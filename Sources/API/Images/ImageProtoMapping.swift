import Foundation
import Media
import PhotoVaultProto
import SwiftProtobuf

extension ImageRecord {
    /// The image as ImageService returns it.
    var proto: Photovault_V1_Image {
        .with { image in
            image.id = id.lowercased
            image.ownerID = ownerID.lowercased
            image.fileName = fileName
            image.format = format.proto
            image.byteSize = byteSize
            image.sha256 = ImageLibrary.hex(sha256)
            image.width = Int32(width)
            image.height = Int32(height)
            if let takenAt { image.takenAt = Google_Protobuf_Timestamp(date: takenAt) }
            if let takenAtOffsetMinutes { image.takenAtOffsetMinutes = Int32(takenAtOffsetMinutes) }
            image.takenAtOverridden = takenAtOverridden
            image.uploadedAt = Google_Protobuf_Timestamp(date: uploadedAt)
            image.updatedAt = Google_Protobuf_Timestamp(date: updatedAt)
            if hasEXIF {
                image.exif = .with {
                    $0.make = cameraMake
                    $0.model = cameraModel
                    $0.lens = lens
                    $0.fNumber = fNumber
                    $0.exposureTimeSeconds = exposureTime
                    $0.iso = Int32(clamping: iso)
                    $0.focalLengthMm = focalLength
                    $0.orientation = Int32(orientation)
                }
            }
            if let latitude, let longitude {
                image.gps = .with {
                    $0.point = .with {
                        $0.latitude = latitude
                        $0.longitude = longitude
                    }
                    if let altitude { $0.altitudeM = altitude }
                }
            }
            if let place = place.proto { image.place = place }
            image.caption = caption
            image.description_p = description
            image.tags = tags.map { tag in
                .with {
                    $0.name = tag.name
                    $0.score = tag.score
                    $0.source = switch tag.source {
                    case "ai": .ai
                    case "metadata": .metadata
                    default: .user
                    }
                }
            }
            image.processingState = ImageStages.protoState(overallState)
            image.stages = stages.compactMap { stage in
                guard let kind = Pipeline.Stage(rawValue: stage.stage) else { return nil }
                return .with {
                    $0.stage = kind.proto
                    $0.state = ImageStages.protoStageState(stage.state)
                    $0.error = stage.error
                    $0.updatedAt = Google_Protobuf_Timestamp(date: stage.updatedAt)
                }
            }
            if let deletedAt { image.deletedAt = Google_Protobuf_Timestamp(date: deletedAt) }
            if let eventID { image.eventID = eventID }
            image.hasFaces_p = faceCount > 0
            image.faceCount = Int32(faceCount)
        }
    }
}

extension ImageFormat {
    var proto: Photovault_V1_ImageFormat {
        switch self {
        case .jpeg: .jpeg
        case .png: .png
        case .webp: .webp
        case .heic: .heic
        case .tiff: .tiff
        case .gif: .gif
        case .avif: .avif
        }
    }

    init?(proto: Photovault_V1_ImageFormat) {
        switch proto {
        case .jpeg: self = .jpeg
        case .png: self = .png
        case .webp: self = .webp
        case .heic: self = .heic
        case .tiff: self = .tiff
        case .gif: self = .gif
        case .avif: self = .avif
        default: return nil
        }
    }
}

extension Pipeline.Stage {
    var proto: Photovault_V1_ProcessingStage {
        switch self {
        case .metadata: .metadata
        case .derivatives: .derivatives
        case .analyze: .analyze
        case .faces: .faces
        case .textIndex: .textIndex
        }
    }
}

extension ImageStages {
    static func protoState(_ overall: String) -> Photovault_V1_ProcessingState {
        switch overall {
        case "uploaded": .uploaded
        case "processing": .processing
        case "ready": .ready
        case "failed": .failed
        default: .unspecified
        }
    }

    static func protoStageState(_ state: String) -> Photovault_V1_StageState {
        switch state {
        case "pending": .pending
        case "running": .running
        case "done": .done
        case "failed": .failed
        case "skipped": .skipped
        default: .unspecified
        }
    }
}

extension ImageChange {
    var proto: Photovault_V1_ImageEvent {
        .with {
            $0.imageID = image.lowercased
            $0.state = ImageStages.protoState(overall)
            if let stage = Pipeline.Stage(rawValue: self.stage) {
                $0.stage = stage.proto
                $0.stageState = ImageStages.protoStageState(stageState)
            }
            $0.timestamp = Google_Protobuf_Timestamp(date: at)
            $0.error = error
        }
    }
}
