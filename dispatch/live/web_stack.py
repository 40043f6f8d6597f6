"""Imported first by every module that needs the web stack (the ``service`` extra).

Without the extra, importing such a module raises `dispatch.live.MissingServiceExtraError`,
whose message names ``pip install 'coresponder-dispatch[service]'``, instead of an
ImportError from deep inside.
"""

from __future__ import annotations

from dispatch.live import require_service

require_service()
