"""The seven emotion classes, in FER2013 order (the same tuple as ``recommender.emotion.labels``).

Kept here too so that the lyrics core imports nothing outside ``recommender.lyrics``.
"""

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
EMOTION_INDEX = {name: i for i, name in enumerate(EMOTIONS)}
POSITIVE = ("happy",)
NEGATIVE = ("angry", "disgust", "fear", "sad")
