import re
import unicodedata


def fold_text(text):
    """Lower case, accents and typographic quotes folded, whitespace collapsed:
    'Désabonnez-moi’' -> "desabonnez-moi'"."""
    text = (text or "").replace("’", "'").replace("‘", "'").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text.lower()).strip()
