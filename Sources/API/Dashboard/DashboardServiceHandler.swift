import Foundation
import GRPCCore
import PhotoVaultProto
import Media
import SwiftProtobuf

/// `photovault.v1.DashboardService`: checks the caller (all_users needs an admin), calls
/// ``Dashboard``, maps the result. GetPersonAnalysis waits for the people feature.
public struct DashboardServiceHandler: Photovault_V1_DashboardService.SimpleServiceProtocol {
    let dashboard: Dashboard
    let authenticator: Authenticator

    public init(dashboard: Dashboard, authenticator: Authenticator) {
        self.dashboard = dashboard
        self.authenticator = authenticator
    }

    private func scope(allUsers: Bool) async throws -> DashboardScope {
        try DashboardScope.of(try await authenticator.authenticate(), allUsers: allUsers)
    }

    public func getStats(request: Photovault_V1_GetStatsRequest, context: ServerContext) async throws -> Photovault_V1_GetStatsResponse {
        let stats = try await dashboard.stats(try await scope(allUsers: request.allUsers))
        return .with {
            $0.imageCount = stats.imageCount
            $0.trashedImageCount = stats.trashedImageCount
            $0.originalBytes = stats.originalBytes
            $0.derivativeBytes = stats.derivativeBytes
            $0.personCount = stats.personCount
            $0.albumCount = stats.albumCount
            $0.placeCount = stats.placeCount
            $0.faceCount = stats.faceCount
            $0.jobsPending = stats.jobsPending
            $0.jobsFailed = stats.jobsFailed
        }
    }

    public func getRecentActivity(
        request: Photovault_V1_GetRecentActivityRequest, context: ServerContext
    ) async throws -> Photovault_V1_GetRecentActivityResponse {
        let scope = try await scope(allUsers: request.allUsers)
        let (entries, next) = try await dashboard.activity(scope, pageSize: request.pageSize, pageToken: request.pageToken)
        return .with {
            $0.activities = entries.map { entry in
                .with {
                    $0.id = String(entry.id)
                    $0.kind = entry.kind
                    $0.imageID = entry.imageID?.lowercased ?? ""
                    $0.albumID = entry.albumID?.lowercased ?? ""
                    $0.actorID = entry.actorID?.lowercased ?? ""
                    $0.summary = entry.summary
                    $0.at = Google_Protobuf_Timestamp(date: entry.at)
                }
            }
            $0.nextPageToken = next
        }
    }

    public func getStorageAnalysis(
        request: Photovault_V1_GetStorageAnalysisRequest, context: ServerContext
    ) async throws -> Photovault_V1_GetStorageAnalysisResponse {
        let analysis = try await dashboard.storage(try await scope(allUsers: request.allUsers), largestLimit: request.largestLimit)
        return .with {
            $0.byMonth = analysis.byMonth.map { bucket in
                .with {
                    $0.year = Int32(bucket.label[0]) ?? 0
                    $0.month = Int32(bucket.label[1]) ?? 0
                    $0.imageCount = bucket.imageCount
                    $0.bytes = bucket.bytes
                }
            }
            $0.byFormat = analysis.byFormat.map { bucket in
                .with {
                    $0.format = ImageFormat(rawValue: bucket.label[0])?.proto ?? .unspecified
                    $0.imageCount = bucket.imageCount
                    $0.bytes = bucket.bytes
                }
            }
            $0.byCamera = analysis.byCamera.map { bucket in
                .with {
                    $0.make = bucket.label[0]
                    $0.model = bucket.label[1]
                    $0.imageCount = bucket.imageCount
                    $0.bytes = bucket.bytes
                }
            }
            $0.largestImages = analysis.largest.map { image in
                .with {
                    $0.imageID = image.imageID.lowercased
                    $0.ownerID = image.ownerID.lowercased
                    $0.fileName = image.fileName
                    $0.byteSize = image.byteSize
                }
            }
            $0.duplicateSets = analysis.duplicates.map { set in
                .with {
                    $0.sha256 = set.sha256
                    $0.imageIds = set.imageIDs.map(\.lowercased)
                    $0.reclaimableBytes = set.reclaimableBytes
                }
            }
            $0.encryptionOverheadBytes = analysis.encryptionOverheadBytes
            $0.perUser = analysis.perUser.map { user in
                .with {
                    $0.userID = user.userID.lowercased
                    $0.email = user.email
                    $0.name = user.name
                    $0.imageCount = user.imageCount
                    $0.originalBytes = user.originalBytes
                    $0.derivativeBytes = user.derivativeBytes
                }
            }
        }
    }

    public func getPersonAnalysis(
        request: Photovault_V1_GetPersonAnalysisRequest, context: ServerContext
    ) async throws -> Photovault_V1_GetPersonAnalysisResponse {
        let analysis = try await dashboard.people(try await scope(allUsers: request.allUsers), limit: request.limit)
        return .with {
            $0.people = analysis.people.map { person in
                .with {
                    $0.personID = person.personID.lowercased
                    $0.name = person.name
                    $0.photoCount = Int32(clamping: person.photoCount)
                    $0.coverFaceID = person.coverFaceID?.lowercased ?? ""
                }
            }
            $0.pairs = analysis.pairs.map { pair in
                .with {
                    $0.personAID = pair.personA.lowercased
                    $0.personBID = pair.personB.lowercased
                    $0.sharedPhotoCount = Int32(clamping: pair.sharedPhotoCount)
                }
            }
            $0.unnamedClusterCount = Int32(clamping: analysis.unnamedClusterCount)
        }
    }

    public func getLocationAnalysis(
        request: Photovault_V1_GetLocationAnalysisRequest, context: ServerContext
    ) async throws -> Photovault_V1_GetLocationAnalysisResponse {
        let analysis = try await dashboard.locations(try await scope(allUsers: request.allUsers), cellDegrees: request.cellDegrees)
        return .with {
            $0.countries = analysis.countries.map(\.proto)
            $0.gpsShare = analysis.gpsShare
            $0.points = analysis.points.map { point in
                .with {
                    $0.point = .with {
                        $0.latitude = point.latitude
                        $0.longitude = point.longitude
                    }
                    $0.imageCount = point.imageCount
                }
            }
        }
    }
}
