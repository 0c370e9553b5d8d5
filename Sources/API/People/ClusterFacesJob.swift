import Foundation
import Logging

/// The owner-wide clustering jobs: `cluster_faces` places new faces, `recluster_faces` runs
/// DBSCAN over everything again.
struct ClusterFacesJob: JobHandler {
    let kind: String
    let clusterer: FaceClusterer
    let logger: Logger

    func run(_ job: Job) async throws -> JobOutcome {
        guard let owner = job.ownerID else { throw JobFailure.permanent("A clustering job needs an owner.") }
        if kind == Pipeline.reclusterFaces {
            let summary = try await clusterer.reclusterAll(owner: owner)
            logger.info("faces clustered again", metadata: [
                "faces": "\(summary.faces)", "clusters": "\(summary.clusters)",
                "people_created": "\(summary.peopleCreated)", "people_deleted": "\(summary.peopleDeleted)",
            ])
        } else {
            try await clusterer.clusterNew(owner: owner)
        }
        return .done
    }
}
