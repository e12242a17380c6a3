"""Reddit mentions, replies and keyword matches become cards; a restart resumes from the cursor."""

from __future__ import annotations

from socialdesk.core.store.media_queries import media_of
from socialdesk.plugins.reddit.runtime import close_runtime
from socialdesk.sandbox.reddit.site import gallery_post, image_post, video_post
from tests.reddit_plugin.conftest import poll, poll_all
from tests.store_queries import Message, Ticket, count
from tests.test_metrics import sample


async def test_a_submission_is_the_conversation_and_its_comments_join_it(desk, reddit):
    await poll_all(desk)  # first polls: remember where each stream is
    post = reddit.submit("dana", "acme", "My acme order never arrived", "It has been two weeks")
    reddit.comment("fox", post, "Same, my order too <!channel>")
    reddit.comment("eve", post, "unrelated chatter")  # no keyword, but its thread has a ticket
    reddit.submit("zed", "acme", "Photos from the meetup", "nice day")  # no keyword: not taken
    reports = await poll_all(desk)
    assert reports["subreddit_posts"].ingested == 1 and reports["subreddit_comments"].ingested == 2
    (ticket,) = await desk.service.queue(platform="reddit")
    assert ticket.conversation_id == post.name
    messages = await desk.service.messages_of(ticket.id)
    assert len(messages) == 3 and post.name in {m.external_id for m in messages}
    (opening,) = [m for m in messages if m.external_id == post.name]
    assert opening.url == f"{reddit.base_url}/r/acme/comments/{post.id}/my_acme_order_never_arrived/"
    assert opening.text == "My acme order never arrived\n\nIt has been two weeks"


async def test_mentions_and_replies_to_our_comments_come_from_the_inbox(desk, reddit):
    await poll_all(desk)
    elsewhere = reddit.submit("dana", "gadgets", "Which brand?", "thinking about it")
    mention = reddit.comment("dana", elsewhere, "u/acme_support can you help with a refund?")
    ours = reddit.comment("acme_support", mention, "Sure, DM us")
    reply = reddit.comment("dana", ours, "Sent you a DM")
    reports = await poll_all(desk)
    assert reports["mentions"].ingested == 1 and reports["comment_replies"].ingested == 1
    (ticket,) = await desk.service.queue(platform="reddit")
    assert ticket.conversation_id == elsewhere.name
    assert [m.external_id for m in await desk.service.messages_of(ticket.id)] == [mention.name, reply.name]
    # Our own comment never becomes a mention.
    assert await count(desk, Message) == 2


async def test_fifty_comments_while_down_are_all_taken_once_after_restart(make_reddit_desk, reddit):
    desk = await make_reddit_desk()
    await poll_all(desk)
    await close_runtime(desk)  # the desk goes down
    post = reddit.submit("dana", "acme", "Outage thread", "post your acme problems here")
    for n in range(50):
        reddit.comment(f"user{n}", post, f"acme app crash number {n}")
    restarted = await make_reddit_desk()
    report = await poll(restarted, "subreddit_comments")
    assert report.ingested == 50 and report.cursor == reddit.site.things[max(
        (t for t in reddit.site.things if t.startswith("t1_")), key=lambda n: int(n[3:], 36))].name
    assert (await poll(restarted, "subreddit_comments")).ingested == 0
    assert await count(restarted, Message) == 50
    assert await count(restarted, Ticket) == 1  # all in one submission's conversation (the post itself unpolled)
    comment_pages = [r for r in reddit.recorder.of("reddit", method="GET") if r["path"] == "/r/acme/comments/"]
    assert len(comment_pages) >= 2


async def test_a_poll_that_dies_mid_way_resumes_from_the_stored_fullname(make_reddit_desk, reddit):
    desk = await make_reddit_desk()
    await poll_all(desk)
    post = reddit.submit("dana", "acme", "acme thread", "x")
    comments = [reddit.comment(f"u{n}", post, f"acme issue {n}") for n in range(120)]
    reddit.faults.set(server_error=1.0, only_paths=("/r/acme/comments",))
    assert await desk_poll_fails(desk)
    assert sample(desk, "socialdesk_platform_api_errors_total", platform="reddit", kind="transient") == 1.0
    reddit.faults.clear()
    report = await poll(desk, "subreddit_comments")
    assert report.ingested == 120 and report.cursor == comments[-1].name
    assert await count(desk, Message) == 120


async def desk_poll_fails(desk) -> bool:  # type: ignore[no-untyped-def]
    from socialdesk.plugins.reddit.plugin import poll_stream

    return await poll_stream(desk, "subreddit_comments") is None


async def test_the_user_agent_has_reddits_required_form(desk, reddit):
    await poll_all(desk)
    agents = {agent for agent in reddit.api.user_agents}
    assert agents and all(a.startswith("python:socialdesk:1.0 (by /u/acme_dev)") for a in agents)


async def test_a_spent_rate_window_is_waited_out(make_reddit_desk, reddit, clock):
    reddit.api.rate_limit = 3
    desk = await make_reddit_desk(inbox=False)
    await poll(desk, "subreddit_comments")  # token (not counted) + 1 listing
    reddit.submit("dana", "acme", "acme help", "x")
    await poll(desk, "subreddit_posts")
    await poll(desk, "subreddit_posts")  # the third request spends the window
    requests_before = len(reddit.recorder.of("reddit", method="GET"))
    post = reddit.submit("fox", "acme", "acme again", "y")
    report = await poll(desk, "subreddit_posts")
    assert report.paused and len(reddit.recorder.of("reddit", method="GET")) == requests_before
    clock.advance(seconds=601)
    report = await poll(desk, "subreddit_posts")
    assert report.ingested == 1 and report.cursor == post.name


async def test_a_posts_gallery_image_or_video_is_on_its_card(desk, reddit):
    await poll_all(desk)
    gallery = reddit.submit("dana", "acme", "acme box arrived crushed", shows=gallery_post([
        ("g1", "https://i.redd.it/box1.jpg?width=640&format=pjpg", 640, 480, "the box"),
        ("g2", "https://i.redd.it/box2.jpg", 800, 600, None),
        ("g3", "https://i.redd.it/box3.jpg", 800, 600, "still uploading")], processing=("g3",)))
    image = reddit.submit("eve", "acme", "acme app error", shows=image_post("https://i.redd.it/err.png", 1170, 2532))
    video = reddit.submit("fox", "acme", "acme checkout loops", shows=video_post(
        "https://v.redd.it/abc123/DASH_720.mp4?source=fallback", 1280, 720,
        "https://external-preview.redd.it/still.jpg?auto=webp&s=1a2b"))
    reports = await poll_all(desk)
    assert reports["subreddit_posts"].ingested == 3

    async def media(post) -> list:
        (message,) = [m for t in await desk.service.queue(platform="reddit")
                      for m in await desk.service.messages_of(t.id) if m.external_id == post.name]
        return (await media_of(desk.database, [message.id]))[message.id]

    first, second = await media(gallery)  # in the gallery's order; the item still processing is left out
    assert (first.kind, first.url, first.width, first.height, first.alt_text, first.content_type) == (
        "image", "https://i.redd.it/box1.jpg?width=640&format=pjpg", 640, 480, "the box", "image/jpg")
    assert (second.url, second.alt_text) == ("https://i.redd.it/box2.jpg", None)
    (shot,) = await media(image)
    assert (shot.kind, shot.url, shot.width, shot.height) == ("image", "https://i.redd.it/err.png", 1170, 2532)
    (clip,) = await media(video)
    assert (clip.kind, clip.url, clip.preview_url, clip.width) == (
        "video", "https://v.redd.it/abc123/DASH_720.mp4?source=fallback",
        "https://external-preview.redd.it/still.jpg?auto=webp&s=1a2b", 1280)
