import Foundation
import Logging
import PhotoVaultProto

/// Captions one image on demand (AnalyzeImage): the local BLIP model through the inference
/// service, or a configured OpenAI-compatible vision endpoint (GPT, Gemini, a local LLM).
public struct Captioning: Sendable {
    /// Who writes a caption.
    public enum Provider: Sendable, Equatable {
        /// The server's choice: the vision endpoint when configured, BLIP otherwise.
        case automatic
        case blip
        case visionChat
    }

    let database: Database
    let repository: AnalysisRepository
    let vault: BlobVault
    let inference: InferenceClient
    let visionChat: VisionChatCaptioner?
    let logger: Logger

    /// Longest prompt accepted, in characters; BLIP itself takes at most 200 bytes.
    static let maximumPrompt = 1000
    static let maximumBLIPPrompt = 200

    /// Captions the owner's image with `provider`; with `save`, stores it as the image's caption
    /// (kept from later analysis, as an owner's caption is) and re-indexes the image's text.
    public func caption(
        owner: UUID, image: UUID, prompt rawPrompt: String, provider requested: Provider, save: Bool
    ) async throws -> (text: String, model: String, provider: Provider) {
        let prompt = rawPrompt.trimmingCharacters(in: .whitespacesAndNewlines)
        guard prompt.count <= Self.maximumPrompt else {
            throw APIError.invalid("prompt", "is \(prompt.count) characters; at most \(Self.maximumPrompt)")
        }
        guard !prompt.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" }) else {
            throw APIError.invalid("prompt", "contains control characters")
        }
        guard let target = try await repository.target(owner: owner, image: image) else {
            throw APIError.notFound("Image \(image.lowercased)")
        }
        guard let previewKey = target.previewKey else {
            throw APIError.failedPrecondition("The image is still being processed (no preview yet); try again in a moment.")
        }
        let provider: Provider = switch requested {
        case .automatic: visionChat == nil ? .blip : .visionChat
        default: requested
        }
        let preview = try await vault.open(previewKey, owner: owner).readAll()
        let text: String, model: String
        switch provider {
        case .visionChat:
            guard let visionChat else {
                throw APIError.failedPrecondition(
                    "No OpenAI-compatible vision endpoint is configured (PHOTOVAULT_VISION_URL and PHOTOVAULT_VISION_MODEL).")
            }
            do {
                (text, model) = try await visionChat.caption(jpeg: preview, prompt: prompt.isEmpty ? nil : prompt)
            } catch {
                switch error {
                case .unreachable(let reason), .malformed(let reason): throw APIError.unavailable(reason)
                case .refused(let reason): throw APIError.failedPrecondition(reason)
                }
            }
        case .blip, .automatic:
            (text, model) = try await blip(preview, prompt: prompt)
        }
        if save {
            try await database.transaction { transaction in
                try await transaction.execute("""
                    UPDATE images SET caption = \(text), caption_model = \(model), caption_by_owner = true, updated_at = now()
                    WHERE id = \(image) AND owner_id = \(owner)
                    """)
                for kind in Pipeline.afterEdit {
                    try await JobQueue.enqueue(kind, imageID: image, ownerID: owner, in: transaction)
                }
                try await ImageLibrary.recordActivity(
                    "caption", owner: owner, image: image, detail: ["model": model], in: transaction)
            }
        }
        return (text, model, provider == .automatic ? .blip : provider)
    }

    private func blip(_ preview: [UInt8], prompt: String) async throws -> (String, String) {
        guard prompt.utf8.count <= Self.maximumBLIPPrompt else {
            throw APIError.invalid("prompt", "is \(prompt.utf8.count) bytes; the BLIP model takes at most \(Self.maximumBLIPPrompt)")
        }
        _ = try inference.requireModel(\.caption, for: "Captioning with BLIP")
        do {
            let response = try await inference.analyze(.with {
                $0.image = Data(preview)
                $0.tasks = [.caption]
                $0.captionPrompt = prompt
            })
            guard response.hasCaption else {
                let reason = response.errors.first { $0.task == .caption }?.message ?? "no caption came back"
                throw APIError.unavailable("The caption model failed: \(reason)")
            }
            return (response.caption.text, response.caption.model)
        } catch let error as InferenceError {
            throw error.apiError(refusedField: "prompt", because: "was refused by the caption model")
        }
    }
}
