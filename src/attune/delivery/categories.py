"""Apple Podcasts' categories (`itunes:category`): the list a roster's `category:` is checked against.

Apple's current list (19 categories, 2019 on); a feed names one category and, optionally, one of its
subcategories. Written in a roster as `Health & Fitness > Mental Health`, or a category alone.
"""

from __future__ import annotations

import difflib

APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": ("Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies", "Home & Garden", "Video Games"),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": ("Business News", "Daily News", "Entertainment News", "News Commentary", "Politics", "Sports News", "Tech News"),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality"),
    "Science": ("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics", "Natural Sciences", "Nature", "Physics", "Social Sciences"),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"),
    "Sports": ("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey", "Rugby", "Running", "Soccer", "Swimming", "Tennis",
               "Volleyball", "Wilderness", "Wrestling"),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}


def parse_category(text: str) -> tuple[str, ...]:
    """`Health & Fitness > Mental Health` → ("Health & Fitness", "Mental Health"), spelled as Apple
    spells them (case is forgiven). Raises ValueError with a suggestion for a name not on the list."""
    parts = [part.strip() for part in text.split(">")]
    if not 1 <= len(parts) <= 2 or not all(parts):
        raise ValueError("write a category, or a category > subcategory, such as Health & Fitness > Mental Health")
    by_lower = {name.lower(): name for name in APPLE_CATEGORIES}
    top = by_lower.get(parts[0].lower())
    if top is None:
        close = difflib.get_close_matches(parts[0], APPLE_CATEGORIES, n=1, cutoff=0.5)
        raise ValueError(f"did you mean {close[0]!r}?" if close else f"use one of Apple's: {', '.join(APPLE_CATEGORIES)}")
    if len(parts) == 1:
        return (top,)
    subs = {name.lower(): name for name in APPLE_CATEGORIES[top]}
    sub = subs.get(parts[1].lower())
    if sub is None:
        listed = ", ".join(APPLE_CATEGORIES[top]) or "none"
        raise ValueError(f"{top} has the subcategories: {listed}")
    return (top, sub)
