"""The seven FER2013 classes, in the dataset's index order (pure Python, no Django)."""

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
EMOTION_INDEX = {name: i for i, name in enumerate(EMOTIONS)}

# Input geometry of every emotion network: FER2013 rows are 48x48 grayscale.
FACE_SIZE = 48
