"""General MIDI program names: the one table the language, the synths and the docs read.

Programs are numbered 1..128 as GM lists print them (``program(2, 34)`` is the fingered
bass); the MIDI data byte is one less. Channel 10 is the drum channel: its programs are
the GS drum kits ("Standard", "TR 808", ...). A name matches ignoring case, spaces and
punctuation, in the GM spec's spelling ("Electric Bass (finger)") or the shorter one most
SoundFonts show ("Fingered Bass").
"""

from __future__ import annotations

import difflib
import re

__all__ = ["DRUM_CH", "GM_NAMES", "DRUM_KITS", "program_number", "program_name"]

DRUM_CH = 10

#: the GM Level 1 names, program 1..128
GM_NAMES = (
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavi", "Celesta", "Glockenspiel",
    "Music Box", "Vibraphone", "Marimba", "Xylophone", "Tubular Bells", "Dulcimer",
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ", "Reed Organ",
    "Accordion", "Harmonica", "Tango Accordion", "Acoustic Guitar (nylon)",
    "Acoustic Guitar (steel)", "Electric Guitar (jazz)", "Electric Guitar (clean)",
    "Electric Guitar (muted)", "Overdriven Guitar", "Distortion Guitar", "Guitar Harmonics",
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass",
    "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2", "Violin", "Viola", "Cello",
    "Contrabass", "Tremolo Strings", "Pizzicato Strings", "Orchestral Harp", "Timpani",
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2",
    "Choir Aahs", "Voice Oohs", "Synth Voice", "Orchestra Hit", "Trumpet", "Trombone", "Tuba",
    "Muted Trumpet", "French Horn", "Brass Section", "Synth Brass 1", "Synth Brass 2",
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe", "English Horn", "Bassoon",
    "Clarinet", "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi",
    "Whistle", "Ocarina", "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)",
    "Lead 4 (chiff)", "Lead 5 (charang)", "Lead 6 (voice)", "Lead 7 (fifths)",
    "Lead 8 (bass + lead)", "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)",
    "Pad 4 (choir)", "Pad 5 (bowed)", "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)",
    "FX 5 (brightness)", "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)", "Sitar", "Banjo",
    "Shamisen", "Koto", "Kalimba", "Bagpipe", "Fiddle", "Shanai", "Tinkle Bell", "Agogo",
    "Steel Drums", "Woodblock", "Taiko Drum", "Melodic Tom", "Synth Drum", "Reverse Cymbal",
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet", "Telephone Ring",
    "Helicopter", "Applause", "Gunshot",
)  # fmt: skip

# The shorter names SoundFonts (TimGM6mb, FluidR3_GM, GS synths) show, where they differ.
_SHORT = {
    1: "Piano 1", 2: "Piano 2", 3: "Piano 3", 4: "Honky Tonk", 5: "E.Piano 1", 6: "E.Piano 2",
    8: "Clavinet", 16: "Santur", 17: "Organ 1", 18: "Organ 2", 19: "Organ 3", 24: "Bandoneon",
    25: "Nylon Guitar", 26: "Steel Guitar", 27: "Jazz Guitar", 28: "Clean Guitar",
    29: "Muted Guitar", 30: "Overdrive Guitar", 34: "Fingered Bass", 35: "Picked Bass",
    45: "Tremolo", 46: "Pizzicato", 47: "Harp", 49: "Strings", 50: "Slow Strings",
    53: "Choir", 55: "Synth Vox", 62: "Brass", 77: "Bottle Blow", 81: "Square Wave",
    82: "Saw Wave", 83: "Calliope", 84: "Chiffer Lead", 85: "Charang", 86: "Solo Vox",
    87: "5th Saw Wave", 88: "Bass & Lead", 89: "Fantasia", 90: "Warm Pad", 91: "Polysynth",
    92: "Space Voice", 93: "Bowed Glass", 94: "Metal Pad", 95: "Halo Pad", 96: "Sweep Pad",
    97: "Ice Rain", 98: "Soundtrack", 99: "Crystal", 100: "Atmosphere", 101: "Brightness",
    102: "Goblin", 103: "Echo Drops", 104: "Star Theme", 113: "Tinker Bell", 117: "Taiko",
    121: "Fret Noise", 124: "Bird", 125: "Telephone",
}  # fmt: skip

#: GS drum kits on channel 10, by program 1..128
DRUM_KITS = {
    1: "Standard", 9: "Room", 17: "Power", 25: "Electronic", 26: "TR 808", 33: "Jazz",
    41: "Brush", 49: "Orchestra",
}  # fmt: skip


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z+]", "", name.lower())


_MELODIC = {_key(n): i + 1 for i, n in enumerate(GM_NAMES)} | {
    _key(n): p for p, n in _SHORT.items()
}
_DRUMS = {_key(n): p for p, n in DRUM_KITS.items()} | {
    _key(n + " kit"): p for p, n in DRUM_KITS.items()
}


def program_number(ch: int, program: object) -> int:
    """The GM program 1..128 that ``program`` (a number 1..128 or a name) means on ``ch``.

    ValueError says the rule and the bad value, with the closest names.
    """
    if isinstance(program, bool) or not isinstance(program, (int, str)):
        raise ValueError(f"a program is a number 1..128 or a GM name, got {program!r}")
    if isinstance(program, int):
        if not 1 <= program <= 128:
            raise ValueError(f"a program number is 1..128 (GM numbering), got {program}")
        return program
    table, names = (
        (_DRUMS, list(DRUM_KITS.values())) if ch == DRUM_CH else (_MELODIC, list(GM_NAMES))
    )
    found = table.get(_key(program))
    if found is not None:
        return found
    if ch != DRUM_CH:
        names += list(_SHORT.values())
    close = difflib.get_close_matches(program, names, n=3, cutoff=0.5)
    close = close or [n for n in names if _key(program) and _key(program) in _key(n)][:3]
    what = "drum kit on channel 10" if ch == DRUM_CH else "GM program"
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"no {what} named {program!r}{hint}")


def program_name(ch: int, program: int) -> str:
    """The name a program 1..128 shows on ``ch`` (drum kits on channel 10)."""
    if ch == DRUM_CH:
        return DRUM_KITS.get(program, f"Drum kit {program}")
    return _SHORT.get(program, GM_NAMES[program - 1])
