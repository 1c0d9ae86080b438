"""`attune new`: a commented starter script for a teacher to edit, one per kind of practice.

Each starter is YAML with every option in comments, sections, fixed and elastic pauses, a bell, a
`{name}` placeholder and (for the sits) interval bells; `starter_text` writes it for a length, and
the CLI checks that the length fits before writing anything. Light: no numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..durations import format_duration


@dataclass(frozen=True)
class Starter:
    title: str
    description: str
    #: (section name, text, extra YAML lines for the section)
    sections: tuple[tuple[str, str, tuple[str, ...]], ...]
    interval_bells: str | None = None


_ARRIVING = (
    "Arriving",
    "Welcome, {name}. Find a way of sitting that is comfortable and awake. [pause 5s]\n"
    "Let your eyes close, or rest your gaze softly on the floor. [breath 2]\n"
    "Notice the places where your body meets the chair, the cushion or the floor. [pause 10s..30s]",
    (),
)
_CLOSING = (
    "Closing",
    "[bell]\n"
    "Slowly let the practice come to an end. [pause 5s]\n"
    "Take a fuller breath, and when you are ready, open your eyes. [pause 3s]\n"
    "Thank you for practising, {name}.",
    (),
)

STARTERS: dict[str, Starter] = {
    "breath": Starter(
        "Resting with the breath",
        "A simple practice of attention to breathing.",
        (
            _ARRIVING,
            (
                "Breath",
                "Let your attention settle on the breath, wherever you feel it most clearly. [pause 10s..1m]\n"
                "There is nothing to change. Just feel each breath as it comes and goes. [pause 20s..]\n"
                "If your mind has wandered, that is what minds do. Gently come back to the next breath. [pause 20s..3m]",
                (),
            ),
            _CLOSING,
        ),
    ),
    "body-scan": Starter(
        "A short body scan",
        "Attention moving slowly through the body, from the feet to the head.",
        (
            _ARRIVING,
            (
                "Feet and legs",
                "Bring your attention to your feet. Notice warmth, coolness, pressure or tingling. [pause 10s..1m]\n"
                "Let your attention move up into your legs, resting there for a while. [pause 10s..1m]",
                (),
            ),
            (
                "Body and breath",
                "Now feel the belly and the chest, rising and falling with the breath. [pause 10s..1m]\n"
                "Let your attention rest in your shoulders, your arms and your hands. [pause 10s..1m]\n"
                "Finally, feel your neck, your face and the top of your head. [pause 10s..]",
                ("    optional: true               # dropped first when the length is short",),
            ),
            _CLOSING,
        ),
    ),
    "loving-kindness": Starter(
        "Loving-kindness",
        "Warm wishes, first for yourself, then for someone easy to love, then for all beings.",
        (
            _ARRIVING,
            (
                "For yourself",
                "Place a hand on your heart, if you like, and silently offer yourself these words. [pause 5s]\n"
                "May I be safe. [pause 5s..20s]\n"
                "May I be kind to myself. [pause 5s..20s]\n"
                "May I be at ease. [pause 10s..1m]",
                ("    repeat: 2                    # the phrases are said twice",),
            ),
            (
                "For someone dear",
                "Now bring to mind someone easy to love, and offer them the same wishes. [pause 5s]\n"
                "May you be safe. May you be kind to yourself. May you be at ease. [pause 10s..]",
                (),
            ),
            (
                "For all beings",
                "Let the wishes widen, to every being everywhere. [pause 5s]\n"
                "May all beings be safe. May all beings be at ease. [pause 10s..2m]",
                (),
            ),
            _CLOSING,
        ),
    ),
    "open-awareness": Starter(
        "Open awareness",
        "A longer silent sit, with soft interval bells.",
        (
            _ARRIVING,
            (
                "Sitting",
                "Let your attention open to whatever is here: sounds, sensations, the breath. [pause 10s]\n"
                "Soft bells will mark the time. Rest until the closing bell. [pause 1m..]",
                ("    interval_bells: 5m           # soft bells every 5 minutes of the track, inside this section's long pause",),
            ),
            _CLOSING,
        ),
    ),
}

#: `attune new --practice` choices.
PRACTICES = tuple(STARTERS)
DEFAULT_PRACTICE = "breath"
DEFAULT_LENGTH_S = 600.0


def starter_text(practice: str, length_s: float = DEFAULT_LENGTH_S, name: str = "friend") -> str:
    """The commented YAML script of `practice`, set to `length_s`."""
    starter = STARTERS[practice]
    lines = [
        f"# {starter.title}: a starting point written by `attune new --practice {practice}`. Edit the words freely.",
        "# Check it with `attune check FILE --strict`; hear it with `attune render FILE`;",
        "# see its timeline with `attune plan FILE`. The README's \"Script format\" has every option.",
        "#",
        "# Markers in the text:",
        "#   [pause 5s]  [pause 1 minute 30 seconds]  [pause 0:30]   a silence of a fixed length",
        "#   [pause 10s..1m]    an elastic pause: at least 10s, at most 1m, stretched to reach the length",
        "#   [pause 20s..]      an open-ended pause: as long as the length needs",
        "#   [short pause] (5s)  [long pause] (20s)  [breath] (6s)  [breath 3]",
        "#   [bell]             a singing-bowl strike",
        "#   [bells every 5m]   soft interval bells inside the pause it follows",
        "#   {name}             a placeholder, filled from vars: below or --var name=Ana",
        "",
        f"title: {starter.title}",
        "author: Your name                  # the MP3's artist",
        f"description: {starter.description}",
        f"{'length: ' + format_duration(length_s):<34} # --length overrides it",
        "# language: en                     # picks a voice when none is named",
        "# voice: en-us+f3                  # `attune voices` lists them (+f3, +m2 … change the timbre)",
        "# engine: pyttsx3                  # or piper, for a neural voice (pip install 'attune[piper]')",
        "# rate: 130                        # words per minute, 80-400 (default 140)",
        "# background: soft-rain.ogg        # or drone, pink-noise, brown-noise, binaural; `attune library` lists the sounds",
        "# background_db: -24               # the background's level under the voice",
        "bells: {start: true, end: true}    # the opening and closing bells",
    ]
    lines.append(f"interval_bells: {starter.interval_bells}" if starter.interval_bells else "# interval_bells: 10m             # soft bells every 10 minutes inside long pauses")
    lines += [f"vars: {{name: {name}}}               # defaults for the {{placeholders}}", "", "sections:"]
    for section, text, extra in starter.sections:
        lines.append(f"  - name: {section}")
        lines += list(extra)
        lines.append("    text: |")
        lines += [f"      {line}" for line in text.split("\n")]
    return "\n".join(lines) + "\n"
