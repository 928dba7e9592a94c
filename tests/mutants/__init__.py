"""Wrong implementations of the action, one realistic bug each, to prove the suite catches them.

:mod:`.honest` is an implementation written from the rules alone (no
``webhook_core``); :mod:`.catalogue` holds the mutants: each is ``Honest`` with
one method overridden and names the rules its bug breaks. ``tests/test_mutants.py``
runs them all against the conformance suite; :mod:`.serve` puts any of them
behind ``--sender-cmd``.
"""
