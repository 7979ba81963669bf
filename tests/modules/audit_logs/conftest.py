"""Reuse the test-only widgets app (a declared resource whose writes go through the command bus)."""

from tests.kernel.conftest import wadmin, wanon, wapp, wemployee, wsuper  # noqa: F401
