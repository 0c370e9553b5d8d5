import Foundation

/// Which of CLIP's zero-shot labels become an image's AI tags, and which tags its metadata gives.
///
/// The inference service scores its ~1,000-label vocabulary with a softmax over CLIP's
/// similarities (a prompt ensemble per label). A label is kept when its probability reaches
/// `minimumScore`; the best `minimumCount` are kept anyway and at most `maximumCount` are, so a
/// typical photo gets 3–10 tags (DESIGN §4). With 1,000 labels a uniform guess is 0.001, so the
/// default threshold of 0.02 means "twenty times likelier than chance".
public struct TagPolicy: Sendable, Equatable {
    public var minimumScore: Float = 0.02
    public var minimumCount = 3
    public var maximumCount = 10

    public init() {}

    /// The tags to keep from `scored`, best first, with names cleaned as stored tags are.
    func select(_ scored: [(String, Float)]) -> [(name: String, score: Float)] {
        var seen: Set<String> = []
        let ranked = scored
            .compactMap { label, score -> (name: String, score: Float)? in
                guard let name = try? ImageLibrary.tagName(label, field: "tags"), score.isFinite else { return nil }
                return (name, min(max(score, 0), 1))
            }
            .sorted { $0.score > $1.score }
            .filter { seen.insert($0.name).inserted }
        var kept: [(name: String, score: Float)] = []
        for (index, tag) in ranked.enumerated() where kept.count < maximumCount {
            if index < minimumCount || tag.score >= minimumScore { kept.append(tag) }
        }
        return kept
    }

    /// Tags that follow from the image's metadata: year, month, season (by hemisphere), place
    /// names and camera.
    static func metadataTags(
        takenAt: Date?, offsetMinutes: Int?, latitude: Double?, city: String, country: String, make: String, model: String
    ) -> [String] {
        var tags: [String] = []
        if let takenAt {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(secondsFromGMT: (offsetMinutes ?? 0) * 60) ?? TimeZone(secondsFromGMT: 0)!
            let parts = calendar.dateComponents([.year, .month], from: takenAt)
            if let year = parts.year { tags.append(String(year)) }
            if let month = parts.month {
                let names = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
                             "october", "november", "december"]
                tags.append(names[month - 1])
                let northern = ["winter", "winter", "spring", "spring", "spring", "summer", "summer", "summer",
                                "autumn", "autumn", "autumn", "winter"]
                let opposite = ["winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"]
                let season = northern[month - 1]
                tags.append((latitude ?? 0) < 0 ? opposite[season]! : season)
            }
        }
        tags += [city, country]
        let make = make.trimmingCharacters(in: .whitespaces), model = model.trimmingCharacters(in: .whitespaces)
        if !model.isEmpty {
            tags.append(model.lowercased().hasPrefix(make.lowercased()) || make.isEmpty ? model : "\(make) \(model)")
        } else if !make.isEmpty {
            tags.append(make)
        }
        var seen: Set<String> = []
        return tags.compactMap { try? ImageLibrary.tagName($0, field: "tags") }.filter { seen.insert($0).inserted }
    }
}
