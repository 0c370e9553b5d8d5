import Foundation
import PhotoVaultProto
import SwiftProtobuf

extension Person {
    var proto: Photovault_V1_Person {
        .with { person in
            person.id = id.lowercased
            person.name = name
            person.hidden = hidden
            if let birthDate {
                person.birthDate = .with {
                    $0.year = Int32(birthDate.year)
                    $0.month = Int32(birthDate.month)
                    $0.day = Int32(birthDate.day)
                }
            }
            if let coverFace {
                person.coverFaceID = coverFace.faceID.lowercased
                person.coverImageID = coverFace.imageID.lowercased
                person.coverBox = coverFace.box.proto
            }
            person.faceCount = Int32(clamping: faceCount)
            person.photoCount = Int32(clamping: photoCount)
            person.createdAt = Google_Protobuf_Timestamp(date: createdAt)
            person.updatedAt = Google_Protobuf_Timestamp(date: updatedAt)
        }
    }
}

extension FaceBox {
    var proto: Photovault_V1_BoundingBox {
        .with {
            $0.x = Int32(clamping: x)
            $0.y = Int32(clamping: y)
            $0.width = Int32(clamping: width)
            $0.height = Int32(clamping: height)
        }
    }
}

extension FaceRecord {
    var proto: Photovault_V1_Face {
        .with { face in
            face.id = id.lowercased
            face.imageID = imageID.lowercased
            face.personID = personID?.lowercased ?? ""
            face.box = box.proto
            face.landmarks = stride(from: 0, to: landmarks.count - 1, by: 2).map { index in
                .with {
                    $0.x = landmarks[index]
                    $0.y = landmarks[index + 1]
                }
            }
            face.detectionScore = detectionScore
            face.tooSmall = tooSmall
            face.tooBlurry = tooBlurry
            face.blurScore = blurVariance
            face.assignedByUser = assignedByUser
            face.createdAt = Google_Protobuf_Timestamp(date: createdAt)
        }
    }
}
