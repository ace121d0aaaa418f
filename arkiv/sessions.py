"""Flash messages kept in the session (promise P7: no cookie of their own), each shown
once however often it was said before the visitor saw the next page.

Django's SessionStorage queues every message it is given. A shopper who clicks "Add to
cart" again and again before a page is shown (a double click, a script, a refused add
repeated) would pile up the same sentence, and every request would read and write the
whole pile with the session. A message already waiting to be shown is not queued again
(and the session is then left as it was), and at most MAX_WAITING messages wait, the
newest."""

from django.contrib.messages.storage.session import SessionStorage

MAX_WAITING = 20


class MessageStorage(SessionStorage):
    def add(self, level, message, extra_tags=""):
        waiting = self._queued_messages if self.used else (*self._loaded_messages, *self._queued_messages)
        if message and any(m.level == int(level) and str(m.message) == str(message) for m in waiting):
            return
        super().add(level, message, extra_tags)

    def _store(self, messages, response, *args, **kwargs):
        return super()._store(messages[-MAX_WAITING:], response, *args, **kwargs)
