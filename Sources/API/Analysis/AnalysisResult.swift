import Foundation
import PhotoVaultProto

/// What one Analyze call found in an image's preview, checked and converted to the original's
/// pixel space, ready to store.
struct AnalysisResult: Sendable {
    /// A vector and the model that made it.
    struct Vector: Sendable {
        var model: String
        var values: [Float]
        var dim: Int { values.count }
    }

    /// One face, in pixels of the orientation-corrected original.
    struct Face: Sendable {
        var x, y, width, height: Int
        /// x, y pairs.
        var landmarks: [Float]
        var detectionScore: Float
        var blurVariance: Float
        var tooSmall: Bool
        var tooBlurry: Bool
        var descriptor: Vector
    }

    var imageEmbedding: Vector?
    var caption: (text: String, model: String)?
    /// Nil when tags were not asked for; empty when none passed the policy.
    var tags: [(name: String, score: Float)]?
    /// Nil when faces were not asked for.
    var faces: [Face]?
    var faceModel: String?

    /// Checks `response` against the models that were asked and converts boxes from the
    /// preview's pixels (`previewSize`) to the original's (`originalSize`).
    ///
    /// A vector whose length differs from what the model announced in ListModels, or that holds
    /// a NaN, is refused: storing it would poison every search over that model.
    init(
        _ response: Photovault_Inference_V1_AnalyzeResponse, asked tasks: Set<Photovault_Inference_V1_Task>, models: ServedModels,
        previewSize: (width: Int, height: Int), originalSize: (width: Int, height: Int), tagPolicy: TagPolicy
    ) throws(JobFailure) {
        if tasks.contains(.imageEmbedding), response.hasImageEmbedding {
            let embedding = response.imageEmbedding
            let expected = models.clip?.dim ?? 0
            try Self.check(embedding.values, expected: expected, declared: Int(embedding.dim), what: "image embedding of \(embedding.model)")
            imageEmbedding = Vector(model: embedding.model, values: embedding.values)
        }
        if tasks.contains(.caption), response.hasCaption {
            let text = response.caption.text.trimmingCharacters(in: .whitespacesAndNewlines)
            let clean = String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.properties.generalCategory != .control }).prefix(1000))
            if !clean.isEmpty { caption = (clean, response.caption.model) }
        }
        if tasks.contains(.tags), !response.errors.contains(where: { $0.task == .tags }) {
            tags = tagPolicy.select(response.tags.map { ($0.label, $0.score) })
        }
        if tasks.contains(.faces), !response.errors.contains(where: { $0.task == .faces }) {
            let scaleX = previewSize.width > 0 ? Double(originalSize.width) / Double(previewSize.width) : 1
            let scaleY = previewSize.height > 0 ? Double(originalSize.height) / Double(previewSize.height) : 1
            let expected = models.faces?.dim ?? 0
            var faces: [Face] = []
            for face in response.faces {
                try Self.check(face.descriptor, expected: expected, declared: face.descriptor.count, what: "face descriptor of \(face.model)")
                func px(_ value: Float, _ scale: Double) -> Int { Int((Double(value) * scale).rounded()) }
                let x = max(0, px(face.box.x, scaleX)), y = max(0, px(face.box.y, scaleY))
                faces.append(Face(
                    x: x, y: y,
                    width: min(max(1, px(face.box.width, scaleX)), max(1, originalSize.width - x)),
                    height: min(max(1, px(face.box.height, scaleY)), max(1, originalSize.height - y)),
                    landmarks: face.landmarks.flatMap { [Float(Double($0.x) * scaleX), Float(Double($0.y) * scaleY)] },
                    detectionScore: face.detectionScore, blurVariance: face.blurVariance,
                    tooSmall: face.tooSmall, tooBlurry: face.tooBlurry,
                    descriptor: Vector(model: face.model, values: face.descriptor)))
            }
            self.faces = faces
            faceModel = models.faces?.name
        }
    }

    private static func check(_ values: [Float], expected: Int, declared: Int, what: String) throws(JobFailure) {
        guard !values.isEmpty, values.count == declared, expected == 0 || values.count == expected else {
            throw .permanent(
                "The inference service returned a \(values.count)-value \(what), but the model announces \(expected) values; "
                    + "the result was refused (is a replica serving another model?).")
        }
        guard values.allSatisfy(\.isFinite) else {
            throw .permanent("The inference service returned a \(what) holding NaN or infinity; the result was refused.")
        }
    }
}

/// Renders vectors the way pgvector reads them: `[1,2.5,-0.25]`.
public enum VectorText {
    public static func literal(_ values: [Float]) -> String {
        "[" + values.map { "\($0)" }.joined(separator: ",") + "]"
    }

    public static func parse(_ text: String) -> [Float] {
        text.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).split(separator: ",").compactMap { Float($0) }
    }
}
