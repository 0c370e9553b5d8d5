/// The sentences a tag label is asked as: a prompt ensemble, as in CLIP's zero-shot ImageNet
/// evaluation. A label's vector is the mean of its sentences' vectors, so no single phrasing
/// ("a photo of …") decides alone.
public enum TagPrompt {
    /// `{a}` stands for the label with its indefinite article ("an apple", "snow", "balloons"),
    /// `{the}` for the label with "the" where English puts one. Taken from CLIP's 80 ImageNet
    /// templates: the ones that describe phone and camera photos (framing, light, focus), not
    /// drawings, toys, tattoos or video games.
    public static let templates = [
        "a photo of {a}.",
        "a good photo of {the}.",
        "a close-up photo of {the}.",
        "a cropped photo of {the}.",
        "a blurry photo of {a}.",
        "a bright photo of {the}.",
        "a dark photo of {the}.",
    ]

    /// The label written into every template, in template order.
    public static func prompts(for label: String) -> [String] {
        let article = article(for: label)
        let indefinite = article.isEmpty ? label : "\(article) \(label)"
        let definite = article.isEmpty ? label : "the \(label)"
        return templates.map { template in
            // One placeholder per template, replaced once: a label holding "{the}" stays as written.
            var prompt = template
            if let range = prompt.range(of: "{a}") {
                prompt.replaceSubrange(range, with: indefinite)
            } else if let range = prompt.range(of: "{the}") {
                prompt.replaceSubrange(range, with: definite)
            }
            return prompt
        }
    }

    /// "a", "an" or "" (plurals, mass nouns, activities, names, labels with their own determiner).
    /// The vocabulary's exceptions are listed in ``TagVocabulary``; a caller's label gets the rules.
    public static func article(for label: String) -> String {
        let words = label.split(separator: " ").map(String.init)
        guard let first = words.first, let last = words.last, let initial = first.first else { return "" }
        if initial.isUppercase || initial.isNumber || determiners.contains(first) { return "" }
        if TagVocabulary.withoutArticle.contains(label) { return "" }
        let countable = TagVocabulary.withArticle.contains(label) || TagVocabulary.withArticle.contains(last)
        let pluralOrActivity = last.hasSuffix("ing") || (last.hasSuffix("s") && !last.hasSuffix("ss"))
        if pluralOrActivity && !countable { return "" }
        if vowelSoundWithConsonant.contains(first) { return "an" }
        if consonantSoundWithVowel.contains(where: { label.hasPrefix($0) }) { return "a" }
        return "aeiou".contains(initial) ? "an" : "a"
    }

    private static let determiners: Set = ["a", "an", "the", "my", "our", "your", "his", "her", "their", "some", "many"]
    /// Words spelt with a consonant but said with a vowel ("an hour", "an x-ray").
    private static let vowelSoundWithConsonant: Set = ["hour", "honest", "honour", "honor", "heir", "x-ray", "suv", "mri", "sms"]
    /// Beginnings spelt with a vowel but said with a consonant ("a uniform", "a ukulele", "a one-way sign").
    private static let consonantSoundWithVowel = ["uni", "uku", "use", "usu", "usb", "ute", "uti", "eu", "one", "once"]
}
