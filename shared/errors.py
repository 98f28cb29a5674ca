"""Errors that mean "not now": the work is kept and tried again, never dead-lettered."""


class RetryLater(Exception):
    """A passing condition (backend down, concurrent writer); the same work may succeed later."""
