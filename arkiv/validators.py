"""Validators shared by the forms of several apps."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# Besides the ASCII controls (CR, LF, TAB, NUL...), these end a line for some readers.
LINE_SEPARATORS = {"\u2028", "\u2029"}


@deconstructible
class SingleLineValidator:
    """A value that may end up in an email header (a name in To: or a subject), on a
    packing slip line or in a log: one line, no control characters. Mail libraries
    refuse a header with a line break (and a naive one would let it add headers)."""

    message = "Use a single line, without line breaks or control characters."
    code = "single_line"

    def __call__(self, value):
        if any(ch in LINE_SEPARATORS or unicodedata.category(ch) == "Cc" for ch in str(value)):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other):
        return isinstance(other, SingleLineValidator)


single_line = SingleLineValidator()
