"""Mail to service@: recognise postal and email opt-out requests in free text and act on
them (promise P4). Every way mail arrives (MTA pipe, mbox, Maildir, IMAP, the inbound
webhook) feeds process_message.

Clear requests from known senders (a proven account or a past order) are applied at
once and confirmed by email with a way to undo, only when something changed. Every
other message written by a person waits for staff with the original message: unclear
wording or language, an attachment only, a request about someone else, a stranger.
Only automatic mail (auto-replies, bounces, lists) is ignored, so no mail loops. A
confirmed email opt-in is never withdrawn on a guess about the channel, and opt-ins
are never taken by email."""

import email
import email.policy
import hashlib
import html
import re
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from arkiv.addresses import normalise_email
from arkiv.links import site_url
from arkiv.mail import templated_email

from . import providers, services
from .models import OptOutRequest, Purpose, Source
from .text import fold_text

MAX_RAW = 200_000
MAX_BYTES = 5_000_000

_OPT_OUT = [
    r"\bunsubscribe\b",
    r"\bopt(?:ing)?[\s-]?out\b",
    r"\bstop (?:sending|mailing|posting|the)\b",
    r"\bremove me\b",
    r"\btake me off\b",
    r"\bno (?:more|longer)\b.{0,40}\b(?:catalogu?e?s?|mail|mailings?|post|letters?|offers?|"
    r"brochures?|e-?mails?|newsletters?)\b",
    r"\b(?:do not|don'?t|dont|never) (?:send|mail|post|write)\b",
    r"\b(?:do not|don'?t|dont) want\b.{0,40}\b(?:catalogu?e?s?|mail|post|offers?|letters?|e-?mails?|newsletters?)",
    r"\bcancel (?:my|the) (?:subscription|mailing)\b",
    r"\bstop (?:it|them|this)\b",
    r"\bdelete me\b",
    r"\b(?:remove|take)\b.{0,40}\b(?:off|from)\b.{0,20}\b(?:list|lists|mailing list|database|records)\b",
    # German, French, Spanish, Dutch, Swedish, Italian
    r"\babmelden\b",
    r"\babbestellen\b",
    r"\bkeine\b.{0,30}\b(?:werbung|post|kataloge?|briefe|mails?|newsletter)\b",
    r"\baustragen\b",
    r"\bdesabonner\b",
    r"\bdesinscri",
    r"\bne (?:plus|m'?envoyez plus)\b",
    r"\bplus de (?:courrier|catalogue)",
    r"\bdarme de baja\b",
    r"\bno (?:quiero|deseo) recibir\b",
    r"\bno me (?:envien|manden)\b",
    r"\bafmelden\b",
    r"\bgeen\b.{0,20}\b(?:post|reclame|catalogus)\b",
    r"\bavregistrera\b",
    r"\bavsluta\b",
    r"\bdisiscriv",
    r"\bnon (?:voglio|desidero) (?:piu )?ricevere\b",
]
_KEEP = [
    r"\b(?:keep|continue|carry on) (?:sending|mailing|posting)\b",
    r"\bplease continue\b",
    r"\b(?:do not|don'?t|dont) (?:stop|unsubscribe|remove)\b",
    r"\bnot (?:to )?unsubscribe\b",
    r"\b(?:still|really) (?:want|like|enjoy)\b",
    r"\bby mistake\b",
    r"\bwrong(?:ly)? unsubscribed\b",
    r"\b(?:are|is) (?:fine|ok|okay|welcome)\b",
]
_OPT_IN = [
    r"\b(?:subscribe|sign) me\b(?! off| out)",
    r"\badd me to\b",
    r"\bsend me (?:your|the|a) (?:catalogu?e|newsletter|offers)",
    r"\bi(?:'d| would) like to (?:receive|get)\b",
]
# "Mail" on its own, letters, catalogues and "to our address" mean post. ("Mails", as
# in German, could be either, so it names no channel.)
_POSTAL = (
    r"\b(?:post|postal|snail ?mail|catalogu?e?s?|brochures?|letters?|leaflets?|flyers?|"
    r"paper|mailings?|printed|letterbox|mailbox|briefe?|kataloge?|courrier|catalogus|katalog)\b"
    r"|(?<!e-)(?<!\be )\bmail\b(?!-)"
    r"|\b(?:to|at) (?:our|my|this|the) (?:home |house |postal )?address\b"
)
# An email address mentioned in passing ("my e-mail address is...") names no channel.
_EMAIL = r"\b(?:e-?mails?(?! address)|newsletters?|inbox|spam|correos? electronicos?|e-?post|courriels?)\b"
_BOTH = (
    r"\b(?:all|everything|any kind of|both|all kinds? of|any) (?:of )?(?:your )?(?:marketing|offers|advertising|"
    r"communications?|correspondence)\b"
)
# A request about another person (a relative, a former occupant, someone who died) is
# for a person to handle: whose data it is must be checked before anything changes.
_SOMEONE_ELSE = [
    r"\bmy (?:late |elderly |ex-?)?(?:mother|mum|mom|mummy|father|dad|daddy|wife|husband|partner|son|daughter|"
    r"child|children|kids?|parents?|brother|sister|grand(?:mother|father|ma|pa|parents?|son|daughter)|aunt|uncle|"
    r"neighbou?rs?|tenants?|flatmates?|lodgers?|friend|colleague|client|patient)\b",
    r"\b(?:remove|unsubscribe|take off) (?:him|her)\b",
    r"\bon behalf of\b",
    r"\b(?:deceased|passed away|has died|died)\b",
    r"\bprevious (?:owners?|occupants?|tenants?|residents?)\b",
    r"\b(?:no longer lives?|(?:does not|doesn'?t) live) (?:here|at)\b",
    r"\bmeine?[nmr]? (?:mutter|vater|frau|mann|ehemann|ehefrau|sohn|tochter|eltern|schwester|bruder|nachbarn?)\b",
    r"\bverstorben",
    r"\b(?:ma|mon|mes) (?:mere|pere|femme|mari|fils|fille|parents|voisins?)\b",
    r"\bdecede",
    r"\bmis? (?:madre|padre|esposa|esposo|marido|hij[oa]s?|padres|vecin[oa]s?)\b",
    r"\bfallecid",
]
_ADDRESS = re.compile(
    r"\b\d{1,5}[a-z]?\s+(?:[a-z]+\s){0,3}(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|close|way|place|square|"
    r"strasse|str|weg|gasse|platz|allee|rue|calle|via|gatan|vagen)\b|\b(?:strasse|str|weg|rue|calle|via)\s+\d{1,5}\b",
)
_QUOTE_HEADERS = re.compile(
    r"^(?:on .{0,200}wrote:|am .{0,200}schrieb .{0,100}:|le .{0,200}a ecrit :?|-{2,} ?original message ?-{2,}|"
    r"_{5,}|from: .+|sent from my .+)$",
)
_PLAIN_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
_REPLY_SUBJECT = re.compile(r"^(?:(?:re|aw|sv|vs|antw|ref|rif|fwd?|wg|tr|rv|doorst)\s?:\s?)+")
_AUTOMATIC_SENDERS = re.compile(r"^(?:mailer-daemon|postmaster|no-?reply|noreply|bounces?|auto-?reply)\b")


def _has(patterns, text):
    return any(re.search(p, text) for p in patterns)


def _message_id(msg, raw):
    value = (msg.get("Message-ID") or "").strip() if msg is not None else ""
    return value[:300] or "sha256:" + hashlib.sha256(raw).hexdigest()


def _is_automatic(msg, sender):
    """Auto-replies, bounces and list traffic (RFC 3834, RFC 3464, RFC 2369)."""
    auto = (msg.get("Auto-Submitted") or "no").strip().lower()
    precedence = (msg.get("Precedence") or "").strip().lower()
    return (
        auto != "no"
        or precedence in {"bulk", "junk", "list", "auto_reply"}
        or any(
            msg.get(h)
            for h in (
                "X-Autoreply",
                "X-Autorespond",
                "X-Auto-Response-Suppress",
                "List-Id",
                "List-Unsubscribe",
                "X-Loop",
            )
        )
        or msg.get_content_type() == "multipart/report"
        or (msg.get("Return-Path") or "").strip() == "<>"
        or bool(_AUTOMATIC_SENDERS.match(sender.split("@")[0]))
        or sender.lower() == settings.ARKIV_SERVICE_EMAIL.lower()
    )


def _authentication_failed(msg):
    results = " ".join(str(h) for h in msg.get_all("Authentication-Results") or []).lower()
    if not results:
        return False
    return (
        "dmarc=fail" in results
        or ("spf=fail" in results and "dkim=pass" not in results)
        or ("dkim=fail" in results and "spf=pass" not in results)
    )


def _text_of(msg):
    """The message's text: the plain part, else the HTML part without tags."""
    part = msg.get_body(preferencelist=("plain", "html")) if msg.is_multipart() else msg
    if part is None or part.get_content_maintype() != "text":
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError, AssertionError, ValueError):
        payload = part.get_payload(decode=True) or b""
        text = payload.decode("utf-8", "replace")
    if not isinstance(text, str):
        return ""
    if part.get_content_subtype() == "html":
        text = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", text)
        text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", text)
        text = re.sub(r"(?is)<blockquote.*?</blockquote>", "\n", text)
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return text


def own_words(text):
    """What the sender wrote: quoted replies, forwarded copies and signatures cut off."""
    lines = []
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if stripped in {"--", "-- "} or line.startswith("-- "):
            break
        if stripped.startswith(">"):
            continue
        if _QUOTE_HEADERS.match(fold_text(stripped)) or stripped.lower().startswith("---------- forwarded message"):
            break
        lines.append(line)
    return "\n".join(lines).strip()[:5000]


def classify(subject, body):
    """(intent, channel, reason): intent is 'opt_out', 'unclear', 'opt_in' or 'none'."""
    folded = fold_text(f"{subject}\n{body}")
    out, keep, opt_in = _has(_OPT_OUT, folded), _has(_KEEP, folded), _has(_OPT_IN, folded)
    # A message that says nothing but "stop" (as people answer an SMS) means it.
    out = out or bool(re.fullmatch(r"\W*(?:stop|unsubscribe)\W*", fold_text(body)))
    # The subject of a reply or forward is usually ours ("Re: Our new catalogue"): it says
    # nothing about which offers the sender means.
    worded = fold_text(body) if _REPLY_SUBJECT.match(fold_text(subject)) else folded
    postal, mail = bool(re.search(_POSTAL, worded)), bool(re.search(_EMAIL, worded))
    someone_else = _has(_SOMEONE_ELSE, folded)
    if re.search(_BOTH, folded) or (postal and mail):
        channel = OptOutRequest.Channel.BOTH
    elif postal:
        channel = OptOutRequest.Channel.POSTAL
    elif mail:
        channel = OptOutRequest.Channel.EMAIL
    else:
        channel = OptOutRequest.Channel.UNKNOWN
    if someone_else:
        return "unclear", channel, "About someone else: check whose data it is before anything changes."
    if out and keep:
        return "unclear", channel, "Asks to stop and to keep receiving: needs a person."
    if keep:
        return "unclear", channel, "Negated: asks to keep receiving. Nothing stopped; check whether to reply."
    if opt_in and not out:
        return "opt_in", channel, "Asks to receive offers: opt-ins are never taken by email; reply personally."
    if out:
        return "opt_out", channel, "Clear opt-out request."
    return "none", channel, "No request recognised (other wording or language): a person should read it."


@transaction.atomic
def _store(**fields):
    return OptOutRequest.objects.create(**fields)


def process_message(raw):
    """Read one message and act on it. Returns the OptOutRequest, or None for a
    duplicate (same Message-ID seen before)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "replace")
    raw = raw[:MAX_BYTES]
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        sender = normalise_email(parseaddr(str(msg.get("From") or ""))[1]).replace("\x00", "")
        subject = str(msg.get("Subject") or "")[:300]
    except Exception:  # noqa: BLE001 - a message we cannot parse must still be kept for staff
        msg, sender, subject = None, "", ""
    message_id = _message_id(msg, raw).replace("\x00", "")
    if OptOutRequest.objects.filter(message_id=message_id).exists():
        return None
    record = {
        "message_id": message_id,
        "sender": sender[:254],
        "subject": subject,
        "raw": raw[:MAX_RAW].decode("utf-8", "replace"),
    }
    try:
        if msg is None or not sender or "@" not in sender:
            return _saved(record, state=OptOutRequest.State.QUEUED, reason="Unreadable message or no sender.")
        if _is_automatic(msg, sender):
            return _saved(
                record,
                state=OptOutRequest.State.IGNORED,
                reason="Automatic message (auto-reply, bounce or list): never answered.",
            )
        try:
            body = own_words(_text_of(msg))
        except Exception:  # noqa: BLE001 - oddly encoded parts
            body = ""
        record["body"] = body
        intent, channel, reason = classify(subject, body)
        record["channel"] = channel
        queued = OptOutRequest.State.QUEUED
        # Everything a person wrote reaches a person unless it is a clear opt-out we can apply.
        if intent == "none" and not body.strip() and _has_attachments(msg):
            return _saved(record, state=queued, reason="Only an attachment, no text: a person should read it.")
        if intent != "opt_out":
            return _saved(record, state=queued, reason=reason)
        if _authentication_failed(msg):
            return _saved(record, state=queued, reason="Sender authentication failed.")
        if _ADDRESS.search(fold_text(body)):
            return _saved(record, state=queued, reason="Names a postal address: check whose it is before applying.")
        if sender not in providers.known_emails([sender]):
            return _saved(
                record, state=queued, reason="Sender is not a known customer (no proven account, no past order)."
            )
        with transaction.atomic():  # the record, the consent changes and the reply, or none of them
            if not channel:
                return _apply_unclear_channel(record, by_default=reason)
            request = _saved(record, state=OptOutRequest.State.APPLIED, reason=reason)
            return request_apply(request, channel=channel)
    except IntegrityError:
        return None  # the same message, processed at the same moment elsewhere


def _saved(record, *, state, reason):
    # PostgreSQL text cannot hold NUL characters, which hostile mail may carry.
    clean = {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in record.items()}
    return _store(**clean, state=state, reason=reason[:300])


def _has_attachments(msg):
    return msg.is_multipart() and any(True for _ in msg.iter_attachments())


def _apply_unclear_channel(record, *, by_default):
    """A clear opt-out that names no channel: stop post at once; a confirmed email opt-in
    is kept until staff have read the message, since it cannot be restored without the
    customer confirming again."""
    sender = record["sender"]
    if not services.consent_granted(sender, Purpose.PROMO_EMAIL):
        request = _saved(record, state=OptOutRequest.State.APPLIED, reason=by_default + " No channel named: both.")
        return request_apply(request, channel=OptOutRequest.Channel.BOTH)
    record["channel"] = OptOutRequest.Channel.POSTAL
    request = _saved(
        record,
        state=OptOutRequest.State.QUEUED,
        reason="No channel named: postal offers stopped; the confirmed email opt-in is kept until staff decide.",
    )
    stopped = _withdraw(request, [Purpose.POSTAL], by=None)
    _confirm(request, stopped, email_kept=True)
    return request


def _purposes(channel):
    return {OptOutRequest.Channel.POSTAL: [Purpose.POSTAL], OptOutRequest.Channel.EMAIL: [Purpose.PROMO_EMAIL]}.get(
        channel, [Purpose.POSTAL, Purpose.PROMO_EMAIL]
    )


def _withdraw(request, purposes, *, by):
    """Withdraw each purpose for the sender; returns those that were still on."""
    stopped = []
    for purpose in purposes:
        event = services.consent_withdraw(
            email=request.sender,
            purpose=purpose,
            source=Source.SERVICE_EMAIL,
            wording=(request.body or request.subject)[:2000],
            reference=request.message_id,
            by=by,
        )
        if event is not None:
            stopped.append(purpose)
    return stopped


_STOPPED = {
    frozenset([Purpose.POSTAL]): gettext_lazy("offers by post"),
    frozenset([Purpose.PROMO_EMAIL]): gettext_lazy("offers by email"),
    frozenset([Purpose.POSTAL, Purpose.PROMO_EMAIL]): gettext_lazy("offers by post and offers by email"),
}


def _confirm(request, stopped, *, email_kept=False):
    """Tell the sender what changed, as an automatic reply (RFC 3834) that answers to
    service@; nothing changed, nothing sent."""
    if not stopped:
        return
    token = services.preferences_token(request.sender)
    headers = {"Auto-Submitted": "auto-replied"}
    if _PLAIN_MESSAGE_ID.fullmatch(request.message_id):
        headers |= {"In-Reply-To": request.message_id, "References": request.message_id}
    # In the language the sender chose with us (their account, or where they asked for
    # offers), whatever language they wrote in.
    with services.in_language(services.email_language(request.sender)):
        message = templated_email(
            _("We have stopped the offers you asked about"),
            "privacy/email/optout_confirmed.txt",
            {
                "stopped": _STOPPED[frozenset(stopped)],
                "email_kept": email_kept,
                "link": site_url("privacy:preferences", token),
            },
            request.sender,
            reply_to=[settings.ARKIV_SERVICE_EMAIL],
            headers=headers,
        )
    message.send()


@transaction.atomic
def request_apply(request, *, channel=None, by=None):
    """Stop the offers the request names, log it, and confirm to the address on file
    when something changed."""
    channel = channel or request.channel or OptOutRequest.Channel.BOTH
    stopped = _withdraw(request, _purposes(channel), by=by)
    request.state, request.channel = OptOutRequest.State.APPLIED, channel
    request.handled_by, request.handled_at = by, timezone.now()
    if not stopped:
        request.reason = f"{request.reason} Already stopped: nothing changed, no reply sent."[:300]
    request.save(update_fields=["state", "channel", "handled_by", "handled_at", "reason"])
    _confirm(request, stopped)
    return request


def request_dismiss(request, *, by):
    request.state, request.handled_by, request.handled_at = OptOutRequest.State.DISMISSED, by, timezone.now()
    request.save(update_fields=["state", "handled_by", "handled_at"])
    return request


def receive_inbound(sender, event, esp_name, **kwargs):
    """django-anymail's inbound signal: mail to service@ that the provider posted to us."""
    process_message(event.message.as_bytes())
