"""CRM rehearsals: scenario files against the fake Bitrix24 and amoCRM.

Run them from anywhere the package is installed: ``pytest --pyargs scenarios.rehearsals``.
"""
