"""The local services behind ``infra/local.py``: one module per service, plus what they share.

Standard library only: ``make up`` runs before the package and its dependencies are installed.
"""
