"""Who may read what: signed URLs on every route, a bearer secret, an auth service.

`rule.AccessRule` is the one rule every route runs before it reads anything; its refusals
(`refusals`) carry their status and the reason they are counted and logged under.
"""

from proxy.access.rule import AccessRule, Guard, SignatureCheck

__all__ = ["AccessRule", "Guard", "SignatureCheck"]
