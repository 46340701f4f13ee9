"""Email to readers who follow the blog: subscriptions to new posts, weekly digests, and the
delivery ledger that makes each post reach each subscriber exactly once.

Layering: newsletter may import posts, comments and core; nothing below imports newsletter.
It joins the lower apps through their hooks: a post_save signal from posts, the personal-data
registry of comments' privacy page, and the post admin's extra panels.
"""
