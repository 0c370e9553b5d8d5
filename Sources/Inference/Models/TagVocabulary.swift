/// The labels CLIP scores when a caller gives none: about a thousand everyday subjects, scenes,
/// activities and events of a family photo library, plus the article exceptions ``TagPrompt``
/// needs to ask each of them in good English. One label per concept: no singular and plural
/// pair, no synonym pair, since near-duplicates split the softmax's probability between them.
public enum TagVocabulary {
    public static let labels: [String] = [
        // People and portraits
        "person", "man", "woman", "boy", "girl", "child", "baby", "toddler", "teenager", "elderly person", "couple",
        "family", "friends", "group photo", "crowd", "selfie", "portrait", "face", "hands", "feet", "pregnant woman",
        "bride", "groom", "student", "teacher", "doctor", "nurse", "police officer", "firefighter", "soldier", "chef",
        "musician", "dancer", "athlete", "santa claus", "tourist", "hug", "kiss", "smile", "sleeping", "tattoo",
        "makeup",
        // Clothing and accessories
        "dress", "wedding dress", "suit", "t-shirt", "jeans", "jacket", "coat", "sweater", "scarf", "hat", "helmet",
        "uniform", "school uniform", "costume", "swimsuit", "pajamas", "shoes", "boots", "handbag", "backpack",
        "suitcase", "wristwatch", "necklace", "ring", "sunglasses", "eyeglasses", "umbrella", "face mask", "kimono",
        "crown", "diaper", "life jacket",
        // Pets and birds
        "dog", "puppy", "cat", "kitten", "bird", "parrot", "chicken", "rooster", "duck", "goose", "swan", "pigeon",
        "seagull", "owl", "eagle", "flamingo", "penguin", "peacock", "ostrich", "bird nest",
        // Farm animals and small mammals
        "horse", "pony", "donkey", "cow", "pig", "sheep", "goat", "llama", "camel", "rabbit", "hamster", "guinea pig",
        "mouse", "squirrel", "hedgehog",
        // Wild mammals
        "fox", "wolf", "deer", "moose", "reindeer", "bear", "panda", "koala", "kangaroo", "monkey", "gorilla", "lion",
        "tiger", "cheetah", "elephant", "giraffe", "zebra", "rhinoceros", "hippopotamus", "raccoon", "otter",
        // Water animals, reptiles and insects
        "seal", "dolphin", "whale", "shark", "fish", "goldfish", "tropical fish", "jellyfish", "octopus", "starfish",
        "crab", "lobster", "seashell", "coral reef", "sea turtle", "turtle", "frog", "lizard", "snake", "crocodile",
        "butterfly", "bee", "ladybug", "dragonfly", "spider", "spider web", "ant", "caterpillar", "snail",
        // Meals and dishes
        "breakfast", "lunch", "dinner", "picnic", "barbecue", "bread", "sandwich", "burger", "hot dog", "pizza",
        "pasta", "noodles", "sushi", "rice", "curry", "soup", "salad", "steak", "roast chicken", "seafood", "sausage",
        "eggs", "pancakes", "waffles", "cheese", "french fries", "dumplings", "tacos", "kebab", "pie", "popcorn",
        "croissant",
        // Fruit and vegetables
        "fruit", "vegetables", "apple", "banana", "orange", "lemon", "grapes", "strawberry", "blueberries", "cherries",
        "watermelon", "pineapple", "mango", "peach", "pear", "coconut", "avocado", "tomato", "potato", "carrot",
        "broccoli", "corn", "cucumber", "bell pepper", "onion", "mushroom", "pumpkin", "nuts",
        // Sweets and desserts
        "chocolate", "candy", "cookies", "cake", "birthday cake", "wedding cake", "cupcake", "donut", "ice cream",
        "lollipop", "gingerbread house", "cotton candy", "honey", "dessert", "macarons",
        // Drinks
        "coffee", "tea", "beer", "wine", "champagne", "cocktail", "juice", "smoothie", "milk", "hot chocolate",
        "soft drink", "water", "wine glass", "coffee cup", "baby bottle",
        // Kitchen and tableware
        "plate", "bowl", "mug", "drinking glass", "cutlery", "chopsticks", "teapot", "kettle", "frying pan",
        "cooking pot", "cutting board", "oven", "stove", "microwave", "refrigerator", "dishwasher", "toaster",
        "coffee machine", "kitchen sink", "dining table", "table setting", "lunch box", "jar", "dirty dishes",
        "groceries", "recipe",
        // Rooms
        "living room", "bedroom", "kitchen", "bathroom", "dining room", "hallway", "staircase", "balcony", "terrace",
        "patio", "porch", "garage", "basement", "attic", "home office", "nursery", "messy room", "hotel room",
        // Furniture and home
        "sofa", "armchair", "chair", "coffee table", "desk", "bed", "bunk bed", "crib", "high chair", "bench", "pillow",
        "blanket", "rug", "curtains", "window", "door", "fireplace", "bookshelf", "wardrobe", "mirror", "lamp",
        "chandelier", "wall clock", "vase", "houseplant", "candle", "picture frame", "television", "remote control",
        "radiator", "washing machine", "vacuum cleaner", "toilet", "bathtub", "shower", "towel", "toothbrush",
        "hair dryer", "laundry", "cardboard box", "moving boxes", "keys", "mailbox", "hammock", "trash can",
        // Tools and household jobs
        "hammer", "screwdriver", "power drill", "saw", "toolbox", "ladder", "paintbrush", "shovel", "wheelbarrow",
        "lawn mower", "garden hose", "watering can", "flower pot", "broom", "bucket", "scissors", "sewing machine",
        "knitting", "yarn", "flashlight", "axe", "rope", "firewood",
        // Electronics
        "smartphone", "laptop", "desktop computer", "computer keyboard", "tablet computer", "camera", "film camera",
        "tripod", "headphones", "loudspeaker", "microphone", "game controller", "game console", "printer", "calculator",
        "projector", "drone", "vr headset", "radio", "record player", "vinyl record", "cassette tape", "smartwatch",
        "robot", "solar panel",
        // Documents and paper
        "document", "receipt", "invoice", "letter", "envelope", "postcard", "greeting card", "wedding invitation",
        "business card", "id card", "passport", "driver's license", "ticket", "boarding pass", "credit card",
        "banknotes", "coins", "bank statement", "contract", "handwritten note", "notebook", "book", "magazine",
        "newspaper", "comic book", "map", "calendar", "menu", "timetable", "sign", "road sign", "poster", "flyer",
        "whiteboard", "blackboard", "chart", "spreadsheet", "presentation slide", "certificate", "diploma", "homework",
        "prescription", "x-ray", "ultrasound scan", "sheet music", "child's drawing", "sticky note", "shopping list",
        "price tag", "barcode", "qr code", "photo album", "old photograph", "handwriting", "floor plan",
        // Screens and screenshots
        "screenshot", "text message", "chat conversation", "email", "web page", "social media post", "meme",
        "video call", "computer screen", "phone screen", "error message", "video game", "online map",
        "weather forecast", "television screen",
        // Nature and landscapes
        "beach", "sea", "waves", "coast", "cliff", "island", "lake", "river", "stream", "waterfall", "pond", "mountain",
        "hill", "valley", "glacier", "volcano", "canyon", "cave", "desert", "sand dunes", "forest", "jungle", "meadow",
        "field", "farm", "vineyard", "countryside", "rock formation", "swamp", "hot spring", "trail", "landscape",
        "sand", "mud", "rocks",
        // Parks and leisure places
        "park", "playground", "garden", "backyard", "lawn", "greenhouse", "zoo", "aquarium", "campsite",
        "swimming pool", "water park", "amusement park", "roller coaster", "ferris wheel", "carousel", "bounce house",
        "stadium", "sports field", "tennis court", "basketball court", "golf course", "ski slope", "ski lift",
        "ice rink", "skate park", "gym", "bowling alley", "cinema", "theater", "concert hall", "circus", "petting zoo",
        // Buildings and public places
        "house", "apartment building", "cottage", "cabin", "farmhouse", "barn", "treehouse", "tent", "castle", "palace",
        "ruins", "monument", "statue", "fountain", "tower", "skyscraper", "bridge", "lighthouse", "windmill", "church",
        "mosque", "temple", "synagogue", "cemetery", "hospital", "hospital room", "school", "classroom", "university",
        "library", "museum", "art gallery", "office", "factory", "construction site", "airport", "train station",
        "subway station", "bus stop", "gas station", "parking lot", "harbor", "marina", "pier", "market", "supermarket",
        "shop", "shopping mall", "bakery", "cafe", "restaurant", "bar", "hotel", "waiting room", "pharmacy",
        "hair salon", "kindergarten",
        // City and streets
        "city", "skyline", "city at night", "old town", "street", "road", "highway", "alley", "tunnel", "town square",
        "village", "rooftop", "courtyard", "canal", "traffic jam", "traffic light", "street lamp", "construction crane",
        "graffiti", "mural", "neon sign", "billboard", "food truck", "fence", "gate", "brick wall", "roof", "escalator",
        "cityscape",
        // Weather and sky
        "sunny day", "blue sky", "clouds", "storm clouds", "rain", "thunderstorm", "lightning", "snow", "fog",
        "rainbow", "sunset", "sunrise", "night sky", "starry sky", "milky way", "moon", "northern lights", "frost",
        "ice", "icicles", "puddle", "flood", "wildfire", "dew drops",
        // Times of day and seasons
        "morning", "afternoon", "evening", "night", "golden hour", "twilight", "spring", "summer", "autumn", "winter",
        "autumn leaves", "spring blossom",
        // Plants and flowers
        "tree", "palm tree", "pine tree", "christmas tree", "flower", "rose", "tulip", "sunflower", "daisy", "orchid",
        "lavender", "cherry blossom", "poppy", "dandelion", "lotus", "bouquet", "wreath", "cactus", "succulent", "fern",
        "moss", "grass", "leaf", "hedge", "bamboo", "pine cone", "tree stump", "log", "flower bed", "wildflowers",
        "vegetable garden", "bonsai",
        // Vehicles
        "car", "sports car", "vintage car", "suv", "pickup truck", "truck", "van", "bus", "school bus",
        "double-decker bus", "taxi", "police car", "fire truck", "ambulance", "tractor", "motorcycle", "scooter",
        "bicycle", "tricycle", "stroller", "wheelchair", "train", "steam train", "tram", "subway train", "cable car",
        "airplane", "airplane cabin", "view from an airplane window", "helicopter", "hot air balloon", "boat",
        "sailboat", "yacht", "canoe", "kayak", "ferry", "cruise ship", "rowboat", "jet ski", "motorboat", "camper van",
        "caravan", "excavator", "horse carriage", "race car", "car interior", "child car seat", "car crash",
        "electric car", "road trip",
        // Sports and exercise
        "soccer", "american football", "basketball", "baseball", "tennis", "golf", "volleyball", "rugby", "cricket",
        "ice hockey", "table tennis", "badminton", "bowling", "billiards", "darts", "boxing", "martial arts",
        "gymnastics", "yoga", "running", "marathon", "cycling", "mountain biking", "swimming", "diving", "scuba diving",
        "snorkeling", "surfing", "windsurfing", "paddleboarding", "sailing", "rowing", "fishing", "hiking",
        "rock climbing", "camping", "skiing", "snowboarding", "ice skating", "sledding", "horse riding",
        "skateboarding", "roller skating", "trampoline", "archery", "weightlifting", "workout", "ballet",
        "horse racing", "sports match", "medal", "trophy", "finish line", "ball", "tennis racket", "golf club",
        "frisbee", "dumbbells", "treadmill", "yoga mat", "surfboard", "fishing rod", "swimming goggles", "scoreboard",
        // Hobbies and everyday activities
        "dancing", "singing", "karaoke", "playing guitar", "playing piano", "cooking", "baking", "grilling", "eating",
        "reading", "studying", "working on a laptop", "drawing", "painting", "crafts", "pottery", "gardening",
        "bath time", "brushing teeth", "shopping", "sightseeing", "walking the dog", "sunbathing", "video gaming",
        "board game", "playing cards", "chess", "jigsaw puzzle", "lego", "soap bubbles", "flying a kite", "sandcastle",
        "snowman", "snowball fight", "jumping in puddles", "bird watching", "meditation", "massage", "manicure",
        "feeding animals", "pony ride", "boat trip", "bike ride", "campfire", "cleaning", "washing dishes",
        "moving house", "renovation", "protest", "praying", "family dinner", "cheers", "blowing out candles",
        "opening presents",
        // Toys and children
        "toys", "teddy bear", "stuffed animal", "doll", "dollhouse", "toy car", "toy train", "building blocks",
        "balloons", "kite", "swing", "slide", "sandbox", "seesaw", "rocking horse", "play mat", "rattle", "pacifier",
        "baby carrier", "crayons", "coloring book", "play dough", "stickers", "school bag", "pencils",
        "finger painting", "water gun", "action figure", "remote control car", "baby monitor", "first steps",
        "baby crawling", "children playing",
        // Events and celebrations
        "birthday party", "birthday candles", "first birthday", "wedding", "wedding rings", "first dance",
        "engagement ring", "anniversary", "graduation", "graduation cap", "christmas", "christmas lights",
        "christmas decorations", "christmas dinner", "advent calendar", "nativity scene", "christmas market",
        "halloween", "halloween costume", "jack-o'-lantern", "trick or treating", "easter", "easter eggs",
        "thanksgiving", "new year's eve", "fireworks", "hanukkah", "diwali", "lunar new year", "ramadan", "carnival",
        "parade", "festival", "music festival", "concert", "party", "garden party", "baby shower", "gender reveal",
        "baptism", "funeral", "family reunion", "school play", "school trip", "first day of school", "sports day",
        "prom", "dinner party", "vacation", "beach holiday", "ski holiday", "honeymoon", "cruise", "award ceremony",
        "conference", "meeting", "presentation", "lecture", "exhibition", "theater performance", "magic show",
        "valentine's day", "mother's day", "father's day", "retirement party", "housewarming", "surprise party",
        "costume party", "pool party", "sleepover", "confetti", "party decorations", "party hat", "gift",
        "gift wrapping", "candlelight dinner", "newborn photos", "maternity photo", "family portrait", "school photo",
        "class photo", "team photo",
        // Art, music and culture
        "sculpture", "stained glass", "mosaic", "ceramics", "museum exhibit", "dinosaur skeleton", "calligraphy",
        "origami", "embroidery", "guitar", "piano", "violin", "cello", "drum kit", "trumpet", "saxophone", "flute",
        "ukulele", "harp", "accordion", "band", "orchestra", "choir", "stage", "opera", "street performer",
        // Objects and things
        "flag", "lantern", "globe", "telescope", "binoculars", "magnifying glass", "buddha statue", "fire", "smoke",
        "sparkler", "perfume", "cosmetics", "lipstick", "nail polish", "hairbrush", "pills", "syringe", "bandage",
        "thermometer", "first aid kit", "crutches", "plaster cast", "hospital bed", "walking stick", "sleeping bag",
        "beach umbrella", "beach towel", "deck chair", "sunscreen", "cooler box", "water bottle", "picnic basket",
        "shopping cart", "shopping bag", "vending machine", "piggy bank", "diamond", "plastic bag",
        // Photo styles
        "black and white photo", "sepia photo", "aerial view", "underwater photo", "silhouette", "reflection",
        "long exposure", "light trails", "bokeh", "macro photo", "panorama", "night photo", "polaroid", "vintage photo",
        "candid photo", "still life", "food photography",
    ]

    /// Labels that take no article although singular: food, drink and materials ("rice", "snow"),
    /// sports and pastimes ("golf", "walking the dog"), holidays ("easter"), times ("night").
    public static let withoutArticle: Set<String> = [
        "makeup", "breakfast", "lunch", "dinner", "bread", "pasta", "sushi", "rice", "curry", "soup", "seafood",
        "cheese", "popcorn", "fruit", "chocolate", "candy", "cotton candy", "honey", "coffee", "tea", "beer", "wine",
        "champagne", "juice", "milk", "hot chocolate", "water", "cutlery", "laundry", "yarn", "firewood", "homework",
        "sheet music", "sand", "mud", "graffiti", "rain", "snow", "fog", "frost", "ice", "night", "golden hour",
        "twilight", "autumn", "summer", "winter", "milky way", "countryside", "moss", "grass", "bamboo", "lavender",
        "cherry blossom", "spring blossom", "soccer", "american football", "basketball", "baseball", "golf",
        "volleyball", "rugby", "cricket", "badminton", "ice hockey", "archery", "yoga", "ballet", "karaoke", "pottery",
        "origami", "embroidery", "calligraphy", "lego", "meditation", "chess", "prom", "easter", "halloween",
        "hanukkah", "diwali", "ramadan", "lunar new year", "new year's eve", "valentine's day", "mother's day",
        "father's day", "confetti", "smoke", "sunscreen", "nail polish", "perfume", "stained glass", "bokeh",
        "food photography", "bath time", "brushing teeth", "walking the dog", "working on a laptop", "playing guitar",
        "playing piano", "flying a kite", "moving house",
    ]

    /// Labels, or last words of labels, that take an article although they end in "s" or "ing"
    /// ("a school bus", "an octopus", "an apartment building", "a painting").
    public static let withArticle: Set<String> = [
        "bus", "octopus", "rhinoceros", "hippopotamus", "circus", "cactus", "lotus", "ring", "building", "setting",
        "drawing", "painting", "swing", "wedding", "meeting", "housewarming", "hot spring",
    ]
}
