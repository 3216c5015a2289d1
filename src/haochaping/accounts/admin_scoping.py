"""Moved to :mod:`haochaping.core.admin_scoping` (core's and org's admin use it); importable from here for code
written before the move."""

from haochaping.core.admin_scoping import *  # noqa: F401,F403
