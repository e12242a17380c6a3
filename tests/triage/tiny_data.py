"""A miniature copy of the shared data folder's layout, written by the tests themselves
(a handful of made-up rows per set), so that training runs in seconds and reads nothing
outside the test's temporary folder."""

from __future__ import annotations

from pathlib import Path

URGENT = ["my card was stolen", "someone hacked my account", "I was charged twice", "my transfer failed",
          "I am locked out of my account", "money taken but never arrived", "card stolen help",
          "account compromised now"]
CALM = ["how do I change my address", "what are your opening hours", "can I order a second card",
        "where do I find my invoice", "do you deliver abroad", "is there an app", "how long does delivery take",
        "what is the exchange rate"]


def write_tiny_data(root: Path, repeat: int = 6) -> Path:
    data = root / "data"
    (data / "banking77").mkdir(parents=True)
    rows = ["text,category"]
    for i in range(repeat):
        rows += [f'"{t} {i}",lost_or_stolen_card' for t in URGENT]
        rows += [f'"{t} {i}",exchange_rate' for t in CALM]
        rows += [f'"where is my card {i}",card_arrival']
    (data / "banking77" / "train.csv").write_text("\n".join(rows) + "\n")
    (data / "banking77" / "test.csv").write_text("\n".join(rows[:10]) + "\n")
    (data / "bitext_customer_support").mkdir()
    (data / "bitext_customer_support" / "raw_data.csv").write_text(
        "text,category\n" + "\n".join(f'"refund please {i}",get_refund' for i in range(12)) + "\n")
    for folder in ("train", "test"):
        (data / "hint3" / folder).mkdir(parents=True)
        (data / "hint3" / folder / f"shop_{folder}.csv").write_text(
            "sentence,label\n" + "\n".join(f"thanks a lot {i},THANKS" for i in range(6)) + "\n"
            + "\n".join(f"order status {i},ORDER_STATUS" for i in range(6)) + "\n")
    sentiment = data / "tweeteval" / "sentiment"
    sentiment.mkdir(parents=True)
    texts = [f"I hate this so much {i}" for i in range(8)] + [f"what a lovely day {i}" for i in range(8)] + \
        [f"the bus leaves at noon {i}" for i in range(8)]
    (sentiment / "val_text.txt").write_text("\n".join(texts) + "\n")
    (sentiment / "val_labels.txt").write_text("\n".join(["0"] * 8 + ["2"] * 8 + ["1"] * 8) + "\n")
    emotion = data / "tweeteval" / "emotion"
    emotion.mkdir(parents=True)
    (emotion / "mapping.txt").write_text("0\tanger\n1\tjoy\n2\toptimism\n3\tsadness\n")
    for part in ("train", "val"):
        (emotion / f"{part}_text.txt").write_text("furious with you\nso happy today\nit will be fine\nso sad\n")
        (emotion / f"{part}_labels.txt").write_text("0\n1\n2\n3\n")
    english = data / "xlmt_multilingual_sentiment" / "english"
    english.mkdir(parents=True)
    (english / "test_text.txt").write_text("awful service\ngreat service\nit is tuesday\n")
    (english / "test_labels.txt").write_text("0\n2\n1\n")
    (data / "sms_spam").mkdir()
    (data / "sms_spam" / "SMSSpamCollection").write_text(
        "label\ttext\n" + "".join(f"spam\tWIN a FREE prize now call {i}\nham\tsee you at lunch {i}\n"
                                  for i in range(6)))
    (data / "youtube_spam").mkdir()
    (data / "youtube_spam" / "Youtube01-Test.csv").write_text(
        "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n" + "".join(f"id{i},a,d,check out my channel {i},1\nid{i}b,a,d,"
                                                          f"nice song {i},0\n" for i in range(6)))
    return data
