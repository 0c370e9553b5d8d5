import Foundation
import PostgresNIO

/// The `image_stages` rows: where each processing stage of an image stands. Every change is
/// announced on ``channel`` at commit, which is what WatchImages streams.
enum ImageStages {
    static let channel = "photovault_images"

    /// Sets one stage and announces the change with the image's overall state after it.
    static func set(_ imageID: UUID, stage: Pipeline.Stage, state: String, error: String, in transaction: Transaction) async throws {
        guard
            let owner = try await transaction.row("""
                INSERT INTO image_stages (image_id, stage, state, error, updated_at)
                SELECT id, \(stage.rawValue), \(state), \(error), now() FROM images WHERE id = \(imageID)
                ON CONFLICT (image_id, stage) DO UPDATE SET state = excluded.state, error = excluded.error, updated_at = now()
                RETURNING (SELECT owner_id FROM images WHERE id = \(imageID))
                """, { try $0.decode(UUID.self) })
        else { return }
        let states = try await transaction.rows("SELECT state FROM image_stages WHERE image_id = \(imageID)") { try $0.decode(String.self) }
        try await announce(
            ImageChange(owner: owner, image: imageID, stage: stage.rawValue, stageState: state, overall: overall(states), error: error),
            in: transaction)
    }

    /// Announces a change (a new upload, a stage change) to every replica's watchers.
    static func announce(_ change: ImageChange, in transaction: Transaction) async throws {
        let payload = String(decoding: try JSONEncoder().encode(change), as: UTF8.self)
        try await transaction.execute("SELECT pg_notify(\(channel), \(payload))")
    }

    /// The overall state from the stage states: failed beats working beats done.
    static func overall(_ states: [String]) -> String {
        if states.isEmpty { return "uploaded" }
        if states.contains("failed") { return "failed" }
        if states.allSatisfy({ $0 == "done" || $0 == "skipped" }) { return "ready" }
        if states.allSatisfy({ $0 == "pending" }) { return "uploaded" }
        return "processing"
    }
}

/// One announced change of an image's processing, as it travels over NOTIFY.
struct ImageChange: Codable, Sendable, Equatable {
    var owner: UUID
    var image: UUID
    /// Empty for a new upload or a snapshot.
    var stage: String
    var stageState: String
    var overall: String
    var error: String
    var at = Date()
}
