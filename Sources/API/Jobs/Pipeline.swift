/// The processing pipeline after an upload, declared in one place: which job kind makes which
/// stage of an image, and which jobs follow when one finishes.
///
///     upload ─▶ derivatives ─▶ analyze ─┬▶ text_index
///                                       ├▶ duplicates
///                                       └▶ cluster_faces (the owner's new faces, one job per owner)
///     PeopleService.Recluster ─▶ cluster_faces, or recluster_faces (everything again); also nightly
///     UpdateMetadata, AnalyzeImage(save) ─▶ text_index
///     a served model changes ─▶ reindex ─▶ analyze / text_index of the images it left behind
public enum Pipeline {
    /// Image stages in pipeline order (the `image_stages.stage` values).
    public enum Stage: String, Sendable, CaseIterable {
        case metadata, derivatives, analyze, faces, textIndex = "text_index"
    }

    /// Job kinds.
    public static let derivatives = "derivatives"
    /// The preview through the inference service: image embedding, caption, tags, faces.
    public static let analyze = "analyze"
    /// Metadata tags, the full-text document and the text embedding.
    public static let textIndex = "text_index"
    /// Joins the image to a duplicate set of near-identical images.
    public static let duplicates = "duplicates"
    /// Queues analysis for images whose vectors were made by another model than the one served.
    public static let reindex = "reindex"
    public static let purge = "purge"
    /// Puts the owner's new (and waiting) faces into people, one face at a time.
    public static let clusterFaces = "cluster_faces"
    /// Clusters all of the owner's faces again (DBSCAN), keeping what the user edited.
    public static let reclusterFaces = "recluster_faces"

    /// Kinds that work on an owner's whole library rather than one image.
    public static let ownerWide: Set<String> = [clusterFaces, reclusterFaces]

    /// The jobs that call the inference service, which wait (not fail) while it is down.
    public static let needsInference = [analyze, textIndex]

    /// The stage a job kind advances, for per-image jobs.
    public static func stage(of kind: String) -> Stage? {
        switch kind {
        case derivatives: .derivatives
        case analyze: .analyze
        case textIndex: .textIndex
        default: nil
        }
    }

    /// What an upload queues, in the transaction that stores the image.
    public static let afterUpload = [derivatives]

    /// What to queue when `kind` succeeds for an image.
    public static func next(after kind: String) -> [String] {
        switch kind {
        case derivatives: [analyze]
        case analyze: [textIndex, duplicates, clusterFaces]
        default: []
        }
    }

    /// What an owner's edit of caption, description or tags queues.
    public static let afterEdit = [textIndex]

    /// The stages an upload records: metadata is read during the upload itself.
    public static let stagesAtUpload: [(Stage, String)] = [(.metadata, "done"), (.derivatives, "pending")]
}
