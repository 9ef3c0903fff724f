"""Class names a shell can type: ``--class t-shirt`` for "T-shirt/top", ``--class ankle-boot`` for "Ankle boot".

A name's aliases are its slug (lowercase; each run of characters outside [a-z0-9] becomes one "-",
none at either end) and, for a name made of parts joined by "/", each part's slug:

    "T-shirt/top" -> t-shirt-top, t-shirt, top        "Ankle boot" -> ankle-boot        "fern" -> fern

A part's alias that two names would share, or that is another name's full slug, is dropped, so an
alias always means one class and a full slug always works (unless two names have the same slug; then
neither slug is an alias and only the names themselves are accepted). Text is matched by its own
slug, so "Ankle Boot", "ankle_boot" and "ANKLE-BOOT" all mean "Ankle boot".
"""

import re
from collections import Counter

from procgen.errors import ProcgenError

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text):
    """``text`` in lowercase with each run of characters outside [a-z0-9] as one "-", none at the ends."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-")


def _candidates(name):
    """The aliases ``name`` asks for: its full slug, then the slug of each "/"-separated part."""
    return [slug(name)] + ([slug(part) for part in name.split("/")] if "/" in name else [])


def aliases(class_names):
    """{alias: class name} of every alias that names exactly one class (see the module docstring)."""
    full = Counter(slug(name) for name in class_names)
    claims = Counter(alias for name in class_names for alias in set(_candidates(name)))
    result = {}
    for name in class_names:
        whole, *parts = _candidates(name)
        if whole and full[whole] == 1:
            result[whole] = name
        for part in parts:
            if part and full[part] == 0 and claims[part] == 1:
                result[part] = name
    return result


def resolve_class(text, class_names):
    """The class name ``text`` means: a name itself, a name in any case, or an alias (matched by slug).

    Raises ProcgenError, listing the names and aliases accepted, when ``text`` means no class or
    could mean two.
    """
    if text in class_names:
        return text
    same_case = [name for name in class_names if name.casefold() == text.casefold()]
    if len(same_case) == 1:
        return same_case[0]
    table = aliases(class_names)
    if slug(text) in table:
        return table[slug(text)]
    could_be = same_case or [name for name in class_names if slug(text) and slug(text) in _candidates(name)]
    problem = (f"class {text!r} could mean {' or '.join(could_be)}" if len(could_be) > 1
               else f"unknown class {text!r}")
    lowered = {name.casefold() for name in class_names}
    extra = [alias for alias in table if alias not in lowered]  # "trouser" is "Trouser" in any case
    listed = f", or an alias: {', '.join(extra)}" if extra else ""
    raise ProcgenError(f"{problem}; expected one of {', '.join(class_names)} (in any case){listed}")
