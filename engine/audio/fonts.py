"""Finding a General MIDI SoundFont without the internet.

Order: the ``--soundfont FILE`` option, the ``LIVECODE_SOUNDFONT`` variable, the usual
system places (Debian/Ubuntu's ``default-GM.sf2`` alternative first), then a font a pip
package ships (pretty_midi carries TimGM6mb). ``none`` as the option or the variable means
the built-in voices. ``LIVECODE_SOUNDFONT_DIRS`` (directories separated by ``:``) replaces
the places searched, pip packages included (an empty directory: as if none were installed).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FontChoice", "find_soundfont", "SYSTEM_PLACES", "GM_FONT_NAMES", "HOW_TO_GET"]

ENV = "LIVECODE_SOUNDFONT"
ENV_DIRS = "LIVECODE_SOUNDFONT_DIRS"
NONE = "none"

#: directories searched, in order (Debian/Ubuntu, Arch/Fedora, Homebrew, the user's own)
SYSTEM_PLACES = (
    "/usr/share/sounds/sf2",
    "/usr/share/sounds/sf3",
    "/usr/share/soundfonts",
    "/usr/share/soundfonts/default",
    "/usr/local/share/soundfonts",
    "/opt/homebrew/share/soundfonts",
    "/opt/homebrew/share/fluid-synth/sf2",
    "/usr/local/share/fluid-synth/sf2",
    "~/.local/share/soundfonts",
    "~/.local/share/sounds/sf2",
    "~/Library/Audio/Sounds/Banks",
)

#: General MIDI fonts preferred in a directory, before any other .sf2/.sf3 in it
GM_FONT_NAMES = (
    "default-GM.sf2",  # Debian's alternative: whichever GM font the admin chose
    "default-GM.sf3",
    "default.sf2",  # Fedora/Arch's fluid-soundfont link
    "FluidR3_GM.sf2",
    "FluidR3_GM.sf3",
    "GeneralUser GS.sf2",
    "TimGM6mb.sf2",
    "MuseScore_General.sf3",
    "MuseScore_General.sf2",
)

#: pip packages known to ship a GM font, and its path inside the package
PIP_FONTS = (("pretty_midi", "TimGM6mb.sf2"),)

HOW_TO_GET = "apt install timgm6mb-soundfont, or --soundfont FILE"


@dataclass(frozen=True)
class FontChoice:
    """The font to load (None: the built-in voices) and why, for the one line that says so."""

    path: Path | None
    why: str  # "--soundfont", "LIVECODE_SOUNDFONT", "system", "pip package pretty_midi", ...
    problem: str = ""  # a font asked for and not found: said on the line


def find_soundfont(
    explicit: str | None = None,
    env: Mapping[str, str] | None = None,
    places: Iterable[str] = SYSTEM_PLACES,
    pip_fonts: Iterable[tuple[str, str]] = PIP_FONTS,
) -> FontChoice:
    """The SoundFont to play, in the order of the module's docstring."""
    env = os.environ if env is None else env
    if env.get(ENV_DIRS) is not None:
        places, pip_fonts = [d for d in env[ENV_DIRS].split(os.pathsep) if d], ()
    for value, why in ((explicit, "--soundfont"), (env.get(ENV), ENV)):
        if value:
            if value.lower() == NONE:
                return FontChoice(None, why)
            path = Path(value).expanduser()
            if path.is_file():
                return FontChoice(path, why)
            return _search(places, pip_fonts, problem=f"{why} {value}: no such file")
    return _search(places, pip_fonts)


def _search(
    places: Iterable[str], pip_fonts: Iterable[tuple[str, str]], problem: str = ""
) -> FontChoice:
    for place in places:
        found = _in_dir(Path(place).expanduser())
        if found is not None:
            return FontChoice(found, "system", problem)
    for package, inside in pip_fonts:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            path = Path(location) / inside
            if path.is_file():
                return FontChoice(path, f"pip package {package}", problem)
    return FontChoice(None, "none found", problem)


def _in_dir(d: Path) -> Path | None:
    try:
        if not d.is_dir():
            return None
        for name in GM_FONT_NAMES:
            p = d / name
            if p.is_file():  # follows links: a dangling default-GM.sf2 is skipped
                return p
        fonts = sorted(p for p in d.iterdir() if p.suffix.lower() in (".sf2", ".sf3"))
    except OSError:
        return None
    return next((p for p in fonts if p.is_file()), None)
