"""The bundled catalogue's tag vocabulary, and how each source's signals become tags.

Standard library only (scripts/build_catalogue.py runs without the project's dependencies). The
build script writes ``tags.json`` from these tables; the crawler maps NetEase tokens through them.
"""

# ---------------------------------------------------------------------------------------------
# Tag vocabulary: slug -> (English, Chinese, kind). "from" lists are filled in from the rules.
# NetEase's own tokens keep their meaning; the derived Deezer/Spotify tags reuse the same slugs
# where meanings coincide (calm = 安静, cheerful = 快乐, sad = 伤感, excited = 兴奋, relaxing = 放松,
# rap = 说唱, instrumental = 器乐). English mood slugs follow MTG-Jamendo's mood/theme names.
# ---------------------------------------------------------------------------------------------
VOCAB = {
    # language / region
    "chinese": ("Chinese (Mandarin)", "华语", "language"),
    "western": ("Western (Europe & Americas)", "欧美", "language"),
    "japanese": ("Japanese", "日语", "language"),
    "korean": ("Korean", "韩语", "language"),
    "cantonese": ("Cantonese", "粤语", "language"),
    "other-languages": ("Other languages", "小语种", "language"),
    # genre (NetEase's "theme" tags without a better kind are filed here too)
    "pop": ("Pop", "流行", "genre"),
    "rnb-soul": ("R&B/Soul", "R&B/Soul", "genre"),
    "electronic": ("Electronic", "电子", "genre"),
    "rap": ("Rap/Hip-hop", "说唱", "genre"),
    "rock": ("Rock", "摇滚", "genre"),
    "jazz": ("Jazz", "爵士", "genre"),
    "folk": ("Folk", "民谣", "genre"),
    "classical": ("Classical", "古典", "genre"),
    "absolute-music": ("Absolute Music", "轻音乐", "genre"),
    "gufeng": ("Chinese Traditional Style", "古风", "genre"),
    "acg": ("ACG (Anime, Comics & Games)", "ACG", "genre"),
    "soundtrack": ("Film & TV Soundtrack", "影视原声", "genre"),
    "alternative-indie": ("Alternative/Indie", "另类/独立", "genre"),
    "instrumental": ("Instrumental", "器乐", "genre"),
    "ethnic": ("Ethnic", "民族", "genre"),
    "dance": ("Dance", "舞曲", "genre"),
    "country": ("Country", "乡村", "genre"),
    "blues": ("Blues", "蓝调", "genre"),
    "post-rock": ("Post-rock", "后摇", "genre"),
    "britpop": ("Britpop", "英伦", "genre"),
    "bossa-nova": ("Bossa Nova", "Bossa Nova", "genre"),
    "world-music": ("World Music", "世界音乐", "genre"),
    "latin": ("Latin", "拉丁", "genre"),
    "new-age": ("New Age", "New Age", "genre"),
    "metal": ("Metal", "金属", "genre"),
    "punk": ("Punk", "朋克", "genre"),
    "reggae": ("Reggae", "雷鬼", "genre"),
    "internet": ("Internet", "网络歌曲", "genre"),
    "cover": ("Cover Versions", "翻唱", "genre"),
    "variety-show": ("Variety Show", "综艺", "genre"),
    "game-music": ("Game Music", "游戏", "genre"),
    "charts": ("Charts", "榜单", "genre"),
    # instrument
    "keyboard": ("Keyboard", "钢琴", "instrument"),
    "guitar": ("Guitar", "吉他", "instrument"),
    "acoustic": ("Acoustic", "原声", "instrument"),
    # era
    "post-80s": ("Post-80s", "80后", "era"),
    "post-90s": ("Post-90s", "90后", "era"),
    "post-00s": ("Post-00s", "00后", "era"),
    "classic": ("Classics", "经典", "era"),
    # scene
    "driving": ("Driving", "驾车", "scene"),
    "night": ("Night", "夜晚", "scene"),
    "study": ("Study", "学习", "scene"),
    "workout": ("Workout", "运动", "scene"),
    "work": ("Work", "工作", "scene"),
    "travel": ("Travel", "旅行", "scene"),
    "morning": ("Morning", "清晨", "scene"),
    "walk": ("Walk", "散步", "scene"),
    "bar": ("Bar", "酒吧", "scene"),
    "afternoon-tea": ("Afternoon Tea", "下午茶", "scene"),
    "subway": ("Subway", "地铁", "scene"),
    "ktv": ("KTV", "KTV", "scene"),
    "live": ("Live", "现场", "scene"),
    # mood
    "relaxing": ("Relaxing", "放松", "mood"),
    "romantic": ("Romantic", "浪漫", "mood"),
    "healing": ("Healing", "治愈", "mood"),
    "nostalgic": ("Nostalgic", "怀旧", "mood"),
    "cheerful": ("Cheerful", "快乐", "mood"),
    "sad": ("Sad", "伤感", "mood"),
    "lonely": ("Lonely", "孤独", "mood"),
    "calm": ("Calm", "安静", "mood"),
    "fresh": ("Fresh", "清新", "mood"),
    "excited": ("Excited", "兴奋", "mood"),
    "touching": ("Touching", "感动", "mood"),
    "longing": ("Longing", "思念", "mood"),
    "sexy": ("Sexy", "性感", "mood"),
    "upbeat": ("Upbeat", "欢快", "mood"),
    "tense": ("Tense", "紧张", "mood"),
    "aggressive": ("Aggressive", "激烈", "mood"),
    "dark": ("Dark", "暗黑", "mood"),
    "melancholic": ("Melancholic", "忧郁", "mood"),
    # energy
    "energetic": ("Energetic", "活力", "energy"),
    "mellow": ("Mellow", "舒缓", "energy"),
    "danceable": ("Danceable", "律动", "energy"),
    "fast": ("Fast", "快节奏", "energy"),
    "slow": ("Slow", "慢节奏", "energy"),
}

# NetEase playlist token -> slug (all 71 tokens; `Bossa Nova` and `New Age` re-joined first).
NETEASE_TAGS = {
    "华语": "chinese", "欧美": "western", "日语": "japanese", "韩语": "korean", "粤语": "cantonese",
    "小语种": "other-languages",
    "流行": "pop", "R&B/Soul": "rnb-soul", "电子": "electronic", "说唱": "rap", "摇滚": "rock",
    "爵士": "jazz", "民谣": "folk", "古典": "classical", "轻音乐": "absolute-music", "古风": "gufeng",
    "ACG": "acg", "影视原声": "soundtrack", "另类/独立": "alternative-indie", "器乐": "instrumental",
    "民族": "ethnic", "舞曲": "dance", "乡村": "country", "蓝调": "blues", "后摇": "post-rock",
    "英伦": "britpop", "Bossa Nova": "bossa-nova", "世界音乐": "world-music", "拉丁": "latin",
    "New Age": "new-age", "金属": "metal", "朋克": "punk", "雷鬼": "reggae", "网络歌曲": "internet",
    "翻唱": "cover", "综艺": "variety-show", "游戏": "game-music", "榜单": "charts",
    "钢琴": "keyboard", "吉他": "guitar",
    "80后": "post-80s", "90后": "post-90s", "00后": "post-00s", "经典": "classic",
    "驾车": "driving", "夜晚": "night", "学习": "study", "运动": "workout", "工作": "work",
    "旅行": "travel", "清晨": "morning", "散步": "walk", "酒吧": "bar", "下午茶": "afternoon-tea",
    "地铁": "subway", "KTV": "ktv",
    "放松": "relaxing", "浪漫": "romantic", "治愈": "healing", "怀旧": "nostalgic", "快乐": "cheerful",
    "伤感": "sad", "孤独": "lonely", "安静": "calm", "清新": "fresh", "兴奋": "excited",
    "感动": "touching", "思念": "longing", "性感": "sexy",
}
NETEASE_MULTIWORD = ("Bossa Nova", "New Age")

# Derived tags. Deezer valence/arousal bins (V sd 1.06, A sd 0.96; roughly standardised).
DEEZER_TAG_RULES = (
    ("upbeat", "V >= 0 and A >= 0.25", lambda v, a: v >= 0 and a >= 0.25),
    ("excited", "V >= 0 and A >= 1.0", lambda v, a: v >= 0 and a >= 1.0),
    ("cheerful", "V >= 0.75", lambda v, a: v >= 0.75),
    ("energetic", "A >= 1.0", lambda v, a: a >= 1.0),
    ("tense", "V < 0 and A >= 0.35", lambda v, a: v < 0 and a >= 0.35),
    ("aggressive", "V <= -1.0 and A >= 1.0", lambda v, a: v <= -1.0 and a >= 1.0),
    ("dark", "V <= -0.75", lambda v, a: v <= -0.75),
    ("sad", "V <= -0.5 and A < 0", lambda v, a: v <= -0.5 and a < 0),
    ("melancholic", "V < 0 and A <= -0.75", lambda v, a: v < 0 and a <= -0.75),
    ("calm", "A <= -0.5 and V >= -0.25", lambda v, a: a <= -0.5 and v >= -0.25),
    ("relaxing", "A <= -0.5 and V >= 0.25", lambda v, a: a <= -0.5 and v >= 0.25),
    ("mellow", "-0.5 < A < 0 and V >= 0", lambda v, a: -0.5 < a < 0 and v >= 0),
)

# Spotify audio-feature thresholds (the Web API's documented 0-1 features; tempo in BPM).
SPOTIFY_TAG_RULES = (
    ("danceable", "danceability >= 0.7", lambda f: f["danceability"] >= 0.7),
    ("acoustic", "acousticness >= 0.7", lambda f: f["acousticness"] >= 0.7),
    ("energetic", "energy >= 0.8", lambda f: f["energy"] >= 0.8),
    ("mellow", "energy <= 0.3", lambda f: f["energy"] <= 0.3),
    ("instrumental", "instrumentalness >= 0.5 (Spotify: 'intended to represent instrumental tracks')",
     lambda f: f["instrumentalness"] >= 0.5),
    ("live", "liveness >= 0.8 (Spotify: 'strong likelihood that the track is live')",
     lambda f: f["liveness"] >= 0.8),
    ("rap", "speechiness >= 0.33 (Spotify: 'music and speech ... such as rap')",
     lambda f: f["speechiness"] >= 0.33),
    ("cheerful", "valence >= 0.7", lambda f: f["valence"] >= 0.7),
    ("dark", "valence <= 0.15 and energy >= 0.5", lambda f: f["valence"] <= 0.15 and f["energy"] >= 0.5),
    ("fast", "tempo >= 140", lambda f: f["tempo"] >= 140),
    ("slow", "tempo < 80", lambda f: f["tempo"] < 80),
)
