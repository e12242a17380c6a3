"""The permissively licensed public data the base model learns from, and how its labels
become the desk's: urgency, category, sentiment, needs-a-reply and spam.

Only the sets ``../shared/data/README.md`` marks permissive are read here (tweeteval,
xlmt_multilingual_sentiment, sms_spam, banking77, youtube_spam, bitext_customer_support,
hint3) plus a few dozen pleasantries written for this project (Apache-2.0). The two
non-permissive sets (twitter_airline_sentiment, complaints_social_media) are read only by
``bench/triage_eval.py``, as held-out tests.

No set labels urgency. It is derived (``URGENT_INTENTS``): an intent where the customer
has lost money or access right now (a lost, stolen or compromised card, a failed or
missing transfer, a charge taken twice or not recognised, a locked account or password
they cannot recover, money deducted but not credited), plus anger (tweeteval emotion) and
negative sentiment (tweeteval, XLM-T). Every other intent, neutral and positive tweets,
joy and optimism are not urgent. Sadness is left unlabelled. The derivation is judged only
on held-out sets (the airline mapping in the bench).

Each row carries a label for the heads its source knows and ``None`` for the others;
each head trains on the rows labelled for it. ``split`` is ``train`` or ``heldout``: a
fifth of every source (by a stable hash of the text, so a repeated text never lands on
both sides), or the source's own test split where it has one.
"""

from __future__ import annotations

import csv
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HEADS = ("urgency", "category", "sentiment", "needs_reply", "spam")
CATEGORY_LABELS = ("outage", "bug", "billing", "account_security", "refund", "question", "feedback", "praise",
                   "delivery", "other")
SENTIMENTS = ("negative", "neutral", "positive")  # tweeteval and XLM-T: 0, 1, 2
HEAD_LABELS: dict[str, tuple[str, ...]] = {
    "urgency": ("not_urgent", "urgent"),
    "category": CATEGORY_LABELS,
    "sentiment": SENTIMENTS,
    "needs_reply": ("no_reply", "reply"),
    "spam": ("ham", "spam"),
}
PERMISSIVE_SOURCES = {
    "banking77": "CC BY 4.0 (PolyAI-LDN/task-specific-datasets)",
    "bitext_customer_support": "CDLA-Sharing-1.0 (Bitext customer-support-llm-chatbot-training-dataset)",
    "hint3": "ODbL 1.0 + DbCL 1.0 (hellohaptik/HINT3)",
    "tweeteval": "released without restrictions (cardiffnlp/tweeteval)",
    "xlmt_multilingual_sentiment": "Apache-2.0 (cardiffnlp/xlm-t)",
    "sms_spam": "CC BY 4.0 (UCI SMS Spam Collection v1)",
    "youtube_spam": "CC BY 4.0 (UCI YouTube Spam Collection v1)",
    "socialdesk_pleasantries": "Apache-2.0 (written for this project)",
}
# Bitext is synthetic template text, 27K rows: a sample keeps it from drowning the tweets.
BITEXT_SAMPLE = 8_000

# --- the documented label maps -----------------------------------------------------------------

URGENT_INTENTS = frozenset({
    # banking77
    "lost_or_stolen_card", "compromised_card", "lost_or_stolen_phone", "card_swallowed", "failed_transfer",
    "transaction_charged_twice", "card_payment_not_recognised", "cash_withdrawal_not_recognised",
    "direct_debit_payment_not_recognised", "transfer_not_received_by_recipient", "pin_blocked",
    "passcode_forgotten", "wrong_amount_of_cash_received", "balance_not_updated_after_bank_transfer",
    "balance_not_updated_after_cheque_or_cash_deposit",
    # bitext
    "recover_password", "payment_issue",
    # hint3
    "ACCOUNT_BALANCE_DEDUCTED", "DEDUCTED_AMOUNT_NOT_RECEIVED", "ACCOUNT_RESET",
})

BANKING77_CATEGORIES: dict[str, str] = {
    **dict.fromkeys(("lost_or_stolen_card", "compromised_card", "lost_or_stolen_phone", "card_swallowed",
                     "pin_blocked", "passcode_forgotten", "change_pin", "unable_to_verify_identity",
                     "card_payment_not_recognised", "cash_withdrawal_not_recognised",
                     "direct_debit_payment_not_recognised"), "account_security"),
    **dict.fromkeys(("card_payment_fee_charged", "extra_charge_on_statement", "transaction_charged_twice",
                     "cash_withdrawal_charge", "transfer_fee_charged", "exchange_charge", "top_up_by_card_charge",
                     "top_up_by_bank_transfer_charge", "card_payment_wrong_exchange_rate",
                     "wrong_exchange_rate_for_cash_withdrawal", "wrong_amount_of_cash_received",
                     "pending_card_payment", "pending_cash_withdrawal", "balance_not_updated_after_bank_transfer",
                     "balance_not_updated_after_cheque_or_cash_deposit", "pending_top_up", "top_up_reverted"),
                    "billing"),
    **dict.fromkeys(("request_refund", "Refund_not_showing_up", "reverted_card_payment?"), "refund"),
    **dict.fromkeys(("failed_transfer", "declined_card_payment", "declined_transfer", "declined_cash_withdrawal",
                     "card_not_working", "virtual_card_not_working", "contactless_not_working", "top_up_failed",
                     "transfer_not_received_by_recipient", "pending_transfer", "beneficiary_not_allowed"), "bug"),
    **dict.fromkeys(("card_arrival", "card_delivery_estimate"), "delivery"),
}  # every other banking77 intent: question

BITEXT_CATEGORIES: dict[str, str] = {
    "recover_password": "account_security", "registration_problems": "bug", "payment_issue": "billing",
    "check_invoice": "billing", "get_invoice": "billing", "check_cancellation_fee": "billing",
    "check_payment_methods": "billing", "get_refund": "refund", "track_refund": "refund",
    "check_refund_policy": "refund", "delivery_options": "delivery", "delivery_period": "delivery",
    "track_order": "delivery", "change_shipping_address": "delivery", "set_up_shipping_address": "delivery",
    "complaint": "feedback", "review": "feedback",
}  # every other bitext intent: question

HINT3_CATEGORIES: dict[str, str] = {
    "DELAY_IN_PARCEL": "delivery", "ORDER_STATUS": "delivery", "RESUME_DELIVERY": "delivery",
    "MODIFY_ADDRESS": "delivery", "INTERNATIONAL_SHIPPING": "delivery", "CHECK_PINCODE": "delivery",
    "DELAY_IN_DELIVERY": "delivery", "PAYMENT_AND_BILL": "billing", "MODES_OF_PAYMENTS": "billing",
    "ACCOUNT_BALANCE_DEDUCTED": "billing", "DEDUCTED_AMOUNT_NOT_RECEIVED": "billing",
    "REFUNDS_RETURNS_REPLACEMENTS": "refund", "REFUND_OF_ADDED_CASH": "refund", "REFUND_OF_WRONG_AMOUNT": "refund",
    "RETURN_EXCHANGE": "refund", "PORTAL_ISSUE": "bug", "WRONG_SCORES": "bug", "POINTS_NOT_UPDATED": "bug",
    "CANNOT_SEE_JOINED_CONTESTS": "bug", "NO_EMAIL_CONFIRMATION": "bug", "PAN_VERIFICATION_FAILED": "bug",
    "ACCOUNT_RESET": "account_security", "ACCOUNT_NOT_VERIFIED": "account_security",
    "APPRECIATION": "praise", "THANKS": "praise", "CRITICISM": "feedback", "FEEDBACK": "feedback",
    "GREETINGS_DAY": "other", "NO_NODES_DETECTED": "other",
}  # every other HINT3 intent: question
# Intents that need no answer from an agent.
NO_REPLY_INTENTS = frozenset({"APPRECIATION", "THANKS", "GREETINGS_DAY"})

# Pleasantries and "fixed now" messages: a desk must see these as needing no reply, and no
# public set has them. Written for this project; each is used as it is and capitalised.
PLEASANTRIES = (
    "thanks", "thank you", "thank you so much", "thanks a lot", "thx", "ty", "cheers", "ok", "okay", "got it",
    "great, thanks", "perfect, thank you", "awesome thanks", "cool", "noted", "appreciated", "much appreciated",
    "all good now", "no worries", "sounds good", "will do", "have a nice day", "you too", "thanks for the help",
    "thanks for getting back to me", "that worked, thanks", "it works now", "fixed now, thanks",
    "all sorted, thank you", "problem solved", "never mind, it's working again", "it's back up, thanks",
    "working again now", "resolved, thanks for the quick reply", "thanks, that did it", "great service today",
    "👍", "🙏", "❤️", "thanks! 🙌", "ok thanks", "ok will try", "np", "haha ok", "lol thanks", "brilliant, cheers",
)

TWEETEVAL_EMOTION_SENTIMENT = {"anger": "negative", "sadness": "negative", "joy": "positive", "optimism": "positive"}


@dataclass(frozen=True, slots=True)
class Example:
    source: str
    split: str  # "train" | "heldout"
    text: str
    urgency: str | None = None
    category: str | None = None
    sentiment: str | None = None
    needs_reply: str | None = None
    spam: str | None = None

    def label(self, head: str) -> str | None:
        return getattr(self, head)


def heldout_by_hash(text: str) -> bool:
    """A stable fifth of every source is held out (the same text always falls the same way)."""
    return hashlib.blake2b(text.strip().casefold().encode("utf-8", "replace"), digest_size=2).digest()[0] % 5 == 0


def _split(text: str) -> str:
    return "heldout" if heldout_by_hash(text) else "train"


def _lines(path: Path) -> list[str]:
    return path.read_text("utf-8").splitlines()


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def _intent(source: str, text: str, intent: str, category: str, split: str) -> Example:
    urgent = intent in URGENT_INTENTS
    return Example(source, split, text, urgency="urgent" if urgent else "not_urgent", category=category,
                   needs_reply="no_reply" if intent in NO_REPLY_INTENTS else "reply", spam="ham")


def banking77(data: Path) -> Iterator[Example]:
    for file, split in (("train.csv", "train"), ("test.csv", "heldout")):
        for text, intent in _csv_rows(data / "banking77" / file):
            yield _intent("banking77", text, intent, BANKING77_CATEGORIES.get(intent, "question"), split)


def bitext(data: Path, seed: int) -> Iterator[Example]:
    rows = _csv_rows(data / "bitext_customer_support" / "raw_data.csv")
    random.Random(seed).shuffle(rows)
    heldout = [r for r in rows if heldout_by_hash(r[0])]
    train = [r for r in rows if not heldout_by_hash(r[0])][:BITEXT_SAMPLE]
    for split, chosen in (("train", train), ("heldout", heldout[:BITEXT_SAMPLE // 4])):
        for text, intent in chosen:
            yield _intent("bitext_customer_support", text, intent, BITEXT_CATEGORIES.get(intent, "question"), split)


def hint3(data: Path) -> Iterator[Example]:
    for folder, split in (("train", "train"), ("test", "heldout")):
        for path in sorted((data / "hint3" / folder).glob("*.csv")):
            for row in _csv_rows(path):
                if len(row) >= 2 and row[0].strip():
                    yield _intent("hint3", row[0], row[1], HINT3_CATEGORIES.get(row[1], "question"), split)


def _tweet(source: str, text: str, sentiment: str, split: str) -> Example:
    """Negative is urgent; positive is praise; neutral is other (a random tweet is not a
    request); a negative tweet's category is unknown."""
    category = {"positive": "praise", "neutral": "other"}.get(sentiment)
    return Example(source, split, text, urgency="urgent" if sentiment == "negative" else "not_urgent",
                   category=category, sentiment=sentiment)


def tweeteval(data: Path) -> Iterator[Example]:
    # Sentiment: only the validation split is on disk for training (its train text was not
    # retrievable); the test split is the bench's, never trained on.
    folder = data / "tweeteval" / "sentiment"
    for text, label in zip(_lines(folder / "val_text.txt"), _lines(folder / "val_labels.txt"), strict=True):
        yield _tweet("tweeteval", text, SENTIMENTS[int(label)], _split(text))
    emotion = data / "tweeteval" / "emotion"
    names = [line.split("\t")[-1].strip() for line in _lines(emotion / "mapping.txt")]
    for part in ("train", "val"):
        for text, label in zip(_lines(emotion / f"{part}_text.txt"), _lines(emotion / f"{part}_labels.txt"),
                               strict=True):
            feeling = names[int(label)]
            urgency = {"anger": "urgent", "joy": "not_urgent", "optimism": "not_urgent"}.get(feeling)
            category = "praise" if feeling in ("joy", "optimism") else None
            yield Example("tweeteval", _split(text), text, urgency=urgency, category=category,
                          sentiment=TWEETEVAL_EMOTION_SENTIMENT[feeling])


def xlmt(data: Path) -> Iterator[Example]:
    for folder in sorted((data / "xlmt_multilingual_sentiment").iterdir()):
        if not (folder / "test_text.txt").exists():
            continue
        texts, labels = _lines(folder / "test_text.txt"), _lines(folder / "test_labels.txt")
        for text, label in zip(texts, labels, strict=True):
            yield _tweet("xlmt_multilingual_sentiment", text, SENTIMENTS[int(label)], _split(text))


def sms_spam(data: Path) -> Iterator[Example]:
    for line in _lines(data / "sms_spam" / "SMSSpamCollection"):
        label, _, text = line.partition("\t")
        if label in ("ham", "spam"):  # the first row is a header
            yield Example("sms_spam", _split(text), text, spam=label,
                          needs_reply="no_reply" if label == "spam" else None,
                          category="other" if label == "spam" else None,
                          urgency="not_urgent" if label == "spam" else None)


def youtube_spam(data: Path) -> Iterator[Example]:
    for path in sorted((data / "youtube_spam").glob("Youtube0*.csv")):
        for row in _csv_rows(path):
            if len(row) >= 5:
                spam = row[4].strip() == "1"
                yield Example("youtube_spam", _split(row[3]), row[3], spam="spam" if spam else "ham",
                              needs_reply="no_reply" if spam else None, category="other" if spam else None,
                              urgency="not_urgent" if spam else None)


def pleasantries() -> Iterator[Example]:
    for phrase in PLEASANTRIES:
        for text in (phrase, phrase.capitalize() + "!", phrase + " 🙂"):
            yield Example("socialdesk_pleasantries", "train", text, urgency="not_urgent", category="praise"
                          if "thank" in text or "great" in text else "other", needs_reply="no_reply", spam="ham")


def load_examples(data: Path, seed: int) -> list[Example]:
    """Every example, in a fixed order (training shuffles with its own seed)."""
    missing = [name for name in PERMISSIVE_SOURCES if name != "socialdesk_pleasantries" and not (data / name).is_dir()]
    if missing:
        raise FileNotFoundError(f"{data}: missing {', '.join(missing)}; point --data at the shared data folder "
                                "(its README.md lists the sets)")
    return [*banking77(data), *bitext(data, seed), *hint3(data), *tweeteval(data), *xlmt(data), *sms_spam(data),
            *youtube_spam(data), *pleasantries()]
