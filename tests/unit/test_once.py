"""`Once`: first time per key, remembering only the recent keys."""

from core.support.once import Once


def test_a_key_is_first_once_and_old_keys_are_forgotten() -> None:
    once = Once(recent=2)
    assert once.first(1) and not once.first(1)
    assert once.first(2) and once.first(3)  # 1 is forgotten: only two are kept
    assert once.first(1)
    assert not once.first(3)
