"""CAD vendors embed this engine: no GPL or AGPL anywhere in the runtime dependency tree."""

from __future__ import annotations

import importlib.metadata as md
import re

# "GPL-compatible" (said of permissive licences such as the PSF's) is not a copyleft licence.
COPYLEFT = re.compile(
    r"\b(A?GPL|GNU (Affero )?General Public License)\b(?![- ]compatible)", re.IGNORECASE
)


def runtime_tree(root: str) -> dict[str, str]:
    """Installed runtime dependencies of ``root`` (extras excluded) and their licence text."""
    found: dict[str, str] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in found:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        meta = dist.metadata
        classifiers = " ".join(c for c in meta.get_all("Classifier") or [] if "License" in c)
        # The declared licence: the SPDX expression, the classifiers, and the License field when
        # it is a name rather than a full text. Full texts list bundled third-party notices
        # (matplotlib's FreeType is "FTL OR GPL-2.0-or-later", scipy's libgfortran is GPL with
        # the GCC runtime exception), which do not make the package itself copyleft.
        declared = meta.get("License") or ""
        found[key] = " ".join(
            filter(
                None,
                [
                    meta.get("License-Expression"),
                    declared if len(declared) < 200 else "",
                    classifiers,
                ],
            )
        )
        for requirement in dist.requires or []:
            if "extra ==" not in requirement:
                todo.append(re.split(r"[ ;<>=!\[~(]", requirement, maxsplit=1)[0])
    return found


def test_no_copyleft_runtime_dependency() -> None:
    tree = runtime_tree("coresponder-dispatch")
    assert {"numpy", "scipy", "simpy", "ortools", "pyarrow"} <= set(tree)
    offenders = {
        name: text
        for name, text in tree.items()
        # "LGPL" is a weak copyleft the check does not cover; name it explicitly if it appears.
        if COPYLEFT.search(text) and "LGPL" not in text.upper()
    }
    assert not offenders
