"""The scoping machinery moved down to :mod:`haochaping.core.scoping` (org's and core's models and admin use it,
and they sit below accounts). What each role sees is decided by ``User.scope_visibility`` and
``ApiKey.scope_visibility`` in :mod:`haochaping.accounts.models`. These names stay importable from here for code
written before the move; new code imports them from core.
"""

from haochaping.core.scoping import (  # noqa: F401
    EVERYTHING,
    NOTHING,
    ScopePaths,
    Visibility,
    can_see,
    condition,
    scope,
    visibility_for,
)
