"""Sanitising what members write: posts (Markdown to safe HTML, the one module that imports bleach)
and names and titles (invisible characters, look-alike spellings).

Not a capability: no blueprint, no init_app; the forum, moderation and accounts call it.
"""
