"""The rules podcast apps hold feeds to, without the real engine: namespaces the parsers match, covers
(generated, checked, fitted), Apple's categories, course order and dates."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

import feedparser
import podcastparser
import pytest
from click.testing import CliRunner
from PIL import Image

from attune.cli import cli
from attune.delivery.categories import parse_category
from attune.delivery.feed import PODCAST_NS, PSC_NS, FeedChannel, FeedItem, feed_xml, npt_time
from attune.delivery.publish import episode_dates
from attune.delivery.roster import parse_roster_text
from attune.errors import ScriptError
from attune.media.artwork import draw_cover, fitted_cover, generated_cover
from helpers.batch import make_project, public, run


def test_the_feed_declares_the_namespace_uris_the_parsers_match():
    # Read from the parsers themselves: gPodder's table of URIs, feedparser's of known namespaces.
    assert podcastparser.Namespace.NAMESPACES[PODCAST_NS] == "podcast"
    assert podcastparser.Namespace.NAMESPACES[PSC_NS] == "psc"
    assert feedparser.mixin._FeedParserMixin.namespaces[PSC_NS] == "psc"


def test_inline_chapters_category_and_type_read_back():
    channel = FeedChannel("T", "https://e.org/", "D", "en", "Kim", image_url="https://e.org/c.png", category=("Religion & Spirituality", "Spirituality"), serial=True)
    item = FeedItem("One", "g1", datetime(2024, 1, 1, tzinfo=UTC), "https://e.org/1.mp3", 10, 65.0, number=1, description="d",
                    chapters=(("Arriving", 0.0), ("Body", 65.25)))  # fmt: skip
    raw = feed_xml(channel, [item])
    gpodder = podcastparser.parse("https://e.org/feed.xml", io.BytesIO(raw))
    assert gpodder["itunes_categories"] == [["Religion & Spirituality", "Spirituality"]] and gpodder["type"] == "serial"
    assert [(c["title"], c["start"]) for c in gpodder["episodes"][0]["chapters"]] == [("Arriving", 0), ("Body", 65)]
    assert b'start="00:01:05.250"' in raw
    assert npt_time(3725.5) == "01:02:05.500"


def test_categories_are_apples():
    assert parse_category("health & fitness > mental health") == ("Health & Fitness", "Mental Health")
    assert parse_category("Education") == ("Education",)
    with pytest.raises(ValueError, match="did you mean 'Health & Fitness'"):
        parse_category("Health and Fitness > Mental Health")
    with pytest.raises(ValueError, match="Health & Fitness has the subcategories: Alternative Health"):
        parse_category("Health & Fitness > Meditation")


def roster(extra: str = "", tracks: int = 2):
    listed = "".join("      - script: a.txt\n" for _ in range(tracks))
    return parse_roster_text(f"practitioner: Kim\n{extra}clients:\n  - name: Ana\n    tracks:\n{listed}")


def test_order_is_a_course_for_several_tracks_unless_the_roster_says():
    assert roster().serial(roster().clients[0]) is True
    assert roster(tracks=1).serial(roster(tracks=1).clients[0]) is False
    episodic = roster("order: episodic\n")
    assert episodic.serial(episodic.clients[0]) is False
    assert roster("category: Education > Courses\n").category == ("Education", "Courses")
    with pytest.raises(ScriptError, match=r":2: 'order' must be course or episodic, not 'random'"):
        roster("order: random\n")
    with pytest.raises(ScriptError, match=r":2: 'category' 'Wellness' is not one of Apple's podcast categories"):
        roster("category: Wellness\n")


def test_episode_dates_increase_in_roster_order_from_the_day_the_client_was_added():
    dates = episode_dates("2026-03-01T09:30:00+00:00", 3)
    assert dates == sorted(dates) and len(set(dates)) == 3 and dates[0] == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def test_the_generated_cover_is_calm_square_small_and_the_same_each_time(tmp_path):
    first = generated_cover("Weekly practice", "Dr. Rivera", tmp_path / "a")
    assert first.read_bytes() == draw_cover("Weekly practice", "Dr. Rivera")
    # Drawn afresh (not from the memo), smaller: the same inputs give the same bytes, others others.
    small = draw_cover.__wrapped__("Weekly practice", "Dr. Rivera", 600)
    assert small == draw_cover.__wrapped__("Weekly practice", "Dr. Rivera", 600)
    assert hashlib.sha256(draw_cover.__wrapped__("Another course", "Dr. Rivera", 600)).digest() != hashlib.sha256(small).digest()
    with Image.open(first) as image:
        assert image.size == (3000, 3000) and image.mode == "RGB"
        # Quiet: no pure white or black, and the corners are the gradient's.
        low, high = image.convert("L").getextrema()
        assert low > 10 and high < 252
    assert first.stat().st_size < 512 * 1024


@pytest.mark.parametrize("size, fitted", [((300, 200), (1400, 1400)), ((3100, 2900), (3000, 3000)), ((2000, 2000), (2000, 2000))])
def test_a_given_cover_is_letterboxed_or_scaled_to_fit(tmp_path, size, fitted):
    source = tmp_path / "cover.jpg"
    Image.new("RGB", size, (200, 60, 60)).save(source, format="JPEG")
    result = fitted_cover(source, tmp_path / "covers")
    assert (result == source) == (size == fitted)
    with Image.open(result) as image:
        assert image.size == fitted and image.format == "JPEG"
        if size[0] != size[1]:  # the bars are the image's edge colour
            assert max(abs(a - b) for a, b in zip(image.getpixel((fitted[0] // 2, 2)), (200, 60, 60))) < 12


def test_check_and_dry_run_warn_about_a_cover_apps_refuse_and_the_batch_fits_it(tmp_path):
    path = make_project(tmp_path)
    Image.new("RGB", (300, 200), (90, 120, 160)).save(path.parent / "cover.png")
    text = path.read_text()
    line = 1 + text.splitlines().index("cover: cover.png")
    expected = (f"Warning: {path}:{line}: the cover cover.png is 300×200 px, not square (Apple Podcasts asks for a square image of 1400–3000 px), "
                "so the batch letterboxes it to 1400×1400 px — give a square PNG or JPEG of 3000×3000 px")  # fmt: skip
    for args in (["check", str(path)], ["batch", str(path), "--dry-run"]):
        result = CliRunner().invoke(cli, args)  # (the project's fake lengths are errors of their own here)
        assert expected in result.stderr.splitlines(), result.output
    out = tmp_path / "out"
    run(path, out)
    with Image.open(public(out, "Ana") / "cover.png") as image:
        assert image.size == (1400, 1400)
