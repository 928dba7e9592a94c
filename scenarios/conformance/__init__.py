"""The conformance suite: scenario files that pin every rule of the webhook action.

Run it from anywhere the package is installed: ``pytest --pyargs scenarios.conformance``.
"""
