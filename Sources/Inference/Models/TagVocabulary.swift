/// The labels CLIP scores when a caller gives none: everyday subjects, scenes and events of a
/// family photo library, each asked as "a photo of …".
enum TagVocabulary {
    static let labels = [
        "person", "people", "child", "baby", "selfie", "portrait", "group photo", "crowd", "wedding", "birthday party",
        "dog", "cat", "bird", "horse", "fish", "insect", "wild animal", "pet",
        "beach", "sea", "lake", "river", "waterfall", "mountain", "forest", "snow", "desert", "field", "garden", "park",
        "sunset", "sunrise", "night sky", "city", "street", "building", "church", "castle", "bridge", "house", "room",
        "kitchen", "restaurant", "food", "cake", "drink", "car", "bicycle", "train", "airplane", "boat",
        "flower", "tree", "sport", "football", "swimming", "hiking", "skiing", "concert", "museum", "painting",
        "document", "screenshot", "text", "map", "toy", "christmas", "fireworks", "rain", "clouds",
    ]

    static func prompt(for label: String) -> String {
        let article = article(label)
        return article.isEmpty ? "a photo of \(label)." : "a photo of \(article) \(label)."
    }

    private static func article(_ label: String) -> String {
        guard let first = label.first else { return "a" }
        if label.hasSuffix("s") && !label.hasSuffix("ss") && label != "christmas" { return "" }
        return "aeiou".contains(first) ? "an" : "a"
    }
}
