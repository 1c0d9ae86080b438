"""Meditation scripts: YAML, plain text or Markdown, parsed into frozen dataclasses.

model.py        Script, Section, Speech, Pause, Bell: what the planner and renderer read
text.py         markers, placeholders and sentences, the same in every format
spellings.py    durations and pause markers as teachers write them; interval-bell values
imports.py      other tools' scripts (audio_program_generator, Meditation-Generator); `attune import`
starter.py      the commented scripts `attune new` writes
yaml_reader.py  YAML scripts and front matter, with the line of every error
settings_reader.py  the one YAML settings reader (scripts, sections, rosters, roster defaults)
prose.py        plain text and Markdown
load.py         load_script / parse_script_text: the suffix picks the reader
select.py       `--section NAME`: the script with only those sections
"""

from .load import MAX_SCRIPT_BYTES, SUFFIX_FORMATS, load_script, parse_script_text
from .model import BREATH_S, MAX_BREATHS, MAX_REPEAT, PAUSE_KINDS, Bell, Item, Pause, Script, ScriptWarning, Section, Speech
from .text import MARKERS_HINT, count_words, split_sentences

__all__ = [
    "BREATH_S",
    "MARKERS_HINT",
    "MAX_BREATHS",
    "MAX_REPEAT",
    "MAX_SCRIPT_BYTES",
    "PAUSE_KINDS",
    "SUFFIX_FORMATS",
    "Bell",
    "Item",
    "Pause",
    "Script",
    "ScriptWarning",
    "Section",
    "Speech",
    "count_words",
    "load_script",
    "parse_script_text",
    "split_sentences",
]
