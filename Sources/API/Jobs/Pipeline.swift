/// The processing pipeline after an upload, declared in one place: which job kind makes which
/// stage of an image, and which jobs follow when one finishes.
public enum Pipeline {
    /// Image stages in pipeline order (the `image_stages.stage` values).
    public enum Stage: String, Sendable, CaseIterable {
        case metadata, derivatives, analyze, faces, textIndex = "text_index"
    }

    /// Job kinds.
    public static let derivatives = "derivatives"
    public static let purge = "purge"

    /// The stage a job kind advances, for per-image jobs.
    public static func stage(of kind: String) -> Stage? {
        switch kind {
        case derivatives: .derivatives
        default: nil
        }
    }

    /// What an upload queues, in the transaction that stores the image.
    public static let afterUpload = [derivatives]

    /// What to queue when `kind` succeeds for an image. (Analysis joins here with the AI pipeline.)
    public static func next(after kind: String) -> [String] {
        switch kind {
        default: []
        }
    }

    /// The stages an upload records: metadata is read during the upload itself.
    public static let stagesAtUpload: [(Stage, String)] = [(.metadata, "done"), (.derivatives, "pending")]
}
